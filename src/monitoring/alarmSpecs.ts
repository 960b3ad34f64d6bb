/**
 * What an alarm and a dashboard panel are, as data (pure), and the thresholds several parts share:
 * the vocabulary of the stack's alarms (alarms.ts), the queues' (queueAlarms.ts) and search's
 * (src/search/alarms.ts), kept below all three so none imports another to name them.
 */

/**
 * The databases' ids, which name their alarms (db-primary-cpu, ...) beside the fleets' (<fleet>-cpu):
 * a fleet may not take one (src/fleet/schema.ts refuses it as a fleet name).
 */
export const DATABASE_ALARM_IDS = { primary: "db-primary", replica: "db-replica" } as const;

export const MEMORY_ALARM_PERCENT = 80;
export const CPU_ALARM_PERCENT = 85;
export const ALB_5XX_ALARM_PERCENT = 5;

/** `Id` is how identifiers AWS assigns are carried: strings in tests, Pulumi outputs in components. */
export interface MetricAlarmSpec<Id = string> {
  /** Unique within the stack; the alarm's resource name suffix. */
  readonly id: string;
  readonly tier: "database" | "redis" | "edge" | "fleets" | "search" | "sidekiq" | "pgbouncer" | "streaming";
  readonly description: string;
  readonly namespace: string;
  readonly metricName: string;
  readonly dimensions: Readonly<Record<string, Id>>;
  readonly statistic: "Average" | "Sum" | "Maximum" | "Minimum" | "SampleCount";
  readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold" | "LessThanThreshold";
  readonly threshold: number;
  readonly periodSeconds: number;
  readonly evaluationPeriods: number;
  /** What a period without data counts as. @default "notBreaching" */
  readonly missingData?: "breaching" | "notBreaching";
}

/** ALB 5xx as a share of requests: CloudWatch metric math. */
export interface ErrorRateAlarmSpec<Id = string> {
  readonly id: string;
  readonly tier: "edge";
  readonly description: string;
  readonly loadBalancer: Id;
  readonly thresholdPercent: number;
}

/** A graph-only metric on the dashboard (an alarm's metric is drawn too). */
export type PanelMetric = Pick<
  MetricAlarmSpec,
  "tier" | "namespace" | "metricName" | "dimensions" | "statistic" | "periodSeconds"
>;
