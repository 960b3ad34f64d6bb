/**
 * The network each shipped stack declares, under Pulumi's mocks: three tiers per zone, the chosen
 * egress, nothing open but the ALB, and data subnets with no route out.
 */
import { parseStackConfig } from "../config";
import { STACKS, all, find, idOf, runStack, stackConfig } from "../../test/helpers";

const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const SG = "aws:ec2/securityGroup:SecurityGroup";

describe.each(STACKS)("stack %s", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack), stack);
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("network: three tiers per AZ, the chosen egress, nothing open but the ALB", () => {
    const azs = config.network.availabilityZones;
    const subnets = all(run, "aws:ec2/subnet:Subnet");
    const tiers = config.network.egress === "public-subnets" ? 2 : 3;
    expect(subnets).toHaveLength(azs * tiers);
    for (const s of subnets) expect(s.inputs["mapPublicIpOnLaunch"]).toBe(false);
    const nats = { "nat-per-az": azs, "single-nat": 1, "public-subnets": 0 }[config.network.egress];
    expect(all(run, "aws:ec2/natGateway:NatGateway")).toHaveLength(nats);

    const ingress = all(run, INGRESS);
    const open = ingress.filter((r) => r.inputs["cidrIpv4"] || r.inputs["cidrIpv6"]);
    expect(open.map((r) => [r.name, r.inputs["fromPort"]])).toEqual([
      ["mastodon-network-alb-in-80", 80],
      ["mastodon-network-alb-in-443", 443],
    ]);
    // The data tier's groups take 5432/6379 from the three fleet roles' groups only.
    const dbIn = ingress.filter((r) => r.name.startsWith("mastodon-network-database-in-"));
    expect(dbIn.map((r) => [r.inputs["fromPort"], r.inputs["referencedSecurityGroupId"]])).toEqual(
      ["web", "streaming", "sidekiq"].map((role) => [5432, idOf(run, SG, `mastodon-network-${role}`)]),
    );
    const redisIn = ingress.filter((r) => r.name.startsWith("mastodon-network-redis-in-"));
    expect(redisIn.map((r) => r.inputs["toPort"])).toEqual([6379, 6379, 6379]);
    // Data stores open no connection outward.
    const egress = all(run, EGRESS);
    const dataGroups = ["database", "redis"].map((tier) => idOf(run, SG, `mastodon-network-${tier}`));
    expect(egress.length).toBeGreaterThan(0);
    expect(
      egress.filter((r) => dataGroups.includes(String(r.inputs["securityGroupId"]))).map((r) => r.name),
    ).toEqual([]);
    // Streaming ports reach every mastodon-streaming@ process.
    const ports = config.fleets.flatMap((f) => f.streaming?.ports ?? []);
    expect(find(run, INGRESS, "mastodon-network-streaming-in-alb").inputs).toMatchObject({
      fromPort: Math.min(...ports),
      toPort: Math.max(...ports),
      referencedSecurityGroupId: idOf(run, SG, "mastodon-network-alb"),
    });
  });

  test("the data subnets have no route out", () => {
    const routes = all(run, "aws:ec2/route:Route");
    const data = idOf(run, "aws:ec2/routeTable:RouteTable", "mastodon-network-data");
    expect(routes.filter((r) => r.inputs["routeTableId"] === data)).toEqual([]);
    expect(find(run, "aws:ec2/vpcEndpoint:VpcEndpoint").inputs).toMatchObject({
      serviceName: "com.amazonaws.us-east-1.s3",
      vpcEndpointType: "Gateway",
    });
  });
});
