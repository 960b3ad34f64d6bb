/** The data tier: PostgreSQL and the two Redis. */
import { z } from "zod";
import { DEFAULTS } from "../../vocabulary/defaults";
import { cacheNodeType, instanceType, positiveInt, rdsInstanceClass } from "./common";
import { restoreFromSchema } from "../../database/restoreFrom";

const valkeyOrRedis = z.enum(["valkey", "redis"]);

/** Redis 7+ is required (Sidekiq 8 checks it: docs/design.md, "Requirements"); ElastiCache families redis7 and valkey8. */
const redisVersion = z.string().regex(/^(7\.[0-9]+|8\.[0-9]+)$/, {
  error: "must be a 7.x (redis) or 8.x (valkey) version such as 7.1 or 8.0",
});

export const cacheRedisSchema = z.strictObject({
  /** @default "valkey" */
  engine: valkeyOrRedis.default(DEFAULTS.redis.engine),
  /** @default "8.0" for valkey, "7.1" for redis */
  engineVersion: redisVersion.optional(),
  /** @default "cache.t4g.small" */
  nodeType: cacheNodeType.default(DEFAULTS.redis.cacheNodeType),
  /** The cache may run on one node (docs/design.md, "The two Redis"). @default 1 */
  nodes: positiveInt.max(6).default(DEFAULTS.redis.cacheNodes),
});

export const persistentRedisSchema = z.strictObject({
  /**
   * "elasticache" (Multi-AZ replicas, snapshots) or "self-managed-aof" (Redis on EC2 with appendonly,
   * the only honest AOF on AWS: docs/design.md, "The two Redis"). @default "elasticache"
   */
  mode: z.enum(["elasticache", "self-managed-aof"]).default("elasticache"),
  /** @default "valkey" */
  engine: valkeyOrRedis.default(DEFAULTS.redis.engine),
  /** @default "8.0" for valkey, "7.1" for redis */
  engineVersion: redisVersion.optional(),
  /** @default "cache.t4g.small" */
  nodeType: cacheNodeType.default(DEFAULTS.redis.persistentNodeType),
  /** Primary plus replicas; production needs at least 2 for automatic failover. @default 2 */
  nodes: positiveInt.max(6).default(DEFAULTS.redis.persistentNodes),
  /** Asking ElastiCache for AOF is refused with an explanation (rules.ts). @default false */
  appendOnly: z.boolean().default(false),
  /** self-managed-aof only: the EC2 instance type. @default "c7g.large" */
  instanceType: instanceType.default(DEFAULTS.selfManagedRedis.instanceType),
  /** self-managed-aof only: size of the encrypted gp3 data volume. @default 20 */
  volumeGiB: positiveInt.max(16384).default(DEFAULTS.selfManagedRedis.volumeGiB),
});

/**
 * Both Redis as two redis-server processes on the stack's one app host (docs/design.md, "Redis on the
 * host"): the cheapest layout that keeps them separate. Present means chosen; the rules refuse it
 * with more than one fleet, a fleet that can grow past one host, or ElastiCache keys beside it.
 */
export const onHostRedisSchema = z.strictObject({
  /** maxmemory of the cache (allkeys-lru, no persistence), MiB. @default 64 */
  cacheMaxmemoryMiB: z.int().min(16).max(65536).default(DEFAULTS.onHostRedis.cacheMaxmemoryMiB),
  /** maxmemory of the persistent store (noeviction, AOF everysec on its own volume), MiB. @default 128 */
  persistentMaxmemoryMiB: z.int().min(16).max(65536).default(DEFAULTS.onHostRedis.persistentMaxmemoryMiB),
  /**
   * The persistent store's encrypted gp3 EBS volume, GiB: its AOF and RDB outlive the host, which
   * attaches it at boot, in the network's first zone (docs/design.md, "Redis on the host"). At least
   * four times persistentMaxmemoryMiB (rules/redisOnHost.ts). @default 8
   */
  persistentVolumeGiB: z.int().min(1).max(16384).default(DEFAULTS.onHostRedis.persistentVolumeGiB),
  /**
   * Production: says that what the volume does not keep is accepted (a failed volume, having no
   * snapshot; its zone's outage stops the host until the zone is back); without it the plan warns.
   * @default false
   */
  acceptJobLoss: z.boolean().default(false),
});

export const databaseSchema = z.strictObject({
  /** PostgreSQL major version (RDS parameter group family postgres16 / postgres17). @default "17" */
  engineVersion: z
    .union([z.literal("16"), z.literal("17"), z.literal(16), z.literal(17)], {
      error: 'must be "16" or "17"',
    })
    .transform((v) => String(v) as "16" | "17")
    .default(DEFAULTS.database.engineVersion),
  instanceClass: rdsInstanceClass,
  /** @default true in production, false elsewhere */
  multiAz: z.boolean().optional(),
  /** Production refuses a single-AZ database unless this says the risk is accepted. @default false */
  allowSingleAz: z.boolean().default(false),
  /** @default 20 */
  storageGiB: z.int().min(20).max(65536).default(DEFAULTS.database.storageGiB),
  /** Storage autoscaling ceiling, at least 10% above storageGiB (RDS refuses less). @default max(200, 1.26 x storageGiB) */
  maxStorageGiB: z.int().min(20).max(65536).optional(),
  /** @default min(RDS's memory formula, 500) */
  maxConnections: z.int().min(20).max(5000).optional(),
  /** @default clamp(RAM / max_connections, 4, 64) MiB */
  workMemMiB: z.int().min(1).max(2048).optional(),
  /** Connections kept free for migrations and consoles. @default 15 */
  adminHeadroom: z.int().min(0).max(200).default(DEFAULTS.database.adminHeadroom),
  /** "pgbouncer" runs one PgBouncer per host in transaction mode (compendium). @default "none" */
  pooler: z.enum(["none", "pgbouncer"]).default("none"),
  pgbouncer: z
    .strictObject({
      /** default_pool_size per host unless a fleet sets pgbouncerPoolSize. @default 20 */
      defaultPoolSize: positiveInt.max(500).default(DEFAULTS.database.pgbouncerPoolSize),
    })
    .prefault({}),
  /** A read replica (REPLICA_DB_*); the budget counts the same pools again against its own limit. */
  replica: z
    .strictObject({
      instanceClass: rdsInstanceClass,
      /** @default min(RDS's memory formula, 500) */
      maxConnections: z.int().min(20).max(5000).optional(),
    })
    .optional(),
  /**
   * The RDS snapshot the database starts from when it is created: one snapshot, or another stack's
   * newest (src/database/restoreFrom.ts). @default none: an empty database
   */
  restoreFrom: restoreFromSchema.optional(),
});
