/**
 * The database's monthly cost rows (pure): the RDS primary (twice when Multi-AZ), the replica, and
 * the gp3 storage, from data/other-prices-us-east-1.tsv (src/report/prices.ts; estimates).
 * src/report/cost.ts adds them up.
 */
import type { StackConfig } from "../config/stackConfig";
import { type CostRowInput, OTHER_SOURCE, otherPrice } from "../report/prices";

export function databaseCostRows(database: StackConfig["database"]): CostRowInput[] {
  const rows: CostRowInput[] = [];
  const multiAz = database.multiAz ? 2 : 1;
  for (const [label, instance, az] of [
    ["database primary", database.primary, multiAz],
    ...(database.replica ? [["database replica", database.replica, 1] as const] : []),
  ] as const) {
    const price = otherPrice(`rds:${instance.instanceClass}`);
    rows.push({
      component: label,
      resource: `${instance.instanceClass}${az === 2 ? " Multi-AZ" : ""}`,
      quantityDesired: az,
      quantityMax: az,
      unitPrice: price.usd,
      unit: "hour",
      source: OTHER_SOURCE,
      estimated: true,
      ...(price.derived && { note: "derived from a listed size of the same family" }),
    });
  }
  const storage = otherPrice("rds:gp3");
  rows.push({
    component: "database primary",
    resource: `gp3 ${database.storageGiB} GiB${multiAz === 2 ? " Multi-AZ" : ""}`,
    quantityDesired: database.storageGiB * multiAz,
    quantityMax: database.maxStorageGiB * multiAz,
    unitPrice: storage.usd,
    unit: "gb-month",
    source: OTHER_SOURCE,
    estimated: true,
    note: "max: storage autoscaling at its ceiling",
  });
  return rows;
}
