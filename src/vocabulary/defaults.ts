/**
 * Every default and every limit of the package, in one place, each with the fact behind it.
 * Seeds are cited by file name (docs/design.md, "Sources", lists them and the documentation used).
 */

import { SidekiqQueue, WarmPoolState } from "./configEnums";

export type { SidekiqQueue, WarmPoolState } from "./configEnums";

/** Mastodon 4.6's Sidekiq queues (config/sidekiq.yml; fasp is new in 4.4), in the enum's order. */
export const SIDEKIQ_QUEUES = Object.values(SidekiqQueue) as [SidekiqQueue, ...SidekiqQueue[]];

/**
 * Each queue's weight when one Sidekiq process serves several, as Mastodon's config/sidekiq.yml
 * gives them: `[default, 8]`, `[push, 6]`, `[ingress, 4]`, `[mailers, 2]`, and `[pull]`,
 * `[scheduler]`, `[fasp]` without a weight, which Sidekiq counts as 1 once another queue is weighted.
 * Without weights Sidekiq polls the queues in strict order, and a default backlog starves the
 * scheduler and mailers behind it. The unweighted ones are written as 1 here so that a fleet of only
 * such queues (pull and scheduler, say) is weighted too, not strict.
 */
export const SIDEKIQ_QUEUE_WEIGHTS: Readonly<Record<SidekiqQueue, number>> = {
  default: 8,
  push: 6,
  ingress: 4,
  mailers: 2,
  pull: 1,
  scheduler: 1,
  fasp: 1,
};

/**
 * When a queue's latency (the age of its oldest job) means users notice, per queue. default: the
 * home timelines (pawoo-running-mastodon-at-scale.txt: a backlogged default queue is "a delay in
 * their timeline" everyone notices), so seconds. ingress: incoming federation, a minute. push and
 * pull talk to other servers, which may be slow (Pawoo gave them fleets of their own for that), so
 * minutes, below the 15 minutes after which Mastodon's Redis locks expire under waiting jobs
 * (scaling-mastodon-compendium.txt, RedisLock). mailers: sign-up and password mails, five minutes.
 */
export const QUEUE_LATENCY_ALARM_SECONDS: Readonly<Record<SidekiqQueue, number>> = {
  default: 30,
  ingress: 60,
  push: 600,
  pull: 900,
  mailers: 300,
  scheduler: 300,
  fasp: 900,
};

/**
 * The ALB routes these paths to the streaming server (Mastodon's streaming API: REST and WebSocket).
 * Both anchors: routing only one of them breaks clients (two other Mastodon-on-AWS projects do).
 */
export const STREAMING_PATHS = ["/api/v1/streaming", "/api/v1/streaming/*"] as const;

/**
 * Usernames Mastodon blocks at sign-up (db/seeds/05_blocked_usernames.rb, Mastodon 4.4 on; before
 * it, config/settings.yml reserved_usernames): the owner account is refused them, as tootctl may be.
 */
export const RESERVED_USERNAMES: readonly string[] = [
  "abuse",
  "account",
  "accounts",
  "admin",
  "administration",
  "administrator",
  "admins",
  "help",
  "helpdesk",
  "instance",
  "mod",
  "moderator",
  "moderators",
  "mods",
  "owner",
  "root",
  "security",
  "server",
  "staff",
  "support",
  "webmaster",
];

export const DEFAULTS = {
  web: {
    /** eigenmagic-systemd-template-units.txt: Puma's author advises WEB_CONCURRENCY = 1.5 x cores. */
    processesPerVcpu: 1.5,
    /** Mastodon's config/puma.rb: MAX_THREADS defaults to 5. */
    threads: 5,
    port: 3000,
  },
  streaming: {
    /** One process per port since Mastodon 4.2 (STREAMING_CLUSTER_NUM was removed). */
    processes: 1,
    /** Mastodon's streaming server: DB_POOL defaults to 10. */
    dbPool: 10,
    firstPort: 4000,
  },
  sidekiq: {
    processes: 1,
    /** scaling-mastodon-compendium.txt: "changed this to 10 ... shit just runs nicer at 10". */
    threads: 10,
  },
  database: {
    engineVersion: "17" as const,
    /** scaling-mastodon-compendium.txt keeps 15 connections for migrations and consoles. */
    adminHeadroom: 15,
    /**
     * Without an override, max_connections is RDS's own memory formula capped here: the largest round
     * number under the compendium's 512 line ("If you have to set max_connections above 512, don't").
     */
    maxConnectionsCap: 500,
    /** PostgreSQL's (and RDS's) default work_mem is 4 MiB: never go below it. */
    workMemMinMiB: 4,
    workMemMaxMiB: 64,
    /** gp3 minimum on RDS PostgreSQL. */
    storageGiB: 20,
    /** The storage autoscaling ceiling when none is set: at least this, ... */
    maxStorageGiB: 200,
    /**
     * ... and at least this multiple of the allocated storage. RDS refuses a ceiling less than 10%
     * above the allocated storage and recommends 26% (Amazon RDS User Guide, "Managing capacity
     * automatically with Amazon RDS storage autoscaling").
     */
    maxStorageMinRatio: 1.1,
    maxStorageDefaultRatio: 1.26,
    /** PgBouncer's own default_pool_size. */
    pgbouncerPoolSize: 20,
  },
  redis: {
    engine: "valkey" as const,
    valkeyVersion: "8.0",
    redisVersion: "7.1",
    cacheNodeType: "cache.t4g.small",
    persistentNodeType: "cache.t4g.small",
    /** A cache may be lost: one node. */
    cacheNodes: 1,
    /** Primary and replica: automatic failover and Multi-AZ need a replica. */
    persistentNodes: 2,
  },
  network: {
    cidr: "10.0.0.0/16",
    availabilityZones: 2,
    /** Outside production; production defaults to a NAT gateway per AZ (src/config/resolve.ts). */
    egress: "single-nat",
  },
  /** A fleet's warm pool (src/fleet/warmPool.ts): stopped instances cost only their volumes. */
  warmPool: { state: "Stopped" },
  fleet: {
    minSize: 1,
    /** Encrypted gp3 root volume: the OS, Mastodon's release and its logs. */
    rootVolumeGiB: 30,
    logRetentionDays: 30,
    /** Debian's AMIs (Ubuntu's use /dev/sda1). */
    rootDeviceName: "/dev/xvda",
  },
  /**
   * Both Redis as redis-server processes on the one app host (redis.onHost; docs/design.md, "Redis on
   * the host"): the cache small (it may be lost), the persistent store room for a few users' queues
   * and home feeds. Ports beside Debian's stock 6379, which the boot disables.
   */
  onHostRedis: {
    cacheMaxmemoryMiB: 64,
    persistentMaxmemoryMiB: 128,
    /**
     * The persistent store's own gp3 volume: 64 cents a month, and 8 GiB holds the AOF, its
     * rewrite and the RDB of any maxmemory up to 1.5 GiB (src/redis/redisVolume.ts, volumeNeedMiB).
     */
    persistentVolumeGiB: 8,
    cachePort: 6380,
    persistentPort: 6381,
  },
  selfManagedRedis: {
    instanceType: "c7g.large",
    volumeGiB: 20,
  },
  loadBalancer: {
    /** The ALB's own default; streaming WebSockets heartbeat well inside it. */
    idleTimeoutSeconds: 60,
  },
  media: {
    /** CloudFront's North America and Europe edges. */
    priceClass: "PriceClass_100",
  },
  /**
   * The scheduler's host removes cached remote content (Mastodon docs, "Setting up", "Running
   * periodic cleanup tasks": run `tootctl media remove` and `tootctl preview_cards remove`
   * periodically), with tootctl's own defaults: media 7 days, preview cards 180 (its help: not
   * within the last 14 days).
   */
  retention: {
    mediaDays: 7,
    previewCardsDays: 180,
    /** Each run: 04:00 UTC (after Mastodon's own vacuum window, 03:00-05:59, has begun) within an hour. */
    onCalendar: "*-*-* 04:00:00",
    randomizedDelaySeconds: 3600,
    /** A run on a large cache takes hours; a day is the longest before the next. */
    timeoutSeconds: 6 * 3600,
  },
  alarms: {
    /** Dead jobs an hour: a few are normal (remote servers gone for good), a stream is a fault. */
    deadJobsPerHour: 10,
    /** PgBouncer's longest wait: a web request waiting two seconds for a connection is a user waiting. */
    pgbouncerMaxWait: "2s",
  },
  mail: {
    /** SMTP submission with STARTTLS. */
    smtpPort: 587,
  },
  image: {
    source: "official",
    /** Mastodon's own registry for its release images (docs/images.md, "The image sources"). */
    registry: "ghcr.io/mastodon",
    /** Debian's AWS account, which publishes the official Debian AMIs (wiki.debian.org, Cloud/AmazonEC2Image). */
    debianOwner: "136693071363",
    /**
     * The Debian 12 cloud image the hosts boot (cloud.debian.org/images/cloud/bookworm/20250331-1966):
     * pinned, so a new Debian image reaches a stack only when this (or mastodon:image.debianSerial) changes.
     */
    debianSerial: "20250331-1966",
  },
  mastodon: {
    /** Mastodon's install guide: the database and the role the app connects as. */
    databaseName: "mastodon_production",
    username: "mastodon",
    /**
     * The RDS master user (rds_superuser): it makes the app's role and administers; Mastodon never
     * connects as it (src/database/databaseRole.ts).
     */
    masterUsername: "mastodon_admin",
  },
} as const;

/** The Postgres connection budget's rules (docs/budget.md). */
export const BUDGET_RULES = {
  /** PostgreSQL's superuser_reserved_connections default. */
  superuserReserved: 3,
  /** RDS's rds.rds_superuser_reserved_connections default. */
  rdsSuperuserReserved: 2,
  /** scaling-mastodon-compendium.txt: above 90% of max_connections is "IMPENDING DOOM". */
  usableFraction: 0.9,
  /** scaling-mastodon-compendium.txt: "If you have to set postgres max_connections to above 512, don't." */
  maxConnectionsWarn: 512,
  /** scaling-mastodon-compendium.txt: over 999, up to 46% fewer queries per second. */
  maxConnectionsError: 1000,
  /** scaling-mastodon-compendium.txt (fuzzychef): work_mem x max_connections <= 2 x RAM. */
  workMemRamFactor: 2,
  /** RDS's default max_connections: LEAST({DBInstanceClassMemory/9531392}, 5000). */
  rdsBytesPerConnection: 9531392,
  rdsMaxConnectionsCeiling: 5000,
} as const;

/** Thread limits per Sidekiq process (docs/design.md, "Processes, threads and units"). */
/**
 * The warm pool states whose instances this package's boot prepares (Amazon EC2 Auto Scaling API
 * Reference, PutWarmPool: PoolState Stopped, Running or Hibernated). Hibernated is left out: it needs
 * hibernation configured in the launch template and a root volume that holds the instance's memory.
 */
export const WARM_POOL_STATES = Object.values(WarmPoolState) as [WarmPoolState, ...WarmPoolState[]];

export const SIDEKIQ_THREAD_RULES = {
  /** scaling-mastodon-compendium.txt (hachyderm): keep -c at 25 or under. */
  warnAbove: 25,
  /** eigenmagic-systemd-template-units.txt: 25-50 threads is where a Ruby process stops scaling. */
  errorAbove: 50,
} as const;
