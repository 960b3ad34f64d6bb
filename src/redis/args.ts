/**
 * mastodon:redis written out for Pulumi's component analyzer: MastodonStack's `redis` arg, the
 * cache and the persistent store. Only what the analyzer reads (interfaces, `as const` enums, doc
 * comments with `(@default ...)`); src/config/args.ts says why.
 */
import type { RedisEngine } from "./redisServer";

/** Where the persistent Redis runs. */
export const PersistentRedisMode = {
  /** ElastiCache: Multi-AZ replicas, snapshots. */
  Elasticache: "elasticache",
  /** Redis from Debian on EC2 with appendonly: the only real AOF on AWS (docs/design.md, "The two Redis"). */
  SelfManagedAof: "self-managed-aof",
} as const;
export type PersistentRedisMode = (typeof PersistentRedisMode)[keyof typeof PersistentRedisMode];

/** mastodon:redis.cache */
export interface StackCacheRedisArgs {
  /** The ElastiCache engine (@default "valkey"). */
  engine?: RedisEngine;
  /** The engine's version: 7.x for redis, 8.x for valkey (@default "8.0" for valkey, "7.1" for redis). */
  engineVersion?: string;
  /** The ElastiCache node type (@default "cache.t4g.small"). */
  nodeType?: string;
  /** The cache may run on one node (@default 1). */
  nodes?: number;
}

/** mastodon:redis.persistent */
export interface StackPersistentRedisArgs {
  /** Where the store of Sidekiq's jobs and the home feeds runs (@default "elasticache"). */
  mode?: PersistentRedisMode;
  /** The ElastiCache engine (@default "valkey"). */
  engine?: RedisEngine;
  /** The engine's version: 7.x for redis, 8.x for valkey (@default "8.0" for valkey, "7.1" for redis). */
  engineVersion?: string;
  /** The ElastiCache node type (@default "cache.t4g.small"). */
  nodeType?: string;
  /** Primary plus replicas; production needs at least 2 for automatic failover (@default 2). */
  nodes?: number;
  /** Asking ElastiCache for AOF is refused with an explanation (@default false). */
  appendOnly?: boolean;
  /** self-managed-aof only: the EC2 instance type (@default "c7g.large"). */
  instanceType?: string;
  /** self-managed-aof only: the encrypted gp3 data volume, GiB (@default 20). */
  volumeGiB?: number;
}

/** mastodon:redis.onHost: both Redis on the one app host (docs/design.md, "Redis on the host"). */
export interface StackOnHostRedisArgs {
  /** maxmemory of the cache, MiB (@default 64). */
  cacheMaxmemoryMiB?: number;
  /** maxmemory of the persistent store, MiB (@default 128). */
  persistentMaxmemoryMiB?: number;
  /** The persistent store's encrypted gp3 volume, kept across host replacements, GiB (@default 8). */
  persistentVolumeGiB?: number;
  /** Production: accepts what the volume does not keep (no snapshot, one zone); else a warning (@default false). */
  acceptJobLoss?: boolean;
}

/** mastodon:redis */
export interface StackRedisArgs {
  /** The volatile cache (allkeys-lru): Rails' cache (@default {}). */
  cache?: StackCacheRedisArgs;
  /** The persistent store (noeviction): Sidekiq's jobs and the home feeds (@default {}). */
  persistent?: StackPersistentRedisArgs;
  /** Both Redis on the app host instead of ElastiCache (@default none). */
  onHost?: StackOnHostRedisArgs;
}
