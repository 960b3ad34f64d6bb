/**
 * Replacements keep serving (issue #20): each group's instance maintenance policy, its refreshes
 * repeating it, the budget counting the hosts launched first, and the fake cloud refusing what the
 * Auto Scaling API refuses in a policy.
 */
import * as aws from "@pulumi/aws";
import { parseStackConfig } from "../config";
import { inputProblems } from "../aws/naming";
import { QUEUE_POLICY, SCHEDULER_POLICY, fleetReplacement, surgeHosts } from "./replacement";
import { NameRefusedError, type MockRun } from "../testing/mocks";
import { STACKS, all, declareUnderMocks, runStack, stackConfig } from "../../test/helpers";

const ASG = "aws:autoscaling/group:Group";

describe.each(STACKS)("stack %s", (stack) => {
  const { config, budget } = parseStackConfig(stackConfig(stack), stack);
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack(stack);
  });
  const groupOf = (fleet: string) => {
    const group = all(run, ASG).find((g) => g.name === `mastodon-${fleet}-group`);
    if (!group) throw new Error(`no group for ${fleet}`);
    return group.inputs as {
      maxSize: number;
      instanceMaintenancePolicy?: { minHealthyPercentage: number; maxHealthyPercentage: number };
      instanceRefresh: { preferences: Record<string, unknown> };
    };
  };

  test.each(config.fleets.map((f) => [f.name, f] as const))(
    "%s: its group's instance maintenance policy keeps the fleet serving, and its refreshes repeat it",
    (name, fleet) => {
      const group = groupOf(name);
      const policy = group.instanceMaintenancePolicy;
      if (fleet.servesScheduler) {
        // One scheduler in the cluster: its one host leaves before the next boots.
        expect(group.maxSize).toBe(1);
        expect(policy).toEqual({ minHealthyPercentage: 0, maxHealthyPercentage: 100 });
      } else if (fleet.web || fleet.streaming) {
        // Launch first: nothing leaves before its replacement serves, and a one-host fleet can add one.
        expect(policy?.minHealthyPercentage).toBe(100);
        expect(policy?.maxHealthyPercentage).toBeGreaterThan(100);
        expect(
          Math.ceil((fleet.desiredSize * (policy!.maxHealthyPercentage - 100)) / 100),
        ).toBeGreaterThanOrEqual(1);
      } else {
        expect(policy).toEqual({ minHealthyPercentage: 90, maxHealthyPercentage: 100 });
      }
      // Left out, the provider would send its own 90 and 100 and override the policy in every refresh.
      expect(group.instanceRefresh.preferences).toMatchObject({ ...policy });
      expect(inputProblems(ASG, group as unknown as Record<string, unknown>)).toEqual([]);
    },
  );

  test("the budget counts each launch-first fleet's surge host beside its maximum size, and still fits", () => {
    for (const fleet of config.fleets) {
      const group = groupOf(fleet.name);
      const rows = budget.rows.filter((r) => r.fleet === fleet.name);
      const surge = fleet.servesScheduler || !(fleet.web || fleet.streaming) ? 0 : 1;
      expect(rows.map((r) => r.surgeHosts)).toEqual(rows.map(() => surge));
      // The policy pack reads the same surge from the group's own properties.
      expect(
        surgeHosts({
          maxSize: group.maxSize,
          ...(group.instanceMaintenancePolicy && { policy: group.instanceMaintenancePolicy }),
        }),
      ).toBe(surge);
    }
    expect(budget.total).toBe(budget.fleetConnections + budget.surgeConnections + budget.headroom);
    expect(budget.spare).toBeGreaterThanOrEqual(0);
  });
});

test("staging's one-host web and streaming fleets launch first; production's web and streaming surge add 18 to 423", () => {
  const staging = parseStackConfig(stackConfig("staging"), "staging");
  for (const name of ["web", "streaming"]) {
    const fleet = staging.config.fleets.find((f) => f.name === name)!;
    expect(fleet.desiredSize).toBe(1);
    expect(fleetReplacement(fleet).order).toBe("launch-first");
  }
  const { budget } = parseStackConfig(stackConfig("production"), "production");
  // One web host (PgBouncer pool 12) and one streaming host (pool 6) beside the 408 at maximum size.
  expect([budget.fleetConnections, budget.surgeConnections, budget.total]).toEqual([
    408,
    12 + 6,
    408 + 18 + 15,
  ]);
});

describe("the launch-first policy at every size", () => {
  const sizes = Array.from({ length: 200 }, (_, i) => i + 1);
  const webFleet = (maxSize: number) => ({
    maxSize,
    servesScheduler: false,
    spot: false,
    web: { processes: 1, threads: 5 },
  });

  test.each([
    [1, 200, 1],
    [2, 150, 1],
    [3, 133, 1],
    [6, 116, 1],
    [10, 110, 1],
    [19, 105, 1],
    [20, 110, 2],
    [100, 110, 10],
  ])("maxSize %d: max healthy %d, %d host(s) at once", (maxSize, max, surge) => {
    const r = fleetReplacement(webFleet(maxSize));
    expect(r.policy).toEqual({ minHealthyPercentage: 100, maxHealthyPercentage: max });
    expect(r.surgeHosts).toBe(surge);
  });

  test("at any desired capacity up to maxSize no more than the budgeted surge launches, and at least one", () => {
    for (const maxSize of sizes) {
      const r = fleetReplacement(webFleet(maxSize));
      // About a tenth of the fleet at once, at least one host.
      expect(r.surgeHosts).toBeGreaterThanOrEqual(1);
      expect(r.surgeHosts).toBeLessThanOrEqual(Math.max(1, Math.floor(maxSize / 10)));
      for (let desired = 1; desired <= maxSize; desired++) {
        const extra = Math.max(1, Math.ceil((desired * (r.policy.maxHealthyPercentage - 100)) / 100));
        expect(extra).toBeLessThanOrEqual(r.surgeHosts);
      }
      // What the API accepts (the fake cloud's rule below).
      expect(inputProblems(ASG, { instanceMaintenancePolicy: r.policy })).toEqual([]);
    }
  });

  test("the scheduler's fleet leaves first whatever else it serves; a queue fleet too; Spot counts its rebalancing", () => {
    expect(fleetReplacement({ ...webFleet(1), servesScheduler: true })).toEqual({
      order: "terminate-first",
      policy: SCHEDULER_POLICY,
      surgeHosts: 0,
    });
    const queue = { maxSize: 12, servesScheduler: false, spot: false };
    expect(fleetReplacement(queue)).toEqual({
      order: "terminate-first",
      policy: QUEUE_POLICY,
      surgeHosts: 0,
    });
    // Capacity Rebalancing may exceed the limits by 10% of the desired capacity: 2 of 12, rounded up.
    expect(fleetReplacement({ ...queue, spot: true }).surgeHosts).toBe(2);
  });
});

describe("the fake cloud refuses what the Auto Scaling API refuses in a maintenance policy", () => {
  const group = (name: string, extra: Record<string, unknown>) =>
    new aws.autoscaling.Group(name, {
      minSize: 1,
      maxSize: 1,
      vpcZoneIdentifiers: ["subnet-1"],
      launchTemplate: { id: "lt-1", version: "1" },
      ...extra,
    });
  const declare = declareUnderMocks;

  test("each broken policy is refused with its reason; valid ones and a cleared one pass", async () => {
    const policy = (minHealthyPercentage?: number, maxHealthyPercentage?: number) => ({
      instanceMaintenancePolicy: { minHealthyPercentage, maxHealthyPercentage },
    });
    const error = (await declare(() => {
      group("over-200", policy(100, 250));
      group("apart", policy(50, 160));
      group("min-only", policy(50, undefined));
      group("below-100", policy(0, 90));
      group("refresh-max", {
        instanceRefresh: { strategy: "Rolling", preferences: { maxHealthyPercentage: 150 } },
      });
      group("launch-first", policy(100, 200));
      group("terminate-first", policy(0, 100));
      group("cleared", policy(-1, -1));
    }).catch((e: unknown) => e)) as NameRefusedError;
    expect(error).toBeInstanceOf(NameRefusedError);
    expect(error.refusals.map((r) => [r.resource, r.kind, r.property])).toEqual([
      ["over-200", "input", "instanceMaintenancePolicy"],
      ["apart", "input", "instanceMaintenancePolicy"],
      ["min-only", "input", "instanceMaintenancePolicy"],
      ["below-100", "input", "instanceMaintenancePolicy"],
      ["refresh-max", "input", "instanceRefresh.preferences"],
    ]);
    for (const text of [
      "instanceMaintenancePolicy.maxHealthyPercentage is 250: it must be a whole number 100-200 (or -1 to clear the policy)",
      "instanceMaintenancePolicy has maxHealthyPercentage 160 and minHealthyPercentage 50, more than 100 apart",
      "instanceMaintenancePolicy sets minHealthyPercentage without maxHealthyPercentage; give both",
      "instanceMaintenancePolicy.maxHealthyPercentage is 90: it must be a whole number 100-200",
      "instanceRefresh.preferences sets maxHealthyPercentage without minHealthyPercentage; give both",
      "Auto Scaling API Reference, InstanceMaintenancePolicy",
    ])
      expect(error.message).toContain(text);
  });
});
