/**
 * mastodon:database and mastodon:owner written out for Pulumi's component analyzer: MastodonStack's
 * `database` arg, the RDS PostgreSQL and its pooler, and `owner`, the account created in it. Only
 * what the analyzer reads (interfaces, `as const` enums, doc comments with `(@default ...)`);
 * src/config/args.ts says why.
 */
/** PostgreSQL major version (RDS parameter group family postgres16 / postgres17). */
export const PostgresVersion = { V16: "16", V17: "17" } as const;
export type PostgresVersion = (typeof PostgresVersion)[keyof typeof PostgresVersion];

/** How the hosts reach PostgreSQL. */
export const Pooler = {
  /** Each process opens its own connections. */
  None: "none",
  /** One PgBouncer per host in transaction mode (compendium). */
  Pgbouncer: "pgbouncer",
} as const;
export type Pooler = (typeof Pooler)[keyof typeof Pooler];

/** mastodon:database.pgbouncer */
export interface StackPgbouncerArgs {
  /** default_pool_size per host unless a fleet sets pgbouncerPoolSize (@default 20). */
  defaultPoolSize?: number;
}

/** mastodon:database.replica */
export interface StackReplicaArgs {
  /** RDS class of the read replica, e.g. db.r7g.large. */
  instanceClass: string;
  /** The replica's max_connections; its budget is checked against it (@default min(RDS's memory formula, 500)). */
  maxConnections?: number;
}

/**
 * mastodon:database.restoreFrom: the RDS snapshot or pg_dump archive a new stack's database starts
 * from, at its creation only; exactly one key (src/database/restoreFrom.ts, restoreDump.ts).
 */
export interface StackRestoreFromArgs {
  /**
   * One snapshot in this stack's account and Region: a manual snapshot's identifier, an automated
   * one's (rds:<instance>-<yyyy-mm-dd-hh-mm>), or its ARN (a snapshot another account shared) (@default none).
   */
  snapshot?: string;
  /** Another stack of this Pulumi project (or <project>/<stack>): its newest snapshot, by its mastodon:stack tag (@default none). */
  stack?: string;
  /**
   * A pg_dump 15 custom-format archive (pg_dump -Fc), a path from the project's directory: uploaded
   * to a private bucket and restored by the scheduler's host into the empty database (@default none).
   */
  dump?: string;
}

/** mastodon:database */
export interface StackDatabaseArgs {
  /** PostgreSQL major version (@default "17"). */
  engineVersion?: PostgresVersion;
  /** RDS class, e.g. db.r7g.2xlarge. */
  instanceClass: string;
  /** A standby in a second zone, failed over to by RDS (@default true in production, false elsewhere). */
  multiAz?: boolean;
  /** Production refuses a single-AZ database unless this says the risk is accepted (@default false). */
  allowSingleAz?: boolean;
  /** Allocated gp3 storage, GiB, 20-65536; storage autoscaling grows it (@default 20). */
  storageGiB?: number;
  /** Storage autoscaling ceiling, at least 10% above storageGiB (@default max(200, 1.26 x storageGiB)). */
  maxStorageGiB?: number;
  /** PostgreSQL's max_connections: what the connection budget is checked against (@default min(RDS's memory formula, 500)). */
  maxConnections?: number;
  /** PostgreSQL's work_mem, MiB, 1-2048 (@default clamp(RAM / max_connections, 4, 64) MiB). */
  workMemMiB?: number;
  /** Connections kept free for migrations and consoles (@default 15). */
  adminHeadroom?: number;
  /** How the hosts reach PostgreSQL: directly, or through one PgBouncer per host (@default "none"). */
  pooler?: Pooler;
  /** PgBouncer settings, pooler pgbouncer only (@default {}). */
  pgbouncer?: StackPgbouncerArgs;
  /** A read replica (REPLICA_DB_*); the budget counts the same pools again against its own limit (@default none). */
  replica?: StackReplicaArgs;
  /** The RDS snapshot or pg_dump archive the database starts from when it is created, read-only towards its source (@default none: an empty database). */
  restoreFrom?: StackRestoreFromArgs;
}

/** mastodon:owner: the owner account, created once by the scheduler's host after the schema. */
export interface StackOwnerArgs {
  /** 1-30 letters, digits or underscores; not a username Mastodon blocks (admin, root, ...). */
  username: string;
  /** The owner's e-mail address (confirmed at creation). */
  email: string;
}
