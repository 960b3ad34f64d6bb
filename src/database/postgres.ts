/**
 * PostgreSQL settings the package computes: max_connections and work_mem for an RDS class.
 * Pure; the RDS parameter group (postgresDatabase.ts) and the budget (budget.ts) both read from here.
 */
import { type RdsClassSpec, rdsMemoryBytes } from "../vocabulary/catalog";
import { BUDGET_RULES, DEFAULTS } from "../vocabulary/defaults";

const MIB = 1024 ** 2;

/** RDS's own default: LEAST({DBInstanceClassMemory/9531392}, 5000) (Amazon RDS User Guide; docs/budget.md). */
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

export interface RdsParameter {
  readonly name: string;
  readonly value: string;
  /** Static parameters take effect at the next reboot; AWS rejects "immediate" for them. */
  readonly applyMethod: "immediate" | "pending-reboot";
}

/** Statements slower than this are logged (ms): the slow-query log the compendium's tuning starts from. */
export const SLOW_QUERY_MS = 1000;
/**
 * Sessions idle inside a transaction this long are ended (ms). Rails holds a transaction open around
 * media uploads (compendium, "Locks That Bind"), so this is generous: 10 minutes.
 */
export const IDLE_IN_TRANSACTION_MS = 600_000;

/**
 * The parameter group of one RDS instance, from the sizing core. work_mem is in kB, as PostgreSQL
 * reads it. The same list configures the real PostgreSQL in test/postgres.real.test.ts.
 */
export function rdsParameters(maxConnections: number, workMemMiB: number): RdsParameter[] {
  return [
    { name: "max_connections", value: String(maxConnections), applyMethod: "pending-reboot" },
    { name: "work_mem", value: String(workMemMiB * 1024), applyMethod: "immediate" },
    // Refuse unencrypted connections (docs/design.md, "Encryption in transit").
    { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
    { name: "log_min_duration_statement", value: String(SLOW_QUERY_MS), applyMethod: "immediate" },
    {
      name: "idle_in_transaction_session_timeout",
      value: String(IDLE_IN_TRANSACTION_MS),
      applyMethod: "immediate",
    },
  ];
}

/** RDS parameter group family for a major version (docs/design.md, "Instance catalogs"). */
export function postgresFamily(engineVersion: "16" | "17"): string {
  return `postgres${engineVersion}`;
}

/** The storage autoscaling ceiling when none is configured (DEFAULTS.database.maxStorage*). */
export function defaultMaxStorageGiB(storageGiB: number): number {
  return Math.max(
    DEFAULTS.database.maxStorageGiB,
    Math.ceil(storageGiB * DEFAULTS.database.maxStorageDefaultRatio),
  );
}

/** The lowest ceiling RDS accepts for `storageGiB` of allocated storage. */
export function minMaxStorageGiB(storageGiB: number): number {
  return Math.ceil(storageGiB * DEFAULTS.database.maxStorageMinRatio);
}
