/**
 * The two Redis' monthly cost rows (pure): on the app host only the persistent store's own volume;
 * a self-managed AOF host's instance hours (data/ec2-c-family-prices-us-east-1.tsv) and data
 * volume; or ElastiCache node hours (data/other-prices-us-east-1.tsv, src/report/prices.ts).
 * src/report/cost.ts adds them up.
 */
import { ec2InstanceSpec } from "../vocabulary/catalog";
import type { StackConfig } from "../config/stackConfig";
import { type CostRowInput, EC2_SOURCE, OTHER_SOURCE, otherPrice } from "../report/prices";

export function redisCostRows(redisConfig: StackConfig["redis"]): CostRowInput[] {
  const rows: CostRowInput[] = [];
  const onHost = redisConfig.onHost;
  if (onHost) {
    // Both servers run on the fleet's host: the persistent one's own EBS volume is all they add.
    rows.push({
      component: "redis",
      resource: `on the app host: persistent store's gp3 volume ${onHost.persistentVolumeGiB} GiB (AOF)`,
      quantityDesired: onHost.persistentVolumeGiB,
      quantityMax: onHost.persistentVolumeGiB,
      unitPrice: otherPrice("ebs:gp3").usd,
      unit: "gb-month",
      source: OTHER_SOURCE,
      estimated: true,
      note: `cache ${onHost.cacheMaxmemoryMiB} MiB + persistent ${onHost.persistentMaxmemoryMiB} MiB: no ElastiCache node, no extra instance`,
    });
  }
  for (const role of onHost ? [] : (["cache", "persistent"] as const)) {
    const redis = redisConfig[role];
    if ("mode" in redis && redis.mode === "self-managed-aof") {
      const spec = ec2InstanceSpec(redis.instanceType);
      if (!spec) throw new Error(`no price for ${redis.instanceType}`);
      rows.push({
        component: `redis ${role}`,
        resource: `${redis.instanceType} (self-managed AOF)`,
        quantityDesired: 1,
        quantityMax: 1,
        unitPrice: spec.usdPerHour,
        unit: "hour",
        source: EC2_SOURCE,
        estimated: false,
      });
      rows.push({
        component: `redis ${role}`,
        resource: `gp3 data ${redis.volumeGiB} GiB`,
        quantityDesired: redis.volumeGiB,
        quantityMax: redis.volumeGiB,
        unitPrice: otherPrice("ebs:gp3").usd,
        unit: "gb-month",
        source: OTHER_SOURCE,
        estimated: true,
      });
      continue;
    }
    const price = otherPrice(`elasticache-redis:${redis.nodeType}`);
    // Valkey is priced at 80% of Redis OSS (other-prices-us-east-1.md).
    const unitPrice = redis.engine === "valkey" ? round4(price.usd * 0.8) : price.usd;
    rows.push({
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
  return rows;
}

function round4(x: number): number {
  return Math.round(x * 10000) / 10000;
}
