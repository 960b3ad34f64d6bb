/** The network, the edge (ALB, media, DNS), mail, alarms and the machine image. */
import { z } from "zod";
import { isAligned, isPrivate, parseIpv4Cidr } from "../../network/subnets";
import { DEFAULTS, SIDEKIQ_QUEUES } from "../../vocabulary/defaults";
import { dotenvSecret, duration, hostname } from "./common";

export const networkSchema = z.strictObject({
  /** @default "10.0.0.0/16" */
  cidr: z
    .string()
    .superRefine((value, ctx) => {
      const cidr = parseIpv4Cidr(value);
      const problem =
        !cidr || cidr.prefix < 16 || cidr.prefix > 20
          ? "must be an IPv4 CIDR from /16 to /20, e.g. 10.0.0.0/16"
          : !isAligned(cidr)
            ? `has bits set past its /${cidr.prefix} prefix; write the network address, e.g. ${value.replace(/\.\d+\.\d+\//, ".0.0/")}`
            : !isPrivate(cidr)
              ? "is not in a private range (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"
              : undefined;
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .default(DEFAULTS.network.cidr),
  /** @default 2 */
  availabilityZones: z
    .union([z.literal(2), z.literal(3)], { error: "must be 2 or 3" })
    .default(DEFAULTS.network.availabilityZones),
  /**
   * How fleets reach the internet (federation needs it): a NAT gateway per AZ, one shared NAT
   * gateway, or public subnets that accept no inbound traffic. @default "nat-per-az" in production, "single-nat" elsewhere
   */
  egress: z.enum(["nat-per-az", "single-nat", "public-subnets"]).optional(),
  /** @default false */
  ipv6: z.boolean().default(false),
});

export const mediaSchema = z.strictObject({
  /** A domain for media (S3_ALIAS_HOST); needs a certificate in us-east-1. @default the CloudFront domain */
  customDomain: hostname.optional(),
  /** ACM certificate in us-east-1 for customDomain. @default one requested and DNS-validated in dns.zoneId */
  certificateArn: z
    .string()
    .regex(/^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/, {
      error: "must be an ACM certificate ARN in us-east-1 (CloudFront only reads certificates from there)",
    })
    .optional(),
  /** @default false */
  versioning: z.boolean().default(false),
  /** CloudFront price class. @default "PriceClass_100" (North America and Europe) */
  priceClass: z
    .enum(["PriceClass_100", "PriceClass_200", "PriceClass_All"])
    .default(DEFAULTS.media.priceClass),
  /**
   * Keep a source install's media URLs working (https://<web domain>/system/..., other servers hold
   * them): the ALB redirects /system/* to the media host, whose CloudFront Function reads the key
   * without /system (docs/moving-media.md). @default false
   */
  legacySystemPaths: z.boolean().default(false),
});

export const loadBalancerSchema = z.strictObject({
  /** ACM certificate for webDomain, in the stack's region. @default one requested and DNS-validated in dns.zoneId */
  certificateArn: z
    .string()
    .regex(/^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, {
      error: "must be an ACM certificate ARN",
    })
    .optional(),
  /**
   * Seconds an idle connection stays open. Streaming WebSockets carry a heartbeat well inside the
   * default. @default 60
   */
  idleTimeoutSeconds: z.int().min(1).max(4000).default(DEFAULTS.loadBalancer.idleTimeoutSeconds),
  /** Access logs to a private, encrypted bucket. @default true in production */
  accessLogs: z.boolean().optional(),
  /** @default true in production */
  deletionProtection: z.boolean().optional(),
});

export const dnsSchema = z.strictObject({
  /** Route 53 hosted zone ID, e.g. Z0123456789ABCDEFGHIJ. */
  zoneId: z
    .string()
    .regex(/^Z[A-Z0-9]{1,32}$/, { error: "must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ" }),
  /** The zone's domain; webDomain and media.customDomain must be inside it. */
  zoneName: hostname,
});

export const mailSchema = z.strictObject({
  /** @default "ses" */
  provider: z.enum(["ses", "smtp"]).default("ses"),
  /** @default notifications@<domain> */
  fromAddress: z.email({ error: "must be an e-mail address" }).optional(),
  smtp: z
    .strictObject({
      server: hostname,
      /** @default 587 */
      port: z.int().min(1).max(65535).default(DEFAULTS.mail.smtpPort),
      /** Written as is into .env.production (src/host/boot.ts renderEnvFile). */
      login: z
        .string()
        .min(1)
        .regex(/^[^\s"'`#$\\]+$/, {
          error:
            "must not contain spaces, quotes, #, $ or backslashes: it is written unquoted into .env.production",
        }),
      /**
       * Set with `pulumi config set --secret --path mastodon:mail.smtp.password ...`. Filled into
       * .env.production at boot, quoted so Ruby's and Node's dotenv both read it back exactly.
       */
      password: dotenvSecret,
    })
    .optional(),
});

export const alarmsSchema = z.strictObject({
  /** Where alarm notifications go (an SNS e-mail subscription). */
  email: z.email({ error: "must be an e-mail address" }).optional(),
  /**
   * Per queue, the latency (a duration) above which its alarm fires for five minutes running.
   * @default default 30s, ingress 1m, push 10m, pull 15m, mailers 5m, scheduler 5m, fasp 15m
   */
  queueLatency: z.partialRecord(z.enum(SIDEKIQ_QUEUES), duration).prefault({}),
  /** Jobs added to Sidekiq's dead set within an hour above which an alarm fires. @default 10 */
  deadJobsPerHour: z.int().min(1).default(DEFAULTS.alarms.deadJobsPerHour),
  /** A fleet's longest PgBouncer wait (a duration) above which its alarm fires for five minutes running. @default "2s" */
  pgbouncerMaxWait: duration.prefault(DEFAULTS.alarms.pgbouncerMaxWait),
});

/** CloudWatch Logs' retention periods (CloudWatch Logs API Reference, PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const logsSchema = z.strictObject({
  /** Days the fleets' journald logs are kept in their log groups, one of CloudWatch's periods. @default 30 */
  retentionDays: z
    .int()
    .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
      error: `must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
    })
    .default(DEFAULTS.fleet.logRetentionDays),
});

const amiId = z.string().regex(/^ami-[0-9a-f]{8,17}$/, { error: "must look like ami-0123456789abcdef0" });

export const imageSchema = z.strictObject({
  /**
   * Where Mastodon comes from: "official", Mastodon's release images pinned to mastodon:version, run
   * by systemd units on a pinned stock Debian 12 AMI (nothing to build); "image-builder", an AMI per
   * architecture baked in the account by EC2 Image Builder from that version on the same Debian AMI,
   * run by the native units (no container runtime, the fastest boot); "ami", an AMI with that
   * version installed, pinned per stack and architecture. @default "official"
   */
  source: z.enum(["official", "image-builder", "ami"]).default(DEFAULTS.image.source),
  /**
   * source official and image-builder: where the images are pulled from: Mastodon's registry, or an ECR pull-through
   * cache's prefix (<account>.dkr.ecr.<region>.amazonaws.com/<prefix>). @default "ghcr.io/mastodon"
   */
  registry: z
    .string()
    .regex(/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+$/, {
      error: "must be an image registry path such as ghcr.io/mastodon",
    })
    .default(DEFAULTS.image.registry),
  /**
   * source official and image-builder: the Debian 12 release the hosts boot (image-builder: bake on), by its serial (the AMI named
   * debian-12-<arch>-<serial>, published by Debian's own AWS account): pinned, never "latest".
   * @default DEFAULTS.image.debianSerial
   */
  debianSerial: z
    .string()
    .regex(/^[0-9]{8}-[0-9]{3,5}$/, { error: "must be a Debian cloud image serial such as 20250331-1966" })
    .default(DEFAULTS.image.debianSerial),
  /**
   * source official: pull the release images through an ECR pull-through cache of ghcr.io in the
   * stack's account and region, so boots do not depend on ghcr.io's availability or rate limits.
   * The package creates the cache rule and lets the fleets pull from it; GitHub's registry needs
   * credentials, in a Secrets Manager secret whose name starts with ecr-pullthroughcache/ (Amazon
   * ECR User Guide, pull through cache rules). @default none: pull from image.registry
   */
  pullThroughCache: z
    .strictObject({
      credentialArn: z
        .string()
        .regex(
          /^arn:aws:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:ecr-pullthroughcache\/[A-Za-z0-9/_+=.@-]+$/,
          {
            error:
              "must be the ARN of a Secrets Manager secret named ecr-pullthroughcache/<name> holding a GitHub username and access token",
          },
        ),
    })
    .optional(),
  /** source ami: the AMI for each architecture the fleets run (arm64 for c7g, x86_64 for c7i, ...). */
  amiIds: z.strictObject({ arm64: amiId.optional(), x86_64: amiId.optional() }).optional(),
  /** The AMI's root device. @default "/dev/xvda" (Debian; Ubuntu uses /dev/sda1) */
  rootDeviceName: z
    .string()
    .regex(/^\/dev\/[a-z0-9]+$/, { error: "must be a device such as /dev/xvda" })
    .default(DEFAULTS.fleet.rootDeviceName),
});
