/**
 * Memory fit per host (docs/design.md, "Memory fit"): what each process a fleet's host runs needs,
 * in ONE table, and the sum against the instance's RAM less what the OS keeps. Pure.
 *
 * Every figure says where it comes from: "cited" (a seed, Mastodon's or the vendor's documentation,
 * an operator's write-up, named) or "assumed" (the package's own figure, with its reasoning), and
 * what is measured here: the on-host Redis rows, by src/redis/onHostRedis.real.test.ts (a real
 * redis-server with the rendered configs, filled to maxmemory, stays under them). Mastodon itself is
 * not installed here, so the Puma, Sidekiq and streaming figures stay cited, not measured.
 */
import type { Fleet, StackConfig } from "../config/stackConfig";
import { type Ec2InstanceSpec, ec2TypesOfFamily } from "../vocabulary/catalog";

export const MIB = 1024 * 1024;

export type Basis = "cited" | "assumed";

export interface MemoryFigure {
  /** What the item is budgeted at, in MiB (per process where the item counts processes). */
  readonly mib: number;
  readonly basis: Basis;
  /** Where the figure comes from (a seed by file name, a document by name). */
  readonly source: string;
  /** What test/real/memory.real.test.ts measures here for this item, if anything. */
  readonly measuredHere?: string;
}

export type MemoryItem =
  | "os"
  | "ssmAgent"
  | "cloudwatchAgent"
  | "pumaMaster"
  | "pumaWorker"
  | "sidekiqProcess"
  | "streamingProcess"
  | "pgbouncer"
  | "redisBase"
  | "metricsCollector";

/** The one table of per-process figures. */
export const MEMORY_FIGURES: Readonly<Record<MemoryItem, MemoryFigure>> = {
  os: {
    mib: 320,
    basis: "assumed",
    source:
      "the kernel's own reservations (an EC2 instance's MemTotal is below its nominal RAM), systemd, journald, udev, chrony and the page cache a host needs to stay responsive on Debian 12; the package's figure",
  },
  ssmAgent: {
    mib: 64,
    basis: "assumed",
    source:
      "amazon-ssm-agent and its ssm-agent-worker (two Go processes, AWS's .deb, not Debian's: not measurable here); every host runs it (Session Manager, the migrations document)",
  },
  cloudwatchAgent: {
    mib: 96,
    basis: "assumed",
    source:
      "the Amazon CloudWatch agent (a Go process shipping journald and host metrics; AWS's .deb, not measurable here), on every host",
  },
  pumaMaster: {
    mib: 200,
    basis: "cited",
    source:
      "Mastodon's config/puma.rb runs Puma clustered with preload_app!: the master holds the loaded app the workers fork from (sharpletters.net, 'Mastodon resource optimization', 2023: Puma, Sidekiq at 10 threads and streaming average about 1 GB together)",
  },
  pumaWorker: {
    mib: 300,
    basis: "cited",
    source:
      "per worker of MAX_THREADS 5 after warm-up, forked from the preloaded master (sharpletters.net 2023 as above); jemalloc keeps it there (eigenmagic-systemd-template-units.txt)",
  },
  sidekiqProcess: {
    mib: 512,
    basis: "cited",
    source:
      "scaling-mastodon-compendium.txt: a Sidekiq process grows from 256 MB to 1 GB within a day under glibc's malloc; eigenmagic-systemd-template-units.txt: MALLOC_ARENA_MAX=2 halved it (and jemalloc is preloaded): 1 GB halved",
  },
  streamingProcess: {
    mib: 128,
    basis: "assumed",
    source:
      "one Node process per port (Mastodon 4.2+), holding its Redis subscriptions and a pg pool of DB_POOL; sharpletters.net 2023 puts all of Mastodon at about 1 GB with Puma and Sidekiq taking most",
  },
  pgbouncer: {
    mib: 16,
    basis: "cited",
    source:
      "PgBouncer's documentation: 'low memory requirements (2 kB per connection by default)'; a few thousand client connections stay under this",
  },
  metricsCollector: {
    mib: 24,
    basis: "assumed",
    source:
      "mastodon-metrics, once a minute on every host that publishes (src/monitoring/metrics.ts): Python's standard library only, signing its own PutMetricData (the AWS CLI would add about 65 MiB a run)",
    measuredHere:
      "its peak RSS over a real run against a real Sidekiq backlog over TLS (src/monitoring/metrics.real.test.ts): about 15 MiB",
  },
  redisBase: {
    mib: 16,
    basis: "assumed",
    source:
      "an on-host redis-server's own memory besides its data: Redis's memory-optimization page says maxmemory counts data, not allocator fragmentation or client buffers",
    measuredHere:
      "redis-server from Debian with the rendered on-host configs, filled to maxmemory: RSS against maxmemory x REDIS_OVERHEAD_FACTOR + this",
  },
};

/**
 * Data held under maxmemory costs more than maxmemory in RSS (allocator fragmentation, key
 * overhead): the measured fill in src/redis/onHostRedis.real.test.ts stays under this factor.
 */
export const REDIS_OVERHEAD_FACTOR = 1.25;

/** On-host Redis (redis.onHost): each server's maxmemory; the persistent one rewrites its AOF by fork. */
export interface OnHostRedisMemory {
  readonly cacheMaxmemoryMiB: number;
  readonly persistentMaxmemoryMiB: number;
}

export interface HostContext {
  /** PgBouncer on the host (database.pooler pgbouncer). */
  readonly pooled: boolean;
  /** Both Redis as redis-server processes on this host. */
  readonly onHostRedis?: OnHostRedisMemory;
}

export interface MemoryLine {
  readonly item: string;
  readonly count: number;
  readonly mibEach: number;
  readonly mib: number;
}

export interface MemoryPlan {
  readonly instanceType: string;
  /** The instance's RAM in MiB. */
  readonly ramMiB: number;
  /** What the OS keeps (MEMORY_FIGURES.os). */
  readonly osMiB: number;
  /** RAM less the OS: what the processes may use. */
  readonly availableMiB: number;
  readonly lines: readonly MemoryLine[];
  readonly neededMiB: number;
  readonly fits: boolean;
}

const line = (item: string, count: number, mibEach: number): MemoryLine => ({
  item,
  count,
  mibEach,
  mib: Math.ceil(count * mibEach),
});

/** RSS an on-host redis-server may reach: its data with overhead, plus its own base. */
export function redisServerMiB(maxmemoryMiB: number): number {
  return Math.ceil(maxmemoryMiB * REDIS_OVERHEAD_FACTOR + MEMORY_FIGURES.redisBase.mib);
}

/** The processes one host of `fleet` runs, each with its figure. */
export function hostMemoryLines(fleet: Fleet, ctx: HostContext): MemoryLine[] {
  const f = MEMORY_FIGURES;
  const redis = ctx.onHostRedis;
  return [
    line("SSM agent", 1, f.ssmAgent.mib),
    line("CloudWatch agent", 1, f.cloudwatchAgent.mib),
    // Every host publishes something (PgBouncer, streaming or the backlog) but a web-only one without
    // PgBouncer; counted on all: 24 MiB a minute at most.
    line("metrics collector (each minute)", 1, f.metricsCollector.mib),
    ...(fleet.web
      ? [
          line("Puma master", 1, f.pumaMaster.mib),
          line("Puma workers", fleet.web.processes, f.pumaWorker.mib),
        ]
      : []),
    ...(fleet.sidekiq ? [line("Sidekiq processes", fleet.sidekiq.processes, f.sidekiqProcess.mib)] : []),
    ...(fleet.streaming
      ? [line("streaming processes", fleet.streaming.processes, f.streamingProcess.mib)]
      : []),
    ...(ctx.pooled ? [line("PgBouncer", 1, f.pgbouncer.mib)] : []),
    ...(redis
      ? [
          line(
            `Redis cache (maxmemory ${redis.cacheMaxmemoryMiB} MiB)`,
            1,
            redisServerMiB(redis.cacheMaxmemoryMiB),
          ),
          line(
            `Redis persistent (maxmemory ${redis.persistentMaxmemoryMiB} MiB)`,
            1,
            redisServerMiB(redis.persistentMaxmemoryMiB),
          ),
          // BGREWRITEAOF forks: pages written during the rewrite are copied, at worst all of them
          // (Redis's persistence documentation: fork with copy-on-write).
          line("Redis persistent AOF rewrite (fork)", 1, redis.persistentMaxmemoryMiB),
        ]
      : []),
  ];
}

export function memoryPlan(
  fleet: Fleet,
  ctx: HostContext,
  instance: Ec2InstanceSpec = fleet.instance,
): MemoryPlan {
  const lines = hostMemoryLines(fleet, ctx);
  const ramMiB = instance.memoryGiB * 1024;
  const osMiB = MEMORY_FIGURES.os.mib;
  const neededMiB = lines.reduce((s, l) => s + l.mib, 0);
  return {
    instanceType: instance.instanceType,
    ramMiB,
    osMiB,
    availableMiB: ramMiB - osMiB,
    lines,
    neededMiB,
    fits: neededMiB <= ramMiB - osMiB,
  };
}

/** The most of one kind of process that fits the fleet's instance with everything else unchanged. */
export function mostThatFit(
  fleet: Fleet,
  ctx: HostContext,
  service: "web" | "sidekiq" | "streaming",
): number {
  const perProcess = {
    web: MEMORY_FIGURES.pumaWorker.mib,
    sidekiq: MEMORY_FIGURES.sidekiqProcess.mib,
    streaming: MEMORY_FIGURES.streamingProcess.mib,
  }[service];
  const current = fleet[service]?.processes ?? 0;
  const plan = memoryPlan(fleet, ctx);
  const spare = plan.availableMiB - (plan.neededMiB - current * perProcess);
  return Math.max(0, Math.floor(spare / perProcess));
}

/** The smallest instance of the fleet's own family that holds it, if any does. */
export function smallestThatFits(fleet: Fleet, ctx: HostContext): Ec2InstanceSpec | undefined {
  return ec2TypesOfFamily(fleet.instance.family).find(
    (spec) => spec.memoryGiB > fleet.instance.memoryGiB && memoryPlan(fleet, ctx, spec).fits,
  );
}

/**
 * What shapes a fleet host's memory besides its services: PgBouncer, on-host Redis. The image
 * source does not: with the release images, systemd runs Mastodon's processes in the image's tree
 * (src/images/imageRoot.ts) and podman runs only at boot, to pull.
 */
export function hostContextOf(config: StackConfig): HostContext {
  return {
    pooled: config.database.pooler === "pgbouncer",
    ...(config.redis.onHost && { onHostRedis: config.redis.onHost }),
  };
}
