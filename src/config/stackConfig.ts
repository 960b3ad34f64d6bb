/**
 * The resolved stack config: the shape every other module reads, once src/config/resolve.ts has
 * filled in the defaults that depend on other fields (environment, instance type, engine). Types
 * only, so a module that reads the config need not load the resolution.
 */
import type { Ec2InstanceSpec, RdsClassSpec } from "../vocabulary/catalog";
import type { SidekiqQueue, WarmPoolState } from "../vocabulary/defaults";
import type { ParsedStackConfig } from "./schema";
import type { SearchConfig } from "../search/config";
import type { WafConfig } from "../waf/config";
import type { ExistingSecrets } from "../migration/config";

export type Environment = ParsedStackConfig["environment"];

export interface WebService {
  /** WEB_CONCURRENCY */
  readonly processes: number;
  /** MAX_THREADS */
  readonly threads: number;
}

export interface StreamingService {
  readonly processes: number;
  /** DB_POOL of each process. */
  readonly dbPool: number;
  /** One port per process: mastodon-streaming@<port>. */
  readonly ports: readonly number[];
}

export interface SidekiqService {
  readonly queues: readonly SidekiqQueue[];
  readonly processes: number;
  /** `sidekiq -c` and DB_POOL. */
  readonly threads: number;
}

/** fleets.<name>.warmPool resolved: an absolute pool size and the state its instances wait in. */
export interface WarmPool {
  readonly size: number;
  readonly state: WarmPoolState;
}

export interface Fleet {
  readonly name: string;
  readonly instanceType: string;
  readonly instance: Ec2InstanceSpec;
  readonly minSize: number;
  readonly desiredSize: number;
  readonly maxSize: number;
  readonly web?: WebService;
  readonly streaming?: StreamingService;
  readonly sidekiq?: SidekiqService;
  /** PgBouncer default_pool_size on each host; set only when the pooler is pgbouncer. */
  readonly pgbouncerPoolSize?: number;
  readonly spot: boolean;
  /** With spot: the further types the Spot capacity may run on (instanceType is the sized one). */
  readonly spotInstanceTypes?: readonly string[];
  readonly cpuTarget?: number;
  /** Target tracking on FleetQueueLatency, in seconds. */
  readonly queueLatencyTarget?: number;
  readonly rootVolumeGiB: number;
  /** Instances kept prepared beside the group (src/fleet/warmPool.ts). */
  readonly warmPool?: WarmPool;
  /** Whether its Sidekiq listens to `scheduler` (the rules allow exactly one such process). */
  readonly servesScheduler: boolean;
  /** The keys the operator wrote for this fleet (`maxSize`, `web.processes`, ...); the rest are defaults. */
  readonly configured: ReadonlySet<string>;
}

/** redis.onHost resolved: the two servers' ports and maxmemory, on the host of `fleet`. */
export interface OnHostRedis {
  readonly cacheMaxmemoryMiB: number;
  readonly persistentMaxmemoryMiB: number;
  readonly cachePort: number;
  readonly persistentPort: number;
  /** The persistent store's own EBS volume (src/redis/onHostRedis.ts). */
  readonly persistentVolumeGiB: number;
  readonly acceptJobLoss: boolean;
}

export interface DatabaseInstance {
  readonly instanceClass: string;
  readonly spec: RdsClassSpec;
  readonly maxConnections: number;
  /** True when max_connections was set in config rather than computed. */
  readonly maxConnectionsOverridden: boolean;
  readonly workMemMiB: number;
}

export interface StackConfig {
  readonly environment: Environment;
  /** The Mastodon release tag every host runs (mastodon:version). */
  readonly version: string;
  readonly domain: string;
  readonly webDomain: string;
  readonly network: Omit<ParsedStackConfig["network"], "egress"> & {
    readonly egress: NonNullable<ParsedStackConfig["network"]["egress"]>;
  };
  readonly database: Omit<
    ParsedStackConfig["database"],
    "multiAz" | "maxStorageGiB" | "replica" | "maxConnections" | "workMemMiB" | "instanceClass"
  > & {
    readonly multiAz: boolean;
    readonly maxStorageGiB: number;
    readonly primary: DatabaseInstance;
    readonly replica?: DatabaseInstance;
  };
  readonly redis: {
    readonly cache: ParsedStackConfig["redis"]["cache"] & { readonly engineVersion: string };
    readonly persistent: ParsedStackConfig["redis"]["persistent"] & { readonly engineVersion: string };
    /** Both Redis on the one app host; cache and persistent above then describe nothing deployed. */
    readonly onHost?: OnHostRedis;
    /** The keys the operator wrote under redis.cache and redis.persistent (`cache.nodeType`, ...); none without the raw config. */
    readonly configured: ReadonlySet<string>;
  };
  readonly media: ParsedStackConfig["media"];
  readonly loadBalancer: ParsedStackConfig["loadBalancer"] & {
    readonly accessLogs: boolean;
    readonly deletionProtection: boolean;
  };
  readonly dns?: ParsedStackConfig["dns"];
  readonly mail: ParsedStackConfig["mail"] & { readonly fromAddress: string };
  /** The alarms' thresholds, every queue's latency threshold filled from its default (seconds). */
  readonly alarms: Omit<ParsedStackConfig["alarms"], "queueLatency"> & {
    readonly queueLatency: Readonly<Record<SidekiqQueue, number>>;
  };
  readonly logs: ParsedStackConfig["logs"];
  readonly owner?: ParsedStackConfig["owner"];
  readonly retention: ParsedStackConfig["retention"];
  /** Full-text search, when configured (src/search/engines.ts derives its preset and zones). */
  readonly search?: SearchConfig;
  readonly translation?: ParsedStackConfig["translation"];
  /** The AWS WAF web ACL on the ALB, when configured (src/waf/rules.ts). */
  readonly waf?: WafConfig;
  /** The secrets of the instance this stack takes over, stored in place of generated ones (src/migration/). */
  readonly existingSecrets?: ExistingSecrets;
  readonly image: ParsedStackConfig["image"];
  readonly fleets: readonly Fleet[];
  /** The ports every streaming host listens on (the rules make all streaming fleets alike). */
  readonly streamingPorts: readonly number[];
  /** The fleet whose single process serves the scheduler queue, if any fleet does. */
  readonly schedulerFleet?: string;
  /**
   * What the operator wrote, by dotted key from the top, maps and leaves alike
   * (`database.pgbouncer` -> `{ defaultPoolSize: 8 }`, `fleets.workers.queueLatencyTarget` -> "2m"):
   * for rules about keys nothing reads, and problems that show a value as it was written. Empty
   * without the raw config.
   */
  readonly written: ReadonlyMap<string, unknown>;
}
