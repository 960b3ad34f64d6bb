/**
 * A monthly cost estimate from dated, cited price tables (pure): EC2 from
 * data/ec2-c-family-prices-us-east-1.tsv (stamped 2026-07-20), everything else from
 * data/other-prices-us-east-1.tsv (2026-11-22, third-party, partly derived: estimates). Prices are
 * us-east-1; any other region is computed with them and flagged as estimated. Every fixed monthly
 * item is a row (instances, volumes, RDS, ElastiCache, the ALB's hours and an assumed floor of its
 * LCUs, public IPv4 addresses, NAT, KMS, a hosted zone, SSM); usage-based charges (data transfer,
 * LCUs above the floor, NAT processing, S3, CloudFront, SES, CloudWatch) are left out and said so.
 */
import { queueMonitoring } from "../monitoring/queueAlarms";
import { egressPlan } from "../network/subnets";
import { publishedSeries, stackQueues } from "../monitoring/metrics";
import { dataLines } from "../vocabulary/data";
import { ec2InstanceSpec } from "../vocabulary/catalog";
import type { StackConfig } from "../config/resolve";
import { searchCostRows } from "../search/cost";

export const HOURS_PER_MONTH = 730;
/**
 * The LCUs an ALB is assumed to use on average, every hour. One LCU is 1 GB processed an hour for
 * EC2 targets, 25 new connections a second or 3000 active a minute (Elastic Load Balancing
 * pricing); a handful of users' federation and API traffic stays far under half of one, so half
 * is the package's floor, not a measurement.
 */
export const ALB_LCU_FLOOR = 0.5;
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

/** The distinct metric series the hosts publish (src/monitoring/metrics.ts): CloudWatch bills each. */
export function publishedMetricCount(config: StackConfig): number {
  return publishedSeries(config.fleets, {
    pooled: config.database.pooler === "pgbouncer",
    localRedis: config.redis.onHost !== undefined,
  }).length;
}

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

  const onHost = config.redis.onHost;
  if (onHost) {
    // Both servers run on the fleet's host: the persistent one's own EBS volume is all they add.
    add({
      component: "redis",
      resource: `on the app host: persistent store's gp3 volume ${onHost.persistentVolumeGiB} GiB (AOF)`,
      quantityDesired: onHost.persistentVolumeGiB,
      quantityMax: onHost.persistentVolumeGiB,
      unitPrice: other("ebs:gp3").usd,
      unit: "gb-month",
      source: OTHER_SOURCE,
      estimated: true,
      note: `cache ${onHost.cacheMaxmemoryMiB} MiB + persistent ${onHost.persistentMaxmemoryMiB} MiB: no ElastiCache node, no extra instance`,
    });
  }
  for (const role of onHost ? [] : (["cache", "persistent"] as const)) {
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
    note: "LCU-hours below",
  });
  add({
    component: "edge",
    resource: `ALB LCU-hours, floor of ${ALB_LCU_FLOOR} LCU`,
    quantityDesired: ALB_LCU_FLOOR,
    quantityMax: ALB_LCU_FLOOR,
    unitPrice: other("alb-lcu").usd,
    unit: "hour",
    source: OTHER_SOURCE,
    estimated: true,
    note: "an assumed average; more traffic costs more (usage)",
  });
  // Every public IPv4 address is billed, in use or not (AWS, since 2024-02-01): the ALB holds one
  // per AZ, each NAT gateway one, and each host in a public subnet one.
  const nats = egressPlan(config.network.egress, config.network.availabilityZones);
  const hostsDesired = nats.fleetsInPublicSubnets ? config.fleets.reduce((s, f) => s + f.desiredSize, 0) : 0;
  const hostsMax = nats.fleetsInPublicSubnets ? config.fleets.reduce((s, f) => s + f.maxSize, 0) : 0;
  const redisHost =
    !onHost && config.redis.persistent.mode === "self-managed-aof" && nats.fleetsInPublicSubnets ? 1 : 0;
  const ipv4 = other("public-ipv4");
  const addresses = config.network.availabilityZones + nats.natGateways + redisHost;
  add({
    component: "network",
    resource: `public IPv4: ALB x ${config.network.availabilityZones}${nats.natGateways ? `, NAT x ${nats.natGateways}` : ""}${nats.fleetsInPublicSubnets ? ", one per host" : ""}${redisHost ? ", Redis host" : ""}`,
    quantityDesired: addresses + hostsDesired,
    quantityMax: addresses + hostsMax,
    unitPrice: ipv4.usd,
    unit: "hour",
    source: OTHER_SOURCE,
    estimated: false,
    note: "an ALB may add nodes (addresses) under load",
  });
  if (nats.natGateways) {
    add({
      component: "network",
      resource: "NAT gateway",
      quantityDesired: nats.natGateways,
      quantityMax: nats.natGateways,
      unitPrice: other("nat-gateway").usd,
      unit: "hour",
      source: OTHER_SOURCE,
      estimated: true,
      note: "plus per-GB processing (usage)",
    });
  }

  // What the hosts publish each minute (src/monitoring/metrics.ts) and the alarms on it (src/monitoring/queueAlarms.ts).
  const published = publishedMetricCount(config);
  const watched = queueMonitoring({
    stack: "",
    queues: stackQueues(config.fleets),
    alarms: config.alarms,
    pooledFleets:
      config.database.pooler === "pgbouncer" ? config.fleets.map((f) => ({ name: f.name, poolSize: 0 })) : [],
    streamingFleets: config.fleets.filter((f) => f.streaming).map((f) => f.name),
    onHostRedis: config.redis.onHost !== undefined,
    loadBalancer: "",
  });
  add({
    component: "operations",
    resource: `CloudWatch custom metrics (${published} published by the hosts)`,
    quantityDesired: published,
    quantityMax: published,
    unitPrice: other("cloudwatch-metric").usd,
    unit: "month",
    source: OTHER_SOURCE,
    estimated: false,
  });
  const alarmMetrics = watched.metrics.length + watched.math.reduce((n, a) => n + a.metrics.length, 0);
  add({
    component: "operations",
    resource: `CloudWatch alarms on them (${alarmMetrics} alarm metrics)`,
    quantityDesired: alarmMetrics,
    quantityMax: alarmMetrics,
    unitPrice: other("cloudwatch-alarm-metric").usd,
    unit: "month",
    source: OTHER_SOURCE,
    estimated: false,
    note: "the tiers' own alarms (RDS, ElastiCache, ALB, CPU) are not counted here",
  });

  // The alarm topic's customer-managed key (src/monitoring/monitoring.ts): CloudWatch cannot publish to
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

  if (config.dns) {
    add({
      component: "edge",
      resource: `Route 53 hosted zone ${config.dns.zoneName}`,
      quantityDesired: 1,
      quantityMax: 1,
      unitPrice: other("route53-hosted-zone").usd,
      unit: "month",
      source: OTHER_SOURCE,
      estimated: false,
      note: "the operator's zone, billed whether or not this stack made it; plus queries (alias queries to AWS are free)",
    });
  }
  add({
    component: "operations",
    resource: "SSM SecureString parameters (standard tier)",
    quantityDesired: 1,
    quantityMax: 1,
    unitPrice: other("ssm-parameter-standard").usd,
    unit: "month",
    source: OTHER_SOURCE,
    estimated: false,
    note: "the stack's secrets; encrypted under the AWS-managed aws/ssm key, which has no monthly charge",
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
      "data transfer out, ALB LCU-hours above the assumed floor, NAT gateway per-GB processing",
      "S3 storage and requests, CloudFront, SES, CloudWatch alarms, dashboard and metrics, SSM API calls (usage-based or monitoring)",
      // Operators' most common cost complaint: without removal the media cache only grows.
      `S3 media: local uploads grow with the instance; cached remote media is kept ${config.retention.mediaDays} days and preview cards ${config.retention.previewCardsDays} (mastodon:retention, removed daily on the scheduler's host; without it the cache grows forever)`,
      ...(otherRegion ? [`prices are us-east-1's; ${region} is estimated with them`] : []),
    ],
  };
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
