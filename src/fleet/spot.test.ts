/**
 * Sidekiq fleets on Spot: the mixed instances policy and CPU tracking, the scheduler's fleet
 * refused, spotInstanceTypes refused by key with the fix, and the showcase fixture stack's fleet
 * across several instance types, its budget computed for instanceType.
 */
import { parseStackConfig } from "../config";
import { readStackFile } from "../config/stackFile";
import type { MockRun } from "../testing/mocks";
import {
  FIXTURES,
  all,
  configProblems,
  find,
  keysAndMessages,
  runFixtureStack,
  runStack,
  stackConfig,
  withConfig,
} from "../../test/helpers";

const ASG = "aws:autoscaling/group:Group";

test("spot and CPU tracking where configured", async () => {
  const fleets = { ...(stackConfig("production")["fleets"] as Record<string, any>) };
  // One host fewer: Capacity Rebalancing may launch a Spot replacement before the old host leaves,
  // which the budget counts (src/fleet/replacement.ts), and production has 4 connections spare.
  const push = fleets["sidekiq-push"];
  fleets["sidekiq-push"] = { ...push, spot: true, cpuTarget: 60, maxSize: push.maxSize - 1 };
  const run = await runStack("production", { fleets });
  const asg = find(run, ASG, "mastodon-sidekiq-push-group").inputs as any;
  expect(asg.launchTemplate).toBeUndefined();
  expect(asg.capacityRebalance).toBe(true);
  expect(asg.mixedInstancesPolicy.instancesDistribution).toEqual({
    onDemandBaseCapacity: 1,
    onDemandPercentageAboveBaseCapacity: 0,
    spotAllocationStrategy: "price-capacity-optimized",
  });
  expect(find(run, "aws:autoscaling/policy:Policy", "mastodon-sidekiq-push-cpu").inputs).toMatchObject({
    policyType: "TargetTrackingScaling",
    targetTrackingConfiguration: {
      predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
      targetValue: 60,
    },
  });
  expect(() =>
    parseStackConfig({
      ...stackConfig("production"),
      fleets: { ...fleets, "sidekiq-scheduler": { ...fleets["sidekiq-scheduler"], spot: true } },
    }),
  ).toThrow("mastodon:fleets.sidekiq-scheduler.spot: true is refused: this fleet serves the scheduler queue");
});

describe("spot: bad input refused by key with the fix", () => {
  test("spotInstanceTypes: without spot, another architecture, other vCPUs, less memory", () => {
    const fleet = (spot: boolean, types: string[]) =>
      withConfig((c) => {
        c.fleets.workers.spot = spot;
        c.fleets.workers.spotInstanceTypes = types;
      });
    expect(keysAndMessages(configProblems(fleet(false, ["c6g.large"])))).toEqual([
      {
        key: "mastodon:fleets.workers.spotInstanceTypes",
        message: expect.stringContaining("needs spot: true"),
      },
    ]);
    // workers run c7g.large: 2 vCPUs, 4 GiB, arm64.
    expect(
      keysAndMessages(configProblems(fleet(true, ["c7i.large", "c6g.xlarge", "c6g.large", "c7g.large"]))),
    ).toEqual([
      { key: "mastodon:fleets.workers.spotInstanceTypes[0]", message: expect.stringContaining("is x86_64") },
      {
        key: "mastodon:fleets.workers.spotInstanceTypes[1]",
        message: expect.stringContaining("has 4 vCPUs"),
      },
      {
        key: "mastodon:fleets.workers.spotInstanceTypes[3]",
        message: expect.stringContaining("is the fleet's instanceType already"),
      },
    ]);
    expect(keysAndMessages(configProblems(fleet(true, ["c6g.large", "c8g.large"])))).toEqual([]);
  });
});

describe("the showcase fixture stack: Spot across several types", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runFixtureStack("showcase");
  });

  test("the Spot fleet: a mixed instances policy over instanceType and its three alternatives, on-demand base = minSize", () => {
    const group = all(run, "aws:autoscaling/group:Group").find((g) => g.name.endsWith("-sidekiq-group"))!;
    const policy = group.inputs["mixedInstancesPolicy"] as Record<string, any>;
    expect(policy.instancesDistribution).toEqual({
      onDemandBaseCapacity: 1,
      onDemandPercentageAboveBaseCapacity: 0,
      spotAllocationStrategy: "price-capacity-optimized",
    });
    expect(policy.launchTemplate.overrides).toEqual([
      { instanceType: "c7g.xlarge" },
      { instanceType: "c6g.xlarge" },
      { instanceType: "c8g.xlarge" },
      { instanceType: "c7gn.xlarge" },
    ]);
    expect(group.inputs["launchTemplate"]).toBeUndefined();
    // Other fleets keep a plain launch template.
    const web = all(run, "aws:autoscaling/group:Group").find((g) => g.name.endsWith("-web-group"))!;
    expect(web.inputs["mixedInstancesPolicy"]).toBeUndefined();
  });

  test("the budget and the units are computed for instanceType, the smallest of the types", () => {
    const file = readStackFile(FIXTURES, "showcase");
    const raw = Object.fromEntries(
      Object.entries(file.config)
        .filter(([k]) => k.startsWith("mastodon:"))
        .map(([k, v]) => [k.slice("mastodon:".length), /^[{[]/.test(v) ? JSON.parse(v) : v]),
    );
    const { budget, config } = parseStackConfig(raw, "showcase", { secretPaths: file.secretPaths });
    const fleet = config.fleets.find((f) => f.name === "sidekiq")!;
    expect(fleet.instance).toMatchObject({ instanceType: "c7g.xlarge", vcpu: 4, memoryGiB: 8 });
    // 4 hosts x 4 processes x 10 threads: the budget counts what instanceType was sized for.
    const row = budget.rows.find((r) => r.fleet === "sidekiq")!;
    expect(row.connections).toBe(4 * 4 * 10);
  });
});
