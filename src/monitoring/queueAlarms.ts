/**
 * The alarms and panels on what the hosts publish (src/monitoring/metrics.ts), as data (pure): what users
 * notice first. Each queue's latency against its threshold (alarms.queueLatency: a backlogged default
 * queue is "a delay in their timeline" everyone notices, pawoo-running-mastodon-at-scale.txt), the
 * dead set growing (jobs lost for good), PgBouncer clients waiting as many as the pool has server
 * connections or waiting too long (the pool is too small for the threads in front of it), the
 * streaming servers holding no client while the web serves (nobody's timeline updates live), and
 * the collector falling silent (every alarm above would then stay quiet).
 */
import type { StackConfig } from "../config/stackConfig";
import type { SidekiqQueue } from "../vocabulary/defaults";
import { METRICS, METRICS_NAMESPACE, METRICS_PERIOD_SECONDS } from "./metrics";
import { MEMORY_ALARM_PERCENT, type MetricAlarmSpec, type PanelMetric } from "./alarmSpecs";

/** An alarm on a metric math expression over several metrics. */
export interface MathAlarmSpec<Id = string> {
  readonly id: string;
  readonly tier: MetricAlarmSpec["tier"];
  readonly description: string;
  readonly metrics: readonly {
    readonly id: string;
    readonly namespace: string;
    readonly metricName: string;
    readonly dimensions: Readonly<Record<string, Id>>;
    readonly statistic: "Sum" | "Maximum" | "Minimum" | "Average";
    readonly periodSeconds: number;
  }[];
  readonly expression: string;
  readonly label: string;
  readonly comparison: MetricAlarmSpec["comparison"];
  readonly threshold: number;
  readonly evaluationPeriods: number;
}

export interface QueueMonitoringInput<Id = string> {
  /** The Stack dimension every published value carries (the stack's SSM path). */
  readonly stack: string;
  readonly queues: readonly SidekiqQueue[];
  /** The thresholds the queue alarms read, in seconds and jobs. */
  readonly alarms: Pick<StackConfig["alarms"], "queueLatency" | "deadJobsPerHour" | "pgbouncerMaxWait">;
  /** Fleets with PgBouncer, and the server connections of each host's pool. */
  readonly pooledFleets: readonly { readonly name: string; readonly poolSize: number }[];
  readonly streamingFleets: readonly string[];
  /** redis.onHost: both Redis run on the app host, which publishes their memory (no ElastiCache alarms apply). @default false */
  readonly onHostRedis?: boolean;
  /** The ALB's ARN suffix: the streaming alarm asks whether the web is serving. */
  readonly loadBalancer: Id;
}

/** Five one-minute periods: a blip does not page, five minutes of it does. */
const SUSTAINED = 5;
/** Requests in five minutes below which a quiet streaming server is no news (a night on a small instance). */
const STREAMING_QUIET_REQUESTS = 100;

const duration = (seconds: number) => (seconds % 60 === 0 ? `${seconds / 60} min` : `${seconds} s`);

export function queueMonitoring<Id = string>(
  input: QueueMonitoringInput<Id>,
): { metrics: MetricAlarmSpec<Id | string>[]; math: MathAlarmSpec<Id | string>[]; panels: PanelMetric[] } {
  const base = { namespace: METRICS_NAMESPACE, periodSeconds: METRICS_PERIOD_SECONDS };
  const stack = { Stack: input.stack };
  const metrics: MetricAlarmSpec<Id | string>[] = input.queues.map((queue) => ({
    ...base,
    id: `queue-${queue}-latency`,
    tier: "sidekiq",
    description: `Sidekiq's ${queue} queue: its oldest job has waited over ${duration(input.alarms.queueLatency[queue])} for 5 minutes (add threads or hosts to the fleet serving it, or look for stuck jobs)`,
    metricName: METRICS.queueLatency.name,
    dimensions: { ...stack, Queue: queue },
    statistic: "Maximum",
    comparison: "GreaterThanThreshold",
    threshold: input.alarms.queueLatency[queue],
    evaluationPeriods: SUSTAINED,
  }));
  metrics.push({
    ...base,
    id: "queue-metrics-silent",
    tier: "sidekiq",
    description:
      "The scheduler's host published no Sidekiq figures for 10 minutes: the queue alarms and latency scaling are blind (journalctl -u mastodon-metrics on that host)",
    metricName: METRICS.retrySetSize.name,
    dimensions: stack,
    statistic: "SampleCount",
    comparison: "LessThanThreshold",
    threshold: 1,
    evaluationPeriods: 10,
    missingData: "breaching",
  });
  for (const fleet of input.pooledFleets) {
    const dimensions = { ...stack, Fleet: fleet.name };
    metrics.push(
      {
        ...base,
        id: `${fleet.name}-pgbouncer-wait`,
        tier: "pgbouncer",
        description: `Fleet ${fleet.name}: a PgBouncer client waited over ${duration(input.alarms.pgbouncerMaxWait)} for a server connection, for 5 minutes (raise pgbouncerPoolSize within the budget, or look for long transactions)`,
        metricName: METRICS.pgbouncerMaxWait.name,
        dimensions,
        statistic: "Maximum",
        comparison: "GreaterThanThreshold",
        threshold: input.alarms.pgbouncerMaxWait,
        evaluationPeriods: SUSTAINED,
      },
      {
        ...base,
        id: `${fleet.name}-pgbouncer-waiting`,
        tier: "pgbouncer",
        description: `Fleet ${fleet.name}: as many PgBouncer clients wait as a host's pool has server connections (${fleet.poolSize}), for 5 minutes: the pool is too small for the threads in front of it`,
        metricName: METRICS.pgbouncerClientsWaiting.name,
        dimensions,
        statistic: "Maximum",
        comparison: "GreaterThanOrEqualToThreshold",
        threshold: fleet.poolSize,
        evaluationPeriods: SUSTAINED,
      },
    );
  }
  if (input.onHostRedis) {
    for (const role of ["cache", "persistent"] as const)
      metrics.push({
        ...base,
        id: `redis-${role}-on-host-memory`,
        tier: "redis",
        description:
          role === "persistent"
            ? `The persistent Redis on the app host is above ${MEMORY_ALARM_PERCENT}% of its maxmemory for 5 minutes: at 100% it refuses writes (noeviction), and Sidekiq's jobs with them. Raise redis.onHost.persistentMaxmemoryMiB within the memory fit, or move to ElastiCache`
            : `The cache Redis on the app host is above ${MEMORY_ALARM_PERCENT}% of its maxmemory for 5 minutes: it evicts (allkeys-lru), which is its job, but often`,
        metricName: METRICS.redisMemoryPercent.name,
        dimensions: { ...stack, Role: role },
        statistic: "Maximum",
        comparison: "GreaterThanThreshold",
        threshold: MEMORY_ALARM_PERCENT,
        evaluationPeriods: SUSTAINED,
      });
  }
  const math: MathAlarmSpec<Id | string>[] = [
    {
      id: "dead-jobs",
      tier: "sidekiq",
      description: `More than ${input.alarms.deadJobsPerHour} Sidekiq jobs died within the hour (exhausted their retries): look at the dead set in Sidekiq's web UI`,
      metrics: (["Maximum", "Minimum"] as const).map((statistic) => ({
        id: statistic === "Maximum" ? "most" : "least",
        namespace: METRICS_NAMESPACE,
        metricName: METRICS.deadSetSize.name,
        dimensions: stack,
        statistic,
        periodSeconds: 3600,
      })),
      expression: "most - least",
      label: "dead jobs added in the hour",
      comparison: "GreaterThanThreshold",
      threshold: input.alarms.deadJobsPerHour,
      evaluationPeriods: 1,
    },
  ];
  for (const fleet of input.streamingFleets) {
    math.push({
      id: `${fleet}-streaming-empty`,
      tier: "streaming",
      description: `Fleet ${fleet}: the streaming servers hold no client while the web served over ${STREAMING_QUIET_REQUESTS} requests in 5 minutes: nobody's timeline updates live (WebSocket routing, or the streaming units)`,
      metrics: [
        {
          id: "clients",
          namespace: METRICS_NAMESPACE,
          metricName: METRICS.streamingConnections.name,
          dimensions: { ...stack, Fleet: fleet },
          statistic: "Maximum",
          periodSeconds: 300,
        },
        {
          id: "requests",
          namespace: "AWS/ApplicationELB",
          metricName: "RequestCount",
          dimensions: { LoadBalancer: input.loadBalancer },
          statistic: "Sum",
          periodSeconds: 300,
        },
      ],
      expression: `IF(clients < 1 AND requests > ${STREAMING_QUIET_REQUESTS}, 1, 0)`,
      label: "streaming empty while the web serves",
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      evaluationPeriods: 2,
    });
  }
  const panel = (
    tier: PanelMetric["tier"],
    metricName: string,
    dimensions: Record<string, string>,
    statistic: PanelMetric["statistic"],
  ): PanelMetric => ({ ...base, tier, metricName, dimensions, statistic });
  const panels: PanelMetric[] = [
    ...input.queues.map((queue) =>
      panel("sidekiq", METRICS.queueSize.name, { ...stack, Queue: queue }, "Maximum"),
    ),
    ...[METRICS.retrySetSize, METRICS.deadSetSize, METRICS.scheduledSetSize].map((m) =>
      panel("sidekiq", m.name, stack, "Maximum"),
    ),
    ...input.pooledFleets.map((f) =>
      panel("pgbouncer", METRICS.pgbouncerClientsWaiting.name, { ...stack, Fleet: f.name }, "Sum"),
    ),
    ...input.streamingFleets.map((f) =>
      panel("streaming", METRICS.streamingConnections.name, { ...stack, Fleet: f }, "Sum"),
    ),
  ];
  return { metrics, math, panels };
}
