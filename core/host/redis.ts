/**
 * The two Redis (docs/design.md, "The two Redis"; compendium "Lies, damned lies, and redis"): what each role's
 * settings are, the ElastiCache parameter group family, and the self-managed AOF host's redis.conf
 * and systemd unit. Pure; the same functions configure the real redis-server in the tests.
 */
import { renderCloudConfig } from "./cloudInit";
import { daemonSandbox, render, restartAlways, section, startLimits } from "./units";

export type RedisRole = "cache" | "persistent";
export type RedisEngine = "valkey" | "redis";

/**
 * cache: evict least-recently-used keys of any kind when full (it is only a cache).
 * persistent: never evict; refuse writes instead. Sidekiq warns on anything else, and an evicted
 * job or home feed is lost.
 */
export function maxmemoryPolicy(role: RedisRole): "allkeys-lru" | "noeviction" {
  return role === "cache" ? "allkeys-lru" : "noeviction";
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
  return engine === "redis" ? /^7\.[01]$/.test(engineVersion) : /^(7\.2|8\.[0-9]+)$/.test(engineVersion);
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
 * redis.conf for the self-managed persistent store: AOF on, fsync every second, noeviction. With
 * appendfsync everysec an acknowledged write is in the kernel before the reply, so a crashed
 * redis-server loses nothing; a crashed machine loses at most the last second.
 */
export function renderSelfManagedRedisConf(input: RedisConfInput): string {
  const lines: [string, string | number][] = [
    ["bind", input.bind.join(" ")],
    ["port", input.port],
    ["protected-mode", "yes"],
    ["tcp-keepalive", 300],
    ["daemonize", "no"],
    ["supervised", "systemd"],
    ["loglevel", "notice"],
    ["logfile", '""'],
    ["databases", 16],
    ["dir", input.dir],
    ["appendonly", "yes"],
    ["appendfilename", '"appendonly.aof"'],
    ["appenddirname", '"appendonlydir"'],
    ["appendfsync", "everysec"],
    ["aof-use-rdb-preamble", "yes"],
    ["auto-aof-rewrite-percentage", 100],
    ["auto-aof-rewrite-min-size", "64mb"],
    // RDB snapshots too: a compact file to copy off the host; the EBS snapshots carry both.
    ["save", '"3600 1 300 100 60 10000"'],
    ["dbfilename", "dump.rdb"],
    ["maxmemory", input.maxmemoryBytes],
    ["maxmemory-policy", maxmemoryPolicy("persistent")],
  ];
  const body = lines.map(([k, v]) => `${k} ${v}`);
  const include = input.includeFile ? [`include ${input.includeFile}`] : [];
  return [
    "# Rendered by mastodon-aws (core/redis.ts): the persistent Redis for Sidekiq and home feeds.",
    ...body,
    ...include,
    "",
  ].join("\n");
}

/** The share of a host's memory the self-managed Redis may use, leaving room for AOF rewrites (fork). */
export const SELF_MANAGED_MAXMEMORY_FRACTION = 0.5;

/**
 * systemd unit for the self-managed Redis, modelled on Debian's redis-server.service and sandboxed
 * like the Mastodon units (core/units.ts daemonSandbox): it writes its data directory only.
 * maxclients (10000) fits under LimitNOFILE, so redis-server needs no setrlimit (@resources).
 */
export function renderSelfManagedRedisUnit(confPath: string, dataDir: string): string {
  return render(
    section("Unit", [
      ["Description", "Redis for Mastodon (persistent store, AOF)"],
      ["After", "network-online.target local-fs.target"],
      ["Wants", "network-online.target"],
      ["RequiresMountsFor", dataDir],
      ...startLimits,
    ]),
    section("Service", [
      ["Type", "notify"],
      ["ExecStart", `/usr/bin/redis-server ${confPath}`],
      ["User", "redis"],
      ["Group", "redis"],
      ...restartAlways,
      ["TimeoutStopSec", 60],
      ["LimitNOFILE", 65536],
      ...daemonSandbox({ readWritePaths: [dataDir], removeIpc: true }),
    ]),
    section("Install", [["WantedBy", "multi-user.target"]]),
  );
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
 * The boot script: mount the data volume (formatting it only when blank, so a replaced instance
 * finds its AOF), then write the password and the private bind address, which only exist at boot,
 * into a root-owned include that only redis can read.
 */
export function renderSelfManagedBootScript(input: SelfManagedHostInput): string {
  const p = SELF_MANAGED_PATHS;
  const device = `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${input.volumeId.replace("-", "")}`;
  return `#!/bin/bash
# Rendered by mastodon-aws (core/redis.ts): prepares the self-managed Redis on an instance's first boot.
set -euo pipefail
device=${device}
for _ in $(seq 60); do [ -e "$device" ] && break; sleep 2; done
[ -e "$device" ] || { echo "data volume ${input.volumeId} not attached" >&2; exit 1; }
if ! blkid "$device" >/dev/null 2>&1; then mkfs.ext4 -q -L redis-data "$device"; fi
mkdir -p ${p.dataDir}
uuid=$(blkid -s UUID -o value "$device")
grep -q "$uuid" /etc/fstab || echo "UUID=$uuid ${p.dataDir} ext4 defaults,nofail,noatime 0 2" >> /etc/fstab
mountpoint -q ${p.dataDir} || mount ${p.dataDir}
chown redis:redis ${p.dataDir}
chmod 0750 ${p.dataDir}

token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
private_ip=$(curl -sf -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/local-ipv4)
password=$(aws ssm get-parameter --region ${input.region} --with-decryption --name '${input.passwordParameter}' --query Parameter.Value --output text)
umask 077
printf 'bind 127.0.0.1 %s\\nrequirepass %s\\n' "$private_ip" "$password" > ${p.secrets}
chown root:redis ${p.secrets}
chmod 0640 ${p.secrets}
`;
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
      { path: p.bootScript, content: renderSelfManagedBootScript(input), permissions: "0750" },
    ],
    runcmd: [
      [p.bootScript],
      // Debian's own instance would listen on 6379 with the stock config.
      ["systemctl", "disable", "--now", "redis-server.service"],
      ["systemctl", "daemon-reload"],
      ["systemctl", "enable", "--now", "redis-mastodon.service"],
    ],
  });
}
