/**
 * The fake account's availability zones and what EC2 offers in each: ec2.getAvailabilityZones and
 * ec2.getInstanceTypeOfferings answer from here (src/testing/fakeCloud.ts).
 *
 * A zone's name maps to its zone ID per account (AWS RAM User Guide, "Availability Zone IDs for your
 * AWS resources": us-east-1a in one account may be another account's us-east-1c); the ID names the
 * physical zone. In us-east-1 the zone use1-az3 is the constrained one: it offers older generations
 * only, none of the 6th generation or later and no Graviton type (c6g, c7g, c7i, m7g, r7g, ...), so
 * DescribeInstanceTypeOfferings leaves it out for them (EC2 API Reference,
 * DescribeInstanceTypeOfferings; EC2 User Guide, "Find an Amazon EC2 instance type": "instance types
 * ... might not be available in every Availability Zone"). The fake gives the account the common
 * mapping, us-east-1e = use1-az3; FakeCloudOptions.zoneIds gives an account another.
 */

export interface Zone {
  readonly name: string;
  readonly zoneId: string;
}

/** The short region code zone IDs carry: us-east-1 -> use1, eu-west-1 -> euw1, ap-northeast-1 -> apne1. */
export function regionCode(region: string): string {
  const m = /^([a-z]+)-([a-z]+)-(\d+)$/.exec(region);
  if (!m) return region;
  const direction = (m[2] as string)
    .replace("central", "c")
    .replace(/north|south|east|west/g, (d) => d[0] as string);
  return `${m[1]}${direction}${m[3]}`;
}

/** Each region's zones as the fake account sees them, in name order (how AWS lists them). */
const REGION_ZONES: Readonly<Record<string, readonly Zone[]>> = {
  "us-east-1": [
    { name: "us-east-1a", zoneId: "use1-az1" },
    { name: "us-east-1b", zoneId: "use1-az2" },
    { name: "us-east-1c", zoneId: "use1-az4" },
    { name: "us-east-1d", zoneId: "use1-az6" },
    { name: "us-east-1e", zoneId: "use1-az3" },
    { name: "us-east-1f", zoneId: "use1-az5" },
  ],
};

/** The account's zones in `region`: the table's, or four (a-d, az1-az4), renamed per `zoneIds` (name -> ID). */
export function regionZones(region: string, zoneIds?: Readonly<Record<string, string>>): Zone[] {
  const zones =
    REGION_ZONES[region] ??
    ["a", "b", "c", "d"].map((s, i) => ({
      name: `${region}${s}`,
      zoneId: `${regionCode(region)}-az${i + 1}`,
    }));
  return zones.map((z) => ({ name: z.name, zoneId: zoneIds?.[z.name] ?? z.zoneId }));
}

/** A zone (by ID) that lacks types, and which: use1-az3, generation 6 and later and every Graviton type. */
const CONSTRAINED_ZONES: Readonly<Record<string, (instanceType: string) => boolean>> = {
  "use1-az3": (instanceType) => {
    const m = /^([a-z]+)(\d+)([a-z-]*)\./.exec(instanceType);
    if (!m) return false;
    return Number(m[2]) < 6 && !(m[3] as string).includes("g");
  },
};

/** Whether EC2 offers `instanceType` in the zone with ID `zoneId` (any well-formed type elsewhere). */
export function offeredIn(zoneId: string, instanceType: string): boolean {
  if (!/^[a-z][a-z0-9-]*\.[a-z0-9]+$/.test(instanceType)) return false;
  const offers = CONSTRAINED_ZONES[zoneId];
  return offers ? offers(instanceType) : true;
}

/** ec2.getAvailabilityZones: the account's zones in `region`, names and IDs in name order. */
export function availabilityZonesAnswer(region: string, zoneIds?: Readonly<Record<string, string>>) {
  const zones = regionZones(region, zoneIds);
  return { id: region, names: zones.map((z) => z.name), zoneIds: zones.map((z) => z.zoneId) };
}

/**
 * ec2.getInstanceTypeOfferings (EC2 DescribeInstanceTypeOfferings): one row per requested type and
 * location offering it; location type `region` (the default), `availability-zone` or
 * `availability-zone-id`. A type offered nowhere is left out, not refused.
 */
export function instanceTypeOfferingsAnswer(
  inputs: Readonly<Record<string, unknown>>,
  region: string,
  zoneIds?: Readonly<Record<string, string>>,
) {
  const locationType = typeof inputs["locationType"] === "string" ? inputs["locationType"] : "region";
  const filters = (inputs["filters"] as { name: string; values: string[] }[] | undefined) ?? [];
  const types = filters.find((f) => f.name === "instance-type")?.values;
  if (!types) throw new Error("the fake cloud answers ec2.getInstanceTypeOfferings by instance-type only");
  const zones = regionZones(region, zoneIds);
  const rows: { instanceType: string; location: string }[] = [];
  for (const instanceType of types) {
    const offering = zones.filter((z) => offeredIn(z.zoneId, instanceType));
    if (locationType === "region") {
      if (offering.length) rows.push({ instanceType, location: region });
    } else
      for (const z of offering)
        rows.push({ instanceType, location: locationType === "availability-zone-id" ? z.zoneId : z.name });
  }
  return {
    id: region,
    instanceTypes: rows.map((r) => r.instanceType),
    locations: rows.map((r) => r.location),
    locationTypes: rows.map(() => locationType),
  };
}
