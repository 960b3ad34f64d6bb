/** A fleet: its instance type, sizes, and the services (web, streaming, Sidekiq) its hosts run. */
import { z } from "zod";
import { DEFAULTS, SIDEKIQ_QUEUES, SIDEKIQ_THREAD_RULES, WARM_POOL_STATES } from "../vocabulary/defaults";
import { duration, instanceType, positiveInt } from "../config/schema/common";
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

export const warmPoolSchema = z.strictObject({
  /** Prepared instances the pool keeps, whatever the group's size (its MinSize and MaxGroupPreparedCapacity). */
  size: positiveInt,
  /** Stopped (their volumes are paid) or Running (the instances are paid; no EC2 start). @default Stopped */
  state: z
    .enum(WARM_POOL_STATES, {
      error: `is not a warm pool state this package prepares for; use one of ${WARM_POOL_STATES.join(", ")}`,
    })
    .default(DEFAULTS.warmPool.state),
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
    /**
     * With spot: more c-family types the Spot capacity may run on besides instanceType (a mixed
     * instances policy), each with instanceType's architecture and vCPUs and at least its memory:
     * the processes, pools and budget are sized for instanceType, the smallest. @default none
     */
    spotInstanceTypes: z
      .array(instanceType)
      .min(1)
      .max(19)
      .refine((types) => new Set(types).size === types.length, { error: "lists an instance type twice" })
      .optional(),
    /** Target-tracking scaling on average CPU (percent), between minSize and maxSize. @default none */
    cpuTarget: z.int().min(10).max(90).optional(),
    /**
     * Target tracking on the largest latency of this fleet's queues (FleetQueueLatency, published
     * each minute by the scheduler's host), between minSize and maxSize, e.g. "30s". Sidekiq fleets
     * without the scheduler only. @default none
     */
    queueLatencyTarget: duration.optional(),
    /** Encrypted gp3 root volume. @default 30 */
    rootVolumeGiB: z.int().min(8).max(1024).default(DEFAULTS.fleet.rootVolumeGiB),
    /**
     * Instances kept prepared beside the group (src/fleet/warmPool.ts): a scaling fleet's scale-out
     * starts one of them instead of booting cold. @default none
     */
    warmPool: warmPoolSchema.optional(),
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
