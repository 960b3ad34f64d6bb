/**
 * The on-host persistent Redis's own EBS volume (redis.onHost; docs/design.md, "Redis on the host"),
 * as its host sees it (pure): the program that attaches and mounts it at every boot
 * (src/redis/files/mastodon-redis-volume.sh), its unit, which the persistent Redis requires, the
 * boot step that runs it before any Redis starts, and how large the volume must be.
 *
 * Why a volume of its own: the AOF on the root volume went with the instance, so every instance
 * refresh, failed health check or lost zone dropped the queued Sidekiq jobs and the home feeds. An
 * EBS volume outlives the instance it is attached to, in its Availability Zone only (Amazon EBS User
 * Guide, "Attach an Amazon EBS volume to an instance": the volume and the instance must be in the
 * same zone), and is attached to one instance at a time (Multi-Attach is for io1/io2 only): the
 * replacement attaches it once the old instance has let it go, which its termination does.
 */
import { DRAIN } from "../fleet/host/readiness";
import { type BootStep, execLine } from "../fleet/host/bootStep";
import { type Directive, renderUnit, type UnitFile } from "../host/systemd";

export const REDIS_VOLUME_PATHS = {
  program: "/usr/local/sbin/mastodon-redis-volume",
  unit: "mastodon-redis-volume.service",
  /**
   * The name AttachVolume asks for. A Nitro instance shows the volume as an NVMe device whatever
   * this says; udev names it by its serial, the volume ID without the dash (Amazon EBS User Guide,
   * "Amazon EBS and NVMe"), which is where the program looks.
   */
  attachAs: "/dev/sdf",
} as const;

/** The NVMe device an attached EBS volume appears as on a Nitro instance, by its volume ID. */
export function nvmeDevicePath(volumeId: string): string {
  return `/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volumeId.replace("-", "")}`;
}

/**
 * How long the program may take, in its parts. A group that terminates and launches (the on-host
 * Redis's fleet: one host) launches the replacement while the old instance terminates (Amazon EC2
 * Auto Scaling User Guide, "Instance maintenance policies": "Terminate and launch"), and the old
 * one holds the volume until its termination detaches it: its drain, at most the termination
 * hook's heartbeat (DRAIN), then its shutdown (Redis's final fsync, EC2's detach: shutdownSeconds).
 * Both began when this host launched, so the wait runs until this host's uptime passes them
 * (untilUptimeSeconds), at least minWaitSeconds: the boot's own steps before this one (packages,
 * agents, host files) already spent part of it, and the boot's bound counts the wait only beyond
 * them (readiness.ts, bootTimeoutSeconds). A replacement that still finds the volume held fails its
 * boot and is abandoned, and the group launches another, which finds it free. udev shows the device within
 * seconds of the attachment, and mkfs.ext4 with lazy inode tables takes seconds on any size gp3
 * allows: a minute each. Every AWS CLI call is killed after callSeconds.
 */
const SHUTDOWN_SECONDS = 120;
export const REDIS_VOLUME_BOUNDS = {
  minWaitSeconds: 60,
  shutdownSeconds: SHUTDOWN_SECONDS,
  untilUptimeSeconds: DRAIN.heartbeatSeconds + SHUTDOWN_SECONDS,
  callSeconds: 30,
  deviceWaitSeconds: 60,
  formatSeconds: 60,
  /** Between two reads of the volume's state while another instance holds it. */
  intervalSeconds: 5,
} as const;

/** What the program takes beyond its wait for the old instance: each part at its bound. */
function afterWaitSeconds(): number {
  const b = REDIS_VOLUME_BOUNDS;
  return b.callSeconds + b.deviceWaitSeconds + b.formatSeconds;
}

/** The unit's TimeoutStartSec: the longest wait (from a boot's first second) and every part after it. */
export function redisVolumeTimeoutSeconds(): number {
  const b = REDIS_VOLUME_BOUNDS;
  return Math.max(b.minWaitSeconds, b.untilUptimeSeconds) + afterWaitSeconds();
}

/**
 * Disk the persistent Redis can fill, MiB, for a `maxmemory` of `maxmemoryMiB` (Redis's persistence
 * documentation, "Log rewriting"; redis.conf's defaults, redis.ts REDIS_CONF_DEFAULTS): the AOF
 * grows to twice its base before a rewrite (auto-aof-rewrite-percentage 100), its increments to at
 * least auto-aof-rewrite-min-size (64 MiB) first; a rewrite writes the new base beside the old
 * files; the RDB snapshot, and the temporary file of the next one beside it. The serialized
 * dataset is no larger than the memory it takes, which maxmemory bounds.
 */
export function volumeNeedMiB(maxmemoryMiB: number): number {
  return 2 * maxmemoryMiB + 64 + maxmemoryMiB + 2 * maxmemoryMiB;
}

export interface RedisVolumeInput {
  readonly volumeId: string;
  /** Where the persistent Redis keeps its AOF and RDB: the volume is mounted there. */
  readonly dataDir: string;
  /** The data directory's owner once mounted, user:group. */
  readonly owner: string;
}

/** The program's command line: the stack's values as its arguments. */
export function redisVolumeCommand(input: RedisVolumeInput): string[] {
  if (!/^vol-[0-9a-f]{8,17}$/.test(input.volumeId))
    throw new Error(`${JSON.stringify(input.volumeId)} is not an EBS volume ID`);
  return [
    REDIS_VOLUME_PATHS.program,
    "--volume-id",
    input.volumeId,
    "--data-dir",
    input.dataDir,
    "--owner",
    input.owner,
    "--mode",
    "0750",
    "--device-name",
    REDIS_VOLUME_PATHS.attachAs,
    "--wait-seconds",
    String(REDIS_VOLUME_BOUNDS.minWaitSeconds),
    "--wait-until-uptime",
    String(REDIS_VOLUME_BOUNDS.untilUptimeSeconds),
    "--interval",
    String(REDIS_VOLUME_BOUNDS.intervalSeconds),
  ];
}

/**
 * The unit that runs the program, at every boot: the persistent Redis Requires= it, so Redis starts
 * only once the volume is mounted, and not at all when it cannot be (Redis would otherwise write a
 * new, empty AOF on the root volume). Not enabled itself; nothing but the Redis pulls it in.
 */
export function renderRedisVolumeUnit(input: RedisVolumeInput): UnitFile {
  const service: Directive[] = [
    ["Type", "oneshot"],
    ["RemainAfterExit", "yes"],
    ["TimeoutStartSec", redisVolumeTimeoutSeconds()],
    ["ExecStart", execLine(redisVolumeCommand(input))],
  ];
  return {
    name: REDIS_VOLUME_PATHS.unit,
    content: renderUnit({
      unit: [
        ["Description", `The persistent Redis's EBS volume, attached and mounted at ${input.dataDir}`],
        // The EC2 API and the instance metadata service.
        ["Wants", "network-online.target"],
        ["After", "network-online.target"],
      ],
      service,
    }),
  };
}

/**
 * The first boot's step that runs it, ahead of any Redis: its wait ends by the uptime the old
 * instance's termination is bounded by, then the rest of the program.
 */
export function redisVolumeStep(): BootStep {
  return {
    argv: ["/usr/bin/systemctl", "start", REDIS_VOLUME_PATHS.unit],
    boundSeconds: REDIS_VOLUME_BOUNDS.minWaitSeconds + afterWaitSeconds() + 10,
    untilUptimeSeconds: REDIS_VOLUME_BOUNDS.untilUptimeSeconds,
  };
}
