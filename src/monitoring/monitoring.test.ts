/**
 * Monitoring on its own, under Pulumi's mocks: a program that builds only the component from plain
 * identifiers (no MastodonStack), and what it derives from them: the encrypted topic, each alarm
 * with its threshold from the inputs (the database's budget, the volumes, the queues' thresholds),
 * every optional branch, the dashboard, names from the component's name, and its outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { Monitoring, type MonitoringArgs, type MonitoringTargetsArgs } from "./monitoring";
import type { QueueMonitoringArgs } from "./monitoringArgs";
import type { AccountNames } from "../testing/fakeCloud";
import { type MockRun, NameRefusedError, runUnderMocks } from "../testing/mocks";
import { all, arnOf, find, resolve } from "../../test/helpers";

const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";
const DASHBOARD = "aws:cloudwatch/dashboard:Dashboard";
const TOPIC = "aws:sns/topic:Topic";
const REGION = "eu-west-1";
const ACCOUNT = "123456789012";
const SCOPE = { project: "p", stack: "s", name: "m" };
/** What the connection budget planned for the database (src/budget/budget.ts): an alarm above 380. */
const BUDGET = { alarmThreshold: 380, roleConnectionLimit: 420, maxConnections: 450 };
const LB = "app/m-alb/0123456789abcdef";

const targets = (over: Partial<MonitoringTargetsArgs> = {}): MonitoringTargetsArgs => ({
  databases: [
    { id: "db-primary", identifier: "m-db-0123456", budget: BUDGET, storageGiB: 100, replica: false },
  ],
  redis: [
    { role: "cache", cacheClusterIds: ["m-cache-001"] },
    { role: "persistent", cacheClusterIds: ["m-persistent-001", "m-persistent-002"] },
  ],
  loadBalancer: LB,
  targetGroups: [{ id: "tg-web", arnSuffix: "targetgroup/m-web/0123456789abcdef" }],
  fleets: [{ name: "web", groupName: "m-web-group-0123456" }],
  ...over,
});
const queues = (over: Partial<QueueMonitoringArgs> = {}): QueueMonitoringArgs => ({
  stack: "/mastodon/p/s/m",
  queues: ["default", "push"],
  alarms: {
    queueLatency: { default: 30, push: 600, ingress: 60, mailers: 300, pull: 900, scheduler: 300, fasp: 900 },
    deadJobsPerHour: 10,
    pgbouncerMaxWait: 2,
  },
  pooledFleets: [],
  streamingFleets: [],
  loadBalancer: LB,
  ...over,
});

/** The Monitoring components `declare` builds, under mocks; kept for their outputs. */
async function build(
  declare: () => Monitoring[],
  project = "p",
): Promise<{ run: MockRun; components: Monitoring[] }> {
  let components: Monitoring[] = [];
  const run = await runUnderMocks(
    () => {
      components = declare();
      return {};
    },
    { project, stack: "s", config: { "aws:region": REGION } },
  );
  return { run, components };
}
const one = async (args: Partial<MonitoringArgs> = {}) => {
  const built = await build(() => [new Monitoring("mon", { scope: SCOPE, targets: targets(), ...args })]);
  return { ...built, monitoring: built.components[0] as Monitoring };
};
const alarm = (run: MockRun, id: string) => find(run, ALARM, `mon-${id}`).inputs as any;
const alarmIds = (run: MockRun) => all(run, ALARM).map((a) => a.name.replace(/^mon-/, ""));

describe("Monitoring on its own", () => {
  test("GIVEN the targets WHEN built THEN the alarm topic is encrypted with a rotating customer key CloudWatch may use, only this account's alarms may publish, and every alarm notifies it on ALARM and OK", async () => {
    const { run, monitoring } = await one();
    const key = find(run, "aws:kms/key:Key", "mon-alarms");
    expect(key.inputs).toMatchObject({ enableKeyRotation: true, deletionWindowInDays: 30 });
    const keyPolicy = JSON.parse(String(key.inputs["policy"]));
    expect(keyPolicy.Statement).toContainEqual(
      expect.objectContaining({
        Principal: { Service: "cloudwatch.amazonaws.com" },
        Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      }),
    );
    expect(keyPolicy.Statement[0].Principal).toEqual({ AWS: `arn:aws:iam::${ACCOUNT}:root` });
    const topic = find(run, TOPIC, "mon-alarms");
    expect(topic.inputs["kmsMasterKeyId"]).toBe(key.arn);
    const topicArn = arnOf(run, TOPIC, "mon-alarms");
    const policy = find(run, "aws:sns/topicPolicy:TopicPolicy", "mon-alarms").inputs;
    expect(policy["arn"]).toBe(topicArn);
    expect(JSON.parse(String(policy["policy"])).Statement[1]).toEqual({
      Sid: "CloudWatchAlarmsPublish",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: topicArn,
      Condition: {
        ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:*` },
        StringEquals: { "aws:SourceAccount": ACCOUNT },
      },
    });
    for (const a of all(run, ALARM)) {
      expect(a.inputs["alarmActions"]).toEqual([topicArn]);
      expect(a.inputs["okActions"]).toEqual([topicArn]);
    }
    // No address, no subscription.
    expect(all(run, "aws:sns/topicSubscription:TopicSubscription")).toEqual([]);
    // The outputs: the topic's ARN, and one alarm object per alarm declared.
    expect(await resolve(monitoring.topic.arn)).toBe(topicArn);
    expect(await resolve(monitoring.topicKey.arn)).toBe(key.arn);
    expect(monitoring.alarms).toHaveLength(all(run, ALARM).length);
  });

  test("GIVEN an e-mail address WHEN built THEN it is subscribed to the topic", async () => {
    const { run } = await one({ email: "ops@example.org" });
    expect(find(run, "aws:sns/topicSubscription:TopicSubscription", "mon-email").inputs).toMatchObject({
      topic: arnOf(run, TOPIC, "mon-alarms"),
      protocol: "email",
      endpoint: "ops@example.org",
    });
  });

  test("GIVEN a primary database and its budget WHEN built THEN its connection alarm fires above the budget's plan, below the role's limit; free storage under a tenth of its volume; no lag alarm", async () => {
    const { run } = await one();
    const connections = alarm(run, "db-primary-connections");
    expect(connections).toMatchObject({
      namespace: "AWS/RDS",
      metricName: "DatabaseConnections",
      dimensions: { DBInstanceIdentifier: "m-db-0123456" },
      statistic: "Maximum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 380,
    });
    expect(connections.threshold).toBeLessThan(BUDGET.roleConnectionLimit);
    expect(connections.alarmDescription).toContain("the app role's limit 420, max_connections 450");
    // 10% of 100 GiB, in bytes as RDS publishes FreeStorageSpace.
    expect(alarm(run, "db-primary-storage")).toMatchObject({
      metricName: "FreeStorageSpace",
      comparisonOperator: "LessThanThreshold",
      threshold: 10 * 1024 ** 3,
    });
    expect(alarmIds(run)).not.toContain("db-primary-lag");
  });

  test("GIVEN a read replica with its own budget WHEN built THEN it gets its own connection alarm at its budget, and a lag alarm", async () => {
    const replicaBudget = { alarmThreshold: 190, roleConnectionLimit: 210, maxConnections: 225 };
    const { run } = await one({
      targets: targets({
        databases: [
          { id: "db-primary", identifier: "m-db-0123456", budget: BUDGET, storageGiB: 100, replica: false },
          {
            id: "db-replica",
            identifier: "m-replica-0123456",
            budget: replicaBudget,
            storageGiB: 100,
            replica: true,
          },
        ],
      }),
    });
    expect(alarm(run, "db-replica-connections").threshold).toBe(190);
    expect(alarm(run, "db-replica-lag")).toMatchObject({
      metricName: "ReplicaLag",
      dimensions: { DBInstanceIdentifier: "m-replica-0123456" },
      threshold: 60,
    });
    expect(alarmIds(run).filter((id) => id.endsWith("-lag"))).toEqual(["db-replica-lag"]);
  });

  test("GIVEN ElastiCache's member clusters WHEN built THEN a memory alarm per cluster, numbered, and an eviction alarm on the persistent store's alone", async () => {
    const { run } = await one();
    const redis = alarmIds(run).filter((id) => id.startsWith("redis-"));
    expect(redis.sort()).toEqual(
      [
        "redis-cache-001-memory",
        "redis-persistent-001-memory",
        "redis-persistent-001-evictions",
        "redis-persistent-002-memory",
        "redis-persistent-002-evictions",
      ].sort(),
    );
    expect(alarm(run, "redis-persistent-002-evictions")).toMatchObject({
      namespace: "AWS/ElastiCache",
      metricName: "Evictions",
      dimensions: { CacheClusterId: "m-persistent-002" },
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 1,
    });
  });

  test("GIVEN a self-managed Redis host WHEN built THEN its status checks are watched; without one, no such alarm", async () => {
    const { run } = await one({ targets: targets({ redis: [], redisHost: "i-0123456789abcdef0" }) });
    expect(alarm(run, "redis-host-status")).toMatchObject({
      namespace: "AWS/EC2",
      metricName: "StatusCheckFailed",
      dimensions: { InstanceId: "i-0123456789abcdef0" },
    });
    expect(alarmIds(run).filter((id) => id.startsWith("redis-"))).toEqual(["redis-host-status"]);
    expect(alarmIds((await one()).run)).not.toContain("redis-host-status");
  });

  test("GIVEN the ALB, its target groups and the fleets WHEN built THEN unhealthy hosts per target group, CPU per fleet's group, and the share of 5xx answers as metric math", async () => {
    const { run } = await one({
      targets: targets({
        targetGroups: [
          { id: "tg-web", arnSuffix: "targetgroup/m-web/0123456789abcdef" },
          { id: "tg-streaming-1", arnSuffix: "targetgroup/m-stream-4000/0123456789abcdef" },
        ],
        fleets: [
          { name: "web", groupName: "m-web-group-0123456" },
          { name: "workers", groupName: "m-workers-group-0123456" },
        ],
      }),
    });
    expect(alarm(run, "tg-streaming-1-unhealthy").dimensions).toEqual({
      TargetGroup: "targetgroup/m-stream-4000/0123456789abcdef",
      LoadBalancer: LB,
    });
    expect(alarm(run, "workers-cpu")).toMatchObject({
      namespace: "AWS/EC2",
      metricName: "CPUUtilization",
      dimensions: { AutoScalingGroupName: "m-workers-group-0123456" },
      threshold: 85,
    });
    const rate = alarm(run, "alb-5xx-rate");
    expect(rate.threshold).toBe(5);
    expect(rate.metricQueries.map((q: any) => q.id)).toEqual(["elb5xx", "target5xx", "requests", "rate"]);
    for (const q of rate.metricQueries.slice(0, 3)) expect(q.metric.dimensions).toEqual({ LoadBalancer: LB });
    expect(rate.metricQueries[3]).toMatchObject({
      expression: "100 * (elb5xx + target5xx) / MAX([requests, 1])",
      returnData: true,
    });
  });

  test("GIVEN a search domain WHEN built THEN red, yellow, blocked writes and free storage under a quarter of the node's volume; without one, none", async () => {
    const { run } = await one({
      targets: targets({ search: { domainName: "m-search", clientId: ACCOUNT, volumeGiB: 20 } }),
    });
    const search = alarmIds(run).filter((id) => id.startsWith("search-"));
    expect(search.sort()).toEqual(["search-red", "search-storage", "search-writes-blocked", "search-yellow"]);
    expect(alarm(run, "search-storage")).toMatchObject({
      namespace: "AWS/ES",
      dimensions: { DomainName: "m-search", ClientId: ACCOUNT },
      // FreeStorageSpace is in MiB: a quarter of 20 GiB.
      threshold: 5 * 1024,
    });
    expect(alarmIds((await one()).run).filter((id) => id.startsWith("search-"))).toEqual([]);
  });

  test("GIVEN no host figures WHEN built THEN no queue, dead-set, PgBouncer or streaming alarm", async () => {
    const { run } = await one();
    expect(all(run, ALARM).filter((a) => JSON.stringify(a.inputs).includes('"Mastodon"'))).toEqual([]);
  });

  test("GIVEN the queues and their thresholds WHEN built THEN each queue's latency alarms at its own threshold, the dead set's growth and a silent collector alarm too", async () => {
    const { run } = await one({ queues: queues() });
    expect(alarm(run, "queue-default-latency")).toMatchObject({
      namespace: "Mastodon",
      metricName: "QueueLatency",
      dimensions: { Stack: "/mastodon/p/s/m", Queue: "default" },
      threshold: 30,
      evaluationPeriods: 5,
    });
    expect(alarm(run, "queue-push-latency").threshold).toBe(600);
    expect(
      alarmIds(run)
        .filter((id) => /^queue-.*-latency$/.test(id))
        .sort(),
    ).toEqual(["queue-default-latency", "queue-push-latency"]);
    // Silence breaches: a collector that stops publishing must not leave every queue alarm quiet.
    expect(alarm(run, "queue-metrics-silent")).toMatchObject({
      comparisonOperator: "LessThanThreshold",
      treatMissingData: "breaching",
    });
    const dead = alarm(run, "dead-jobs");
    expect(dead.threshold).toBe(10);
    expect(dead.metricQueries.at(-1)).toMatchObject({ expression: "most - least", returnData: true });
    // Nothing pooled, nothing streaming, no Redis on the host: none of their alarms.
    expect(alarmIds(run).filter((id) => /pgbouncer|streaming|on-host/.test(id))).toEqual([]);
  });

  test("GIVEN pooled fleets, streaming fleets and Redis on the host WHEN built THEN PgBouncer's waits per fleet (the waiting alarm at the pool's size), streaming left empty per fleet, and each Redis's memory", async () => {
    const { run } = await one({
      queues: queues({
        pooledFleets: [{ name: "web", poolSize: 12 }],
        streamingFleets: ["streaming"],
        onHostRedis: true,
      }),
    });
    expect(alarm(run, "web-pgbouncer-waiting")).toMatchObject({
      metricName: "PgBouncerClientsWaiting",
      dimensions: { Stack: "/mastodon/p/s/m", Fleet: "web" },
      comparisonOperator: "GreaterThanOrEqualToThreshold",
      threshold: 12,
    });
    expect(alarm(run, "web-pgbouncer-wait").threshold).toBe(2);
    const empty = alarm(run, "streaming-streaming-empty");
    expect(empty.metricQueries[0].metric.dimensions).toEqual({
      Stack: "/mastodon/p/s/m",
      Fleet: "streaming",
    });
    expect(empty.metricQueries[1].metric.dimensions).toEqual({ LoadBalancer: LB });
    expect(alarm(run, "redis-persistent-on-host-memory").dimensions).toEqual({
      Stack: "/mastodon/p/s/m",
      Role: "persistent",
    });
    expect(alarmIds(run)).toContain("redis-cache-on-host-memory");
  });

  test("GIVEN the targets and queues WHEN built THEN the dashboard, named from the project, stack and component, charts each tier in order with the identifiers resolved", async () => {
    const { run, monitoring } = await one({
      targets: targets({
        databases: [
          {
            id: "db-primary",
            identifier: pulumi.output("m-db-0123456"),
            budget: BUDGET,
            storageGiB: 100,
            replica: false,
          },
        ],
      }),
      queues: queues(),
    });
    const dashboard = find(run, DASHBOARD, "mon-dashboard").inputs;
    expect(dashboard["dashboardName"]).toBe("p-s-mon");
    expect(await resolve(monitoring.dashboard.dashboardName)).toBe("p-s-mon");
    const widgets = JSON.parse(String(dashboard["dashboardBody"])).widgets as {
      properties: { title: string; region: string; metrics: string[][] };
    }[];
    const tiers = widgets.map((w) => w.properties.title.split(":")[0]);
    expect([...new Set(tiers)]).toEqual(["database", "redis", "edge", "fleets", "sidekiq"]);
    for (const w of widgets) expect(w.properties.region).toBe(REGION);
    expect(widgets[0]!.properties).toMatchObject({
      title: "database: DatabaseConnections",
      metrics: [["AWS/RDS", "DatabaseConnections", "DBInstanceIdentifier", "m-db-0123456"]],
    });
    // The queue sizes are drawn, though nothing alarms on them.
    expect(widgets.some((w) => w.properties.title === "sidekiq: QueueSize")).toBe(true);
  });

  test("GIVEN a project name CloudWatch refuses in a dashboard name WHEN built THEN the name is made to fit, with a hash", async () => {
    const { run } = await build(
      () => [new Monitoring("mon", { scope: { ...SCOPE, project: "my.project" }, targets: targets() })],
      "my.project",
    );
    expect(String(find(run, DASHBOARD, "mon-dashboard").inputs["dashboardName"])).toMatch(
      /^my-project-s-mon-[0-9a-f]{7}$/,
    );
  });

  test("GIVEN two components of one deployment WHEN built THEN every name derives from its component's and none collides, the dashboards' included", async () => {
    const { run, components } = await build(() =>
      ["blue", "green"].map(
        (n) => new Monitoring(`${n}-mon`, { scope: SCOPE, targets: targets(), queues: queues() }),
      ),
    );
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    for (const r of run.resources.filter((r) => r.parent !== null))
      expect(r.name.startsWith(`${r.parent}-`)).toBe(true);
    const names = await Promise.all(components.map((c) => resolve(c.dashboard.dashboardName)));
    expect(names).toEqual(["p-s-blue-mon", "p-s-green-mon"]);
  });

  test("GIVEN two deployments in one account WHEN each is built THEN their dashboards, named account-wide, are apart by their scope; the same scope twice is refused", async () => {
    const accountNames: AccountNames = new Map();
    const deploy = (stack: string, scopeStack: string) =>
      runUnderMocks(
        () => {
          new Monitoring("mon", { scope: { ...SCOPE, stack: scopeStack }, targets: targets() });
          return {};
        },
        { project: "p", stack, config: { "aws:region": REGION }, cloud: { accountNames } },
      );
    const first = await deploy("s", "s");
    const second = await deploy("t", "t");
    expect(
      [first, second].map((run) => find(run, DASHBOARD, "mon-dashboard").inputs["dashboardName"]),
    ).toEqual(["p-s-mon", "p-t-mon"]);
    // A third deployment given the first one's scope would overwrite its dashboard: refused.
    const error = await deploy("u", "s").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NameRefusedError);
    expect((error as NameRefusedError).refusals.map((r) => [r.type, r.name])).toEqual([
      [DASHBOARD, "p-s-mon"],
    ]);
  });

  // A fleet's alarms are named <fleet>-cpu beside the databases' db-primary-cpu: a fleet taking a
  // database's id is refused by name (the config refuses it first, src/fleet/schema.ts).
  test("GIVEN a fleet named like the primary database's id WHEN built THEN it is refused by name, not by a duplicate URN", async () => {
    await expect(
      one({
        targets: targets({ fleets: [{ name: "db-primary", groupName: "m-db-primary-group-0123456" }] }),
      }),
    ).rejects.toThrow(
      "fleet db-primary: a database's alarms are named db-primary-*; name the fleet otherwise",
    );
    // The component registered itself before refusing: let that call finish inside this test.
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  });
});
