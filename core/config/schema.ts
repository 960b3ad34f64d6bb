/**
 * The stack config, namespace `mastodon:`, as a zod schema. Shape and per-field checks live here;
 * rules that look across fields (queue coverage, the scheduler singleton, the connection budget)
 * live in rules.ts. Every optional key documents its default; the defaults themselves come from
 * ../defaults.ts so there is one place to change them.
 */
import { z } from "zod";
import { dotenvProblem } from "../host/boot";
import { cacheNodeSpec, ec2InstanceSpec, knownCacheNodeTypes, rdsClassSpec } from "../sizing/catalog";
import { DEFAULTS, SIDEKIQ_QUEUES, SIDEKIQ_THREAD_RULES } from "../defaults";
import { isAligned, isPrivate, parseIpv4Cidr } from "../aws/subnets";

const hostname = z.string().regex(/^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/, {
  error: "must be a lower-case DNS name such as example.social",
});

const positiveInt = z.int().min(1);

/** A c-family EC2 instance type the catalog knows (docs/design.md, "Instance catalogs"). */
const instanceType = z.string().superRefine((value, ctx) => {
  if (ec2InstanceSpec(value)) return;
  const cFamily = /^c\d+[a-z]*(-flex)?\./.test(value);
  ctx.addIssue({
    code: "custom",
    message: cFamily
      ? "is not in the c-family catalog (data/ec2-c-family-prices-us-east-1.tsv); pick a listed size such as c7g.large or c7i.xlarge (metal sizes are not supported)"
      : "is not a c-family instance type; fleets run on compute-optimised c-family instances only (pawoo-running-mastodon-at-scale.txt: t-family ran out of CPU credits), e.g. c7g.large or c7i.xlarge",
  });
});

const rdsInstanceClass = z.string().superRefine((value, ctx) => {
  if (rdsClassSpec(value)) return;
  ctx.addIssue({
    code: "custom",
    message:
      "is not a known RDS class; use db.t4g.{micro,small,medium,large}, or db.{m,r}{6,7,8}g / db.{m,r}{6,7}i from large to 16xlarge",
  });
});

const cacheNodeType = z.string().superRefine((value, ctx) => {
  if (cacheNodeSpec(value)) return;
  ctx.addIssue({
    code: "custom",
    message: `is not a known ElastiCache node type; use one of ${knownCacheNodeTypes().join(", ")}`,
  });
});

const threads = positiveInt.max(SIDEKIQ_THREAD_RULES.errorAbove, {
  error: (iss) => {
    const wanted = Number(iss.input);
    const processes = Math.ceil(wanted / SIDEKIQ_THREAD_RULES.warnAbove);
    return (
      `exceeds ${SIDEKIQ_THREAD_RULES.errorAbove} threads per Sidekiq process; Ruby's global lock stops a process ` +
      `scaling long before that (eigenmagic: 25-50 is the ceiling; hachyderm keeps -c at 25 or under; tooting: ` +
      `4 x 15 beat 1 x 60). Add processes instead, e.g. sidekiq.processes ${processes} with sidekiq.threads ` +
      `${Math.ceil(wanted / processes)}`
    );
  },
});

export const webServiceSchema = z.strictObject({
  /** Puma workers (WEB_CONCURRENCY). @default round(1.5 x vCPU) of the fleet's instance type */
  processes: positiveInt.max(64).optional(),
  /** Puma threads per worker (MAX_THREADS); each holds a database connection. @default 5 */
  threads: positiveInt.max(32).default(DEFAULTS.web.threads),
});

export const streamingServiceSchema = z.strictObject({
  /** Streaming processes per host, one per port from 4000 (mastodon-streaming@4000, @4001, ...). @default 1 */
  processes: positiveInt.max(16).default(DEFAULTS.streaming.processes),
  /** DB_POOL of each streaming process. @default 10 */
  dbPool: positiveInt.max(100).default(DEFAULTS.streaming.dbPool),
});

export const sidekiqServiceSchema = z.strictObject({
  /** The queues this fleet's Sidekiq processes serve, in priority order. */
  queues: z
    .array(
      z.enum(SIDEKIQ_QUEUES, {
        error: `is not a Sidekiq queue of Mastodon 4.6; the queues are ${SIDEKIQ_QUEUES.join(", ")}`,
      }),
    )
    .min(1)
    .refine((qs) => new Set(qs).size === qs.length, { error: "lists a queue twice" }),
  /** Sidekiq processes per host (one systemd template instance each). @default 1 */
  processes: positiveInt.max(64).default(DEFAULTS.sidekiq.processes),
  /** Threads per process: `sidekiq -c N`, and DB_POOL = N. @default 10 */
  threads: threads.default(DEFAULTS.sidekiq.threads),
});

export const fleetSchema = z
  .strictObject({
    instanceType,
    /** @default 1 */
    minSize: z.int().min(0).default(DEFAULTS.fleet.minSize),
    /** @default minSize */
    desiredSize: z.int().min(0).optional(),
    /** The budget counts this size: autoscaling can reach it. @default desiredSize */
    maxSize: positiveInt.optional(),
    web: webServiceSchema.optional(),
    streaming: streamingServiceSchema.optional(),
    sidekiq: sidekiqServiceSchema.optional(),
    /** PgBouncer default_pool_size on each host of this fleet (pooler pgbouncer only). @default database.pgbouncer.defaultPoolSize */
    pgbouncerPoolSize: positiveInt.max(500).optional(),
    /** Run above minSize on Spot (Sidekiq fleets without the scheduler only; Pawoo planned it). @default false */
    spot: z.boolean().default(false),
    /** Target-tracking scaling on average CPU (percent), between minSize and maxSize. @default none */
    cpuTarget: z.int().min(10).max(90).optional(),
    /** Encrypted gp3 root volume. @default 30 */
    rootVolumeGiB: z.int().min(8).max(1024).default(DEFAULTS.fleet.rootVolumeGiB),
  })
  .superRefine((fleet, ctx) => {
    if (!fleet.web && !fleet.streaming && !fleet.sidekiq) {
      ctx.addIssue({
        code: "custom",
        path: [],
        message: "runs no service; give it at least one of web, streaming or sidekiq",
      });
    }
    const desired = fleet.desiredSize ?? fleet.minSize;
    const max = fleet.maxSize ?? Math.max(desired, 1);
    if (desired < fleet.minSize) {
      ctx.addIssue({
        code: "custom",
        path: ["desiredSize"],
        message: `is below minSize ${fleet.minSize}; raise it or lower minSize`,
      });
    }
    if (max < desired) {
      ctx.addIssue({
        code: "custom",
        path: ["maxSize"],
        message: `is below desiredSize ${desired}; raise it to at least ${desired}`,
      });
    }
  });

const fleetName = z.string().regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, {
  error:
    "fleet names are 2-32 characters of a-z, 0-9 and -, starting with a letter (they become resource and unit names)",
});

const valkeyOrRedis = z.enum(["valkey", "redis"]);

/** Redis 7+ is required (Sidekiq 8 checks it: docs/design.md, "Requirements"); ElastiCache families redis7 and valkey8. */
const redisVersion = z.string().regex(/^(7\.[0-9]+|8\.[0-9]+)$/, {
  error: "must be a 7.x (redis) or 8.x (valkey) version such as 7.1 or 8.0",
});

export const cacheRedisSchema = z.strictObject({
  /** @default "valkey" */
  engine: valkeyOrRedis.default(DEFAULTS.redis.engine),
  /** @default "8.0" for valkey, "7.1" for redis */
  engineVersion: redisVersion.optional(),
  /** @default "cache.t4g.small" */
  nodeType: cacheNodeType.default(DEFAULTS.redis.cacheNodeType),
  /** The cache may run on one node (docs/design.md, "The two Redis"). @default 1 */
  nodes: positiveInt.max(6).default(DEFAULTS.redis.cacheNodes),
});

export const persistentRedisSchema = z.strictObject({
  /**
   * "elasticache" (Multi-AZ replicas, snapshots) or "self-managed-aof" (Redis on EC2 with appendonly,
   * the only honest AOF on AWS: docs/design.md, "The two Redis"). @default "elasticache"
   */
  mode: z.enum(["elasticache", "self-managed-aof"]).default("elasticache"),
  /** @default "valkey" */
  engine: valkeyOrRedis.default(DEFAULTS.redis.engine),
  /** @default "8.0" for valkey, "7.1" for redis */
  engineVersion: redisVersion.optional(),
  /** @default "cache.t4g.small" */
  nodeType: cacheNodeType.default(DEFAULTS.redis.persistentNodeType),
  /** Primary plus replicas; production needs at least 2 for automatic failover. @default 2 */
  nodes: positiveInt.max(6).default(DEFAULTS.redis.persistentNodes),
  /** Asking ElastiCache for AOF is refused with an explanation (rules.ts). @default false */
  appendOnly: z.boolean().default(false),
  /** self-managed-aof only: the EC2 instance type. @default "c7g.large" */
  instanceType: instanceType.default(DEFAULTS.selfManagedRedis.instanceType),
  /** self-managed-aof only: size of the encrypted gp3 data volume. @default 20 */
  volumeGiB: positiveInt.max(16384).default(DEFAULTS.selfManagedRedis.volumeGiB),
});

export const databaseSchema = z.strictObject({
  /** PostgreSQL major version (RDS parameter group family postgres16 / postgres17). @default "17" */
  engineVersion: z
    .union([z.literal("16"), z.literal("17"), z.literal(16), z.literal(17)], {
      error: 'must be "16" or "17"',
    })
    .transform((v) => String(v) as "16" | "17")
    .default(DEFAULTS.database.engineVersion),
  instanceClass: rdsInstanceClass,
  /** @default true in production, false elsewhere */
  multiAz: z.boolean().optional(),
  /** Production refuses a single-AZ database unless this says the risk is accepted. @default false */
  allowSingleAz: z.boolean().default(false),
  /** @default 20 */
  storageGiB: z.int().min(20).max(65536).default(DEFAULTS.database.storageGiB),
  /** Storage autoscaling ceiling, at least 10% above storageGiB (RDS refuses less). @default max(200, 1.26 x storageGiB) */
  maxStorageGiB: z.int().min(20).max(65536).optional(),
  /** @default min(RDS's memory formula, 500) */
  maxConnections: z.int().min(20).max(5000).optional(),
  /** @default clamp(RAM / max_connections, 4, 64) MiB */
  workMemMiB: z.int().min(1).max(2048).optional(),
  /** Connections kept free for migrations and consoles. @default 15 */
  adminHeadroom: z.int().min(0).max(200).default(DEFAULTS.database.adminHeadroom),
  /** "pgbouncer" runs one PgBouncer per host in transaction mode (compendium). @default "none" */
  pooler: z.enum(["none", "pgbouncer"]).default("none"),
  pgbouncer: z
    .strictObject({
      /** default_pool_size per host unless a fleet sets pgbouncerPoolSize. @default 20 */
      defaultPoolSize: positiveInt.max(500).default(DEFAULTS.database.pgbouncerPoolSize),
    })
    .prefault({}),
  /** A read replica (REPLICA_DB_*); the budget counts the same pools again against its own limit. */
  replica: z
    .strictObject({
      instanceClass: rdsInstanceClass,
      /** @default min(RDS's memory formula, 500) */
      maxConnections: z.int().min(20).max(5000).optional(),
    })
    .optional(),
});

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
      /** Written as is into .env.production (core/boot.ts renderEnvFile). */
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
      password: z
        .string()
        .min(1)
        .superRefine((value, ctx) => {
          const problem = dotenvProblem(value);
          if (problem)
            ctx.addIssue({
              code: "custom",
              message: `cannot be written into .env.production so that Ruby's dotenv (Rails) and Node's dotenv (streaming) both read it back unchanged: ${problem}. Choose a password without that`,
            });
        }),
    })
    .optional(),
});

export const alarmsSchema = z.strictObject({
  /** Where alarm notifications go (an SNS e-mail subscription). */
  email: z.email({ error: "must be an e-mail address" }).optional(),
});

export const imageSchema = z
  .strictObject({
    /** A fixed AMI ID; only when every fleet shares one architecture. */
    amiId: z
      .string()
      .regex(/^ami-[0-9a-f]{8,17}$/, { error: "must look like ami-0123456789abcdef0" })
      .optional(),
    /** An SSM parameter holding the AMI ID; `{arch}` is replaced by arm64 or x86_64 per fleet. */
    ssmParameter: z
      .string()
      .regex(/^\/[A-Za-z0-9_.\-/{}]+$/, { error: "must be an SSM parameter path starting with /" })
      .optional(),
    /** The AMI's root device. @default "/dev/xvda" (Debian; Ubuntu uses /dev/sda1) */
    rootDeviceName: z
      .string()
      .regex(/^\/dev\/[a-z0-9]+$/, { error: "must be a device such as /dev/xvda" })
      .default(DEFAULTS.fleet.rootDeviceName),
  })
  .superRefine((image, ctx) => {
    if ((image.amiId === undefined) === (image.ssmParameter === undefined)) {
      ctx.addIssue({ code: "custom", path: [], message: "must set exactly one of amiId or ssmParameter" });
    }
  });

export const stackConfigSchema = z.strictObject({
  /** dev, staging or production: production turns on Multi-AZ, deletion protection and the stricter checks. */
  environment: z.enum(["dev", "staging", "production"]),
  /** LOCAL_DOMAIN: the domain in users' handles. */
  domain: hostname,
  /** WEB_DOMAIN: where the web interface is served, when it differs from domain. @default domain */
  webDomain: hostname.optional(),
  network: networkSchema.prefault({}),
  database: databaseSchema,
  redis: z
    .strictObject({
      cache: cacheRedisSchema.prefault({}),
      persistent: persistentRedisSchema.prefault({}),
    })
    .prefault({}),
  media: mediaSchema.prefault({}),
  loadBalancer: loadBalancerSchema.prefault({}),
  /** Alias records, certificate validation and DKIM records go in this zone when set. */
  dns: dnsSchema.optional(),
  mail: mailSchema.prefault({}),
  alarms: alarmsSchema.prefault({}),
  image: imageSchema,
  fleets: z.record(fleetName, fleetSchema).refine((fleets) => Object.keys(fleets).length > 0, {
    error:
      "defines no fleet; add at least one, e.g. `pulumi config set --path mastodon:fleets.app.instanceType c7g.large`",
  }),
});

/** The config as parsed by zod (defaults applied, environment-dependent ones still open). */
export type ParsedStackConfig = z.infer<typeof stackConfigSchema>;
export type ParsedFleet = z.infer<typeof fleetSchema>;
