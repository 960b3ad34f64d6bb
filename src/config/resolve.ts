/**
 * Turns the zod-parsed config into the resolved StackConfig every other module reads
 * (src/config/stackConfig.ts): the defaults that depend on other fields (environment, instance
 * type, engine) are filled in here and nowhere else.
 */
import { ec2InstanceSpec, rdsClassSpec } from "../vocabulary/catalog";
import { DEFAULTS, QUEUE_LATENCY_ALARM_SECONDS, type SidekiqQueue } from "../vocabulary/defaults";
import { defaultMaxStorageGiB, maxConnectionsFor, workMemMiBFor } from "../database/postgres";
import type { ParsedFleet, ParsedStackConfig } from "./schema";
import type { DatabaseInstance, Fleet, StackConfig } from "./stackConfig";
import { resolveSearch } from "../search/config";
import { resolveWaf } from "../waf/config";
import { resolveExistingSecrets } from "../migration/config";

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
    ...(fleet.warmPool && { warmPool: { ...fleet.warmPool } }),
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
    ...(parsed.waf && { waf: resolveWaf(parsed.waf) }),
    ...(parsed.existingSecrets && { existingSecrets: resolveExistingSecrets(parsed.existingSecrets) }),
    image: parsed.image,
    fleets,
    streamingPorts: fleets.find((f) => f.streaming)?.streaming?.ports ?? [],
    ...(fleets.some((f) => f.servesScheduler) && {
      schedulerFleet: fleets.find((f) => f.servesScheduler)?.name,
    }),
    written: writtenValues(raw ?? {}),
  };
}
