/**
 * The stack config written out as TypeScript interfaces: the shape MastodonStack takes as args, the
 * same keys as the `mastodon:` namespace (src/config/schema/). Pulumi's component analyzer (in
 * @pulumi/pulumi) builds the cross-language schema from these, so they use only what it reads:
 * interfaces, `as const` string enums with a type of the same name, arrays, string-keyed maps, and
 * doc comments (its descriptions keep the comment text, not JSDoc tags, so each default is written
 * `(@default ...)` inside the text). provider/componentSchema.test.ts checks them against the zod schema key
 * by key, so the two cannot drift; the zod schema stays the one that validates.
 */
import type { Egress } from "../network/subnets";
import type { RedisEngine } from "../redis/redisServer";

/** dev, staging or production: production turns on Multi-AZ, deletion protection and the stricter checks. */
export const Environment = { Dev: "dev", Staging: "staging", Production: "production" } as const;
export type Environment = (typeof Environment)[keyof typeof Environment];

/** Availability zones the VPC spans. */
export const AvailabilityZoneCount = { Two: 2, Three: 3 } as const;
export type AvailabilityZoneCount = (typeof AvailabilityZoneCount)[keyof typeof AvailabilityZoneCount];

/** PostgreSQL major version (RDS parameter group family postgres16 / postgres17). */
export const PostgresVersion = { V16: "16", V17: "17" } as const;
export type PostgresVersion = (typeof PostgresVersion)[keyof typeof PostgresVersion];

/** How the hosts reach PostgreSQL. */
export const Pooler = {
  /** Each process opens its own connections. */
  None: "none",
  /** One PgBouncer per host in transaction mode (compendium). */
  Pgbouncer: "pgbouncer",
} as const;
export type Pooler = (typeof Pooler)[keyof typeof Pooler];

/** Where the persistent Redis runs. */
export const PersistentRedisMode = {
  /** ElastiCache: Multi-AZ replicas, snapshots. */
  Elasticache: "elasticache",
  /** Redis from Debian on EC2 with appendonly: the only real AOF on AWS (docs/design.md, "The two Redis"). */
  SelfManagedAof: "self-managed-aof",
} as const;
export type PersistentRedisMode = (typeof PersistentRedisMode)[keyof typeof PersistentRedisMode];

/** CloudFront price class. */
export const PriceClass = {
  /** North America and Europe. */
  PriceClass100: "PriceClass_100",
  PriceClass200: "PriceClass_200",
  PriceClassAll: "PriceClass_All",
} as const;
export type PriceClass = (typeof PriceClass)[keyof typeof PriceClass];

/** How Mastodon sends mail. */
export const MailProvider = { Ses: "ses", Smtp: "smtp" } as const;
export type MailProvider = (typeof MailProvider)[keyof typeof MailProvider];

/** Where Mastodon comes from (README, "Images"). */
export const ImageSource = {
  /** Mastodon's release images on a pinned stock Debian 12 AMI. */
  Official: "official",
  /** An AMI per architecture baked in the account by EC2 Image Builder. */
  ImageBuilder: "image-builder",
  /** An AMI with the version installed, pinned per stack and architecture. */
  Ami: "ami",
} as const;
export type ImageSource = (typeof ImageSource)[keyof typeof ImageSource];

/** Amazon OpenSearch Service engine versions the package accepts (src/search/engines.ts). */
export const SearchEngine = {
  Elasticsearch710: "Elasticsearch_7.10",
  OpenSearch13: "OpenSearch_1.3",
  OpenSearch219: "OpenSearch_2.19",
} as const;
export type SearchEngine = (typeof SearchEngine)[keyof typeof SearchEngine];

/** Translation of posts. */
export const TranslationProvider = { Deepl: "deepl", Libretranslate: "libretranslate" } as const;
export type TranslationProvider = (typeof TranslationProvider)[keyof typeof TranslationProvider];

/** DeepL's API plan. */
export const DeeplPlan = { Free: "free", Pro: "pro" } as const;
export type DeeplPlan = (typeof DeeplPlan)[keyof typeof DeeplPlan];

/** Mastodon 4.6's Sidekiq queues (src/vocabulary/defaults.ts SIDEKIQ_QUEUES). */
export const SidekiqQueue = {
  Default: "default",
  Push: "push",
  Ingress: "ingress",
  Mailers: "mailers",
  Pull: "pull",
  Scheduler: "scheduler",
  Fasp: "fasp",
} as const;
export type SidekiqQueue = (typeof SidekiqQueue)[keyof typeof SidekiqQueue];

/** mastodon:network */
export interface StackNetworkArgs {
  /** IPv4 CIDR of the VPC, /16 to /20, private (@default "10.0.0.0/16"). */
  cidr?: string;
  /** (@default 2) */
  availabilityZones?: AvailabilityZoneCount;
  /** How fleets reach the internet (@default "nat-per-az" in production, "single-nat" elsewhere). */
  egress?: Egress;
  /** Dual-stack VPC and ALB (@default false). */
  ipv6?: boolean;
}

/** mastodon:database.pgbouncer */
export interface StackPgbouncerArgs {
  /** default_pool_size per host unless a fleet sets pgbouncerPoolSize (@default 20). */
  defaultPoolSize?: number;
}

/** mastodon:database.replica */
export interface StackReplicaArgs {
  /** RDS class of the read replica, e.g. db.r7g.large. */
  instanceClass: string;
  /** (@default min(RDS's memory formula, 500)) */
  maxConnections?: number;
}

/** mastodon:database */
export interface StackDatabaseArgs {
  /** PostgreSQL major version (@default "17"). */
  engineVersion?: PostgresVersion;
  /** RDS class, e.g. db.r7g.2xlarge. */
  instanceClass: string;
  /** (@default true in production, false elsewhere) */
  multiAz?: boolean;
  /** Production refuses a single-AZ database unless this says the risk is accepted (@default false). */
  allowSingleAz?: boolean;
  /** (@default 20) */
  storageGiB?: number;
  /** Storage autoscaling ceiling, at least 10% above storageGiB (@default max(200, 1.26 x storageGiB)). */
  maxStorageGiB?: number;
  /** (@default min(RDS's memory formula, 500)) */
  maxConnections?: number;
  /** (@default clamp(RAM / max_connections, 4, 64) MiB) */
  workMemMiB?: number;
  /** Connections kept free for migrations and consoles (@default 15). */
  adminHeadroom?: number;
  /** (@default "none") */
  pooler?: Pooler;
  /** PgBouncer settings, pooler pgbouncer only (@default {}). */
  pgbouncer?: StackPgbouncerArgs;
  /** A read replica (REPLICA_DB_*); the budget counts the same pools again against its own limit (@default none). */
  replica?: StackReplicaArgs;
}

/** mastodon:redis.cache */
export interface StackCacheRedisArgs {
  /** (@default "valkey") */
  engine?: RedisEngine;
  /** (@default "8.0" for valkey, "7.1" for redis) */
  engineVersion?: string;
  /** (@default "cache.t4g.small") */
  nodeType?: string;
  /** The cache may run on one node (@default 1). */
  nodes?: number;
}

/** mastodon:redis.persistent */
export interface StackPersistentRedisArgs {
  /** (@default "elasticache") */
  mode?: PersistentRedisMode;
  /** (@default "valkey") */
  engine?: RedisEngine;
  /** (@default "8.0" for valkey, "7.1" for redis) */
  engineVersion?: string;
  /** (@default "cache.t4g.small") */
  nodeType?: string;
  /** Primary plus replicas; production needs at least 2 for automatic failover (@default 2). */
  nodes?: number;
  /** Asking ElastiCache for AOF is refused with an explanation (@default false). */
  appendOnly?: boolean;
  /** self-managed-aof only: the EC2 instance type (@default "c7g.large"). */
  instanceType?: string;
  /** self-managed-aof only: size of the encrypted gp3 data volume (@default 20). */
  volumeGiB?: number;
}

/** mastodon:redis.onHost: both Redis on the one app host (docs/design.md, "Redis on the host"). */
export interface StackOnHostRedisArgs {
  /** maxmemory of the cache, MiB (@default 64). */
  cacheMaxmemoryMiB?: number;
  /** maxmemory of the persistent store, MiB (@default 128). */
  persistentMaxmemoryMiB?: number;
  /** The persistent store's encrypted gp3 volume, kept across host replacements, GiB (@default 8). */
  persistentVolumeGiB?: number;
  /** Production: accepts what the volume does not keep (no snapshot, one zone); else a warning (@default false). */
  acceptJobLoss?: boolean;
}

/** mastodon:redis */
export interface StackRedisArgs {
  /** (@default {}) */
  cache?: StackCacheRedisArgs;
  /** (@default {}) */
  persistent?: StackPersistentRedisArgs;
  /** Both Redis on the app host instead of ElastiCache (@default none). */
  onHost?: StackOnHostRedisArgs;
}

/** mastodon:media */
export interface StackMediaArgs {
  /** A domain for media (S3_ALIAS_HOST) (@default the CloudFront domain). */
  customDomain?: string;
  /** ACM certificate in us-east-1 for customDomain (@default one requested and DNS-validated in dns.zoneId). */
  certificateArn?: string;
  /** (@default false) */
  versioning?: boolean;
  /** (@default "PriceClass_100") */
  priceClass?: PriceClass;
}

/** mastodon:loadBalancer */
export interface StackLoadBalancerArgs {
  /** ACM certificate for webDomain in the stack's region (@default one requested and DNS-validated in dns.zoneId). */
  certificateArn?: string;
  /** Seconds an idle connection stays open (@default 60). */
  idleTimeoutSeconds?: number;
  /** Access logs to a private, encrypted bucket (@default true in production). */
  accessLogs?: boolean;
  /** (@default true in production) */
  deletionProtection?: boolean;
}

/** mastodon:dns */
export interface StackDnsArgs {
  /** Route 53 hosted zone ID, e.g. Z0123456789ABCDEFGHIJ. */
  zoneId: string;
  /** The zone's domain; webDomain and media.customDomain must be inside it. */
  zoneName: string;
}

/** mastodon:mail.smtp */
export interface StackSmtpArgs {
  server: string;
  /** (@default 587) */
  port?: number;
  /** Written as is into .env.production. */
  login: string;
  /** A secret: filled into .env.production at boot, never in user-data. */
  password: string;
}

/** mastodon:mail */
export interface StackMailArgs {
  /** (@default "ses") */
  provider?: MailProvider;
  /** (@default notifications@<domain>) */
  fromAddress?: string;
  /** provider smtp: the relay (@default none). */
  smtp?: StackSmtpArgs;
}

/** mastodon:alarms.queueLatency: a duration per queue, e.g. "30s", "10m". */
export interface StackQueueLatencyArgs {
  /** (@default "30s") */
  default?: string;
  /** (@default "10m") */
  push?: string;
  /** (@default "1m") */
  ingress?: string;
  /** (@default "5m") */
  mailers?: string;
  /** (@default "15m") */
  pull?: string;
  /** (@default "5m") */
  scheduler?: string;
  /** (@default "15m") */
  fasp?: string;
}

/** mastodon:alarms */
export interface StackAlarmsArgs {
  /** Where alarm notifications go (an SNS e-mail subscription) (@default none). */
  email?: string;
  /** Per queue, the latency above which its alarm fires for five minutes running (@default {}). */
  queueLatency?: StackQueueLatencyArgs;
  /** Jobs added to Sidekiq's dead set within an hour above which an alarm fires (@default 10). */
  deadJobsPerHour?: number;
  /** A fleet's longest PgBouncer wait above which its alarm fires, a duration (@default "2s"). */
  pgbouncerMaxWait?: string;
}

/** mastodon:logs */
export interface StackLogsArgs {
  /** Days the fleets' journald logs are kept, one of CloudWatch Logs' periods (@default 30). */
  retentionDays?: number;
}

/** mastodon:owner: the owner account, created once by the scheduler's host after the schema. */
export interface StackOwnerArgs {
  /** 1-30 letters, digits or underscores; not a username Mastodon blocks (admin, root, ...). */
  username: string;
  /** The owner's e-mail address (confirmed at creation). */
  email: string;
}

/** mastodon:retention: what the scheduler's host removes of cached remote content, daily. */
export interface StackRetentionArgs {
  /** Cached remote media older than this many days is removed (@default 7). */
  mediaDays?: number;
  /** Link preview cards older than this many days are removed (@default 180). */
  previewCardsDays?: number;
}

/** mastodon:search: an Amazon OpenSearch Service domain; its presence turns search on. */
export interface StackSearchArgs {
  /** Data node type (src/search/engines.ts lists them) (@default "t3.small.search"). */
  instanceType?: string;
  /** Data nodes; more than one spreads them over 2 or 3 zones (@default 1). */
  nodes?: number;
  /** Encrypted gp3 EBS volume per node, GiB (@default 20). */
  volumeGiB?: number;
  /** (@default "Elasticsearch_7.10", what Mastodon is tested with) */
  engineVersion?: SearchEngine;
}

/** mastodon:translation */
export interface StackTranslationArgs {
  provider: TranslationProvider;
  /** The provider's API key, a secret: required for DeepL (@default none). */
  apiKey?: string;
  /** (@default "free") */
  deeplPlan?: DeeplPlan;
  /** The LibreTranslate server's https base URL (@default none). */
  endpoint?: string;
}

/** mastodon:image.pullThroughCache */
export interface StackPullThroughCacheArgs {
  /** Secrets Manager secret named ecr-pullthroughcache/<name> with a GitHub username and token. */
  credentialArn: string;
}

/** mastodon:image.amiIds: image source ami, an AMI per architecture the fleets run. */
export interface StackAmiIdsArgs {
  /** (@default none) */
  arm64?: string;
  /** (@default none) */
  x86_64?: string;
}

/** mastodon:image */
export interface StackImageArgs {
  /** (@default "official") */
  source?: ImageSource;
  /** Where the release images are pulled from (@default "ghcr.io/mastodon"). */
  registry?: string;
  /** The Debian 12 image serial the hosts boot, pinned (@default the package's pinned serial). */
  debianSerial?: string;
  /** Pull the release images through an ECR pull-through cache (@default none). */
  pullThroughCache?: StackPullThroughCacheArgs;
  /** Image source ami: the AMI per architecture (@default none). */
  amiIds?: StackAmiIdsArgs;
  /** (@default "/dev/xvda") */
  rootDeviceName?: string;
}

/** A fleet's web service (Puma). */
export interface StackWebServiceArgs {
  /** Puma workers (WEB_CONCURRENCY) (@default round(1.5 x vCPU)). */
  processes?: number;
  /** Puma threads per worker (MAX_THREADS) (@default 5). */
  threads?: number;
}

/** A fleet's streaming service. */
export interface StackStreamingServiceArgs {
  /** Streaming processes per host, one per port from 4000 (@default 1). */
  processes?: number;
  /** DB_POOL of each streaming process (@default 10). */
  dbPool?: number;
}

/** A fleet's Sidekiq service. */
export interface StackSidekiqServiceArgs {
  /** The queues this fleet's Sidekiq processes serve, in priority order. */
  queues: SidekiqQueue[];
  /** Sidekiq processes per host (@default 1). */
  processes?: number;
  /** Threads per process (`sidekiq -c N`, DB_POOL = N) (@default 10). */
  threads?: number;
}

/** mastodon:fleets.<name>: a c-family fleet and the services its hosts run. */
export interface StackFleetArgs {
  /** A c-family instance type from the catalog, e.g. c7g.large. */
  instanceType: string;
  /** (@default 1) */
  minSize?: number;
  /** (@default minSize) */
  desiredSize?: number;
  /** The budget counts this size: autoscaling can reach it (@default desiredSize). */
  maxSize?: number;
  /** (@default none) */
  web?: StackWebServiceArgs;
  /** (@default none) */
  streaming?: StackStreamingServiceArgs;
  /** (@default none) */
  sidekiq?: StackSidekiqServiceArgs;
  /** PgBouncer default_pool_size on this fleet's hosts (@default database.pgbouncer.defaultPoolSize). */
  pgbouncerPoolSize?: number;
  /** Run above minSize on Spot, Sidekiq fleets without the scheduler only (@default false). */
  spot?: boolean;
  /** With spot: more c-family types of instanceType's architecture and vCPUs (@default none). */
  spotInstanceTypes?: string[];
  /** Target tracking on average CPU, percent (@default none). */
  cpuTarget?: number;
  /** Target tracking on this fleet's largest queue latency, a duration such as "30s" (@default none). */
  queueLatencyTarget?: string;
  /** Encrypted gp3 root volume, GiB (@default 30). */
  rootVolumeGiB?: number;
}
