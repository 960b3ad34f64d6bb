/**
 * Operations: the alarms under mocks, the cost model against hand-computed rows, the topology
 * picture through Mermaid's own parser and Graphviz, and the README's figures against the plan's.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../config";
import { HOURS_PER_MONTH, costEstimate } from "../report/cost";
import { renderMermaid } from "../report/topology";
import type { MockRun } from "../testing/mocks";
import { ROOT, STACKS, all, arnOf, find, nameOf, runStack, stackConfig, stateOf } from "../../test/helpers";

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

describe("cost model", () => {
  const production = costEstimate(parseStackConfig(stackConfig("production")).config, "us-east-1");
  const row = (component: string, resource: string) =>
    production.rows.find((r) => r.component === component && r.resource === resource)!;

  test.each([
    // [component, resource, monthly desired, monthly max], each by hand: price x 730 h x count.
    ["fleet web", "c7g.2xlarge", 0.29 * 730 * 4, 0.29 * 730 * 10],
    ["fleet web", "gp3 root 30 GiB", 0.08 * 30 * 4, 0.08 * 30 * 10],
    ["fleet sidekiq-mailers", "c7g.medium", 0.0363 * 730 * 1, 0.0363 * 730 * 2],
    ["database primary", "db.r7g.2xlarge Multi-AZ", 0.956 * 730 * 2, 0.956 * 730 * 2],
    ["database primary", "gp3 500 GiB Multi-AZ", 0.115 * 500 * 2, 0.115 * 2000 * 2],
    ["redis persistent", "valkey cache.r7g.large", 0.219 * 0.8 * 730 * 2, 0.219 * 0.8 * 730 * 2],
    ["edge", "Application Load Balancer", 0.0225 * 730, 0.0225 * 730],
    ["network", "NAT gateway", 0.045 * 730 * 3, 0.045 * 730 * 3],
  ])("%s %s", (component, resource, desired, max) => {
    expect(row(component as string, resource as string).monthlyDesired).toBeCloseTo(desired as number, 2);
    expect(row(component as string, resource as string).monthlyMax).toBeCloseTo(max as number, 2);
  });

  test("EC2 prices are sourced and exact; the rest are flagged as estimates", () => {
    expect(row("fleet web", "c7g.2xlarge")).toMatchObject({ estimated: false, unitPrice: 0.29 });
    expect(row("database primary", "db.r7g.2xlarge Multi-AZ")).toMatchObject({
      estimated: true,
      note: "derived from a listed size of the same family",
    });
    expect(production).toMatchObject({ currency: "USD", priceDate: "2026-11-22", estimated: true });
    const total = production.rows.reduce((s, r) => s + r.monthlyDesired, 0);
    expect(production.monthly.desired).toBeCloseTo(total, 2);
  });

  test("a self-managed Redis is priced as its instance and volume; Spot is noted; another region is flagged", () => {
    const raw = stackConfig("staging") as any;
    raw.redis = {
      ...raw.redis,
      persistent: { mode: "self-managed-aof", instanceType: "c7g.large", volumeGiB: 50 },
    };
    raw.fleets.sidekiq.spot = true;
    const cost = costEstimate(parseStackConfig(raw).config, "eu-west-1");
    const redis = cost.rows.filter((r) => r.component === "redis persistent");
    expect(redis.map((r) => [r.resource, r.monthlyDesired])).toEqual([
      ["c7g.large (self-managed AOF)", Math.round(0.0725 * HOURS_PER_MONTH * 100) / 100],
      ["gp3 data 50 GiB", 4],
    ]);
    expect(
      cost.rows.find((r) => r.component === "fleet sidekiq" && r.resource === "c7g.large")?.note,
    ).toContain("Spot above 1 host(s)");
    expect(cost.rows.every((r) => r.estimated)).toBe(true);
    expect(cost.excluded).toContain("prices are us-east-1's; eu-west-1 is estimated with them");
  });
});

describe("topology", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-topology-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("Mermaid's parser reads every stack's diagram, which names every fleet", () => {
    const files = STACKS.map((stack) => {
      const { config, budget } = parseStackConfig(stackConfig(stack));
      const file = path.join(dir, `${stack}.mmd`);
      fs.writeFileSync(file, renderMermaid(config, budget));
      return { file, config };
    });
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, "test/scripts/parse-mermaid.mjs"), ...files.map((f) => f.file)],
      { encoding: "utf8", cwd: ROOT },
    );
    expect(r.stderr).toBe("");
    const parsed = JSON.parse(r.stdout) as {
      groups: string[];
      services: { id: string; title: string; in: string }[];
      edges: number;
    }[];
    parsed.forEach((diagram, i) => {
      const { config } = files[i]!;
      expect(diagram.groups).toEqual(["edge", "fleets", "data"]);
      for (const fleet of config.fleets) {
        const service = diagram.services.find((s) => s.id === `fleet_${fleet.name.replace(/-/g, "_")}`);
        expect(service?.in).toBe("fleets");
        expect(service?.title.startsWith(`${fleet.name}: ${fleet.instanceType}`)).toBe(true);
      }
      expect(diagram.services.find((s) => s.id === "postgres")?.title).toContain("max_connections");
    });
    // The parser has teeth: a label with brackets is refused.
    fs.writeFileSync(path.join(dir, "bad.mmd"), "architecture-beta\n  service a(server)[queues [default]]\n");
    expect(
      spawnSync(
        process.execPath,
        [path.join(ROOT, "test/scripts/parse-mermaid.mjs"), path.join(dir, "bad.mmd")],
        { cwd: ROOT },
      ).status,
    ).not.toBe(0);
  });

  test("the production connections in the picture are the budget's", () => {
    const { config, budget } = parseStackConfig(stackConfig("production"));
    const text = renderMermaid(config, budget);
    expect(text).toContain(
      "sidekiq-default: c7g.2xlarge x 4-12, sidekiq 4x15 queues default, 720 to PgBouncer, 144 of 500 at max",
    );
    expect(text).toContain("max_connections 500, budget 441 of 445");
  });
});

test("the README's cost table matches what the plan computes for each shipped stack", () => {
  // Prettier pads table cells: compare with runs of spaces folded.
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").replace(/ +/g, " ");
  for (const stack of STACKS) {
    const cost = costEstimate(parseStackConfig(stackConfig(stack)).config, "us-east-1");
    const usd = (x: number) => `$${x.toFixed(2)}`;
    expect(readme).toContain(`| \`${stack}\` | ${usd(cost.monthly.desired)} | ${usd(cost.monthly.max)} |`);
  }
});
