/**
 * The fleets' monthly cost rows (pure): each fleet's instance hours, from
 * data/ec2-c-family-prices-us-east-1.tsv, and its hosts' gp3 root volumes, from
 * data/other-prices-us-east-1.tsv (src/report/prices.ts). src/report/cost.ts adds them up.
 */
import { ec2InstanceSpec } from "../vocabulary/catalog";
import type { Fleet } from "../config/stackConfig";
import { type CostRowInput, EC2_SOURCE, OTHER_SOURCE, otherPrice } from "../report/prices";

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
  }
  return rows;
}
