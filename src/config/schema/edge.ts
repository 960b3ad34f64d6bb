/** The network, the edge (ALB, media, DNS), mail and alarms. */
import { z } from "zod";
import { isAligned, isPrivate, parseIpv4Cidr } from "../../network/subnets";
import { DEFAULTS, QUEUE_LATENCY_ALARM_SECONDS, SIDEKIQ_QUEUES } from "../../vocabulary/defaults";
import { MailProvider, PriceClass } from "../../vocabulary/configEnums";
import { Egress } from "../../network/subnets";
import { dotenvSecret, duration, durationText, hostname } from "./common";
import { argsType, documented, enumType } from "./keyDoc";

const CONFIG_ENUMS = "src/vocabulary/configEnums";

export const networkSchema = argsType(
  z.strictObject({
    cidr: documented(
      z
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
      {
        description: "IPv4 CIDR of the VPC, /16 to /20, in a private range, written as the network address.",
      },
    ),
    availabilityZones: documented(
      enumType(
        z.union([z.literal(2), z.literal(3)], { error: "must be 2 or 3" }),
        "AvailabilityZoneCount",
        CONFIG_ENUMS,
      ).default(DEFAULTS.network.availabilityZones),
      { description: "Availability zones the subnets span, 2 or 3." },
    ),
    egress: documented(enumType(z.enum(Egress), "Egress", "src/network/subnets").optional(), {
      description:
        "How fleets reach the internet (federation needs it): a NAT gateway per AZ, one shared NAT gateway, or public subnets that accept no inbound traffic (no NAT).",
      default: '"nat-per-az" in production, "single-nat" elsewhere',
    }),
    ipv6: documented(z.boolean().default(false), { description: "Dual-stack VPC and ALB." }),
  }),
  { name: "StackNetworkArgs", folder: "network", description: "mastodon:network" },
);

export const mediaSchema = argsType(
  z.strictObject({
    customDomain: documented(hostname.optional(), {
      description:
        "A domain for media (S3_ALIAS_HOST), a name of its own (not domain or webDomain); needs a certificate in us-east-1.",
      default: "the CloudFront domain",
    }),
    certificateArn: documented(
      z
        .string()
        .regex(/^arn:aws:acm:us-east-1:\d{12}:certificate\/[0-9a-f-]+$/, {
          error:
            "must be an ACM certificate ARN in us-east-1 (CloudFront only reads certificates from there)",
        })
        .optional(),
      {
        description:
          "The ARN of an ACM certificate for customDomain in us-east-1 (CloudFront reads only there); may be another resource's output.",
        default: "one requested and DNS-validated in dns.zoneId",
      },
    ),
    versioning: documented(z.boolean().default(false), {
      description:
        "S3 versioning on the media bucket: a removed or overwritten file stays as a noncurrent version.",
    }),
    priceClass: documented(
      enumType(z.enum(PriceClass), "PriceClass", CONFIG_ENUMS).default(DEFAULTS.media.priceClass),
      {
        description: "Where CloudFront serves media from: PriceClass_100 is North America and Europe.",
      },
    ),
    legacySystemPaths: documented(z.boolean().default(false), {
      description:
        "Keep a source install's media URLs (https://<web domain>/system/..., which other servers hold) working: the ALB redirects /system/* to the media host, whose CloudFront Function reads the key without /system (docs/moving-media.md).",
    }),
  }),
  { name: "StackMediaArgs", folder: "media", description: "mastodon:media" },
);

export const loadBalancerSchema = argsType(
  z.strictObject({
    certificateArn: documented(
      z
        .string()
        .regex(/^arn:aws:acm:[a-z0-9-]+:\d{12}:certificate\/[0-9a-f-]+$/, {
          error: "must be an ACM certificate ARN",
        })
        .optional(),
      {
        description:
          "The ARN of an ACM certificate for webDomain in the stack's region; may be another resource's output. Required without dns.",
        default: "one requested and DNS-validated in dns.zoneId",
      },
    ),
    idleTimeoutSeconds: documented(
      z.int().min(1).max(4000).default(DEFAULTS.loadBalancer.idleTimeoutSeconds),
      {
        description:
          "Seconds an idle connection stays open, 1-4000. Streaming WebSockets carry a heartbeat well inside the default.",
      },
    ),
    accessLogs: documented(z.boolean().optional(), {
      description: "Access logs to a private, encrypted S3 bucket.",
      default: "true in production, false elsewhere",
    }),
    deletionProtection: documented(z.boolean().optional(), {
      description: "The ALB refuses deletion until this is turned off.",
      default: "true in production, false elsewhere",
    }),
  }),
  { name: "StackLoadBalancerArgs", folder: "edge", description: "mastodon:loadBalancer" },
);

export const dnsSchema = argsType(
  z.strictObject({
    zoneId: documented(
      z.string().regex(/^Z[A-Z0-9]{1,32}$/, {
        error: "must be a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ",
      }),
      {
        description: "Route 53 hosted zone ID, e.g. Z0123456789ABCDEFGHIJ; may be a zone resource's output.",
      },
    ),
    zoneName: documented(hostname, {
      description: "The zone's domain; webDomain and media.customDomain must be inside it.",
    }),
  }),
  {
    name: "StackDnsArgs",
    folder: "edge",
    description: "mastodon:dns: alias records, certificate validation and DKIM records go in this zone.",
  },
);

export const mailSchema = argsType(
  z.strictObject({
    provider: documented(enumType(z.enum(MailProvider), "MailProvider", CONFIG_ENUMS).default("ses"), {
      description: "How Mastodon sends mail: Amazon SES, or an external SMTP relay (mail.smtp).",
    }),
    fromAddress: documented(z.email({ error: "must be an e-mail address" }).optional(), {
      description: "The sender of Mastodon's mail (SMTP_FROM_ADDRESS); with SES its domain is the identity.",
      default: "notifications@<domain>",
    }),
    smtp: documented(
      argsType(
        z.strictObject({
          server: documented(hostname, { description: "The relay's host name (SMTP_SERVER)." }),
          port: documented(z.int().min(1).max(65535).default(DEFAULTS.mail.smtpPort), {
            description: "The relay's port (SMTP_PORT): 465 uses SMTPS, others STARTTLS.",
          }),
          // Written as is into .env.production (src/host/boot.ts renderEnvFile).
          login: documented(
            z
              .string()
              .min(1)
              .regex(/^[^\s"'`#$\\]+$/, {
                error:
                  "must not contain spaces, quotes, #, $ or backslashes: it is written unquoted into .env.production",
              }),
            {
              description:
                "The user name (SMTP_LOGIN), written as is into .env.production: no spaces, quotes, #, $ or backslashes.",
            },
          ),
          // Filled into .env.production at boot, quoted so Ruby's and Node's dotenv both read it back exactly.
          password: documented(dotenvSecret, {
            description:
              "The password (SMTP_PASSWORD), a secret (pulumi config set --secret --path mastodon:mail.smtp.password ...): kept as an SSM SecureString and filled into .env.production at boot, never into user-data.",
          }),
        }),
        { name: "StackSmtpArgs", folder: "mail", description: "mastodon:mail.smtp" },
      ).optional(),
      {
        description:
          "The external SMTP relay Mastodon sends through: required with provider smtp, unread with ses.",
        default: "none",
      },
    ),
  }),
  { name: "StackMailArgs", folder: "mail", description: "mastodon:mail" },
);

export const alarmsSchema = argsType(
  z.strictObject({
    email: documented(z.email({ error: "must be an e-mail address" }).optional(), {
      description:
        "Where alarm notifications go (an SNS e-mail subscription); a production stack without it warns.",
      default: "none",
    }),
    queueLatency: documented(
      argsType(
        z.partialRecord(enumType(z.enum(SIDEKIQ_QUEUES), "SidekiqQueue", CONFIG_ENUMS), duration),
        {
          name: "StackQueueLatencyArgs",
          folder: "monitoring",
          description: 'mastodon:alarms.queueLatency: a duration per queue, e.g. "30s", "10m".',
        },
        {
          descriptions: {
            default: "The default queue: home timelines and local posts, what users notice first.",
            push: "Deliveries to other servers.",
            ingress: "Activities arriving from other servers.",
            mailers: "Mail: sign-up confirmations and password resets.",
            pull: "Fetches from other servers: remote media, link previews.",
            scheduler: "Sidekiq's scheduled jobs.",
            fasp: "Fediverse auxiliary service providers (FASP).",
          },
          defaults: Object.fromEntries(
            Object.entries(QUEUE_LATENCY_ALARM_SECONDS).map(([queue, seconds]) => [
              queue,
              durationText(seconds),
            ]),
          ),
        },
      ).prefault({}),
      {
        description:
          "Per queue, the latency (a duration with its unit: 30s, 10m, 1h) above which its alarm fires for five minutes running.",
      },
    ),
    deadJobsPerHour: documented(z.int().min(1).default(DEFAULTS.alarms.deadJobsPerHour), {
      description: "Jobs added to Sidekiq's dead set within an hour above which an alarm fires.",
    }),
    pgbouncerMaxWait: documented(duration.prefault(DEFAULTS.alarms.pgbouncerMaxWait), {
      description:
        "A fleet's longest PgBouncer wait (a duration) above which its alarm fires for five minutes running.",
    }),
  }),
  { name: "StackAlarmsArgs", folder: "monitoring", description: "mastodon:alarms" },
);

/** CloudWatch Logs' retention periods (CloudWatch Logs API Reference, PutRetentionPolicy). */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export const logsSchema = argsType(
  z.strictObject({
    retentionDays: documented(
      z
        .int()
        .refine((d) => (LOG_RETENTION_DAYS as readonly number[]).includes(d), {
          error: `must be one of CloudWatch Logs' retention periods: ${LOG_RETENTION_DAYS.join(", ")}`,
        })
        .default(DEFAULTS.fleet.logRetentionDays),
      {
        description:
          "Days the fleets' journald logs are kept in their log groups, one of CloudWatch Logs' periods (1, 3, 5, 7, 14, 30, 60, 90, ...).",
      },
    ),
  }),
  { name: "StackLogsArgs", folder: "monitoring", description: "mastodon:logs" },
);
