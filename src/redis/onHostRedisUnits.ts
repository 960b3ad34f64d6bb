/**
 * Both Redis as two redis-server processes on the app host (redis.onHost; docs/design.md, "Redis on
 * the host"), each with its own config, data directory and unit, never one server for both
 * (compendium, "Lies, damned lies, and redis"). The cache: allkeys-lru, no persistence. The
 * persistent store: noeviction, AOF with fsync every second, the same redis.conf as the
 * self-managed host (redis.ts), in a directory on an EBS volume of its own that the next host
 * attaches (redisVolume.ts), so its data outlives the instance. Both listen on 127.0.0.1 only and
 * require a password, read from SSM at boot into a root-owned include only redis can read. Pure;
 * the real redis-server runs these files in src/redis/onHostRedis.real.test.ts.
 */
import { renderRedisConf, type RedisDirective } from "../host/conf";
import {
  REDIS_STOP_TIMEOUT_SECONDS,
  type RedisRole,
  maxmemoryPolicy,
  redisServerBasics,
  renderSelfManagedRedisConf,
} from "./redisServer";
import { renderUnit, type UnitFile } from "../host/systemd";
import { DAEMON_OPEN_FILES, daemonSandbox, restartAlways, startLimits } from "../host/unitPolicy";

export interface OnHostRedisServer {
  readonly port: number;
  readonly maxmemoryBytes: number;
  /** `{{ssm:<parameter>}}` of its AUTH password, filled at boot (boot.ts). */
  readonly passwordPlaceholder: string;
}

export interface OnHostRedisInput {
  readonly cache: OnHostRedisServer;
  readonly persistent: OnHostRedisServer;
  /** The persistent store's own EBS volume (src/redis/onHostRedis.ts), mounted at its data directory. */
  readonly persistentVolumeId: string;
}

export const ON_HOST_REDIS_ROLES = ["cache", "persistent"] as const satisfies readonly RedisRole[];

/** Where each server keeps its config, password include, data and unit. */
export function onHostRedisPaths(role: RedisRole) {
  return {
    unit: `mastodon-redis-${role}.service`,
    conf: `/etc/redis/mastodon-${role}.conf`,
    auth: `/etc/redis/mastodon-${role}-auth.conf`,
    authTemplate: `/etc/mastodon/redis-${role}-auth.conf.template`,
    /** systemd's StateDirectory= creates it, owned by redis, before the sandbox is set up. */
    stateDirectory: `redis-mastodon-${role}`,
    dataDir: `/var/lib/redis-mastodon-${role}`,
  } as const;
}

/** The units Mastodon's own wait for (After=, Wants=): Redis is up before Puma, Sidekiq and streaming. */
export const ON_HOST_REDIS_UNITS: readonly string[] = ON_HOST_REDIS_ROLES.map(
  (r) => onHostRedisPaths(r).unit,
);

/** The cache: evicts least-recently-used keys of any kind, keeps nothing on disk (it may be lost). */
export function renderCacheRedisConf(input: {
  port: number;
  maxmemoryBytes: number;
  dir: string;
  includeFile?: string;
}): string {
  const directives: RedisDirective[] = [
    ...redisServerBasics({ bind: ["127.0.0.1"], port: input.port, dir: input.dir }),
    // Neither AOF nor RDB: a restart starts the cache empty, which Rails expects of a cache.
    ["appendonly", "no"],
    ["save", ""],
    ["maxmemory", input.maxmemoryBytes],
    ["maxmemory-policy", maxmemoryPolicy("cache")],
    ...(input.includeFile ? [["include", input.includeFile] as const] : []),
  ];
  return renderRedisConf({
    comment:
      // Host bytes name the module that first rendered them: moving the source must not change a host.
      "Rendered by mastodon-aws (core/host/onHostRedis.ts): the on-host cache Redis (CACHE_REDIS_URL).",
    directives,
  });
}

/** One server's redis.conf: the cache's, or the persistent store's AOF config bound to loopback. */
export function renderOnHostRedisConf(role: RedisRole, server: OnHostRedisServer): string {
  const p = onHostRedisPaths(role);
  switch (role) {
    case "cache":
      return renderCacheRedisConf({ ...server, dir: p.dataDir, includeFile: p.auth });
    case "persistent":
      return renderSelfManagedRedisConf({
        dir: p.dataDir,
        port: server.port,
        bind: ["127.0.0.1"],
        maxmemoryBytes: server.maxmemoryBytes,
        includeFile: p.auth,
      });
    default: {
      const unknown: never = role;
      throw new Error(`unknown Redis role ${String(unknown)}`);
    }
  }
}

/** The password include: `requirepass` with the SSM placeholder the boot renderer fills. */
export function renderOnHostRedisAuth(server: OnHostRedisServer): string {
  return renderRedisConf({
    comment: "Filled at boot from SSM by mastodon-render-secrets: the AUTH password.",
    directives: [["requirepass", server.passwordPlaceholder]],
  });
}

/**
 * The unit, modelled on Debian's redis-server.service and sandboxed like PgBouncer (unitPolicy.ts):
 * it writes only its data directory. Part of mastodon.target, so it starts and stops with Mastodon.
 *
 * With `volumeUnit` (the persistent store: redisVolume.ts) its data directory is a volume that unit
 * mounts: Redis starts after it and not at all when it fails (Requires=), stops before the volume
 * is unmounted (RequiresMountsFor=), and refuses to start on a data directory that is not a mount
 * point, which would put a new, empty AOF on the root volume. That check runs outside the sandbox
 * (the `+` prefix, systemd.service(5)): inside it every ReadWritePaths= entry is a bind mount.
 */
export function renderOnHostRedisUnit(role: RedisRole, volumeUnit?: string): UnitFile {
  const p = onHostRedisPaths(role);
  return {
    name: p.unit,
    content: renderUnit({
      unit: [
        ["Description", `Redis for Mastodon on this host (${role})`],
        ...(volumeUnit
          ? ([
              ["Requires", volumeUnit],
              ["After", `network.target ${volumeUnit}`],
              ["RequiresMountsFor", p.dataDir],
            ] as const)
          : ([["After", "network.target"]] as const)),
        ["PartOf", "mastodon.target"],
        ...startLimits,
      ],
      service: [
        ...(volumeUnit ? [["ExecStartPre", `+/usr/bin/mountpoint -q ${p.dataDir}`] as const] : []),
        ["Type", "notify"],
        ["ExecStart", `/usr/bin/redis-server ${p.conf}`],
        ["User", "redis"],
        ["Group", "redis"],
        ["StateDirectory", p.stateDirectory],
        ["StateDirectoryMode", "0750"],
        ...restartAlways,
        ["TimeoutStopSec", REDIS_STOP_TIMEOUT_SECONDS],
        ["LimitNOFILE", DAEMON_OPEN_FILES],
        ...daemonSandbox({ readWritePaths: [p.dataDir], removeIpc: true }),
      ],
      install: [["WantedBy", "mastodon.target"]],
    }),
  };
}

/** The stock redis-server.service Debian's package starts on 6379 at install: stopped and disabled at boot. */
export const DEBIAN_REDIS_UNIT = "redis-server.service";
