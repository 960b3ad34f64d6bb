/**
 * PostgreSQL settings the package computes: max_connections and work_mem for an RDS class.
 * Pure; the RDS parameter group (components/) and the budget (budget.ts) both read from here.
 */
import { type RdsClassSpec, rdsMemoryBytes } from "./catalog";
import { BUDGET_RULES, DEFAULTS } from "./defaults";

const MIB = 1024 ** 2;

/** RDS's own default: LEAST({DBInstanceClassMemory/9531392}, 5000) (DESIGN.md section 2). */
export function rdsDefaultMaxConnections(spec: RdsClassSpec): number {
  return Math.min(
    Math.floor(rdsMemoryBytes(spec) / BUDGET_RULES.rdsBytesPerConnection),
    BUDGET_RULES.rdsMaxConnectionsCeiling,
  );
}

/**
 * The max_connections we set explicitly: the override, else RDS's memory formula capped at 500.
 * It is a property of the database, not of the fleets: raising a fleet's maxSize never raises it
 * silently (max_connections is static, so a change needs a reboot); the budget refuses instead.
 */
export function maxConnectionsFor(spec: RdsClassSpec, override?: number): number {
  return override ?? Math.min(rdsDefaultMaxConnections(spec), DEFAULTS.database.maxConnectionsCap);
}

/**
 * work_mem in MiB: the override, else RAM / max_connections clamped to [4, 64] MiB. That keeps
 * work_mem x max_connections at half the compendium's 2 x RAM ceiling: one query may use several
 * work_mem allocations (one per sort or hash node).
 */
export function workMemMiBFor(spec: RdsClassSpec, maxConnections: number, override?: number): number {
  if (override !== undefined) return override;
  const perConnection = Math.floor(rdsMemoryBytes(spec) / maxConnections / MIB);
  return Math.max(DEFAULTS.database.workMemMinMiB, Math.min(DEFAULTS.database.workMemMaxMiB, perConnection));
}

/** max_connections less the slots only superusers may take (3 + RDS's 2). */
export function usableConnections(maxConnections: number): number {
  return maxConnections - BUDGET_RULES.superuserReserved - BUDGET_RULES.rdsSuperuserReserved;
}

/** What the application may plan to hold: 90% of the usable connections, rounded down. */
export function connectionLimit(maxConnections: number): number {
  return Math.floor(usableConnections(maxConnections) * BUDGET_RULES.usableFraction);
}
