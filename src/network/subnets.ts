/**
 * Subnet maths (pulumi-awsx style: pure, table-tested). The VPC is cut into three tiers per AZ:
 *
 *   app (private, fleets):   the first three quarters of the VPC, one quarter per AZ  (/16 -> /18)
 *   public (ALB, NAT):       the last quarter cut in eight, slots 0-2                  (/16 -> /21)
 *   data (RDS, ElastiCache): the last quarter cut in eight, slots 4-6                  (/16 -> /21)
 *
 * Fleets get the big blocks because every instance (and every ENI the ALB and ElastiCache add
 * beside them) takes an address; the data tier holds a handful of endpoints.
 */

export interface SubnetLayout {
  readonly public: readonly string[];
  readonly app: readonly string[];
  readonly data: readonly string[];
}

export interface Ipv4Cidr {
  readonly base: number;
  readonly prefix: number;
}

export function parseIpv4Cidr(cidr: string): Ipv4Cidr | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(cidr);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const prefix = Number(m[5]);
  if (octets.some((o) => o > 255) || prefix > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  return { base, prefix };
}

export function formatIpv4Cidr({ base, prefix }: Ipv4Cidr): string {
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256);
  return `${octets.join(".")}/${prefix}`;
}

/** True when the address has no bits set past its prefix (10.0.0.0/16, not 10.0.1.0/16). */
export function isAligned({ base, prefix }: Ipv4Cidr): boolean {
  return base % 2 ** (32 - prefix) === 0;
}

/** RFC 1918 private ranges: a VPC should live in one of them. */
export function isPrivate(cidr: Ipv4Cidr): boolean {
  const ranges: [string, number][] = [
    ["10.0.0.0", 8],
    ["172.16.0.0", 12],
    ["192.168.0.0", 16],
  ];
  return ranges.some(([addr, prefix]) => {
    const range = parseIpv4Cidr(`${addr}/${prefix}`);
    if (!range || cidr.prefix < prefix) return false;
    return Math.floor(cidr.base / 2 ** (32 - prefix)) === Math.floor(range.base / 2 ** (32 - prefix));
  });
}

/** The `index`-th block of prefix `newPrefix` inside `cidr`. */
export function subnet(cidr: Ipv4Cidr, newPrefix: number, index: number): string {
  const size = 2 ** (32 - newPrefix);
  if (index < 0 || (index + 1) * size > 2 ** (32 - cidr.prefix)) {
    throw new Error(`subnet ${index} of /${newPrefix} does not fit in ${formatIpv4Cidr(cidr)}`);
  }
  return formatIpv4Cidr({ base: cidr.base + index * size, prefix: newPrefix });
}

export function subnetLayout(vpcCidr: string, azCount: number): SubnetLayout {
  const cidr = parseIpv4Cidr(vpcCidr);
  if (!cidr || !isAligned(cidr)) throw new Error(`${vpcCidr} is not an aligned IPv4 CIDR`);
  if (azCount < 1 || azCount > 3) throw new Error(`1 to 3 availability zones, not ${azCount}`);
  const quarter = cidr.prefix + 2;
  const eighthOfLastQuarter = cidr.prefix + 5;
  const lastQuarter = parseIpv4Cidr(subnet(cidr, quarter, 3)) as Ipv4Cidr;
  const azs = Array.from({ length: azCount }, (_, i) => i);
  return {
    app: azs.map((i) => subnet(cidr, quarter, i)),
    public: azs.map((i) => subnet(lastQuarter, eighthOfLastQuarter, i)),
    data: azs.map((i) => subnet(lastQuarter, eighthOfLastQuarter, 4 + i)),
  };
}

/**
 * The `index`-th /64 of an Amazon-provided /56 (`2600:1f18:ab:cd00::/56`, 3 -> `2600:1f18:ab:cd03::/64`).
 * Indices 0-2 are public, 3-5 app, 6-8 data (tier x 3 + AZ).
 */
export function ipv6Subnet(vpcBlock: string, index: number): string {
  const [address = "", prefix] = vpcBlock.split("/");
  if (prefix !== "56") throw new Error(`expected an IPv6 /56, got ${vpcBlock}`);
  if (index < 0 || index > 255) throw new Error(`a /56 holds 256 /64s; ${index} is out of range`);
  const [head = "", tail = ""] = address.split("::");
  const headGroups = head ? head.split(":") : [];
  const tailGroups = tail ? tail.split(":") : [];
  const groups = [
    ...headGroups,
    ...Array(8 - headGroups.length - tailGroups.length).fill("0"),
    ...tailGroups,
  ].map((g) => parseInt(g, 16));
  // Bits 56-63 are the fourth group's low byte.
  const fourth = ((groups[3] ?? 0) & 0xff00) | index;
  const out = [...groups.slice(0, 3), fourth].map((g) => g.toString(16));
  return `${out.join(":")}::/64`;
}

/**
 * How fleets reach the internet (config network.egress). An `as const` object with a type of the same
 * name: the enum shape Pulumi's component analyzer turns into a schema enum (a bare literal union it
 * refuses).
 */
export const Egress = {
  /** A NAT gateway in every AZ: an AZ outage leaves the others' egress up. */
  NatPerAz: "nat-per-az",
  /** One NAT gateway for every AZ: cheaper, one AZ's failure cuts everyone's egress. */
  SingleNat: "single-nat",
  /** No NAT: fleets in public subnets with public IPv4, security groups admitting nothing from the internet. */
  PublicSubnets: "public-subnets",
} as const;
export type Egress = (typeof Egress)[keyof typeof Egress];

export interface EgressPlan {
  /** NAT gateways to run (and pay for). */
  readonly natGateways: number;
  /** Fleets sit in the public subnets with public IPv4 addresses (no app subnets). */
  readonly fleetsInPublicSubnets: boolean;
}

/** What an egress mode means for the network and the bill: one answer, read by both. */
export function egressPlan(egress: Egress, availabilityZones: number): EgressPlan {
  switch (egress) {
    case "nat-per-az":
      return { natGateways: availabilityZones, fleetsInPublicSubnets: false };
    case "single-nat":
      return { natGateways: 1, fleetsInPublicSubnets: false };
    case "public-subnets":
      return { natGateways: 0, fleetsInPublicSubnets: true };
    default: {
      const unknown: never = egress;
      throw new Error(`unknown egress ${String(unknown)}`);
    }
  }
}

/** One row of EC2's DescribeInstanceTypeOfferings by availability zone: a type offered in a zone. */
export interface InstanceTypeOffering {
  readonly instanceType: string;
  /** The zone's name (location type availability-zone). */
  readonly location: string;
}

/**
 * The zones a stack's subnets go in: in the region's order, the first `count` that offer every
 * instance type the stack's hosts run (EC2 API Reference, DescribeInstanceTypeOfferings with
 * LocationType availability-zone: a type not offered in a zone cannot launch there, and an Auto
 * Scaling group over that zone's subnet fails every launch it places there). Not by position: a
 * region's zones differ in what they offer (us-east-1's use1-az3 lacks most current types). Throws,
 * naming the types and what each skipped zone lacks, when fewer than `count` zones offer them all.
 * With no types, the region's first `count` zones.
 */
export function zonesOffering(
  zones: readonly string[],
  instanceTypes: readonly string[],
  offerings: readonly InstanceTypeOffering[],
  count: number,
): string[] {
  const types = [...new Set(instanceTypes)].sort();
  const offered = new Set(offerings.map((o) => `${o.location} ${o.instanceType}`));
  const lacking = (zone: string) => types.filter((t) => !offered.has(`${zone} ${t}`));
  const usable = zones.filter((z) => lacking(z).length === 0);
  if (usable.length >= count) return usable.slice(0, count);
  const skipped = zones
    .filter((z) => lacking(z).length > 0)
    .map((z) => `${z} lacks ${lacking(z).join(", ")}`);
  throw new Error(
    `${count} availability zones are needed (network.availabilityZones) but ${usable.length === 0 ? "no zone" : `only ${usable.join(", ")}`} of the region's ${zones.length} offers every instance type the stack runs (${types.join(", ")}): ${skipped.join("; ")}. ` +
      `Choose instance types every needed zone offers (aws ec2 describe-instance-type-offerings --location-type availability-zone), or fewer zones.`,
  );
}
