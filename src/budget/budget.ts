/**
 * The Postgres connection budget (docs/budget.md; scaling-mastodon-compendium.txt):
 *
 *   connections(fleet) = maxSize x sum over its services of processes x pool
 *     web:       pool = MAX_THREADS      (processes = WEB_CONCURRENCY)
 *     streaming: pool = DB_POOL          (one process per port)
 *     sidekiq:   pool = DB_POOL = -c
 *   surge(fleet) = the same for the hosts a replacement runs beyond maxSize (./replacement.ts)
 *   total = sum over fleets + surges + admin headroom   <=   90% of (max_connections - 3 - 2)
 *
 * With PgBouncer (one per host, transaction mode) the processes hold client connections to their
 * local PgBouncer, and Postgres sees hosts x default_pool_size server connections per fleet.
 *
 * This module is the single source of truth for pools: the units and env files of later tiers read
 * `poolOf` so the pool a process gets is the pool the budget counted.
 */
import { BUDGET_RULES } from "../vocabulary/defaults";
import type { DatabaseInstance, Fleet, StackConfig } from "../config/stackConfig";
import { connectionLimit, usableConnections } from "../database/postgres";
import { fleetReplacement } from "../fleet/replacement";

export type ServiceKind = "web" | "streaming" | "sidekiq";

export interface BudgetRow {
  readonly fleet: string;
  readonly service: ServiceKind;
  /** Sidekiq rows only. */
  readonly queues?: readonly string[];
  readonly maxSize: number;
  /** Processes of this service on one host. */
  readonly processes: number;
  /** Connections each process holds: MAX_THREADS for web, DB_POOL otherwise. */
  readonly pool: number;
  /** The env var that carries `pool` into the process. */
  readonly poolVariable: "MAX_THREADS" | "DB_POOL";
  /** maxSize x processes x pool: to Postgres, or to the local PgBouncer when pooled. */
  readonly connections: number;
  /** Hosts beyond maxSize while hosts are replaced (./replacement.ts): 0 when the fleet terminates first. */
  readonly surgeHosts: number;
  /** surgeHosts x processes x pool. */
  readonly surgeConnections: number;
}

export interface PgbouncerRow {
  readonly fleet: string;
  readonly maxSize: number;
  /** What the processes on one host open against their PgBouncer (its max_client_conn floor). */
  readonly clientConnectionsPerHost: number;
  /** default_pool_size, capped at the clients that could ever use it. */
  readonly poolSize: number;
  /** maxSize x poolSize: what this fleet's PgBouncers open to Postgres. */
  readonly serverConnections: number;
  /** Hosts beyond maxSize while hosts are replaced, as in the fleet's rows. */
  readonly surgeHosts: number;
  /** surgeHosts x poolSize: what their PgBouncers open beside the others'. */
  readonly surgeServerConnections: number;
}

export interface Budget {
  readonly target: "primary" | "replica";
  readonly instanceClass: string;
  readonly maxConnections: number;
  readonly usable: number;
  /** 90% of usable: what fleets plus headroom may hold. */
  readonly limit: number;
  readonly pooler: "none" | "pgbouncer";
  readonly rows: readonly BudgetRow[];
  readonly pgbouncer?: readonly PgbouncerRow[];
  /** Sum of rows: what the processes hold (against Postgres, or against PgBouncer when pooled). */
  readonly clientConnections: number;
  /** What reaches Postgres from the fleets at maximum size: clientConnections, or the PgBouncers' server pools. */
  readonly fleetConnections: number;
  /** What the surge hosts add to that while web and streaming launch their replacements first. */
  readonly surgeConnections: number;
  /** Kept free for migrations and consoles (the compendium keeps 15). */
  readonly headroom: number;
  /** fleetConnections + surgeConnections + headroom: what the budget checks against limit. */
  readonly total: number;
  /** limit - total; negative when the budget does not fit. */
  readonly spare: number;
  /**
   * The app role's CONNECTION LIMIT: the budget's limit, from max_connections alone. The fleets and
   * the one-off processes (migrations, tootctl) all log in as that role, so it must hold both
   * (fleetConnections + surgeConnections + headroom = total <= limit, the budget's rule); and it does not move when
   * fleet sizes do, so scaling never touches the database.
   */
  readonly roleConnectionLimit: number;
  /**
   * The connection alarm's threshold (it fires above it): what the budget plans (total), and never
   * less than 1 below the role's limit, so it fires while the role still accepts connections.
   */
  readonly alarmThreshold: number;
  readonly workMemMiB: number;
  /** work_mem x max_connections, against 2 x RAM. */
  readonly workMemTotalMiB: number;
  readonly workMemCeilingMiB: number;
}

export interface BudgetInput {
  readonly fleets: readonly Fleet[];
  readonly database: DatabaseInstance;
  readonly pooler: "none" | "pgbouncer";
  readonly headroom: number;
  readonly target?: "primary" | "replica";
}

/** The rows of one fleet: one per service it runs. */
export function fleetRows(fleet: Fleet): BudgetRow[] {
  const rows: BudgetRow[] = [];
  const { surgeHosts } = fleetReplacement(fleet);
  const add = (service: ServiceKind, processes: number, pool: number, extra: Partial<BudgetRow> = {}) =>
    rows.push({
      fleet: fleet.name,
      service,
      ...extra,
      maxSize: fleet.maxSize,
      processes,
      pool,
      poolVariable: service === "web" ? "MAX_THREADS" : "DB_POOL",
      connections: fleet.maxSize * processes * pool,
      surgeHosts,
      surgeConnections: surgeHosts * processes * pool,
    });
  if (fleet.web) add("web", fleet.web.processes, fleet.web.threads);
  if (fleet.streaming) add("streaming", fleet.streaming.processes, fleet.streaming.dbPool);
  if (fleet.sidekiq)
    add("sidekiq", fleet.sidekiq.processes, fleet.sidekiq.threads, { queues: fleet.sidekiq.queues });
  return rows;
}

/** The pool one process of `service` on `fleet` holds (DB_POOL or MAX_THREADS): what units must set. */
export function poolOf(fleet: Fleet, service: ServiceKind): number {
  const row = fleetRows(fleet).find((r) => r.service === service);
  if (!row) throw new Error(`fleet ${fleet.name} runs no ${service} service`);
  return row.pool;
}

/** Client connections the processes on one host of `fleet` open. */
export function clientConnectionsPerHost(fleet: Fleet): number {
  return fleetRows(fleet).reduce((sum, r) => sum + r.processes * r.pool, 0);
}

/** A pooled fleet's PgBouncer row; resolve.ts gives every fleet of a pooled stack its pool size. */
export function pgbouncerRow(fleet: Fleet): PgbouncerRow {
  if (fleet.pgbouncerPoolSize === undefined)
    throw new Error(`fleet ${fleet.name} has no PgBouncer pool size`);
  const perHost = clientConnectionsPerHost(fleet);
  const poolSize = Math.min(fleet.pgbouncerPoolSize, perHost);
  const { surgeHosts } = fleetReplacement(fleet);
  return {
    fleet: fleet.name,
    maxSize: fleet.maxSize,
    clientConnectionsPerHost: perHost,
    poolSize,
    serverConnections: fleet.maxSize * poolSize,
    surgeHosts,
    surgeServerConnections: surgeHosts * poolSize,
  };
}

/**
 * What one host of `fleet` opens against Postgres: its PgBouncer's pool when pooled (resolve.ts sets
 * pgbouncerPoolSize exactly then), else its processes' pools. maxSize times this is the fleet's share
 * of fleetConnections, surgeHosts times it of surgeConnections; the policy pack reads it from the
 * group's tag (src/aws/policyTags.ts).
 */
export function postgresConnectionsPerHost(fleet: Fleet): number {
  return fleet.pgbouncerPoolSize === undefined
    ? clientConnectionsPerHost(fleet)
    : pgbouncerRow(fleet).poolSize;
}

const sum = (xs: readonly number[]) => xs.reduce((a, b) => a + b, 0);

export function computeBudget(input: BudgetInput): Budget {
  const { database, pooler, headroom } = input;
  const rows = input.fleets.flatMap(fleetRows);
  const clientConnections = sum(rows.map((r) => r.connections));
  const pgbouncer = pooler === "pgbouncer" ? input.fleets.map((f) => pgbouncerRow(f)) : undefined;
  const fleetConnections = pgbouncer ? sum(pgbouncer.map((p) => p.serverConnections)) : clientConnections;
  const surgeConnections = pgbouncer
    ? sum(pgbouncer.map((p) => p.surgeServerConnections))
    : sum(rows.map((r) => r.surgeConnections));
  const limit = connectionLimit(database.maxConnections);
  const total = fleetConnections + surgeConnections + headroom;
  const ramMiB = database.spec.memoryGiB * 1024;
  return {
    target: input.target ?? "primary",
    instanceClass: database.instanceClass,
    maxConnections: database.maxConnections,
    usable: usableConnections(database.maxConnections),
    limit,
    pooler,
    rows,
    ...(pgbouncer && { pgbouncer }),
    clientConnections,
    fleetConnections,
    surgeConnections,
    headroom,
    total,
    spare: limit - total,
    roleConnectionLimit: limit,
    alarmThreshold: Math.min(total, limit - 1),
    workMemMiB: database.workMemMiB,
    workMemTotalMiB: database.workMemMiB * database.maxConnections,
    workMemCeilingMiB: BUDGET_RULES.workMemRamFactor * ramMiB,
  };
}

/** The budgets of a stack: the primary's, and the read replica's when there is one. */
export interface StackBudgets {
  readonly primary: Budget;
  readonly replica?: Budget;
}

export function stackBudgets(config: StackConfig): StackBudgets {
  const { database } = config;
  const input = { fleets: config.fleets, pooler: database.pooler, headroom: database.adminHeadroom };
  return {
    primary: computeBudget({ ...input, database: database.primary }),
    ...(database.replica && {
      replica: computeBudget({ ...input, database: database.replica, target: "replica" }),
    }),
  };
}
