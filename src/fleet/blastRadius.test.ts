/**
 * The blast radius of a config change to a fleet: which resources a `pulumi up` would touch.
 */
import type { MockRun } from "../testing/mocks";
import { runStack, stackConfig, userDataOf } from "../../test/helpers";

describe("blast radius", () => {
  const changed = (a: MockRun, b: MockRun) => {
    const before = new Map(a.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));
    return b.resources
      .filter((r) => before.get(`${r.type}::${r.name}`) !== JSON.stringify(r.inputs))
      .map((r) => `${r.type}::${r.name}`);
  };
  const withDefault = (change: (f: any) => void) => {
    const fleets = structuredClone(stackConfig("production")["fleets"]) as Record<string, any>;
    change(fleets["sidekiq-default"]);
    return { fleets };
  };
  let baseline: MockRun;
  beforeAll(async () => {
    baseline = await runStack("production");
  });

  test("a Sidekiq fleet's maxSize changes only its group and the connection alarm: never the database, never a host", async () => {
    const run = await runStack(
      "production",
      withDefault((f) => (f.maxSize = 11)),
    );
    // maxSize counts in the connection budget, whose total is the connection alarm's threshold. The
    // app role's CONNECTION LIMIT comes from max_connections alone (src/budget/budget.ts), so the
    // scheduler's host, which applies it at boot, does not roll: scaling is `pulumi up` alone.
    expect(changed(baseline, run).sort()).toEqual([
      "aws:autoscaling/group:Group::mastodon-sidekiq-default-group",
      "aws:cloudwatch/metricAlarm:MetricAlarm::mastodon-monitoring-db-primary-connections",
    ]);
  });

  test("its threads change only its launch template", async () => {
    const run = await runStack(
      "production",
      withDefault((f) => (f.sidekiq.threads = 12)),
    );
    expect(changed(baseline, run)).toEqual([
      "aws:ec2/launchTemplate:LaunchTemplate::mastodon-sidekiq-default-template",
    ]);
    expect(userDataOf(run, "sidekiq-default")).toContain("mastodon-sidekiq-default@12.service");
  });
});
