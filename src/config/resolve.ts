/**
 * Turns the zod-parsed config into the resolved StackConfig every other module reads: the
 * defaults that depend on other fields (environment, instance type, engine) are filled in here and
 * nowhere else.
 */
import {
  type Ec2InstanceSpec,
  type RdsClassSpec,
  ec2InstanceSpec,
  rdsClassSpec,
} from "../vocabulary/catalog";
import { DEFAULTS, QUEUE_LATENCY_ALARM_SECONDS, type SidekiqQueue } from "../vocabulary/defaults";
import { defaultMaxStorageGiB, maxConnectionsFor, workMemMiBFor } from "../database/postgres";
import type { ParsedFleet, ParsedStackConfig } from "./schema";
import { type SearchConfig, resolveSearch } from "../search/config";

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

function databaseInstance(
  instanceClass: string,
  maxConnections?: number,
  workMemMiB?: number,
): DatabaseInstance {
  const spec = rdsClassSpec(instanceClass);
  if (!spec) throw new Error(`resolve: ${instanceClass} passed the schema but is not in the catalog`);
  const max = maxConnectionsFor(spec, maxConnections);
  return {
    instanceClass,
    spec,
    maxConnections: max,
    maxConnectionsOverridden: maxConnections !== undefined,
    workMemMiB: workMemMiBFor(spec, max, workMemMiB),
  };
}

/** Dotted paths of the keys present in a raw config object: `maxSize`, `web`, `web.processes`, ... */
function configuredKeys(raw: unknown, prefix = ""): string[] {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return [];
  return Object.entries(raw as Record<string, unknown>).flatMap(([key, value]) => [
    `${prefix}${key}`,
    ...configuredKeys(value, `${prefix}${key}.`),
  ]);
}

/** Every value present in a raw config object, by dotted path: `database`, `database.pooler`, ... */
function writtenValues(raw: unknown, prefix = "", out = new Map<string, unknown>()): Map<string, unknown> {
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) return out;
  for (const [key, value] of Object.entries(raw as Record<string, unknown>)) {
    out.set(`${prefix}${key}`, value);
    writtenValues(value, `${prefix}${key}.`, out);
  }
  return out;
}

/** Whether a fleet whose Sidekiq serves `queues` runs the scheduler (the rules allow one such process). */
export function servesScheduler(queues?: readonly SidekiqQueue[]): boolean {
  return queues?.includes("scheduler") ?? false;
}

function resolveFleet(name: string, fleet: ParsedFleet, parsed: ParsedStackConfig, raw: unknown): Fleet {
  const instance = ec2InstanceSpec(fleet.instanceType);
  if (!instance)
    throw new Error(`resolve: ${fleet.instanceType} passed the schema but is not in the catalog`);
  const desiredSize = fleet.desiredSize ?? fleet.minSize;
  const maxSize = fleet.maxSize ?? Math.max(desiredSize, 1);
  const web = fleet.web && {
    processes: fleet.web.processes ?? Math.max(1, Math.round(DEFAULTS.web.processesPerVcpu * instance.vcpu)),
    threads: fleet.web.threads,
  };
  const streaming = fleet.streaming && {
    processes: fleet.streaming.processes,
    dbPool: fleet.streaming.dbPool,
    ports: Array.from({ length: fleet.streaming.processes }, (_, i) => DEFAULTS.streaming.firstPort + i),
  };
  const pgbouncerPoolSize =
    parsed.database.pooler === "pgbouncer"
      ? (fleet.pgbouncerPoolSize ?? parsed.database.pgbouncer.defaultPoolSize)
      : undefined;
  return {
    name,
    instanceType: fleet.instanceType,
    instance,
    minSize: fleet.minSize,
    desiredSize,
    maxSize,
    ...(web && { web }),
    ...(streaming && { streaming }),
    ...(fleet.sidekiq && { sidekiq: fleet.sidekiq }),
    ...(pgbouncerPoolSize !== undefined && { pgbouncerPoolSize }),
    spot: fleet.spot,
    ...(fleet.spotInstanceTypes && { spotInstanceTypes: fleet.spotInstanceTypes }),
    ...(fleet.cpuTarget !== undefined && { cpuTarget: fleet.cpuTarget }),
    ...(fleet.queueLatencyTarget !== undefined && { queueLatencyTarget: fleet.queueLatencyTarget }),
    rootVolumeGiB: fleet.rootVolumeGiB,
    servesScheduler: servesScheduler(fleet.sidekiq?.queues),
    configured: new Set(configuredKeys(raw)),
  };
}

/**
 * `raw` is the config as written (before zod's defaults), so each fleet knows which of its values the
 * operator set; without it every value counts as configured.
 */
export function resolveStackConfig(parsed: ParsedStackConfig, raw?: Record<string, unknown>): StackConfig {
  const rawFleets = (raw?.["fleets"] ?? parsed.fleets) as Record<string, unknown>;
  const fleets = Object.entries(parsed.fleets).map(([name, fleet]) =>
    resolveFleet(name, fleet, parsed, rawFleets[name]),
  );
  const production = parsed.environment === "production";
  const { multiAz, maxStorageGiB, replica, maxConnections, workMemMiB, instanceClass, ...database } =
    parsed.database;
  const redisVersion = (engine: "valkey" | "redis", version?: string) =>
    version ?? (engine === "valkey" ? DEFAULTS.redis.valkeyVersion : DEFAULTS.redis.redisVersion);
  return {
    environment: parsed.environment,
    version: parsed.version,
    domain: parsed.domain,
    webDomain: parsed.webDomain ?? parsed.domain,
    network: {
      ...parsed.network,
      egress: parsed.network.egress ?? (production ? "nat-per-az" : DEFAULTS.network.egress),
    },
    database: {
      ...database,
      multiAz: multiAz ?? production,
      maxStorageGiB: maxStorageGiB ?? defaultMaxStorageGiB(parsed.database.storageGiB),
      primary: databaseInstance(instanceClass, maxConnections, workMemMiB),
      ...(replica && {
        replica: databaseInstance(replica.instanceClass, replica.maxConnections, workMemMiB),
      }),
    },
    redis: {
      cache: {
        ...parsed.redis.cache,
        engineVersion: redisVersion(parsed.redis.cache.engine, parsed.redis.cache.engineVersion),
      },
      persistent: {
        ...parsed.redis.persistent,
        engineVersion: redisVersion(parsed.redis.persistent.engine, parsed.redis.persistent.engineVersion),
      },
      ...(parsed.redis.onHost && {
        onHost: {
          ...parsed.redis.onHost,
          cachePort: DEFAULTS.onHostRedis.cachePort,
          persistentPort: DEFAULTS.onHostRedis.persistentPort,
        },
      }),
      configured: new Set(
        configuredKeys(raw?.["redis"] ?? {}).filter(
          (k) => k.startsWith("cache") || k.startsWith("persistent"),
        ),
      ),
    },
    media: parsed.media,
    loadBalancer: {
      ...parsed.loadBalancer,
      accessLogs: parsed.loadBalancer.accessLogs ?? production,
      deletionProtection: parsed.loadBalancer.deletionProtection ?? production,
    },
    ...(parsed.dns && { dns: parsed.dns }),
    mail: { ...parsed.mail, fromAddress: parsed.mail.fromAddress ?? `notifications@${parsed.domain}` },
    alarms: {
      ...parsed.alarms,
      queueLatency: { ...QUEUE_LATENCY_ALARM_SECONDS, ...parsed.alarms.queueLatency },
    },
    logs: parsed.logs,
    ...(parsed.owner && { owner: parsed.owner }),
    retention: parsed.retention,
    ...(parsed.search && { search: resolveSearch(parsed.search, parsed.network.availabilityZones) }),
    ...(parsed.translation && { translation: parsed.translation }),
    image: parsed.image,
    fleets,
    streamingPorts: fleets.find((f) => f.streaming)?.streaming?.ports ?? [],
    ...(fleets.some((f) => f.servesScheduler) && {
      schedulerFleet: fleets.find((f) => f.servesScheduler)?.name,
    }),
    written: writtenValues(raw ?? {}),
  };
}
