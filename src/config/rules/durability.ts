/** Production keeps its data: Multi-AZ, a persistent Redis with a replica, no AOF where none exists. */
import type { Problem } from "../problems";
import { type Rule, error } from "./rule";

export const productionDurability: Rule = (config) => {
  const problems: Problem[] = [];
  if (config.environment === "production" && !config.database.multiAz && !config.database.allowSingleAz) {
    problems.push(
      error(
        ["database", "multiAz"],
        false,
        "is refused in production: a single-AZ database is down for the whole failover or maintenance window. Remove it (Multi-AZ is the production default) or accept the risk with mastodon:database.allowSingleAz true.",
      ),
    );
  }
  const persistent = config.redis.persistent;
  if (persistent.mode === "elasticache" && persistent.appendOnly) {
    problems.push(
      error(
        ["redis", "persistent", "appendOnly"],
        true,
        `cannot be had on ElastiCache: it has not supported appendonly since Redis 2.8.22 and the parameter is not modifiable in the redis7/valkey8 families (AWS's substitute is Multi-AZ replicas; MemoryDB is cluster-mode only, which Sidekiq does not support). For real AOF set mastodon:redis.persistent.mode self-managed-aof (Redis on EC2 with appendonly yes, appendfsync everysec, on an encrypted EBS volume); otherwise remove appendOnly.`,
      ),
    );
  }
  if (config.environment === "production" && persistent.mode === "elasticache" && persistent.nodes < 2) {
    problems.push(
      error(
        ["redis", "persistent", "nodes"],
        persistent.nodes,
        "is below 2 in production: the persistent Redis holds Sidekiq's queues and home feeds, and automatic failover and Multi-AZ need a replica. Set 2 or more.",
      ),
    );
  }
  return problems;
};
