/**
 * The network's monthly cost rows (pure): the public IPv4 addresses (the ALB's, the NAT gateways',
 * and the hosts' in public subnets) and the NAT gateways' hours, from
 * data/other-prices-us-east-1.tsv (src/report/prices.ts). src/report/cost.ts adds them up; NAT
 * per-GB processing is usage and left out.
 */
import { egressPlan } from "./subnets";
import type { StackConfig } from "../config/stackConfig";
import { type CostRowInput, OTHER_SOURCE, otherPrice } from "../report/prices";

export function networkCostRows(config: StackConfig): CostRowInput[] {
  const rows: CostRowInput[] = [];
  const onHost = config.redis.onHost;
  // Every public IPv4 address is billed, in use or not (AWS, since 2024-02-01): the ALB holds one
  // per AZ, each NAT gateway one, and each host in a public subnet one.
  const nats = egressPlan(config.network.egress, config.network.availabilityZones);
  const hostsDesired = nats.fleetsInPublicSubnets ? config.fleets.reduce((s, f) => s + f.desiredSize, 0) : 0;
  const hostsMax = nats.fleetsInPublicSubnets ? config.fleets.reduce((s, f) => s + f.maxSize, 0) : 0;
  const redisHost =
    !onHost && config.redis.persistent.mode === "self-managed-aof" && nats.fleetsInPublicSubnets ? 1 : 0;
  const ipv4 = otherPrice("public-ipv4");
  const addresses = config.network.availabilityZones + nats.natGateways + redisHost;
  rows.push({
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
    rows.push({
      component: "network",
      resource: "NAT gateway",
      quantityDesired: nats.natGateways,
      quantityMax: nats.natGateways,
      unitPrice: otherPrice("nat-gateway").usd,
      unit: "hour",
      source: OTHER_SOURCE,
      estimated: true,
      note: "plus per-GB processing (usage)",
    });
  }
  return rows;
}
