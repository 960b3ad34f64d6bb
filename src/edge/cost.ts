/**
 * The edge's monthly cost rows (pure): the ALB's hours and an assumed floor of its LCUs, and the
 * operator's Route 53 hosted zone, from data/other-prices-us-east-1.tsv (src/report/prices.ts).
 * src/report/cost.ts adds them up; LCUs above the floor are usage and left out.
 */
import type { StackConfig } from "../config/stackConfig";
import { type CostRowInput, OTHER_SOURCE, otherPrice } from "../report/prices";

/**
 * The LCUs an ALB is assumed to use on average, every hour. One LCU is 1 GB processed an hour for
 * EC2 targets, 25 new connections a second or 3000 active a minute (Elastic Load Balancing
 * pricing); a handful of users' federation and API traffic stays far under half of one, so half
 * is the package's floor, not a measurement.
 */
export const ALB_LCU_FLOOR = 0.5;

export function loadBalancerCostRows(): CostRowInput[] {
  const rows: CostRowInput[] = [];
  rows.push({
    component: "edge",
    resource: "Application Load Balancer",
    quantityDesired: 1,
    quantityMax: 1,
    unitPrice: otherPrice("alb").usd,
    unit: "hour",
    source: OTHER_SOURCE,
    estimated: true,
    note: "LCU-hours below",
  });
  rows.push({
    component: "edge",
    resource: `ALB LCU-hours, floor of ${ALB_LCU_FLOOR} LCU`,
    quantityDesired: ALB_LCU_FLOOR,
    quantityMax: ALB_LCU_FLOOR,
    unitPrice: otherPrice("alb-lcu").usd,
    unit: "hour",
    source: OTHER_SOURCE,
    estimated: true,
    note: "an assumed average; more traffic costs more (usage)",
  });
  return rows;
}

export function hostedZoneCostRow(dns: NonNullable<StackConfig["dns"]>): CostRowInput {
  return {
    component: "edge",
    resource: `Route 53 hosted zone ${dns.zoneName}`,
    quantityDesired: 1,
    quantityMax: 1,
    unitPrice: otherPrice("route53-hosted-zone").usd,
    unit: "month",
    source: OTHER_SOURCE,
    estimated: false,
    note: "the operator's zone, billed whether or not this stack made it; plus queries (alias queries to AWS are free)",
  };
}
