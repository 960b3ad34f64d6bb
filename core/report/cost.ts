/**
 * A monthly cost estimate from dated, cited price tables (pure): EC2 from
 * data/ec2-c-family-prices-us-east-1.tsv (stamped 2026-07-20), everything else from
 * data/other-prices-us-east-1.tsv (2026-11-22, third-party, partly derived: estimates). Prices are
 * us-east-1; any other region is computed with them and flagged as estimated. Usage-based charges
 * (data transfer, LCUs, NAT processing, S3, CloudFront, SES) are left out and said so.
 */
import { egressPlan } from "../aws/subnets";
import { dataLines } from "../data";
import { ec2InstanceSpec } from "../sizing/catalog";
import type { StackConfig } from "../config/resolve";
import { searchCostRows } from "./searchCost";

export const HOURS_PER_MONTH = 730;
export const PRICE_DATE = "2026-11-22";
export const PRICE_REGION = "us-east-1";
export const EC2_SOURCE =
  "data/ec2-c-family-prices-us-east-1.tsv (karpenter-provider-aws generated table, 2026-07-20)";
export const OTHER_SOURCE = "data/other-prices-us-east-1.tsv (third-party tables, 2026-11-22; estimates)";

interface OtherPrice {
  readonly usd: number;
  readonly unit: PriceUnit;
  readonly derived: boolean;
}

function readOtherPrices(): Map<string, OtherPrice> {
  const prices = new Map<string, OtherPrice>();
  for (const line of dataLines("other-prices-us-east-1.tsv")) {
    if (line.startsWith("item\t")) continue;
    const [item, unit, usd, basis] = line.split("\t");
    if (item && unit && usd)
      prices.set(item, {
        usd: Number(usd),
        unit: unit as OtherPrice["unit"],
        derived: (basis ?? "").startsWith("derived"),
      });
  }
  return prices;
}
const OTHER_PRICES = readOtherPrices();

/** What a price is per: an hour, a GB-month, or a month (per item). */
export type PriceUnit = "hour" | "gb-month" | "month";

/** How a unit is written after a price. */
export const PRICE_UNITS: Readonly<Record<PriceUnit, string>> = {
  hour: "h",
  "gb-month": "GB-mo",
  month: "mo",
};

export interface CostRow {
  readonly component: string;
  readonly resource: string;
  readonly quantityDesired: number;
  readonly quantityMax: number;
  readonly unitPrice: number;
  readonly unit: PriceUnit;
  readonly monthlyDesired: number;
  readonly monthlyMax: number;
  readonly source: string;
  readonly estimated: boolean;
  readonly note?: string;
}

export interface CostEstimate {
  readonly currency: "USD";
  readonly priceDate: string;
  readonly region: string;
  /** True when any price is an estimate (derived, third-party, or another region). */
  readonly estimated: boolean;
  readonly monthly: { readonly desired: number; readonly max: number };
  readonly rows: readonly CostRow[];
  readonly excluded: readonly string[];
}

const round2 = (x: number) => Math.round(x * 100) / 100;

export function costEstimate(config: StackConfig, region: string): CostEstimate {
  const otherRegion = region !== PRICE_REGION;
  const rows: CostRow[] = [];
  const add = (
    row: Omit<CostRow, "monthlyDesired" | "monthlyMax" | "estimated"> & { estimated: boolean },
  ) => {
    const perMonth = row.unit === "hour" ? row.unitPrice * HOURS_PER_MONTH : row.unitPrice;
    rows.push({
      ...row,
      estimated: row.estimated || otherRegion,
      monthlyDesired: round2(perMonth * row.quantityDesired),
      monthlyMax: round2(perMonth * row.quantityMax),
    });
  };
  const other = (item: string): OtherPrice => {
    const price = OTHER_PRICES.get(item);
    if (!price)
      throw new Error(`no price for ${item} in data/other-prices-us-east-1.tsv; add a row (with its source)`);
    return price;
  };

  for (const fleet of config.fleets) {
    const spec = ec2InstanceSpec(fleet.instanceType);
    if (!spec) throw new Error(`no price for ${fleet.instanceType}`);
    add({
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
    const ebs = other("ebs:gp3");
    add({
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

  const { database } = config;
  const multiAz = database.multiAz ? 2 : 1;
  for (const [label, instance, az] of [
    ["database primary", database.primary, multiAz],
    ...(database.replica ? [["database replica", database.replica, 1] as const] : []),
  ] as const) {
    const price = other(`rds:${instance.instanceClass}`);
    add({
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
  const storage = other("rds:gp3");
  add({
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

  for (const role of ["cache", "persistent"] as const) {
    const redis = config.redis[role];
    if ("mode" in redis && redis.mode === "self-managed-aof") {
      const spec = ec2InstanceSpec(redis.instanceType);
      if (!spec) throw new Error(`no price for ${redis.instanceType}`);
      add({
        component: `redis ${role}`,
        resource: `${redis.instanceType} (self-managed AOF)`,
        quantityDesired: 1,
        quantityMax: 1,
        unitPrice: spec.usdPerHour,
        unit: "hour",
        source: EC2_SOURCE,
        estimated: false,
      });
      add({
        component: `redis ${role}`,
        resource: `gp3 data ${redis.volumeGiB} GiB`,
        quantityDesired: redis.volumeGiB,
        quantityMax: redis.volumeGiB,
        unitPrice: other("ebs:gp3").usd,
        unit: "gb-month",
        source: OTHER_SOURCE,
        estimated: true,
      });
      continue;
    }
    const price = other(`elasticache-redis:${redis.nodeType}`);
    // Valkey is priced at 80% of Redis OSS (other-prices-us-east-1.md).
    const unitPrice = redis.engine === "valkey" ? round4(price.usd * 0.8) : price.usd;
    add({
      component: `redis ${role}`,
      resource: `${redis.engine} ${redis.nodeType}`,
      quantityDesired: redis.nodes,
      quantityMax: redis.nodes,
      unitPrice,
      unit: "hour",
      source: OTHER_SOURCE,
      estimated: true,
      ...(price.derived && { note: "derived from a listed size of the same family" }),
    });
  }

  if (config.search) for (const row of searchCostRows(config.search, other, OTHER_SOURCE)) add(row);

  add({
    component: "edge",
    resource: "Application Load Balancer",
    quantityDesired: 1,
    quantityMax: 1,
    unitPrice: other("alb").usd,
    unit: "hour",
    source: OTHER_SOURCE,
    estimated: true,
    note: "plus LCU-hours (usage)",
  });
  const nats = egressPlan(config.network.egress, config.network.availabilityZones).natGateways;
  if (nats) {
    add({
      component: "network",
      resource: "NAT gateway",
      quantityDesired: nats,
      quantityMax: nats,
      unitPrice: other("nat-gateway").usd,
      unit: "hour",
      source: OTHER_SOURCE,
      estimated: true,
      note: "plus per-GB processing (usage)",
    });
  }

  // The alarm topic's customer-managed key (components/monitoring.ts): CloudWatch cannot publish to
  // a topic under the AWS-managed alias/aws/sns key.
  add({
    component: "operations",
    resource: "KMS key (alarm topic)",
    quantityDesired: 1,
    quantityMax: 1,
    unitPrice: other("kms-key").usd,
    unit: "month",
    source: OTHER_SOURCE,
    estimated: false,
    note: "+1 USD/month after each of the first two yearly rotations",
  });

  return {
    currency: "USD",
    priceDate: PRICE_DATE,
    region,
    estimated: rows.some((r) => r.estimated),
    monthly: {
      desired: round2(rows.reduce((s, r) => s + r.monthlyDesired, 0)),
      max: round2(rows.reduce((s, r) => s + r.monthlyMax, 0)),
    },
    rows,
    excluded: [
      "data transfer out, ALB LCU-hours, NAT gateway per-GB processing",
      "S3 storage and requests, CloudFront, SES, CloudWatch, SSM Parameter Store (usage-based)",
      ...(otherRegion ? [`prices are us-east-1's; ${region} is estimated with them`] : []),
    ],
  };
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
