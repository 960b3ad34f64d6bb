/**
 * The stack config's enums, each an `as const` object with a type of the same name (what Pulumi's
 * component analyzer reads as an enum, member names and docs included). The zod checks accept
 * these values and the generated args (bin/generateArgs.ts) type their keys with them.
 */

/** dev, staging or production: production turns on Multi-AZ, deletion protection and the stricter checks. */
export const Environment = { Dev: "dev", Staging: "staging", Production: "production" } as const;
export type Environment = (typeof Environment)[keyof typeof Environment];

/** Mastodon 4.6's Sidekiq queues (config/sidekiq.yml; fasp is new in 4.4), in the order SIDEKIQ_QUEUES lists them. */
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

/** Availability zones the VPC spans. */
export const AvailabilityZoneCount = { Two: 2, Three: 3 } as const;
export type AvailabilityZoneCount = (typeof AvailabilityZoneCount)[keyof typeof AvailabilityZoneCount];

/** CloudFront price class. */
export const PriceClass = {
  /** North America and Europe. */
  PriceClass100: "PriceClass_100",
  /** Those, and most of Asia, the Middle East and Africa. */
  PriceClass200: "PriceClass_200",
  /** Every edge location. */
  PriceClassAll: "PriceClass_All",
} as const;
export type PriceClass = (typeof PriceClass)[keyof typeof PriceClass];

/** How Mastodon sends mail. */
export const MailProvider = {
  /** Amazon SES, with a domain identity, DKIM and an SMTP user of the package's own. */
  Ses: "ses",
  /** An external SMTP relay (mail.smtp). */
  Smtp: "smtp",
} as const;
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
export const TranslationProvider = {
  /** DeepL's API (DEEPL_API_KEY, DEEPL_PLAN). */
  Deepl: "deepl",
  /** A LibreTranslate server (LIBRE_TRANSLATE_ENDPOINT). */
  Libretranslate: "libretranslate",
} as const;
export type TranslationProvider = (typeof TranslationProvider)[keyof typeof TranslationProvider];

/** DeepL's API plan. */
export const DeeplPlan = { Free: "free", Pro: "pro" } as const;
export type DeeplPlan = (typeof DeeplPlan)[keyof typeof DeeplPlan];

/** The seconds a rate-based rule counts back over (AWS WAF: 60, 120, 300 or 600). */
export const WafEvaluationWindow = {
  OneMinute: 60,
  TwoMinutes: 120,
  FiveMinutes: 300,
  TenMinutes: 600,
} as const;
export type WafEvaluationWindow = (typeof WafEvaluationWindow)[keyof typeof WafEvaluationWindow];

/** The state a warm pool keeps its prepared instances in. */
export const WarmPoolState = { Stopped: "Stopped", Running: "Running" } as const;
export type WarmPoolState = (typeof WarmPoolState)[keyof typeof WarmPoolState];
