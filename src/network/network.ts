import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../vocabulary/defaults";
import { egressPlan, ipv6Subnet, subnetLayout, zonesOffering } from "./subnets";
import type { StackConfig } from "../config";
import type { NetworkArgs } from "./networkArgs";
import { BUILD_INSTANCE_TYPES } from "../images/imageRecipe";
import { ANY_IPV4, ANY_IPV6, type RoleSecurityGroups, roleSecurityGroups } from "./securityGroups";
import { providedType, withFormerType } from "../aws/typeToken";

export type { Egress } from "./subnets";

// The args are part of the package's API (lib/index.ts).
export type { NetworkArgs } from "./networkArgs";

/**
 * Every EC2 instance type a stack's hosts run, for NetworkArgs.instanceTypes: each fleet's type and
 * its Spot types, the self-managed Redis host's, and EC2 Image Builder's build instance per
 * architecture (all in the fleet subnets). Sorted, once each.
 */
export function hostInstanceTypes(config: StackConfig): string[] {
  const types = config.fleets.flatMap((f) => [f.instanceType, ...(f.spotInstanceTypes ?? [])]);
  const persistent = config.redis.persistent;
  if (!config.redis.onHost && "mode" in persistent && persistent.mode === "self-managed-aof")
    types.push(persistent.instanceType);
  if (config.image.source === "image-builder")
    for (const f of config.fleets) types.push(BUILD_INSTANCE_TYPES[f.instance.architecture]);
  return [...new Set(types)].sort();
}

const SUFFIXES = ["a", "b", "c"];

/**
 * A VPC over 2-3 AZs with three subnet tiers (public: ALB and NAT; app: fleets; data: RDS and
 * ElastiCache, no route out), the chosen egress, an S3 gateway endpoint, and one security group per
 * role chained ALB -> web/streaming -> database/redis (docs/design.md, "Topology").
 *
 * The zones are the region's first that offer every instance type in `instanceTypes` (EC2
 * DescribeInstanceTypeOfferings), not simply its first: zones differ in what they offer, and an Auto
 * Scaling group cannot launch a type in a zone that lacks it. Too few such zones is refused with the
 * types and what each zone lacks. The choice follows the offerings: a type added to the stack that a
 * chosen zone lacks moves that zone's subnets (a replacement `pulumi preview` shows), as it must for
 * the hosts to launch; a skipped zone that later offers every type moves them back the same way.
 */
export class Network extends pulumi.ComponentResource {
  /** The VPC. */
  public readonly vpc: aws.ec2.Vpc;
  /** The VPC's ID. */
  public readonly vpcId: pulumi.Output<string>;
  /** The VPC's IPv4 CIDR, e.g. 10.0.0.0/16. */
  public readonly cidr: string;
  /** The zones the subnets are in, in subnet order (e.g. us-east-1a, us-east-1b). */
  public readonly availabilityZones: pulumi.Output<string[]>;
  /** One public subnet per zone: the ALB, the NAT gateways (and the fleets without NAT). */
  public readonly publicSubnetIds: pulumi.Output<string>[];
  /** One app subnet per zone: the fleets, out through NAT. */
  public readonly appSubnetIds: pulumi.Output<string>[];
  /** One data subnet per zone, with no route out: RDS, ElastiCache, OpenSearch. */
  public readonly dataSubnetIds: pulumi.Output<string>[];
  /** Where fleets run: app subnets, or public subnets when egress is "public-subnets". */
  public readonly fleetSubnetIds: pulumi.Output<string>[];
  /** True when fleets sit in public subnets and need a public IPv4 address for egress. */
  public readonly fleetsNeedPublicIp: boolean;
  /** Whether the VPC is dual-stack (an Amazon-provided IPv6 /56, a /64 per subnet). */
  public readonly ipv6: boolean;
  /** One security group per role, chained ALB -> web/streaming -> database/redis. */
  public readonly securityGroups: RoleSecurityGroups;

  constructor(name: string, args: NetworkArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("Network"), name, {}, withFormerType("mastodon:network:Network", opts));
    const cidr = args.cidr ?? DEFAULTS.network.cidr;
    const azCount = args.availabilityZones ?? DEFAULTS.network.availabilityZones;
    const egress = args.egress ?? DEFAULTS.network.egress;
    const ipv6 = args.ipv6 ?? false;
    const streamingPorts = args.streamingPorts ?? [DEFAULTS.streaming.firstPort];
    const layout = subnetLayout(cidr, azCount);
    const parent = { parent: this };
    const tags = (suffix: string) => ({ Name: `${name}-${suffix}` });

    this.cidr = cidr;
    this.ipv6 = ipv6;
    const plan = egressPlan(egress, azCount);
    this.fleetsNeedPublicIp = plan.fleetsInPublicSubnets;

    const zones = aws.getAvailabilityZonesOutput(
      { state: "available", filters: [{ name: "opt-in-status", values: ["opt-in-not-required"] }] },
      parent,
    );
    const instanceTypes = [...new Set(args.instanceTypes ?? [])].sort();
    // Which of those zones offer each type (one row per type and zone; none asked, none needed).
    const offerings = instanceTypes.length
      ? aws.ec2
          .getInstanceTypeOfferingsOutput(
            {
              locationType: "availability-zone",
              filters: [{ name: "instance-type", values: instanceTypes }],
            },
            parent,
          )
          .apply((o) =>
            o.instanceTypes.map((instanceType, i) => ({ instanceType, location: o.locations[i] ?? "" })),
          )
      : pulumi.output([]);
    this.availabilityZones = pulumi.all([zones.names, offerings]).apply(([names, offered]) => {
      if (names.length < azCount)
        throw new Error(`${name}: the region offers ${names.length} AZs, ${azCount} asked`);
      try {
        return zonesOffering(names, instanceTypes, offered, azCount);
      } catch (e) {
        throw new Error(`${name}: ${(e as Error).message}`, { cause: e });
      }
    });
    const az = (i: number) => this.availabilityZones.apply((names) => names[i] as string);

    this.vpc = new aws.ec2.Vpc(
      `${name}-vpc`,
      {
        cidrBlock: cidr,
        enableDnsHostnames: true, // RDS and ElastiCache endpoints resolve through the VPC resolver
        enableDnsSupport: true,
        assignGeneratedIpv6CidrBlock: ipv6,
        tags: tags("vpc"),
      },
      parent,
    );
    this.vpcId = this.vpc.id;
    const igw = new aws.ec2.InternetGateway(`${name}-igw`, { vpcId: this.vpc.id, tags: tags("igw") }, parent);

    // tier x 3 + AZ indexes the /64s of the VPC's /56: public 0-2, app 3-5, data 6-8.
    const subnetIpv6 = (tierIndex: number, i: number) =>
      ipv6
        ? {
            ipv6CidrBlock: this.vpc.ipv6CidrBlock.apply((b) => ipv6Subnet(b, tierIndex * 3 + i)),
            assignIpv6AddressOnCreation: true,
          }
        : {};
    const makeSubnets = (tier: "public" | "app" | "data", tierIndex: number) =>
      layout[tier].map(
        (block, i) =>
          new aws.ec2.Subnet(
            `${name}-${tier}-${SUFFIXES[i]}`,
            {
              vpcId: this.vpc.id,
              cidrBlock: block,
              availabilityZone: az(i),
              // Public IPs are asked for per launch template, never handed out by default.
              mapPublicIpOnLaunch: false,
              ...subnetIpv6(tierIndex, i),
              tags: { ...tags(`${tier}-${SUFFIXES[i]}`), "mastodon:tier": tier },
            },
            parent,
          ),
      );

    const publicSubnets = makeSubnets("public", 0);
    const appSubnets = plan.fleetsInPublicSubnets ? [] : makeSubnets("app", 1);
    const dataSubnets = makeSubnets("data", 2);

    const publicRoutes = new aws.ec2.RouteTable(
      `${name}-public`,
      { vpcId: this.vpc.id, tags: tags("public") },
      parent,
    );
    new aws.ec2.Route(
      `${name}-public-default`,
      { routeTableId: publicRoutes.id, destinationCidrBlock: ANY_IPV4, gatewayId: igw.id },
      parent,
    );
    if (ipv6) {
      new aws.ec2.Route(
        `${name}-public-default-v6`,
        { routeTableId: publicRoutes.id, destinationIpv6CidrBlock: ANY_IPV6, gatewayId: igw.id },
        parent,
      );
    }
    publicSubnets.forEach(
      (s, i) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-public-${SUFFIXES[i]}`,
          { subnetId: s.id, routeTableId: publicRoutes.id },
          parent,
        ),
    );

    const natCount = plan.natGateways;
    const nats = Array.from({ length: natCount }, (_, i) => {
      const eip = new aws.ec2.Eip(
        `${name}-nat-${SUFFIXES[i]}`,
        { domain: "vpc", tags: tags(`nat-${SUFFIXES[i]}`) },
        { parent: this, dependsOn: [igw] },
      );
      return new aws.ec2.NatGateway(
        `${name}-nat-${SUFFIXES[i]}`,
        {
          allocationId: eip.id,
          subnetId: (publicSubnets[i] as aws.ec2.Subnet).id,
          tags: tags(`nat-${SUFFIXES[i]}`),
        },
        parent,
      );
    });
    const egressOnly =
      ipv6 && appSubnets.length
        ? new aws.ec2.EgressOnlyInternetGateway(
            `${name}-eigw`,
            { vpcId: this.vpc.id, tags: tags("eigw") },
            parent,
          )
        : undefined;

    const appRouteTables = appSubnets.map((s, i) => {
      const table = new aws.ec2.RouteTable(
        `${name}-app-${SUFFIXES[i]}`,
        { vpcId: this.vpc.id, tags: tags(`app-${SUFFIXES[i]}`) },
        parent,
      );
      const nat = nats[Math.min(i, nats.length - 1)] as aws.ec2.NatGateway;
      new aws.ec2.Route(
        `${name}-app-${SUFFIXES[i]}-default`,
        { routeTableId: table.id, destinationCidrBlock: ANY_IPV4, natGatewayId: nat.id },
        parent,
      );
      if (egressOnly) {
        new aws.ec2.Route(
          `${name}-app-${SUFFIXES[i]}-default-v6`,
          { routeTableId: table.id, destinationIpv6CidrBlock: ANY_IPV6, egressOnlyGatewayId: egressOnly.id },
          parent,
        );
      }
      new aws.ec2.RouteTableAssociation(
        `${name}-app-${SUFFIXES[i]}`,
        { subnetId: s.id, routeTableId: table.id },
        parent,
      );
      return table;
    });

    // The data tier has no route out: only the VPC-local route.
    const dataRoutes = new aws.ec2.RouteTable(
      `${name}-data`,
      { vpcId: this.vpc.id, tags: tags("data") },
      parent,
    );
    dataSubnets.forEach(
      (s, i) =>
        new aws.ec2.RouteTableAssociation(
          `${name}-data-${SUFFIXES[i]}`,
          { subnetId: s.id, routeTableId: dataRoutes.id },
          parent,
        ),
    );

    // Media uploads and SSM's S3 traffic stay off the NAT gateways (and off their per-GB charge).
    const region = aws.getRegionOutput({}, parent).region;
    new aws.ec2.VpcEndpoint(
      `${name}-s3`,
      {
        vpcId: this.vpc.id,
        serviceName: pulumi.interpolate`com.amazonaws.${region}.s3`,
        vpcEndpointType: "Gateway",
        routeTableIds: [publicRoutes.id, ...appRouteTables.map((t) => t.id)],
        tags: tags("s3"),
      },
      parent,
    );

    this.publicSubnetIds = publicSubnets.map((s) => s.id);
    this.appSubnetIds = appSubnets.map((s) => s.id);
    this.dataSubnetIds = dataSubnets.map((s) => s.id);
    this.fleetSubnetIds = plan.fleetsInPublicSubnets ? this.publicSubnetIds : this.appSubnetIds;
    this.securityGroups = roleSecurityGroups(name, this.vpc.id, ipv6, streamingPorts, this);

    this.registerOutputs({
      vpcId: this.vpcId,
      publicSubnetIds: this.publicSubnetIds,
      appSubnetIds: this.appSubnetIds,
      dataSubnetIds: this.dataSubnetIds,
    });
  }
}
