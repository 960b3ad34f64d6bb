/**
 * The resolved stack config: the shape every other module reads, once src/config/resolve.ts has
 * filled in the defaults that depend on other fields (environment, instance type, engine). Types
 * only, so a module that reads the config need not load the resolution.
 */
import type { Ec2InstanceSpec, RdsClassSpec } from "../vocabulary/catalog";
import type { SidekiqQueue } from "../vocabulary/defaults";
import type { ParsedFleet, ParsedStackConfig } from "./schema";
import type { SearchConfig } from "../search/config";
import type { WafConfig } from "../waf/config";
import type { ExistingSecrets } from "../migration/config";

export type Environment = ParsedStackConfig["environment"];

// The resolved shapes are the parsed ones (each key's type and description live in its zod schema,
// src/config/schema/keyDoc.ts) with what resolution fills in or adds.

/** fleets.<name>.web resolved: WEB_CONCURRENCY computed from the instance type when not given. */
export type WebService = Readonly<Required<NonNullable<ParsedFleet["web"]>>>;

/** fleets.<name>.streaming resolved, with one port per process: mastodon-streaming@<port>. */
export type StreamingService = Readonly<NonNullable<ParsedFleet["streaming"]>> & {
  readonly ports: readonly number[];
};

export type SidekiqService = Readonly<Omit<NonNullable<ParsedFleet["sidekiq"]>, "queues">> & {
  readonly queues: readonly SidekiqQueue[];
};

/** fleets.<name>.warmPool resolved: an absolute pool size and the state its instances wait in. */
export type WarmPool = Readonly<NonNullable<ParsedFleet["warmPool"]>>;

/** A fleet as written, its sizes and services resolved (queueLatencyTarget in seconds). */
export interface Fleet extends Readonly<
  Omit<ParsedFleet, "desiredSize" | "maxSize" | "web" | "streaming" | "sidekiq" | "warmPool">
> {
  readonly name: string;
  readonly instance: Ec2InstanceSpec;
  readonly desiredSize: number;
  readonly maxSize: number;
  readonly web?: WebService;
  readonly streaming?: StreamingService;
  readonly sidekiq?: SidekiqService;
  /** Instances kept prepared beside the group (src/fleet/warmPool.ts). */
  readonly warmPool?: WarmPool;
  /** Whether its Sidekiq listens to `scheduler` (the rules allow exactly one such process). */
  readonly servesScheduler: boolean;
  /** The keys the operator wrote for this fleet (`maxSize`, `web.processes`, ...); the rest are defaults. */
  readonly configured: ReadonlySet<string>;
}

/** redis.onHost resolved: the two servers' ports and maxmemory, on the host of `fleet`. */
export type OnHostRedis = Readonly<NonNullable<ParsedStackConfig["redis"]["onHost"]>> & {
  readonly cachePort: number;
  readonly persistentPort: number;
};

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
