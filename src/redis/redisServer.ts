/**
 * The two Redis (docs/design.md, "The two Redis"; compendium "Lies, damned lies, and redis"): what each role's
 * settings are, the ElastiCache parameter group family, and the self-managed AOF host's redis.conf
 * and systemd unit. Pure; the same functions configure the real redis-server in the tests.
 */
import { renderCloudConfig } from "../host/cloudInit";
import { renderRedisConf, type RedisDirective } from "../host/conf";
import { programText, REDIS_HOST_SETUP } from "../host/programs";
import { renderUnit } from "../host/systemd";
import { DAEMON_OPEN_FILES, daemonSandbox, restartAlways, startLimits } from "../host/unitPolicy";

/**
 * Mastodon's two Redis (docs/design.md, "The two Redis"). `as const` objects with types of the same
 * name: the enum shape Pulumi's component analyzer accepts.
 */
export const RedisRole = {
  /** allkeys-lru, no persistence. */
  Cache: "cache",
  /** noeviction, replicas and snapshots: Sidekiq's jobs and the home feeds. */
  Persistent: "persistent",
} as const;
export type RedisRole = (typeof RedisRole)[keyof typeof RedisRole];
export const RedisEngine = {
  Valkey: "valkey",
  Redis: "redis",
} as const;
export type RedisEngine = (typeof RedisEngine)[keyof typeof RedisEngine];

/**
 * cache: evict least-recently-used keys of any kind when full (it is only a cache).
 * persistent: never evict; refuse writes instead. Sidekiq warns on anything else, and an evicted
 * job or home feed is lost.
 */
export function maxmemoryPolicy(role: RedisRole): "allkeys-lru" | "noeviction" {
  switch (role) {
    case "cache":
      return "allkeys-lru";
    case "persistent":
      return "noeviction";
    default: {
      const unknown: never = role;
      throw new Error(`unknown Redis role ${String(unknown)}`);
    }
  }
}

/** ElastiCache parameter group parameters for a role. */
export function elasticacheParameters(role: RedisRole): { name: string; value: string }[] {
  return [{ name: "maxmemory-policy", value: maxmemoryPolicy(role) }];
}

/** ElastiCache parameter group family: redis7 for Redis OSS 7.x, valkey7/valkey8 for Valkey. */
export function elasticacheFamily(engine: RedisEngine, engineVersion: string): string {
  const major = engineVersion.split(".")[0];
  return `${engine}${major}`;
}

/** Versions ElastiCache offers per engine that Mastodon 4.6 accepts (Redis 7+, Sidekiq 8). */
export function isSupportedEngineVersion(engine: RedisEngine, engineVersion: string): boolean {
  switch (engine) {
    case "redis":
      return /^7\.[01]$/.test(engineVersion);
    case "valkey":
      return /^(7\.2|8\.[0-9]+)$/.test(engineVersion);
    default: {
      const unknown: never = engine;
      throw new Error(`unknown Redis engine ${String(unknown)}`);
    }
  }
}

export interface RedisConfInput {
  /** Data directory (AOF and RDB files). */
  readonly dir: string;
  readonly port: number;
  /** Addresses to listen on; the self-managed host adds its private address at boot via `include`. */
  readonly bind: readonly string[];
  readonly maxmemoryBytes: number;
  /** A file written at boot with `requirepass` and the private `bind`: no secret in the rendered file. */
  readonly includeFile?: string;
}

/**
 * The numbers in the self-managed redis.conf that are Redis 7's own defaults (the redis.conf it
 * ships), written out so the file says what the server runs with.
 */
export const REDIS_CONF_DEFAULTS = {
  /** Seconds between TCP keepalives to clients: a dead peer is noticed in about twice this. */
  tcpKeepaliveSeconds: 300,
  databases: 16,
  /** Rewrite the AOF when it has doubled since the last rewrite... */
  aofRewritePercentage: 100,
  /** ...and is at least this big. */
  aofRewriteMinSize: "64mb",
  /** RDB after 3600 s if 1 key changed, 300 s if 100 did, 60 s if 10000 did. */
  save: "3600 1 300 100 60 10000",
} as const;

/**
 * Seconds systemd waits for redis-server to stop before SIGKILL: on SIGTERM it fsyncs the AOF and,
 * `save` being set, writes a final RDB, which takes time with a large dataset. A kill after it
 * still loses at most the last second of writes (appendfsync everysec).
 */
export const REDIS_STOP_TIMEOUT_SECONDS = 60;

/**
 * What every redis-server this package runs starts with: its addresses and port, protected mode,
 * keepalives, run under systemd (Type=notify) with its log on stdout (the journal), its directory.
 */
export function redisServerBasics(input: {
  readonly bind: readonly string[];
  readonly port: number;
  readonly dir: string;
}): RedisDirective[] {
  const d = REDIS_CONF_DEFAULTS;
  return [
    ["bind", ...input.bind],
    ["port", input.port],
    ["protected-mode", "yes"],
    ["tcp-keepalive", d.tcpKeepaliveSeconds],
    ["daemonize", "no"],
    ["supervised", "systemd"],
    ["loglevel", "notice"],
    // No log file: systemd's journal has stdout.
    ["logfile", ""],
    ["databases", d.databases],
    ["dir", input.dir],
  ];
}

/**
 * redis.conf for the self-managed persistent store: AOF on, fsync every second, noeviction. With
 * appendfsync everysec an acknowledged write is in the kernel before the reply, so a crashed
 * redis-server loses nothing; a crashed machine loses at most the last second.
 */
export function renderSelfManagedRedisConf(input: RedisConfInput): string {
  const d = REDIS_CONF_DEFAULTS;
  const directives: RedisDirective[] = [
    ...redisServerBasics(input),
    ["appendonly", "yes"],
    ["appendfilename", "appendonly.aof"],
    ["appenddirname", "appendonlydir"],
    ["appendfsync", "everysec"],
    ["aof-use-rdb-preamble", "yes"],
    ["auto-aof-rewrite-percentage", d.aofRewritePercentage],
    ["auto-aof-rewrite-min-size", d.aofRewriteMinSize],
    // RDB snapshots too: a compact file to copy off the host; the EBS snapshots carry both.
    ["save", d.save],
    ["dbfilename", "dump.rdb"],
    ["maxmemory", input.maxmemoryBytes],
    ["maxmemory-policy", maxmemoryPolicy("persistent")],
    // Last, so that its bind (the private address) replaces the one above.
    ...(input.includeFile ? [["include", input.includeFile] as const] : []),
  ];
  return renderRedisConf({
    comment:
      // Host bytes name the module that first rendered them: moving the source must not change a host.
      "Rendered by mastodon-aws (core/host/redis.ts): the persistent Redis for Sidekiq and home feeds.",
    directives,
  });
}

/** The share of a host's memory the self-managed Redis may use, leaving room for AOF rewrites (fork). */
export const SELF_MANAGED_MAXMEMORY_FRACTION = 0.5;

/**
 * systemd unit for the self-managed Redis, modelled on Debian's redis-server.service and sandboxed
 * like the Mastodon units (unitPolicy.ts daemonSandbox): it writes its data directory only.
 * maxclients (10000) fits under LimitNOFILE, so redis-server needs no setrlimit (@resources).
 */
export function renderSelfManagedRedisUnit(confPath: string, dataDir: string): string {
  return renderUnit({
    unit: [
      ["Description", "Redis for Mastodon (persistent store, AOF)"],
      ["After", "network-online.target local-fs.target"],
      ["Wants", "network-online.target"],
      ["RequiresMountsFor", dataDir],
      ...startLimits,
    ],
    service: [
      ["Type", "notify"],
      ["ExecStart", `/usr/bin/redis-server ${confPath}`],
      ["User", "redis"],
      ["Group", "redis"],
      ...restartAlways,
      ["TimeoutStopSec", REDIS_STOP_TIMEOUT_SECONDS],
      ["LimitNOFILE", DAEMON_OPEN_FILES],
      ...daemonSandbox({ readWritePaths: [dataDir], removeIpc: true }),
    ],
    install: [["WantedBy", "multi-user.target"]],
  });
}

export interface SelfManagedHostInput {
  /** The EBS data volume's ID: the boot script finds its NVMe device by it. */
  readonly volumeId: string;
  /** SSM SecureString holding the AUTH password; read at boot, never written into user-data. */
  readonly passwordParameter: string;
  readonly region: string;
  readonly port: number;
  readonly maxmemoryBytes: number;
}

export const SELF_MANAGED_PATHS = {
  dataDir: "/var/lib/redis-mastodon",
  conf: "/etc/redis/mastodon.conf",
  secrets: "/etc/redis/mastodon-secrets.conf",
  unit: "/etc/systemd/system/redis-mastodon.service",
  bootScript: "/usr/local/sbin/mastodon-redis-boot",
} as const;

/**
 * The boot script, src/redis/files/redis-host-setup.sh: mount the data volume (formatting it only
 * when blank, so a replaced instance finds its AOF), then write the password and the private bind
 * address, which only exist at boot, into a root-owned include that only redis can read.
 */
export function renderSelfManagedBootScript(): string {
  return programText(REDIS_HOST_SETUP);
}

/** The boot script's command line: the stack's values as its arguments. */
export function selfManagedBootCommand(input: SelfManagedHostInput): string[] {
  const p = SELF_MANAGED_PATHS;
  return [
    p.bootScript,
    "--volume-id",
    input.volumeId,
    "--region",
    input.region,
    "--password-parameter",
    input.passwordParameter,
    "--data-dir",
    p.dataDir,
    "--secrets",
    p.secrets,
  ];
}

/** The self-managed Redis host's cloud-config: Redis from Debian, the rendered conf and unit, the boot script. */
export function renderSelfManagedUserData(input: SelfManagedHostInput): string {
  const p = SELF_MANAGED_PATHS;
  return renderCloudConfig({
    packages: ["redis-server", "awscli", "curl"],
    writeFiles: [
      {
        path: p.conf,
        content: renderSelfManagedRedisConf({
          dir: p.dataDir,
          port: input.port,
          bind: ["127.0.0.1"],
          maxmemoryBytes: input.maxmemoryBytes,
          includeFile: p.secrets,
        }),
        permissions: "0640",
        owner: "root:redis",
        defer: true,
      },
      { path: p.unit, content: renderSelfManagedRedisUnit(p.conf, p.dataDir), permissions: "0644" },
      { path: p.bootScript, content: renderSelfManagedBootScript(), permissions: "0750" },
    ],
    runcmd: [
      selfManagedBootCommand(input),
      // Debian's own instance would listen on 6379 with the stock config.
      ["systemctl", "disable", "--now", "redis-server.service"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "redis-mastodon.service"],
    ],
  });
}
