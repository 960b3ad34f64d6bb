/**
 * IPv6 dual-stack, rendered end to end from the showcase fixture stack: the VPC's block, a /64 per
 * subnet, the dual-stack ALB and the web name's AAAA alias.
 */
import type { MockRun } from "../testing/mocks";
import { all, find, runFixtureStack, stateOf } from "../../test/helpers";

describe("the showcase fixture stack: IPv6 dual-stack", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runFixtureStack("showcase");
  });

  test("dual-stack: the VPC gets an IPv6 block, every subnet a /64 of it, the ALB dualstack, the web name an AAAA alias", () => {
    const vpc = find(run, "aws:ec2/vpc:Vpc");
    expect(vpc.inputs["assignGeneratedIpv6CidrBlock"]).toBe(true);
    const vpcBlock = stateOf(run, "aws:ec2/vpc:Vpc", vpc.name)["ipv6CidrBlock"] as string;
    const prefix = vpcBlock.split("::")[0] as string;
    const subnets = all(run, "aws:ec2/subnet:Subnet");
    expect(subnets.length).toBeGreaterThan(0);
    for (const s of subnets) {
      expect(s.inputs["ipv6CidrBlock"]).toMatch(/\/64$/);
      expect((s.inputs["ipv6CidrBlock"] as string).startsWith(prefix.slice(0, prefix.lastIndexOf(":")))).toBe(
        true,
      );
      expect(s.inputs["assignIpv6AddressOnCreation"]).toBe(true);
    }
    expect(find(run, "aws:lb/loadBalancer:LoadBalancer").inputs["ipAddressType"]).toBe("dualstack");
    const records = all(run, "aws:route53/record:Record").filter(
      (r) => r.inputs["name"] === "showcase.mastodon.example",
    );
    expect(records.map((r) => r.inputs["type"]).sort()).toEqual(["A", "AAAA"]);
  });
});
