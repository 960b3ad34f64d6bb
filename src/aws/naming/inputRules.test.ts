/**
 * The fake cloud refuses what PutWarmPool refuses in an Auto Scaling group's warm pool
 * (./inputRules.ts), and the shipped stacks' warm pools are none of it.
 */
import * as aws from "@pulumi/aws";
import { parseStackConfig } from "../../config";
import { inputProblems } from "./index";
import { NameRefusedError } from "../../testing/mocks";
import { STACKS, all, declareUnderMocks, runStack, stackConfig } from "../../../test/helpers";

const ASG = "aws:autoscaling/group:Group";

const declare = declareUnderMocks;

const group = (name: string, extra: Record<string, unknown>) =>
  new aws.autoscaling.Group(name, {
    minSize: 1,
    maxSize: 4,
    vpcZoneIdentifiers: ["subnet-1"],
    ...("mixedInstancesPolicy" in extra ? {} : { launchTemplate: { id: "lt-1", version: "1" } }),
    ...extra,
  });

describe("the fake cloud refuses what PutWarmPool refuses in a warm pool", () => {
  test("each broken warm pool is refused with its reason and source; the valid ones pass", async () => {
    const pool = (warmPool: Record<string, unknown>) => ({ warmPool });
    const error = (await declare(() => {
      group("spot", {
        ...pool({ poolState: "Stopped", minSize: 1, maxGroupPreparedCapacity: 1 }),
        mixedInstancesPolicy: {
          instancesDistribution: { onDemandBaseCapacity: 1, onDemandPercentageAboveBaseCapacity: 0 },
          launchTemplate: { launchTemplateSpecification: { launchTemplateId: "lt-1", version: "1" } },
        },
      });
      // AWS's values are spelled as the API takes them: no lower-case state.
      group("state", pool({ poolState: "stopped", minSize: 1 }));
      group("negative-min", pool({ minSize: -1 }));
      group("fraction-min", pool({ minSize: 1.5 }));
      group("below-clear", pool({ maxGroupPreparedCapacity: -2 }));
      // Valid: the package's absolute pool, AWS's other states, a cleared capacity, the defaults.
      group("absolute", pool({ poolState: "Stopped", minSize: 2, maxGroupPreparedCapacity: 2 }));
      group("running", pool({ poolState: "Running", minSize: 1, maxGroupPreparedCapacity: 1 }));
      group("hibernated", pool({ poolState: "Hibernated", minSize: 0, maxGroupPreparedCapacity: -1 }));
      // Below minSize is not refused (MinSize decides the pool), nor is zero.
      group("min-over-max", pool({ minSize: 3, maxGroupPreparedCapacity: 0 }));
      group("defaults", pool({}));
    }).catch((e: unknown) => e)) as NameRefusedError;
    expect(error).toBeInstanceOf(NameRefusedError);
    // Resources register in no fixed order: compare as sets.
    expect(error.refusals.map((r) => [r.resource, r.kind, r.property]).sort()).toEqual(
      [
        ["spot", "input", "warmPool"],
        ["state", "input", "warmPool.poolState"],
        ["negative-min", "input", "warmPool.minSize"],
        ["fraction-min", "input", "warmPool.minSize"],
        ["below-clear", "input", "warmPool.maxGroupPreparedCapacity"],
      ].sort(),
    );
    for (const text of [
      "aws:autoscaling/group:Group spot: warmPool is set on a group with a mixedInstancesPolicy, which PutWarmPool refuses",
      'warmPool.poolState is "stopped": it must be one of Stopped, Running, Hibernated',
      "warmPool.minSize is -1: it must be a whole number of at least 0",
      "warmPool.minSize is 1.5: it must be a whole number of at least 0",
      "warmPool.maxGroupPreparedCapacity is -2: it must be a whole number of at least -1",
      "Amazon EC2 Auto Scaling API Reference, PutWarmPool",
      '"Warm pools for Amazon EC2 Auto Scaling", Limitations',
      "It comes from origin of spot",
    ])
      expect(error.message).toContain(text);
    // The refused value is the warm pool as sent, so the message shows what to change.
    expect(error.refusals.find((r) => r.resource === "state")?.name).toBe(
      JSON.stringify({ minSize: 1, poolState: "stopped" }),
    );
  });

  test("a group without a warm pool is not judged by the warm pool's rules", () => {
    expect(inputProblems(ASG, { mixedInstancesPolicy: { launchTemplate: {} } })).toEqual([]);
  });
});

describe.each(STACKS)("stack %s", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack), stack);
  test("every group's warm pool is one AWS takes, on the fleets that configure one", async () => {
    const run = await runStack(stack);
    const groups = all(run, ASG);
    const pooled = groups.filter((g) => g.inputs["warmPool"] !== undefined);
    expect(pooled.map((g) => g.name).sort()).toEqual(
      config.fleets
        .filter((f) => f.warmPool)
        .map((f) => `mastodon-${f.name}-group`)
        .sort(),
    );
    for (const g of groups) expect([g.name, inputProblems(ASG, g.inputs)]).toEqual([g.name, []]);
  });
});
