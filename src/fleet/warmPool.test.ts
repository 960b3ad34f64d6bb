/**
 * Warm pools (issue 24): `fleets.<name>.warmPool` where a scale-out draws on it, refused by its key
 * everywhere else, and the group's warmPool argument an absolute pool AWS accepts.
 */
import { parseStackConfig } from "../config";
import { configErrors as errorsOf, withConfig } from "../../test/helpers";
import type { FleetGroupArgs } from "./fleetGroup";
import { groupWarmPool } from "./warmPool";

/** baseConfig's workers fleet, scaling on its queues' latency between 1 and 4 hosts. */
const scalingWorkers = (c: any, warmPool: unknown, extra: Record<string, unknown> = {}) => {
  Object.assign(c.fleets.workers, { minSize: 1, maxSize: 4, queueLatencyTarget: "10s", warmPool, ...extra });
};

describe("GIVEN a Sidekiq fleet that scales on latency", () => {
  test("WHEN it asks for a pool of 2 THEN the pool is resolved Stopped, size 2", () => {
    const { config } = parseStackConfig(withConfig((c) => scalingWorkers(c, { size: 2 })));
    expect(config.fleets.find((f) => f.name === "workers")!.warmPool).toEqual({ size: 2, state: "Stopped" });
    expect(config.fleets.find((f) => f.name === "web")!.warmPool).toBeUndefined();
  });

  test("WHEN it asks for a Running pool THEN the state is kept", () => {
    const { config } = parseStackConfig(withConfig((c) => scalingWorkers(c, { size: 1, state: "Running" })));
    expect(config.fleets.find((f) => f.name === "workers")!.warmPool).toEqual({ size: 1, state: "Running" });
  });

  test.each([
    [{ size: 0 }, "mastodon:fleets.workers.warmPool.size", 0],
    [{ size: 1.5 }, "mastodon:fleets.workers.warmPool.size", 1.5],
    [{ size: 1, state: "Hibernated" }, "mastodon:fleets.workers.warmPool.state", "Hibernated"],
    [{ size: 1, reuse: true }, "mastodon:fleets.workers.warmPool.reuse", true],
  ])("WHEN the pool is %j THEN it is refused by its key", (pool, key, value) => {
    const problems = errorsOf(withConfig((c) => scalingWorkers(c, pool)));
    expect(problems.map((p) => p.key)).toEqual([key]);
    if (value !== undefined) expect(problems[0]!.value).toBe(value);
  });

  test("WHEN the pool is larger than maxSize - minSize THEN warmPool.size is refused with the room there is", () => {
    const problems = errorsOf(withConfig((c) => scalingWorkers(c, { size: 4 })));
    expect(problems.map((p) => [p.key, p.value])).toEqual([["mastodon:fleets.workers.warmPool.size", 4]]);
    expect(problems[0]!.message).toContain("3 host(s) scaling can add (maxSize 4 - minSize 1)");
    expect(problems[0]!.message).toContain("at most 3");
  });
});

describe("GIVEN a fleet a warm pool cannot serve", () => {
  test.each([
    [
      "the scheduler's fleet",
      (c: any) => Object.assign(c.fleets.scheduler, { warmPool: { size: 1 } }),
      "scheduler",
      "serves the scheduler queue",
    ],
    [
      "a one-size fleet",
      (c: any) => scalingWorkers(c, { size: 1 }, { minSize: 2, maxSize: 2, queueLatencyTarget: undefined }),
      "workers",
      "minSize and maxSize are both 2",
    ],
    [
      "a Spot fleet",
      (c: any) => scalingWorkers(c, { size: 1 }, { spot: true }),
      "workers",
      "AWS refuses a warm pool on a group with a mixed instances policy",
    ],
    [
      "a fleet with no scaling target",
      (c: any) => scalingWorkers(c, { size: 1 }, { queueLatencyTarget: undefined }),
      "workers",
      "no cpuTarget or queueLatencyTarget",
    ],
  ])("WHEN %s asks for one THEN warmPool is refused, with its value and the fix", (_, mutate, fleet, why) => {
    const problems = errorsOf(withConfig(mutate));
    const pool = problems.filter((p) => p.key === `mastodon:fleets.${fleet}.warmPool`);
    expect(pool).toHaveLength(1);
    expect(pool[0]!.message).toContain(why);
    expect(pool[0]!.message).toMatch(/remove warmPool|Remove warmPool|Remove spot or warmPool/);
    expect(pool[0]!.value).toEqual({ size: 1, state: "Stopped" });
  });
});

describe("the group's warmPool argument", () => {
  const group = (over: Partial<FleetGroupArgs>): FleetGroupArgs => ({
    name: "workers",
    instanceType: "c7g.large",
    minSize: 1,
    desiredSize: 1,
    maxSize: 4,
    postgresConnectionsPerHost: 20,
    ...over,
  });

  test("an absolute size: MinSize and MaxGroupPreparedCapacity both the size, no reuse on scale-in", () => {
    expect(groupWarmPool(group({ warmPool: { size: 2 } }))).toEqual({
      poolState: "Stopped",
      minSize: 2,
      maxGroupPreparedCapacity: 2,
      instanceReusePolicy: { reuseOnScaleIn: false },
    });
    expect(groupWarmPool(group({ warmPool: { size: 3, state: "Running" } }))?.poolState).toBe("Running");
    expect(groupWarmPool(group({}))).toBeUndefined();
  });

  test("a component used alone refuses what AWS or the budget's sizes would", () => {
    expect(() => groupWarmPool(group({ warmPool: { size: 1 }, spot: true }))).toThrow(/Spot fleet/);
    expect(() => groupWarmPool(group({ warmPool: { size: 4 } }))).toThrow(/more than the 3 hosts/);
  });
});
