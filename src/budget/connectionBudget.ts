/**
 * The Postgres connection budget written out for Pulumi's component analyzer: MastodonStack's
 * `budget` output as other Pulumi languages read it (docs/budget.md, "Reading the budget"). The
 * same fields as ./budget.ts's Budget, in what the analyzer reads (interfaces, arrays, `as const`
 * enums, doc comments; not inline unions or readonly arrays): asConnectionBudget fails to compile
 * when a field of Budget is missing here, and provider/componentSchema.test.ts compares the keys
 * with a computed budget.
 */
import type { Budget } from "./budget";
import type { Pooler, SidekiqQueue } from "../vocabulary/configEnums";

/** Which database a budget is for: the primary, or the read replica (database.replica). */
export const BudgetTarget = { Primary: "primary", Replica: "replica" } as const;
export type BudgetTarget = (typeof BudgetTarget)[keyof typeof BudgetTarget];

/** The Mastodon service a budget row counts. */
export const BudgetService = {
  /** Puma: WEB_CONCURRENCY workers of MAX_THREADS threads. */
  Web: "web",
  /** The streaming API (Node.js): one process per port, each with its DB_POOL. */
  Streaming: "streaming",
  /** Sidekiq: processes of `-c` threads, DB_POOL = threads. */
  Sidekiq: "sidekiq",
} as const;
export type BudgetService = (typeof BudgetService)[keyof typeof BudgetService];

/** The environment variable that carries a row's pool into the process. */
export const PoolVariable = { MaxThreads: "MAX_THREADS", DbPool: "DB_POOL" } as const;
export type PoolVariable = (typeof PoolVariable)[keyof typeof PoolVariable];

/** One service of one fleet: what its processes hold at the fleet's maximum size. */
export interface ConnectionBudgetRow {
  /** The fleet's name (a key of mastodon:fleets). */
  fleet: string;
  /** The service this row counts. */
  service: BudgetService;
  /** Sidekiq rows only: the queues the fleet serves, in priority order. */
  queues?: SidekiqQueue[];
  /** The fleet's maximum size, hosts: the budget counts it because autoscaling can reach it. */
  maxSize: number;
  /** Processes of this service on one host. */
  processes: number;
  /** Connections each process holds: MAX_THREADS for web, DB_POOL otherwise. */
  pool: number;
  /** The environment variable that carries pool into the process. */
  poolVariable: PoolVariable;
  /** maxSize x processes x pool: to Postgres, or to the host's PgBouncer when pooled. */
  connections: number;
  /** Hosts launched beyond maxSize while hosts are replaced; 0 when the fleet terminates first. */
  surgeHosts: number;
  /** surgeHosts x processes x pool. */
  surgeConnections: number;
}

/** database.pooler pgbouncer: one fleet's PgBouncers, what they open to Postgres. */
export interface PgbouncerBudgetRow {
  /** The fleet's name (a key of mastodon:fleets). */
  fleet: string;
  /** The fleet's maximum size, hosts. */
  maxSize: number;
  /** Client connections the processes on one host open against its PgBouncer (its max_client_conn floor). */
  clientConnectionsPerHost: number;
  /** PgBouncer's default_pool_size on the fleet's hosts, capped at the clients that could use it. */
  poolSize: number;
  /** maxSize x poolSize: what this fleet's PgBouncers open to Postgres. */
  serverConnections: number;
  /** Hosts launched beyond maxSize while hosts are replaced, as in the fleet's rows. */
  surgeHosts: number;
  /** surgeHosts x poolSize: what their PgBouncers open beside the others'. */
  surgeServerConnections: number;
}

/**
 * The Postgres connection budget of one database at the maximum size of every fleet: what the
 * processes hold against what max_connections allows (docs/budget.md).
 */
export interface ConnectionBudget {
  /** The database this budget is for. */
  target: BudgetTarget;
  /** The RDS instance class, e.g. db.r7g.2xlarge. */
  instanceClass: string;
  /** PostgreSQL's max_connections on the instance. */
  maxConnections: number;
  /** max_connections less the slots only superusers may take (3, and RDS's 2). */
  usable: number;
  /** 90% of usable, rounded down: what the fleets plus headroom may hold. */
  limit: number;
  /** How the hosts reach Postgres: directly, or through one PgBouncer per host. */
  pooler: Pooler;
  /** One row per fleet and service it runs. */
  rows: ConnectionBudgetRow[];
  /** With pooler pgbouncer: one row per fleet's PgBouncers. */
  pgbouncer?: PgbouncerBudgetRow[];
  /** The sum of the rows: what the processes hold (against PgBouncer when pooled). */
  clientConnections: number;
  /** What reaches Postgres from the fleets at maximum size: clientConnections, or the PgBouncers' server pools. */
  fleetConnections: number;
  /** What the hosts launched during a replacement add to fleetConnections. */
  surgeConnections: number;
  /** Connections kept free for migrations and consoles (database.adminHeadroom). */
  headroom: number;
  /** fleetConnections + surgeConnections + headroom: what the budget checks against limit. */
  total: number;
  /** limit - total; negative when the configuration does not fit (the stack then refuses it). */
  spare: number;
  /** The app role's CONNECTION LIMIT in Postgres: limit, from max_connections alone. */
  roleConnectionLimit: number;
  /** The connection alarm's threshold: total, and never less than 1 below roleConnectionLimit. */
  alarmThreshold: number;
  /** PostgreSQL's work_mem, MiB. */
  workMemMiB: number;
  /** work_mem x max_connections, MiB: what every connection sorting at once could take. */
  workMemTotalMiB: number;
  /** Twice the instance's RAM, MiB: the ceiling workMemTotalMiB is held under. */
  workMemCeilingMiB: number;
}

/**
 * The budget as the schema types it: the same object (Budget's arrays are readonly to TypeScript
 * only). The assertion compiles only while ConnectionBudget holds every field Budget requires.
 */
export function asConnectionBudget(budget: Budget): ConnectionBudget {
  return budget as ConnectionBudget;
}
