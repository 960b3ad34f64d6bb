/**
 * The alarms and the dashboard, as data (pure). Thresholds come from the sizing core where one
 * exists (connections: what the budget plans at maximum fleet sizes), never computed twice.
 * What the seeds say breaks first: Postgres connections (pawoo: "we're using AWS CloudWatch to
 * monitor the number of connections to RDS"), a persistent Redis that evicts (compendium: an
 * evicted job is lost), and the fleets' CPU (pawoo: c-family after t-family credits ran out).
 */

import type { Budget } from "../budget/budget";
import {
  ALB_5XX_ALARM_PERCENT,
  CPU_ALARM_PERCENT,
  type ErrorRateAlarmSpec,
  MEMORY_ALARM_PERCENT,
  type MetricAlarmSpec,
  type PanelMetric,
} from "./alarmSpecs";
import { type SearchTarget, searchAlarmSpecs } from "../search/alarms";
import { type WafTarget, wafAlarmSpecs } from "../waf/alarms";

export interface MonitoringInput<Id = string> {
  readonly databases: readonly {
    readonly id: string;
    readonly identifier: Id;
    /** The budget this database was sized with (src/budget/budget.ts): its alarm fires above its total. */
    readonly budget: Pick<Budget, "alarmThreshold" | "roleConnectionLimit" | "maxConnections">;
    readonly storageGiB: number;
    readonly replica: boolean;
  }[];
  /** Member cache clusters (ElastiCache publishes per cluster: <group>-001, -002, ...). */
  readonly redis: readonly {
    readonly role: "cache" | "persistent";
    readonly cacheClusterIds: readonly Id[];
  }[];
  /** A self-managed Redis host, watched as an instance. */
  readonly redisHost?: Id;
  /** The ALB's ARN suffix (app/name/id) and its target groups' (targetgroup/name/id). */
  readonly loadBalancer: Id;
  readonly targetGroups: readonly { readonly id: string; readonly arnSuffix: Id }[];
  readonly fleets: readonly { readonly name: string; readonly groupName: Id }[];
  /** The search domain, when there is one (src/search/alarms.ts). */
  readonly search?: SearchTarget<Id>;
  /** The ALB's web ACL, when there is one (src/waf/alarms.ts). */
  readonly waf?: WafTarget<Id>;
}

export function alarmSpecs<Id = string>(
  input: MonitoringInput<Id>,
): { metrics: MetricAlarmSpec<Id>[]; errorRate: ErrorRateAlarmSpec<Id> } {
  // A fleet's alarms are named <fleet>-cpu beside a database's <id>-cpu: one name for two alarms.
  const databaseIds = new Set(input.databases.map((db) => db.id));
  const clash = input.fleets.find((fleet) => databaseIds.has(fleet.name));
  if (clash)
    throw new Error(
      `fleet ${clash.name}: a database's alarms are named ${clash.name}-*; name the fleet otherwise`,
    );
  const metrics: MetricAlarmSpec<Id>[] = [];
  for (const db of input.databases) {
    const dims = { DBInstanceIdentifier: db.identifier };
    // Above what the budget plans with every fleet at maxSize (plus the admin headroom): more means
    // something holds connections the budget did not count (a leak, a console, a config drift).
    // Below the app role's limit, so it pages before the role refuses (src/budget/budget.ts).
    const threshold = db.budget.alarmThreshold;
    metrics.push(
      {
        id: `${db.id}-connections`,
        tier: "database",
        description: `PostgreSQL connections above ${threshold}, what the connection budget plans at maximum fleet sizes (the app role's limit ${db.budget.roleConnectionLimit}, max_connections ${db.budget.maxConnections}): connections leak or something outside the budget holds them`,
        namespace: "AWS/RDS",
        metricName: "DatabaseConnections",
        dimensions: dims,
        statistic: "Maximum",
        comparison: "GreaterThanThreshold",
        threshold,
        periodSeconds: 60,
        evaluationPeriods: 5,
      },
      {
        id: `${db.id}-cpu`,
        tier: "database",
        description: "PostgreSQL CPU above 80% for 15 minutes",
        namespace: "AWS/RDS",
        metricName: "CPUUtilization",
        dimensions: dims,
        statistic: "Average",
        comparison: "GreaterThanThreshold",
        threshold: 80,
        periodSeconds: 300,
        evaluationPeriods: 3,
      },
      {
        id: `${db.id}-storage`,
        tier: "database",
        // Storage autoscaling grows the volume; this catches it hitting its ceiling.
        description: "PostgreSQL free storage under 10% of the allocated size",
        namespace: "AWS/RDS",
        metricName: "FreeStorageSpace",
        dimensions: dims,
        statistic: "Minimum",
        comparison: "LessThanThreshold",
        threshold: Math.round(db.storageGiB * 0.1 * 1024 ** 3),
        periodSeconds: 300,
        evaluationPeriods: 2,
      },
    );
    if (db.replica) {
      metrics.push({
        id: `${db.id}-lag`,
        tier: "database",
        description: "Read replica more than 60 s behind the primary",
        namespace: "AWS/RDS",
        metricName: "ReplicaLag",
        dimensions: dims,
        statistic: "Maximum",
        comparison: "GreaterThanThreshold",
        threshold: 60,
        periodSeconds: 60,
        evaluationPeriods: 5,
      });
    }
  }
  for (const redis of input.redis) {
    redis.cacheClusterIds.forEach((cluster, n) => {
      const dims = { CacheClusterId: cluster };
      const node = String(n + 1).padStart(3, "0");
      metrics.push({
        id: `redis-${redis.role}-${node}-memory`,
        tier: "redis",
        description: `${redis.role} Redis memory above ${MEMORY_ALARM_PERCENT}%`,
        namespace: "AWS/ElastiCache",
        metricName: "DatabaseMemoryUsagePercentage",
        dimensions: dims,
        statistic: "Maximum",
        comparison: "GreaterThanThreshold",
        threshold: MEMORY_ALARM_PERCENT,
        periodSeconds: 300,
        evaluationPeriods: 2,
      });
      if (redis.role === "persistent") {
        metrics.push({
          id: `redis-persistent-${node}-evictions`,
          tier: "redis",
          description:
            "The persistent Redis evicted a key: a Sidekiq job or a feed was lost (it must never evict)",
          namespace: "AWS/ElastiCache",
          metricName: "Evictions",
          dimensions: dims,
          statistic: "Sum",
          comparison: "GreaterThanOrEqualToThreshold",
          threshold: 1,
          periodSeconds: 60,
          evaluationPeriods: 1,
        });
      }
    });
  }
  if (input.redisHost) {
    metrics.push({
      id: "redis-host-status",
      tier: "redis",
      description: "The self-managed Redis host fails its status checks",
      namespace: "AWS/EC2",
      metricName: "StatusCheckFailed",
      dimensions: { InstanceId: input.redisHost },
      statistic: "Maximum",
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      periodSeconds: 60,
      evaluationPeriods: 3,
    });
  }
  for (const tg of input.targetGroups) {
    metrics.push({
      id: `${tg.id}-unhealthy`,
      tier: "edge",
      description: `Unhealthy hosts behind target group ${tg.id}`,
      namespace: "AWS/ApplicationELB",
      metricName: "UnHealthyHostCount",
      dimensions: { TargetGroup: tg.arnSuffix, LoadBalancer: input.loadBalancer },
      statistic: "Maximum",
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      periodSeconds: 60,
      evaluationPeriods: 3,
    });
  }
  for (const fleet of input.fleets) {
    metrics.push({
      id: `${fleet.name}-cpu`,
      tier: "fleets",
      description: `Fleet ${fleet.name}: CPU above ${CPU_ALARM_PERCENT}% for 15 minutes (add hosts or processes)`,
      namespace: "AWS/EC2",
      metricName: "CPUUtilization",
      dimensions: { AutoScalingGroupName: fleet.groupName },
      statistic: "Average",
      comparison: "GreaterThanThreshold",
      threshold: CPU_ALARM_PERCENT,
      periodSeconds: 300,
      evaluationPeriods: 3,
    });
  }
  if (input.search) metrics.push(...searchAlarmSpecs(input.search));
  if (input.waf) metrics.push(...wafAlarmSpecs(input.waf));
  return {
    metrics,
    errorRate: {
      id: "alb-5xx-rate",
      tier: "edge",
      description: `More than ${ALB_5XX_ALARM_PERCENT}% of requests answered 5xx (ALB or targets) for 5 minutes`,
      loadBalancer: input.loadBalancer,
      thresholdPercent: ALB_5XX_ALARM_PERCENT,
    },
  };
}

/**
 * A CloudWatch dashboard: one row of graphs per tier, every alarm's metric on it, and the
 * graph-only panels (queue sizes, the Sidekiq sets, PgBouncer's waiting clients, streaming's).
 */
export function dashboardBody(region: string, specs: readonly PanelMetric[]): string {
  const tiers = [
    "database",
    "redis",
    "edge",
    "fleets",
    "sidekiq",
    "pgbouncer",
    "streaming",
    "search",
  ] as const;
  // No x/y: CloudWatch flows the widgets in order, tier after tier.
  const widgets = tiers.flatMap((tier) => {
    const inTier = specs.filter((s) => s.tier === tier);
    // One graph per metric and statistic: a metric watched two ways (the retry set's size, and how
    // many samples arrive, for the silent-collector alarm) gets two graphs, each drawn as it is read.
    const byMetric = new Map<string, PanelMetric[]>();
    for (const s of inTier) {
      const key = `${s.metricName}\u0000${s.statistic}`;
      byMetric.set(key, [...(byMetric.get(key) ?? []), s]);
    }
    const statistics = (metricName: string) =>
      new Set(inTier.filter((s) => s.metricName === metricName).map((s) => s.statistic));
    return [...byMetric.values()].map((list) => ({
      type: "metric",
      width: 6,
      height: 6,
      properties: {
        title: `${tier}: ${list[0]!.metricName}${statistics(list[0]!.metricName).size > 1 ? ` (${list[0]!.statistic})` : ""}`,
        region,
        stat: list[0]?.statistic,
        period: list[0]?.periodSeconds,
        metrics: list.map((s) => [s.namespace, s.metricName, ...Object.entries(s.dimensions).flat()]),
      },
    }));
  });
  return JSON.stringify({ widgets });
}
