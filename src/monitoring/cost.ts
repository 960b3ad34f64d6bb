/**
 * The monitoring's monthly cost rows (pure): the CloudWatch custom metrics the hosts publish, the
 * alarm metrics on them, and the alarm topic's KMS key, from data/other-prices-us-east-1.tsv
 * (src/report/prices.ts). src/report/cost.ts adds them up.
 */
import { queueMonitoring } from "./queueAlarms";
import { publishedSeries, stackQueues } from "./metrics";
import type { StackConfig } from "../config/stackConfig";
import { type CostRowInput, OTHER_SOURCE, otherPrice } from "../report/prices";

/** The distinct metric series the hosts publish (src/monitoring/metrics.ts): CloudWatch bills each. */
export function publishedMetricCount(config: StackConfig): number {
  return publishedSeries(config.fleets, {
    pooled: config.database.pooler === "pgbouncer",
    localRedis: config.redis.onHost !== undefined,
  }).length;
}

export function monitoringCostRows(config: StackConfig): CostRowInput[] {
  const rows: CostRowInput[] = [];
  // What the hosts publish each minute (src/monitoring/metrics.ts) and the alarms on it (src/monitoring/queueAlarms.ts).
  const published = publishedMetricCount(config);
  const watched = queueMonitoring({
    stack: "",
    queues: stackQueues(config.fleets),
    alarms: config.alarms,
    pooledFleets:
      config.database.pooler === "pgbouncer" ? config.fleets.map((f) => ({ name: f.name, poolSize: 0 })) : [],
    streamingFleets: config.fleets.filter((f) => f.streaming).map((f) => f.name),
    onHostRedis: config.redis.onHost !== undefined,
    loadBalancer: "",
  });
  rows.push({
    component: "operations",
    resource: `CloudWatch custom metrics (${published} published by the hosts)`,
    quantityDesired: published,
    quantityMax: published,
    unitPrice: otherPrice("cloudwatch-metric").usd,
    unit: "month",
    source: OTHER_SOURCE,
    estimated: false,
  });
  const alarmMetrics = watched.metrics.length + watched.math.reduce((n, a) => n + a.metrics.length, 0);
  rows.push({
    component: "operations",
    resource: `CloudWatch alarms on them (${alarmMetrics} alarm metrics)`,
    quantityDesired: alarmMetrics,
    quantityMax: alarmMetrics,
    unitPrice: otherPrice("cloudwatch-alarm-metric").usd,
    unit: "month",
    source: OTHER_SOURCE,
    estimated: false,
    note: "the tiers' own alarms (RDS, ElastiCache, ALB, CPU) are not counted here",
  });

  // The alarm topic's customer-managed key (src/monitoring/monitoring.ts): CloudWatch cannot publish to
  // a topic under the AWS-managed alias/aws/sns key.
  rows.push({
    component: "operations",
    resource: "KMS key (alarm topic)",
    quantityDesired: 1,
    quantityMax: 1,
    unitPrice: otherPrice("kms-key").usd,
    unit: "month",
    source: OTHER_SOURCE,
    estimated: false,
    note: "+1 USD/month after each of the first two yearly rotations",
  });
  return rows;
}
