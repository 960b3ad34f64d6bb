/**
 * The production stack's alarms under Pulumi's mocks: the topic and its subscription, RDS, both
 * Redis, the ALB and its target groups, the fleets' CPU, the dashboard; and the connection alarm
 * following the budget when the config changes it.
 */
import { parseStackConfig } from "../config";
import type { MockRun } from "../testing/mocks";
import { all, arnOf, find, nameOf, runStack, stackConfig, stateOf } from "../../test/helpers";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const TOPIC = "aws:sns/topic:Topic";
const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const REDIS = "aws:elasticache/replicationGroup:ReplicationGroup";

/** The ARN suffix CloudWatch names an ELB resource by: `app/<name>/<id>` or `targetgroup/<name>/<id>`. */
const arnSuffix = (arn: string) =>
  arn.replace(/^arn:aws:elasticloadbalancing:[^:]+:\d{12}:(loadbalancer\/)?/, "");

describe("alarms (production)", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack("production");
  });
  const alarm = (id: string) => find(run, ALARM, `mastodon-monitoring-${id}`).inputs as any;
  const topicArn = () => arnOf(run, TOPIC, "mastodon-monitoring-alarms");

  test("an encrypted topic with the configured e-mail subscription", () => {
    // The stack's own key (CloudWatch may not publish to a topic under the AWS-managed aws/sns key).
    expect(find(run, TOPIC).inputs["kmsMasterKeyId"]).toBe(
      arnOf(run, "aws:kms/key:Key", "mastodon-monitoring-alarms"),
    );
    expect(find(run, "aws:sns/topicSubscription:TopicSubscription").inputs).toMatchObject({
      protocol: "email",
      endpoint: "ops@mastodon.example",
      topic: topicArn(),
    });
  });

  test("RDS connections above the connection budget's total", () => {
    const { budget } = parseStackConfig(stackConfig("production"));
    expect(alarm("db-primary-connections")).toMatchObject({
      namespace: "AWS/RDS",
      metricName: "DatabaseConnections",
      dimensions: {
        DBInstanceIdentifier: nameOf(run, "aws:rds/instance:Instance", "mastodon-db-primary", "identifier"),
      },
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: budget.total,
      alarmActions: [topicArn()],
      okActions: [topicArn()],
    });
    expect(alarm("db-primary-cpu")).toMatchObject({ metricName: "CPUUtilization", threshold: 80 });
    expect(alarm("db-primary-storage")).toMatchObject({
      metricName: "FreeStorageSpace",
      comparisonOperator: "LessThanThreshold",
      threshold: 50 * 1024 ** 3,
    });
  });

  test("any eviction on the persistent Redis, on every node; memory above 80% on both", () => {
    // ElastiCache publishes per member cluster: the ids it gave each group's nodes.
    const persistent: string[] = stateOf(run, REDIS, "mastodon-persistent-group")["memberClusters"];
    const cache: string[] = stateOf(run, REDIS, "mastodon-cache-group")["memberClusters"];
    expect(persistent).toHaveLength(2);
    for (const [i, node] of ["001", "002"].entries()) {
      expect(alarm(`redis-persistent-${node}-evictions`)).toMatchObject({
        namespace: "AWS/ElastiCache",
        metricName: "Evictions",
        dimensions: { CacheClusterId: persistent[i] },
        statistic: "Sum",
        comparisonOperator: "GreaterThanOrEqualToThreshold",
        threshold: 1,
      });
      expect(alarm(`redis-persistent-${node}-memory`)).toMatchObject({
        metricName: "DatabaseMemoryUsagePercentage",
        threshold: 80,
      });
    }
    expect(alarm("redis-cache-001-memory")).toMatchObject({
      dimensions: { CacheClusterId: cache[0] },
    });
    expect(
      all(run, ALARM).filter((a) => a.name.includes("redis-cache") && a.name.endsWith("evictions")),
    ).toEqual([]);
  });

  test("ALB 5xx rate and unhealthy hosts per target group", () => {
    const rate = alarm("alb-5xx-rate");
    const loadBalancer = arnSuffix(arnOf(run, "aws:lb/loadBalancer:LoadBalancer", "mastodon-lb-alb"));
    expect(loadBalancer).toMatch(/^app\/[^/]+\/[0-9a-f]{16}$/);
    expect(rate.threshold).toBe(5);
    expect(rate.metricQueries.map((q: any) => q.id)).toEqual(["elb5xx", "target5xx", "requests", "rate"]);
    expect(rate.metricQueries[0].metric.dimensions).toEqual({ LoadBalancer: loadBalancer });
    expect(rate.metricQueries[3].expression).toBe("100 * (elb5xx + target5xx) / MAX([requests, 1])");
    for (const [id, tg] of [
      ["tg-web", "mastodon-lb-web"],
      ["tg-streaming-1", "mastodon-lb-stream-4000"],
      ["tg-streaming-2", "mastodon-lb-stream-4001"],
    ] as const) {
      const targetGroup = arnSuffix(arnOf(run, TARGET_GROUP, tg));
      expect(targetGroup).toMatch(/^targetgroup\/[^/]+\/[0-9a-f]{16}$/);
      expect(alarm(`${id}-unhealthy`)).toMatchObject({
        metricName: "UnHealthyHostCount",
        dimensions: { TargetGroup: targetGroup, LoadBalancer: loadBalancer },
        threshold: 1,
      });
    }
  });

  test("CPU per fleet, on its Auto Scaling group", () => {
    const { config } = parseStackConfig(stackConfig("production"));
    for (const fleet of config.fleets) {
      expect(alarm(`${fleet.name}-cpu`)).toMatchObject({
        namespace: "AWS/EC2",
        dimensions: {
          AutoScalingGroupName: nameOf(run, "aws:autoscaling/group:Group", `mastodon-${fleet.name}-group`),
        },
        threshold: 85,
      });
    }
  });

  test("a dashboard graphs every alarm's metric, per tier", () => {
    const body = JSON.parse(String(find(run, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]));
    const titles = body.widgets.map((w: any) => w.properties.title);
    expect(titles).toEqual(
      expect.arrayContaining([
        "database: DatabaseConnections",
        "redis: Evictions",
        "redis: DatabaseMemoryUsagePercentage",
        "edge: UnHealthyHostCount",
        "fleets: CPUUtilization",
      ]),
    );
    const fleetsCpu = body.widgets.find((w: any) => w.properties.title === "fleets: CPUUtilization");
    expect(fleetsCpu.properties.metrics).toHaveLength(9);
  });
});

test("the connection alarm follows the budget when the config changes it", async () => {
  const fleets = structuredClone(stackConfig("production")["fleets"]) as Record<string, any>;
  // One host fewer: production's budget has 4 connections spare, fewer than one more host's 12.
  fleets["sidekiq-default"].maxSize -= 1;
  const { budget } = parseStackConfig({ ...stackConfig("production"), fleets });
  expect(budget.total).not.toBe(parseStackConfig(stackConfig("production")).budget.total);
  const run = await runStack("production", { fleets });
  expect((find(run, ALARM, "mastodon-monitoring-db-primary-connections").inputs as any).threshold).toBe(
    budget.total,
  );
});
