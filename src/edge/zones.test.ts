/**
 * Zones by what they offer: the network's subnets go in the region's first zones that offer every
 * instance type the stack's hosts run (EC2 DescribeInstanceTypeOfferings), and the fake cloud
 * answers that call as EC2 does, us-east-1's use1-az3 lacking the current types.
 */
import * as path from "path";
import { type InstanceTypeOffering, zonesOffering } from "../network/subnets";
import { parseStackConfig } from "../config";
import { Network, hostInstanceTypes } from "../network/network";
import { type FakeCloudOptions, fakeCloud } from "../testing/fakeCloud";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import { readStackFile } from "../config/stackFile";
import program from "../../index";
import { ROOT, STACKS, all, stackConfig, withConfig } from "../../test/helpers";

const SUBNET = "aws:ec2/subnet:Subnet";
/** An account whose us-east-1b is the constrained zone (names map to zone IDs per account). */
const B_IS_AZ3: FakeCloudOptions = { zoneIds: { "us-east-1b": "use1-az3", "us-east-1e": "use1-az2" } };

/** The fake cloud's DescribeInstanceTypeOfferings by zone, as rows. */
function offerings(
  types: readonly string[],
  cloud: FakeCloudOptions = {},
  locationType = "availability-zone",
) {
  const answer = fakeCloud("us-east-1", cloud).mocks.call({
    token: "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings",
    inputs: { locationType, filters: [{ name: "instance-type", values: [...types] }] },
  }) as { instanceTypes: string[]; locations: string[]; locationTypes: string[] };
  return answer.instanceTypes.map((instanceType, i) => ({
    instanceType,
    location: answer.locations[i] as string,
  }));
}

const zonesOf = (rows: readonly InstanceTypeOffering[], type: string) =>
  rows.filter((r) => r.instanceType === type).map((r) => r.location);

/** The zones a run's subnets went in, in subnet order, once each. */
const subnetZones = (run: MockRun) => [
  ...new Set(all(run, SUBNET).map((s) => String(s.inputs["availabilityZone"]))),
];

describe("zonesOffering", () => {
  const zones = ["z-a", "z-b", "z-c", "z-d"];
  const rows = (types: Record<string, string[]>) =>
    Object.entries(types).flatMap(([instanceType, locs]) =>
      locs.map((location) => ({ instanceType, location })),
    );

  test("the region's first zones offering every type, in the region's order", () => {
    const offered = rows({ "c7g.large": ["z-a", "z-c", "z-d"], "c7g.medium": ["z-a", "z-b", "z-c", "z-d"] });
    expect(zonesOffering(zones, ["c7g.medium", "c7g.large"], offered, 2)).toEqual(["z-a", "z-c"]);
    expect(zonesOffering(zones, ["c7g.medium", "c7g.large"], offered, 3)).toEqual(["z-a", "z-c", "z-d"]);
    expect(zonesOffering(zones, [], [], 2)).toEqual(["z-a", "z-b"]);
  });

  test("too few: refused with the types and what each skipped zone lacks", () => {
    const offered = rows({ "c7g.large": ["z-a", "z-b", "z-c", "z-d"], "c8g.large": ["z-c"] });
    expect(() => zonesOffering(zones, ["c8g.large", "c7g.large"], offered, 2)).toThrow(
      "2 availability zones are needed (network.availabilityZones) but only z-c of the region's 4 offers every instance type the stack runs (c7g.large, c8g.large): z-a lacks c8g.large; z-b lacks c8g.large; z-d lacks c8g.large.",
    );
    expect(() => zonesOffering(zones, ["bogus"], offered, 2)).toThrow(/but no zone of the region's 4 offers/);
  });
});

describe("the fake cloud answers DescribeInstanceTypeOfferings as EC2 does", () => {
  test("us-east-1: the constrained zone use1-az3 (us-east-1e here) lacks the current and Graviton types", () => {
    const rows = offerings(["c7g.large", "c7i.large", "c6g.medium", "c5.large"]);
    const all6 = ["us-east-1a", "us-east-1b", "us-east-1c", "us-east-1d", "us-east-1e", "us-east-1f"];
    const allButE = all6.filter((z) => z !== "us-east-1e");
    expect(zonesOf(rows, "c7g.large")).toEqual(allButE);
    expect(zonesOf(rows, "c7i.large")).toEqual(allButE);
    expect(zonesOf(rows, "c6g.medium")).toEqual(allButE);
    expect(zonesOf(rows, "c5.large")).toEqual(all6);
    expect(zonesOf(offerings(["c7g.large"], {}, "availability-zone-id"), "c7g.large")).not.toContain(
      "use1-az3",
    );
    expect(zonesOf(offerings(["c7g.large"], B_IS_AZ3), "c7g.large")).not.toContain("us-east-1b");
    expect(offerings(["no-such-type"])).toEqual([]);
  });
});

describe("the network picks zones that offer the stack's instance types", () => {
  test("in an account whose us-east-1b is use1-az3, c7g subnets skip it", async () => {
    const run = await runUnderMocks(
      () => {
        const net = new Network("net", { availabilityZones: 2, instanceTypes: ["c7g.large", "c7g.medium"] });
        return { zones: net.availabilityZones };
      },
      { project: "p", stack: "s", config: { "aws:region": "us-east-1" }, cloud: B_IS_AZ3 },
    );
    expect(run.outputs["zones"]).toEqual(["us-east-1a", "us-east-1c"]);
    expect(subnetZones(run)).toEqual(["us-east-1a", "us-east-1c"]);
  });

  test("hostInstanceTypes: every fleet's type and Spot types, the Redis host's, the image build's", () => {
    const { config } = parseStackConfig(
      withConfig((c) => {
        c.fleets.workers.spot = true;
        c.fleets.workers.spotInstanceTypes = ["c6g.large", "c7gn.large"];
        c.redis = { persistent: { mode: "self-managed-aof", instanceType: "c6g.xlarge", volumeGiB: 20 } };
        c.image = { source: "image-builder" };
      }),
    );
    expect(hostInstanceTypes(config)).toEqual([
      "c6g.large",
      "c6g.xlarge",
      "c7g.large",
      "c7g.medium",
      "c7gn.large",
    ]);
  });

  describe.each(STACKS)("stack %s", (stack) => {
    const run = (cloud: FakeCloudOptions) => {
      const file = readStackFile(path.join(ROOT, "stacks"), stack);
      return runUnderMocks(program, {
        project: "mastodon-aws",
        stack,
        config: file.config,
        secretKeys: file.secretKeys,
        cloud,
      });
    };
    const { config } = parseStackConfig(stackConfig(stack));
    const types = hostInstanceTypes(config);

    test("every zone its subnets take offers every type its hosts run, as many as configured", async () => {
      for (const cloud of [{}, B_IS_AZ3]) {
        const zones = subnetZones(await run(cloud));
        expect(zones).toHaveLength(config.network.availabilityZones);
        const rows = offerings(types, cloud);
        for (const type of types)
          expect({ type, zones: zonesOf(rows, type) }).toEqual({
            type,
            zones: expect.arrayContaining(zones),
          });
      }
    });

    test("in an account whose us-east-1b is use1-az3, the subnets skip us-east-1b", async () => {
      const expected = ["us-east-1a", "us-east-1c", "us-east-1d"].slice(0, config.network.availabilityZones);
      expect(subnetZones(await run(B_IS_AZ3))).toEqual(expected);
    });
  });
});
