/** The data tier: PostgreSQL and the two Redis. */
import { z } from "zod";
import { DEFAULTS } from "../../vocabulary/defaults";
import { PersistentRedisMode, Pooler, PostgresVersion } from "../../vocabulary/configEnums";
import { RedisEngine } from "../../redis/redisServer";
import { cacheNodeType, instanceType, positiveInt, rdsInstanceClass } from "./common";
import { argsType, documented, enumType } from "./keyDoc";
import { restoreFromSchema } from "../../database/restoreFrom";

const valkeyOrRedis = enumType(z.enum(RedisEngine), "RedisEngine", "src/redis/redisServer");

/** Redis 7+ is required (Sidekiq 8 checks it: docs/design.md, "Requirements"); ElastiCache families redis7 and valkey8. */
const redisVersion = z.string().regex(/^(7\.[0-9]+|8\.[0-9]+)$/, {
  error: "must be a 7.x (redis) or 8.x (valkey) version such as 7.1 or 8.0",
});

const ENGINE = "The ElastiCache engine, valkey or redis.";
const ENGINE_VERSION =
  "The engine's version: 7.x for redis, 8.x for valkey, such as 7.1 or 8.0 (Mastodon needs Redis 7 or later: Sidekiq 8 checks it).";
const ENGINE_VERSION_DEFAULT = '"8.0" for valkey, "7.1" for redis';
const NODE_TYPE = "The ElastiCache node type, one the package's catalog knows, such as cache.t4g.small.";

export const cacheRedisSchema = argsType(
  z.strictObject({
    engine: documented(valkeyOrRedis.default(DEFAULTS.redis.engine), { description: ENGINE }),
    engineVersion: documented(redisVersion.optional(), {
      description: ENGINE_VERSION,
      default: ENGINE_VERSION_DEFAULT,
    }),
    nodeType: documented(cacheNodeType.default(DEFAULTS.redis.cacheNodeType), { description: NODE_TYPE }),
    nodes: documented(positiveInt.max(6).default(DEFAULTS.redis.cacheNodes), {
      description:
        'The cache\'s nodes, 1-6: the cache may run on one node (docs/design.md, "The two Redis").',
    }),
  }),
  { name: "StackCacheRedisArgs", folder: "redis", description: "mastodon:redis.cache" },
);

export const persistentRedisSchema = argsType(
  z.strictObject({
    mode: documented(
      enumType(z.enum(PersistentRedisMode), "PersistentRedisMode", "src/vocabulary/configEnums").default(
        "elasticache",
      ),
      {
        description:
          'Where the store of Sidekiq\'s jobs and the home feeds runs: elasticache (Multi-AZ replicas, snapshots) or self-managed-aof (Redis on EC2 with appendonly yes, the only honest AOF on AWS: docs/design.md, "The two Redis").',
      },
    ),
    engine: documented(valkeyOrRedis.default(DEFAULTS.redis.engine), { description: ENGINE }),
    engineVersion: documented(redisVersion.optional(), {
      description: ENGINE_VERSION,
      default: ENGINE_VERSION_DEFAULT,
    }),
    nodeType: documented(cacheNodeType.default(DEFAULTS.redis.persistentNodeType), {
      description: NODE_TYPE,
    }),
    nodes: documented(positiveInt.max(6).default(DEFAULTS.redis.persistentNodes), {
      description: "Primary plus replicas, 1-6 nodes; production needs at least 2 for automatic failover.",
    }),
    appendOnly: documented(z.boolean().default(false), {
      description:
        "Asks ElastiCache for AOF persistence, which it cannot give: true with mode elasticache is refused with an explanation (for a real AOF choose mode self-managed-aof, which runs appendonly yes).",
    }),
    instanceType: documented(instanceType.default(DEFAULTS.selfManagedRedis.instanceType), {
      description: "self-managed-aof only: the EC2 instance type, a c-family type such as c7g.large.",
    }),
    volumeGiB: documented(positiveInt.max(16384).default(DEFAULTS.selfManagedRedis.volumeGiB), {
      description: "self-managed-aof only: the size of the encrypted gp3 data volume, GiB, 1-16384.",
    }),
  }),
  { name: "StackPersistentRedisArgs", folder: "redis", description: "mastodon:redis.persistent" },
);

/**
 * Both Redis as two redis-server processes on the stack's one app host (docs/design.md, "Redis on the
 * host"): the cheapest layout that keeps them separate. Present means chosen; the rules refuse it
 * with more than one fleet, a fleet that can grow past one host, or ElastiCache keys beside it.
 */
export const onHostRedisSchema = argsType(
  z.strictObject({
    cacheMaxmemoryMiB: documented(
      z.int().min(16).max(65536).default(DEFAULTS.onHostRedis.cacheMaxmemoryMiB),
      {
        description: "maxmemory of the cache (allkeys-lru, no persistence), MiB, 16-65536.",
      },
    ),
    persistentMaxmemoryMiB: documented(
      z.int().min(16).max(65536).default(DEFAULTS.onHostRedis.persistentMaxmemoryMiB),
      {
        description:
          "maxmemory of the persistent store (noeviction, AOF everysec on its own volume), MiB, 16-65536.",
      },
    ),
    // Its floor against persistentMaxmemoryMiB is a rule (src/redis/rules.ts, volumeNeedMiB).
    persistentVolumeGiB: documented(
      z.int().min(1).max(16384).default(DEFAULTS.onHostRedis.persistentVolumeGiB),
      {
        description:
          "The persistent store's encrypted gp3 EBS volume, GiB, 1-16384: its AOF and RDB outlive the host, which attaches it at boot, in the network's first zone (docs/design.md, \"Redis on the host\"), so a host replacement keeps them. It must hold at least 5 x persistentMaxmemoryMiB + 64 MiB.",
      },
    ),
    acceptJobLoss: documented(z.boolean().default(false), {
      description:
        "Production: says that what the volume does not keep is accepted (a failed volume, having no snapshot; its zone's outage stops the host until the zone is back); without it the plan warns.",
    }),
  }),
  {
    name: "StackOnHostRedisArgs",
    folder: "redis",
    description:
      'mastodon:redis.onHost: both Redis on the one app host (docs/design.md, "Redis on the host").',
  },
);

const MAX_CONNECTIONS_DEFAULT = "min(RDS's memory formula, 500)";

export const databaseSchema = argsType(
  z.strictObject({
    engineVersion: documented(
      enumType(
        z.union([z.literal("16"), z.literal("17"), z.literal(16), z.literal(17)], {
          error: 'must be "16" or "17"',
        }),
        "PostgresVersion",
        "src/vocabulary/configEnums",
      )
        .transform((v) => String(v) as PostgresVersion)
        .default(DEFAULTS.database.engineVersion),
      {
        description:
          'PostgreSQL major version, "16" or "17" (RDS parameter group family postgres16 / postgres17).',
      },
    ),
    instanceClass: documented(rdsInstanceClass, {
      description:
        "RDS class, e.g. db.r7g.2xlarge: db.t4g.micro to db.t4g.2xlarge, or db.m6g, m7g, m8g, r6g, r7g, r8g, m6i, m7i, r6i or r7i from large to 16xlarge.",
    }),
    multiAz: documented(z.boolean().optional(), {
      description: "A standby in a second zone, failed over to by RDS.",
      default: "true in production, false elsewhere",
    }),
    allowSingleAz: documented(z.boolean().default(false), {
      description: "Production refuses a single-AZ database unless this says the risk is accepted.",
    }),
    storageGiB: documented(z.int().min(20).max(65536).default(DEFAULTS.database.storageGiB), {
      description: "Allocated gp3 storage, GiB, 20-65536; storage autoscaling grows it.",
    }),
    maxStorageGiB: documented(z.int().min(20).max(65536).optional(), {
      description:
        "Storage autoscaling ceiling, GiB, 20-65536: at least 10% above storageGiB (RDS refuses less).",
      default: "max(200, 1.26 x storageGiB)",
    }),
    maxConnections: documented(z.int().min(20).max(5000).optional(), {
      description:
        "PostgreSQL's max_connections, 20-1000 (above 512 warns, as does above what RDS's memory formula gives the class): what the connection budget is checked against (docs/budget.md).",
      default: MAX_CONNECTIONS_DEFAULT,
    }),
    workMemMiB: documented(z.int().min(1).max(2048).optional(), {
      description: "PostgreSQL's work_mem, MiB, 1-2048.",
      default: "clamp(RAM / max_connections, 4, 64) MiB",
    }),
    adminHeadroom: documented(z.int().min(0).max(200).default(DEFAULTS.database.adminHeadroom), {
      description: "Connections kept free for migrations and consoles, 0-200.",
    }),
    pooler: documented(enumType(z.enum(Pooler), "Pooler", "src/vocabulary/configEnums").default("none"), {
      description:
        "How the hosts reach PostgreSQL: directly (none), or through one PgBouncer per host in transaction mode (pgbouncer).",
    }),
    pgbouncer: documented(
      argsType(
        z.strictObject({
          defaultPoolSize: documented(positiveInt.max(500).default(DEFAULTS.database.pgbouncerPoolSize), {
            description:
              "PgBouncer's default_pool_size per host, 1-500, unless a fleet sets pgbouncerPoolSize.",
          }),
        }),
        { name: "StackPgbouncerArgs", folder: "database", description: "mastodon:database.pgbouncer" },
      ).prefault({}),
      { description: "PgBouncer settings, pooler pgbouncer only." },
    ),
    replica: documented(
      argsType(
        z.strictObject({
          instanceClass: documented(rdsInstanceClass, {
            description:
              "RDS class of the read replica, e.g. db.r7g.large (the same classes as the primary's).",
          }),
          maxConnections: documented(z.int().min(20).max(5000).optional(), {
            description:
              "The replica's max_connections, 20-5000; its budget is checked against it, with the same limits as the primary's.",
            default: MAX_CONNECTIONS_DEFAULT,
          }),
        }),
        { name: "StackReplicaArgs", folder: "database", description: "mastodon:database.replica" },
      ).optional(),
      {
        description:
          "A read replica (REPLICA_DB_*); the connection budget counts the same pools again against its own limit.",
        default: "none",
      },
    ),
    restoreFrom: documented(restoreFromSchema.optional(), {
      description:
        "The RDS snapshot or pg_dump archive the database starts from when it is created, read-only towards its source: one snapshot, another stack's newest snapshot, or a dump (src/database/restoreFrom.ts, restoreDump.ts).",
      default: "none: an empty database",
    }),
  }),
  { name: "StackDatabaseArgs", folder: "database", description: "mastodon:database" },
);
