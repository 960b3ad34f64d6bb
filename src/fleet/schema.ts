/** A fleet: its instance type, sizes, and the services (web, streaming, Sidekiq) its hosts run. */
import { z } from "zod";
import { DEFAULTS, SIDEKIQ_QUEUES, SIDEKIQ_THREAD_RULES } from "../vocabulary/defaults";
import { WarmPoolState } from "../vocabulary/configEnums";
import { duration, instanceType, positiveInt } from "../config/schema/common";
import { argsType, documented, enumType } from "../config/schema/keyDoc";
import { DATABASE_ALARM_IDS } from "../monitoring/alarmSpecs";
const threads = positiveInt.max(SIDEKIQ_THREAD_RULES.errorAbove, {
  error: (iss) => {
    const wanted = Number(iss.input);
    const processes = Math.ceil(wanted / SIDEKIQ_THREAD_RULES.warnAbove);
    return (
      `exceeds ${SIDEKIQ_THREAD_RULES.errorAbove} threads per Sidekiq process; Ruby's global lock stops a process ` +
      `scaling long before that (25-50 is the ceiling; 4 x 15 beat 1 x 60 on a busy instance: ` +
      `docs/design.md#processes-threads-and-units). Add processes instead, e.g. sidekiq.processes ` +
      `${processes} with sidekiq.threads ${Math.ceil(wanted / processes)}`
    );
  },
});

export const webServiceSchema = argsType(
  z.strictObject({
    processes: documented(positiveInt.max(64).optional(), {
      description:
        "Puma workers (WEB_CONCURRENCY), 1-64; the default counts the vCPUs of the fleet's instance type.",
      default: "round(1.5 x vCPU)",
    }),
    threads: documented(positiveInt.max(32).default(DEFAULTS.web.threads), {
      description: "Puma threads per worker (MAX_THREADS), 1-32; each holds a database connection.",
    }),
  }),
  { name: "StackWebServiceArgs", folder: "fleet", description: "A fleet's web service (Puma)." },
);

export const streamingServiceSchema = argsType(
  z.strictObject({
    processes: documented(positiveInt.max(16).default(DEFAULTS.streaming.processes), {
      description:
        "Streaming processes per host, one per port from 4000 (mastodon-streaming@4000, mastodon-streaming@4001, ...): at most 5 (the ALB's forward action takes 5 target groups), and the same on every streaming fleet.",
    }),
    dbPool: documented(positiveInt.max(100).default(DEFAULTS.streaming.dbPool), {
      description: "DB_POOL of each streaming process, 1-100.",
    }),
  }),
  { name: "StackStreamingServiceArgs", folder: "fleet", description: "A fleet's streaming service." },
);

export const sidekiqServiceSchema = argsType(
  z.strictObject({
    queues: documented(
      z
        .array(
          enumType(
            z.enum(SIDEKIQ_QUEUES, {
              error: `is not a Sidekiq queue of Mastodon 4.6; the queues are ${SIDEKIQ_QUEUES.join(", ")}`,
            }),
            "SidekiqQueue",
            "src/vocabulary/configEnums",
          ),
        )
        .min(1)
        .refine((qs) => new Set(qs).size === qs.length, { error: "lists a queue twice" }),
      {
        description:
          "The queues this fleet's Sidekiq processes serve, in priority order: any of default, push, ingress, mailers, pull, scheduler and fasp, each once.",
      },
    ),
    processes: documented(positiveInt.max(64).default(DEFAULTS.sidekiq.processes), {
      description: "Sidekiq processes per host (one systemd template instance each), 1-64.",
    }),
    threads: documented(threads.default(DEFAULTS.sidekiq.threads), {
      description: `Threads per process (sidekiq -c N, and DB_POOL = N): over ${SIDEKIQ_THREAD_RULES.warnAbove} warns and over ${SIDEKIQ_THREAD_RULES.errorAbove} is refused: add processes instead.`,
    }),
  }),
  { name: "StackSidekiqServiceArgs", folder: "fleet", description: "A fleet's Sidekiq service." },
);

export const warmPoolSchema = argsType(
  z.strictObject({
    size: documented(positiveInt, {
      description:
        "Prepared instances the pool keeps, booted once beside the group (packages, images, units) and then kept for a scale-out: an absolute size, whatever the group's (the pool's MinSize and MaxGroupPreparedCapacity), 1 to maxSize - minSize.",
    }),
    state: documented(
      enumType(
        z.enum(WarmPoolState, {
          error: `is not a warm pool state this package prepares for; use one of ${Object.values(WarmPoolState).join(", ")}`,
        }),
        "WarmPoolState",
        "src/vocabulary/configEnums",
      ).default(DEFAULTS.warmPool.state),
      {
        description:
          "Stopped: only their root volumes are paid; Running: their instance hours are paid too, and a scale-out skips the EC2 start. AWS's Hibernated is not offered.",
      },
    ),
  }),
  {
    name: "StackWarmPoolArgs",
    folder: "fleet",
    description:
      'A fleet\'s warm pool: instances prepared once, started on scale-out (docs/deployed.md, "Warm pools").',
  },
);

const ONE_SERVICE_AT_LEAST = "A fleet runs at least one of web, streaming and sidekiq.";

export const fleetSchema = argsType(
  z
    .strictObject({
      instanceType: documented(instanceType, {
        description:
          "A c-family instance type from the catalog (data/ec2-c-family-prices-us-east-1.tsv), e.g. c7g.large or c7i.xlarge: fleets run on c-family types only.",
      }),
      minSize: documented(z.int().min(0).default(DEFAULTS.fleet.minSize), {
        description: "The fewest hosts the fleet's Auto Scaling group runs.",
      }),
      desiredSize: documented(z.int().min(0).optional(), {
        description:
          "The hosts it runs when deployed, at least minSize; autoscaling moves it between minSize and maxSize.",
        default: "minSize",
      }),
      maxSize: documented(positiveInt.optional(), {
        description:
          "The most hosts the fleet's Auto Scaling group runs, at least desiredSize; the budget counts this size, since autoscaling can reach it.",
        default: "max(desiredSize, 1)",
      }),
      web: documented(webServiceSchema.optional(), {
        description: `Puma on the fleet's hosts, behind the ALB's web target group; an empty object {} takes every default. ${ONE_SERVICE_AT_LEAST}`,
        default: "none",
      }),
      streaming: documented(streamingServiceSchema.optional(), {
        description: `The streaming API on the fleet's hosts, behind the ALB's /api/v1/streaming route. ${ONE_SERVICE_AT_LEAST}`,
        default: "none",
      }),
      sidekiq: documented(sidekiqServiceSchema.optional(), {
        description: `Sidekiq on the fleet's hosts, serving the queues it names. ${ONE_SERVICE_AT_LEAST}`,
        default: "none",
      }),
      pgbouncerPoolSize: documented(positiveInt.max(500).optional(), {
        description:
          "PgBouncer default_pool_size on this fleet's hosts, the server connections per host, 1-500; pooler pgbouncer only.",
        default: "database.pgbouncer.defaultPoolSize",
      }),
      spot: documented(z.boolean().default(false), {
        description:
          "Run what autoscaling adds above minSize on Spot (Pawoo planned it); Sidekiq fleets without the scheduler only.",
      }),
      spotInstanceTypes: documented(
        z
          .array(instanceType)
          .min(1)
          .max(19)
          .refine((types) => new Set(types).size === types.length, { error: "lists an instance type twice" })
          .optional(),
        {
          description:
            "With spot: more c-family types the Spot capacity may run on besides instanceType (a mixed instances policy), 1-19 of them, each once, each with instanceType's architecture and vCPUs and at least its memory; the processes, pools and budget are sized for instanceType, the smallest.",
          default: "none",
        },
      ),
      cpuTarget: documented(z.int().min(10).max(90).optional(), {
        description: "Target-tracking scaling on average CPU, 10-90 percent, between minSize and maxSize.",
        default: "none",
      }),
      queueLatencyTarget: documented(duration.optional(), {
        description:
          "Target tracking on the largest latency of this fleet's queues (FleetQueueLatency, published each minute by the scheduler's host), between minSize and maxSize: a duration such as \"30s\", below the queues' latency alarms. Sidekiq fleets without the scheduler only.",
        default: "none",
      }),
      rootVolumeGiB: documented(z.int().min(8).max(1024).default(DEFAULTS.fleet.rootVolumeGiB), {
        description: "Encrypted gp3 root volume, GiB, 8-1024.",
      }),
      warmPool: documented(warmPoolSchema.optional(), {
        description:
          "Instances kept prepared beside the group (src/fleet/warmPool.ts), so that a scale-out starts one of them instead of booting cold. Only on a fleet with cpuTarget or queueLatencyTarget, not the scheduler's and not with spot.",
        default: "none",
      }),
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
    }),
  {
    name: "StackFleetArgs",
    folder: "fleet",
    description: "mastodon:fleets.<name>: a c-family fleet and the services its hosts run.",
  },
);

export const fleetName = z
  .string()
  .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$/, {
    error:
      "fleet names are 2-32 characters of a-z, 0-9 and -, starting with a letter (they become resource and unit names)",
  })
  .refine((name) => !(Object.values(DATABASE_ALARM_IDS) as string[]).includes(name), {
    error: (issue) =>
      `fleet name ${String(issue.input)} is taken by the database's alarms (${String(issue.input)}-cpu); name the fleet otherwise`,
  });
