/**
 * The fleets' monthly cost rows (pure): each fleet's instance hours, from
 * data/ec2-c-family-prices-us-east-1.tsv, its hosts' gp3 root volumes, from
 * data/other-prices-us-east-1.tsv (src/report/prices.ts), and its warm pool's (src/fleet/warmPool.ts).
 * src/report/cost.ts adds them up.
 */
import { ec2InstanceSpec } from "../vocabulary/catalog";
import type { Fleet } from "../config/stackConfig";
import { type CostRowInput, EC2_SOURCE, OTHER_SOURCE, otherPrice } from "../report/prices";

/**
 * What a warm pool adds. Its size is absolute (MinSize = MaxGroupPreparedCapacity, Amazon EC2 Auto
 * Scaling API Reference, PutWarmPool), so the quantity is the same at desired and at maximum size.
 * A Stopped pool costs its instances' volumes only (Amazon EC2 Auto Scaling User Guide, "Warm pools
 * for Amazon EC2 Auto Scaling": "With stopped instances, you pay only for the volumes that you use
 * and the Elastic IP addresses attached to the instances"; the hosts have no Elastic IP); a
 * Running pool costs its instance hours too.
 */
function warmPoolRows(fleet: Fleet, usdPerHour: number, gp3: number): CostRowInput[] {
  const pool = fleet.warmPool;
  if (!pool) return [];
  const what = `warm pool: ${pool.size} ${pool.state.toLowerCase()}`;
  const volumes: CostRowInput = {
    component: `fleet ${fleet.name}`,
    resource: `${what}, gp3 root ${fleet.rootVolumeGiB} GiB`,
    quantityDesired: pool.size * fleet.rootVolumeGiB,
    quantityMax: pool.size * fleet.rootVolumeGiB,
    unitPrice: gp3,
    unit: "gb-month",
    source: OTHER_SOURCE,
    estimated: true,
    ...(pool.state === "Stopped" && {
      note: "stopped pooled instances: only their volumes are billed (EC2 Auto Scaling User Guide, warm pools)",
    }),
  };
  if (pool.state === "Stopped") return [volumes];
  return [
    {
      component: `fleet ${fleet.name}`,
      resource: `${what}, ${fleet.instanceType}`,
      quantityDesired: pool.size,
      quantityMax: pool.size,
      unitPrice: usdPerHour,
      unit: "hour",
      source: EC2_SOURCE,
      estimated: false,
      note: "running pooled instances are billed as running hosts, beside the group's own",
    },
    volumes,
  ];
}

export function fleetCostRows(fleets: readonly Fleet[]): CostRowInput[] {
  const rows: CostRowInput[] = [];
  for (const fleet of fleets) {
    const spec = ec2InstanceSpec(fleet.instanceType);
    if (!spec) throw new Error(`no price for ${fleet.instanceType}`);
    rows.push({
      component: `fleet ${fleet.name}`,
      resource: fleet.instanceType,
      quantityDesired: fleet.desiredSize,
      quantityMax: fleet.maxSize,
      unitPrice: spec.usdPerHour,
      unit: "hour",
      source: EC2_SOURCE,
      estimated: false,
      ...(fleet.spot && {
        note: `Spot above ${fleet.minSize} host(s): priced here at on-demand, an upper bound`,
      }),
    });
    const ebs = otherPrice("ebs:gp3");
    rows.push({
      component: `fleet ${fleet.name}`,
      resource: `gp3 root ${fleet.rootVolumeGiB} GiB`,
      quantityDesired: fleet.desiredSize * fleet.rootVolumeGiB,
      quantityMax: fleet.maxSize * fleet.rootVolumeGiB,
      unitPrice: ebs.usd,
      unit: "gb-month",
      source: OTHER_SOURCE,
      estimated: true,
    });
    rows.push(...warmPoolRows(fleet, spec.usdPerHour, ebs.usd));
  }
  return rows;
}
