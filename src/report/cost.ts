/**
 * A monthly cost estimate from dated, cited price tables (pure; ./prices.ts): EC2 from
 * data/ec2-c-family-prices-us-east-1.tsv (stamped 2026-07-20), everything else from
 * data/other-prices-us-east-1.tsv (2026-11-22, third-party, partly derived: estimates). Prices are
 * us-east-1; any other region is computed with them and flagged as estimated. Every fixed monthly
 * item is a row (instances, volumes, RDS, ElastiCache, the ALB's hours and an assumed floor of its
 * LCUs, public IPv4 addresses, NAT, KMS, a hosted zone, SSM, the WAF's web ACL and rules); usage-based
 * charges (data transfer, LCUs above the floor, NAT processing, S3, CloudFront, SES, CloudWatch, the
 * WAF's requests) are left out and said so.
 * Each part writes its own rows beside it (src/<part>/cost.ts); this adds them up in order.
 */
import type { StackConfig } from "../config/stackConfig";
import { fleetCostRows } from "../fleet/cost";
import { databaseCostRows } from "../database/cost";
import { redisCostRows } from "../redis/cost";
import { searchCostRows } from "../search/cost";
import { hostedZoneCostRow, loadBalancerCostRows } from "../edge/cost";
import { networkCostRows } from "../network/cost";
import { monitoringCostRows } from "../monitoring/cost";
import { wafCostRows, wafRequestsNotPriced } from "../waf/cost";
import {
  type CostRow,
  type CostRowInput,
  HOURS_PER_MONTH,
  OTHER_SOURCE,
  PRICE_DATE,
  PRICE_REGION,
  otherPrice,
} from "./prices";

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

/**
 * What of CloudWatch no row prices: the dashboard, the alarms on the metrics AWS publishes for the
 * tiers (RDS, ElastiCache, OpenSearch, the ALB, EC2), which vary by stack, and the journal every
 * fleet host ships to CloudWatch Logs (src/monitoring/logs.ts: ingestion and storage by volume). The
 * hosts' custom metrics and the alarms on them are rows (src/monitoring/cost.ts).
 */
export function cloudWatchNotPriced(rows: readonly CostRow[]): string {
  const priced = (resource: string) => rows.some((r) => r.resource.startsWith(resource));
  return [
    "the CloudWatch dashboard",
    priced("CloudWatch alarms") ? "the alarms on the tiers' own AWS metrics" : "CloudWatch alarms",
    ...(priced("CloudWatch custom metrics") ? [] : ["CloudWatch metrics"]),
    "the hosts' logs in CloudWatch Logs",
  ].join(", ");
}

export function costEstimate(config: StackConfig, region: string): CostEstimate {
  const otherRegion = region !== PRICE_REGION;
  const rows: CostRow[] = [];
  const add = (row: CostRowInput) => {
    const perMonth = row.unit === "hour" ? row.unitPrice * HOURS_PER_MONTH : row.unitPrice;
    rows.push({
      ...row,
      estimated: row.estimated || otherRegion,
      monthlyDesired: round2(perMonth * row.quantityDesired),
      monthlyMax: round2(perMonth * row.quantityMax),
    });
  };

  for (const row of fleetCostRows(config.fleets)) add(row);
  for (const row of databaseCostRows(config.database)) add(row);
  for (const row of redisCostRows(config.redis)) add(row);
  if (config.search) for (const row of searchCostRows(config.search, otherPrice, OTHER_SOURCE)) add(row);
  for (const row of loadBalancerCostRows()) add(row);
  if (config.waf) for (const row of wafCostRows(config.waf)) add(row);
  for (const row of networkCostRows(config)) add(row);
  for (const row of monitoringCostRows(config)) add(row);
  if (config.dns) add(hostedZoneCostRow(config.dns));
  add({
    component: "operations",
    resource: "SSM SecureString parameters (standard tier)",
    quantityDesired: 1,
    quantityMax: 1,
    unitPrice: otherPrice("ssm-parameter-standard").usd,
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
      `S3 storage and requests, CloudFront, SES, ${cloudWatchNotPriced(rows)}, SSM API calls (usage-based or monitoring)`,
      ...(config.waf ? [`${wafRequestsNotPriced()} (usage-based)`] : []),
      // Operators' most common cost complaint: without removal the media cache only grows.
      `S3 media: local uploads grow with the instance; cached remote media is kept ${config.retention.mediaDays} days and preview cards ${config.retention.previewCardsDays} (mastodon:retention, removed daily on the scheduler's host; without it the cache grows forever)`,
      ...(otherRegion ? [`prices are us-east-1's; ${region} is estimated with them`] : []),
    ],
  };
}
