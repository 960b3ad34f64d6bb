/**
 * Alarms that reach a person and mean what the budget means: the topic's key lets CloudWatch
 * publish, and the connection alarm fires above what the budget plans, read from the budget.
 */
import { parseStackConfig } from "../config";
import { alarmSpecs } from "./alarms";
import { type MockRun } from "../testing/mocks";
import { STACKS, arnOf, configErrors, find, runStack, stackConfig, withConfig } from "../../test/helpers";

const TOPIC = "aws:sns/topic:Topic";
const KEY = "aws:kms/key:Key";
const ALARM = "aws:cloudwatch/metricAlarm:MetricAlarm";

describe.each(STACKS)("stack %s", (stack) => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("the topic is encrypted with a customer-managed key, rotated, whose policy admits CloudWatch", () => {
    const keyArn = arnOf(run, KEY, "mastodon-monitoring-alarms");
    const topic = run.resources.find((r) => r.type === TOPIC);
    // alias/aws/sns cannot be used: its key policy admits no service principal, so CloudWatch's
    // publish is refused and no alarm is ever delivered.
    expect(topic?.inputs["kmsMasterKeyId"]).toBe(keyArn);
    const key = find(run, KEY, "mastodon-monitoring-alarms").inputs;
    expect(key["enableKeyRotation"]).toBe(true);
    const policy = JSON.parse(String(key["policy"]));
    const cloudwatch = policy.Statement.find((s: any) => s.Principal?.Service === "cloudwatch.amazonaws.com");
    expect(cloudwatch.Action).toEqual(["kms:Decrypt", "kms:GenerateDataKey*"]);
    expect(policy.Statement.find((s: any) => s.Principal?.AWS).Principal.AWS).toBe(
      "arn:aws:iam::123456789012:root",
    );
  });

  test("only this account's CloudWatch alarms in this region may publish to the topic", () => {
    const topicArn = run.resources.find((r) => r.type === TOPIC)?.arn;
    const policy = JSON.parse(String(find(run, "aws:sns/topicPolicy:TopicPolicy").inputs["policy"]));
    const publish = policy.Statement.find((s: any) => s.Principal?.Service === "cloudwatch.amazonaws.com");
    expect(publish).toMatchObject({
      Action: "sns:Publish",
      Resource: topicArn,
      Condition: {
        ArnLike: { "aws:SourceArn": "arn:aws:cloudwatch:us-east-1:123456789012:alarm:*" },
        StringEquals: { "aws:SourceAccount": "123456789012" },
      },
    });
    for (const alarm of run.resources.filter((r) => r.type === ALARM)) {
      expect(alarm.inputs["alarmActions"]).toEqual([topicArn]);
    }
  });

  test("the connection alarm fires above the budget's planned total, not a fraction of max_connections", () => {
    const { budget } = parseStackConfig(stackConfig(stack));
    const alarm = find(run, ALARM, "mastodon-monitoring-db-primary-connections").inputs;
    expect(alarm["threshold"]).toBe(budget.total);
    expect(alarm["comparisonOperator"]).toBe("GreaterThanThreshold");
    // It stays inside what the budget allows: the alarm comes before the refusals do.
    expect(budget.total).toBeLessThanOrEqual(budget.limit);
  });
});

test("production: 441 planned server connections (replacements launched first included); the alarm no longer fires at 400", async () => {
  const run = await runStack("production");
  expect(find(run, ALARM, "mastodon-monitoring-db-primary-connections").inputs["threshold"]).toBe(441);
});

test("a replica's alarm reads the replica's own budget", () => {
  const { budget, replicaBudget } = parseStackConfig({
    ...stackConfig("staging"),
    database: {
      ...(stackConfig("staging")["database"] as object),
      replica: { instanceClass: "db.t4g.small" },
    },
  });
  if (!replicaBudget) throw new Error("no replica budget");
  const { metrics } = alarmSpecs({
    databases: [
      { id: "db-primary", identifier: "p", budget, storageGiB: 20, replica: false },
      { id: "db-replica", identifier: "r", budget: replicaBudget, storageGiB: 20, replica: true },
    ],
    redis: [],
    loadBalancer: "app/x/y",
    targetGroups: [],
    fleets: [],
  });
  expect(metrics.find((m) => m.id === "db-replica-connections")?.threshold).toBe(replicaBudget.total);
  expect(metrics.find((m) => m.id === "db-primary-connections")?.threshold).toBe(budget.total);
});

describe("a fleet may not take a database's alarm names", () => {
  test("the config refuses a fleet named db-primary or db-replica by its key, with the fix", () => {
    for (const name of ["db-primary", "db-replica"]) {
      const errors = configErrors(
        withConfig((c) => {
          c.fleets[name] = c.fleets.scheduler;
          delete c.fleets.scheduler;
        }),
      );
      expect(errors).toEqual([
        expect.objectContaining({
          key: expect.stringContaining(`fleets`),
          message: expect.stringContaining(
            `fleet name ${name} is taken by the database's alarms (${name}-cpu)`,
          ),
        }),
      ]);
    }
    expect(configErrors(withConfig((c) => void (c.fleets["db-primaries"] = c.fleets.scheduler)))).not.toEqual(
      expect.arrayContaining([expect.objectContaining({ message: expect.stringContaining("taken") })]),
    );
  });

  test("the alarms refuse a fleet whose alarms would take a database's names (a component used on its own)", () => {
    const { config, budget } = parseStackConfig(stackConfig("staging"));
    const input = {
      databases: [
        {
          id: "db-primary",
          identifier: "db",
          budget,
          storageGiB: config.database.storageGiB,
          replica: false,
        },
      ],
      redis: [],
      loadBalancer: "app/x/1",
      targetGroups: [],
      fleets: [{ name: "db-primary", groupName: "g" }],
    };
    expect(() => alarmSpecs(input)).toThrow("fleet db-primary: a database's alarms are named db-primary-*");
    expect(() => alarmSpecs({ ...input, fleets: [{ name: "web", groupName: "g" }] })).not.toThrow();
  });
});
