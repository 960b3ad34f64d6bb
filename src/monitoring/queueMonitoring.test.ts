/**
 * Production's plan, as the "done when" reads it: latency-based scaling policies on its
 * Sidekiq fleets (never the scheduler), latency alarms per queue at the configured thresholds, the
 * PgBouncer and streaming alarms, the dashboard's queue, PgBouncer and streaming panels, and each
 * fleet allowed to publish in the Mastodon namespace only. What the policies and alarms read is
 * what the collector publishes: the same namespace, metric names and dimensions.
 */
import { parseStackConfig } from "../config";
import { QUEUE_LATENCY_ALARM_SECONDS } from "../vocabulary/defaults";
import { METRICS, METRICS_NAMESPACE, METRICS_PATHS, hostMetricsConfig } from "./metrics";
import { pgbouncerRow } from "../budget/budget";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import { type MockRun } from "../testing/mocks";
import { all, find, runStack, stackConfig, stateOf } from "../../test/helpers";

const POLICY = "aws:autoscaling/policy:Policy";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const STACK = "/mastodon/mastodon-aws/production/mastodon";
const production = parseStackConfig(stackConfig("production")).config;

let run: MockRun;
beforeAll(async () => {
  run = await runStack("production");
});

const alarm = (id: string) => find(run, ALARM, `mastodon-monitoring-${id}`).inputs;

test("each Sidekiq fleet with a target scales on its own FleetQueueLatency; the scheduler's never does", () => {
  const policies = all(run, POLICY).map((p) => p.inputs);
  const scaled = production.fleets.filter((f) => f.queueLatencyTarget !== undefined);
  expect(scaled.map((f) => f.name)).toEqual([
    "sidekiq-default",
    "sidekiq-ingress",
    "sidekiq-push",
    "sidekiq-pull",
    "sidekiq-mailers",
  ]);
  expect(policies).toHaveLength(scaled.length);
  for (const fleet of scaled) {
    const group = find(run, "aws:autoscaling/group:Group", `mastodon-${fleet.name}-group`);
    const groupName = stateOf(run, "aws:autoscaling/group:Group", group.name)["name"];
    const policy = policies.find((p) => p["autoscalingGroupName"] === groupName)!;
    expect([fleet.name, policy["policyType"], policy["estimatedInstanceWarmup"]]).toEqual([
      fleet.name,
      "TargetTrackingScaling",
      120,
    ]);
    expect(policy["targetTrackingConfiguration"]).toEqual({
      customizedMetricSpecification: {
        namespace: METRICS_NAMESPACE,
        metricName: METRICS.fleetQueueLatency.name,
        metricDimensions: [
          { name: "Stack", value: STACK },
          { name: "Fleet", value: fleet.name },
        ],
        statistic: "Maximum",
        unit: "Seconds",
      },
      targetValue: fleet.queueLatencyTarget,
    });
    // Target tracking owns the desired size: a deploy must not reset it.
    expect(group.inputs["desiredCapacity"]).toBe(fleet.desiredSize);
  }
});

test("what the policies read is what the scheduler's host publishes: its collector's stack and fleets", () => {
  const scheduler = production.fleets.find((f) => f.servesScheduler)!;
  const config = hostMetricsConfig(
    scheduler,
    { stack: STACK, region: "us-east-1", fleets: production.fleets },
    {
      pooled: true,
    },
  );
  expect(config.stack).toBe(STACK);
  for (const fleet of production.fleets.filter((f) => f.queueLatencyTarget !== undefined))
    expect(config.fleetQueues[fleet.name]).toEqual(fleet.sidekiq?.queues);
});

test("a latency alarm per queue at its threshold (seconds, 5 minutes running), notifying the topic", () => {
  for (const [queue, seconds] of Object.entries(QUEUE_LATENCY_ALARM_SECONDS)) {
    const a = alarm(`queue-${queue}-latency`);
    expect([queue, a["namespace"], a["metricName"], a["dimensions"], a["threshold"]]).toEqual([
      queue,
      METRICS_NAMESPACE,
      METRICS.queueLatency.name,
      { Stack: STACK, Queue: queue },
      seconds,
    ]);
    expect([a["period"], a["evaluationPeriods"], a["statistic"]]).toEqual([60, 5, "Maximum"]);
    expect((a["alarmActions"] as unknown[]).length).toBe(1);
  }
});

test("a silent collector pages: no data counts as breaching, on a figure published every run", () => {
  const a = alarm("queue-metrics-silent");
  expect([a["metricName"], a["statistic"], a["treatMissingData"], a["evaluationPeriods"]]).toEqual([
    METRICS.retrySetSize.name,
    "SampleCount",
    "breaching",
    10,
  ]);
});

test("PgBouncer alarms per pooled fleet: the wait over alarms.pgbouncerMaxWait, waiting clients at the host's pool size", () => {
  for (const fleet of production.fleets) {
    expect(alarm(`${fleet.name}-pgbouncer-wait`)["threshold"]).toBe(2);
    expect([fleet.name, alarm(`${fleet.name}-pgbouncer-waiting`)["threshold"]]).toEqual([
      fleet.name,
      pgbouncerRow(fleet).poolSize,
    ]);
  }
});

test("dead jobs in the hour and an empty streaming fleet are metric-math alarms on the published figures", () => {
  const dead = alarm("dead-jobs");
  expect(dead["threshold"]).toBe(10);
  expect(
    (dead["metricQueries"] as any[]).map((q) => q.expression ?? `${q.metric.metricName}/${q.metric.stat}`),
  ).toEqual(["DeadSetSize/Maximum", "DeadSetSize/Minimum", "most - least"]);
  const empty = alarm("streaming-streaming-empty");
  const queries = empty["metricQueries"] as any[];
  expect(queries[0].metric).toMatchObject({
    namespace: METRICS_NAMESPACE,
    metricName: METRICS.streamingConnections.name,
    dimensions: { Stack: STACK, Fleet: "streaming" },
  });
  expect(queries[1].metric.metricName).toBe("RequestCount");
  expect(queries[2].expression).toBe("IF(clients < 1 AND requests > 100, 1, 0)");
});

test("the dashboard has the queue, PgBouncer and streaming panels beside the tiers' own", () => {
  const body = JSON.parse(String(find(run, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]));
  const titles: string[] = body.widgets.map((w: any) => w.properties.title);
  for (const title of [
    "sidekiq: QueueLatency",
    "sidekiq: QueueSize",
    "sidekiq: DeadSetSize",
    // The retry set twice: its size, and its samples for the silent-collector alarm.
    "sidekiq: RetrySetSize (Maximum)",
    "sidekiq: RetrySetSize (SampleCount)",
    "pgbouncer: PgBouncerMaxWait",
    // Waiting clients: the worst host (the alarm's) and the fleet's total.
    "pgbouncer: PgBouncerClientsWaiting (Maximum)",
    "pgbouncer: PgBouncerClientsWaiting (Sum)",
    "streaming: StreamingConnections",
    "database: DatabaseConnections",
  ])
    expect(titles).toContain(title);
  const sizes = body.widgets.find((w: any) => w.properties.title === "sidekiq: QueueSize").properties.metrics;
  expect(sizes).toHaveLength(7);
  expect(sizes[0]).toEqual([METRICS_NAMESPACE, "QueueSize", "Stack", STACK, "Queue", "default"]);
});

test("every fleet's role may PutMetricData in the Mastodon namespace, and nothing else of CloudWatch", () => {
  const policies = all(run, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.endsWith("-metrics"));
  expect(policies).toHaveLength(production.fleets.length);
  for (const p of policies)
    expect(JSON.parse(String(p.inputs["policy"])).Statement).toEqual([
      {
        Sid: "PublishMastodonMetrics",
        Effect: "Allow",
        Action: "cloudwatch:PutMetricData",
        Resource: "*",
        Condition: { StringEquals: { "cloudwatch:namespace": METRICS_NAMESPACE } },
      },
    ]);
});

describe("small: both Redis on the app host", () => {
  const small = parseStackConfig(stackConfig("small")).config;
  let smallRun: MockRun;
  beforeAll(async () => {
    smallRun = await runStack("small");
  });

  test("the host's collector reads each Redis's memory with the URL its env gives, and nothing else of the env", () => {
    const host = fleetArtifacts(smallRun.resources)[0]!;
    const config = JSON.parse(host.files[METRICS_PATHS.config]!);
    expect(config.redis).toEqual([
      { role: "cache", env: "CACHE_REDIS_URL" },
      { role: "persistent", env: "SIDEKIQ_REDIS_URL" },
    ]);
    const template = host.files[METRICS_PATHS.envTemplate]!;
    expect(
      template
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => l.split("=")[0]),
    ).toEqual(["SIDEKIQ_REDIS_URL", "CACHE_REDIS_URL"]);
    expect(template).toMatch(/^CACHE_REDIS_URL=redis:\/\/:\{\{ssm:[^}]+\}\}@127\.0\.0\.1:6380\/0$/m);
  });

  test("an alarm per on-host Redis above 80% of its maxmemory, where ElastiCache's would be", () => {
    expect(small.redis.onHost).toBeDefined();
    for (const role of ["cache", "persistent"]) {
      const a = find(smallRun, ALARM, `mastodon-monitoring-redis-${role}-on-host-memory`).inputs;
      expect([a["metricName"], a["dimensions"], a["threshold"]]).toEqual([
        METRICS.redisMemoryPercent.name,
        { Stack: "/mastodon/mastodon-aws/small/mastodon", Role: role },
        80,
      ]);
    }
    expect(all(smallRun, ALARM).filter((a) => a.inputs["namespace"] === "AWS/ElastiCache")).toEqual([]);
  });
});
