/**
 * Both Redis on the app host (redis.onHost; docs/design.md, "Redis on the host") works only where
 * every Mastodon process shares that one host, with a volume that holds what the persistent store
 * writes. Its volume outlives the host, so a replacement loses no queued job; what it does not
 * keep (no snapshot of it, one zone) is said in a production plan until the operator accepts it.
 */
import { volumeNeedMiB } from "./redisVolume";
import type { Problem } from "../config/problems";
import { type Rule, error, warning } from "../config/rules/rule";

export const redisOnHost: Rule = (config) => {
  const onHost = config.redis.onHost;
  if (!onHost) return [];
  const problems: Problem[] = [];
  if (config.fleets.length > 1) {
    problems.push(
      error(
        ["redis", "onHost"],
        config.fleets.map((f) => f.name).join(", "),
        `puts both Redis on one app host, but the stack has ${config.fleets.length} fleets: the others cannot reach ` +
          "a Redis listening on that host's 127.0.0.1. Run every service in one fleet, or remove redis.onHost to use ElastiCache.",
      ),
    );
  }
  for (const fleet of config.fleets) {
    if (fleet.maxSize > 1) {
      problems.push(
        error(
          ["fleets", fleet.name, "maxSize"],
          fleet.maxSize,
          "can grow past one host, and with mastodon:redis.onHost each host would run its own empty Redis: " +
            "Sidekiq's queues, feeds and streaming's pub/sub would split between hosts. Set maxSize 1, or remove redis.onHost.",
        ),
      );
    }
  }
  const needMiB = volumeNeedMiB(onHost.persistentMaxmemoryMiB);
  if (onHost.persistentVolumeGiB * 1024 < needMiB) {
    problems.push(
      error(
        ["redis", "onHost", "persistentVolumeGiB"],
        onHost.persistentVolumeGiB,
        `cannot hold what the persistent Redis writes with persistentMaxmemoryMiB ${onHost.persistentMaxmemoryMiB}: ` +
          `up to ${needMiB} MiB (the AOF at twice its base before a rewrite, the rewrite's new base beside it, the RDB ` +
          `snapshot and the next one's temporary file). A full disk stops its writes: Sidekiq cannot enqueue. Set at ` +
          `least ${Math.ceil(needMiB / 1024)}, or lower persistentMaxmemoryMiB.`,
      ),
    );
  }
  if (config.environment === "production" && !onHost.acceptJobLoss) {
    problems.push(
      warning(
        ["redis", "onHost", "acceptJobLoss"],
        onHost.acceptJobLoss,
        "is not set: the persistent Redis's AOF is on an EBS volume of its own, so replacing the host (an upgrade's " +
          "instance refresh, a failed health check) keeps the queued jobs and home feeds, but the volume has no " +
          "snapshot and lives in one zone: losing the volume loses them (tootctl feeds build rebuilds the feeds), an " +
          "outage of its zone stops the host until the zone is back, and a crash of the host loses at most the last " +
          "second of writes (appendfsync everysec). Set it true to accept that, or remove redis.onHost to use ElastiCache " +
          "(Multi-AZ replicas) or redis.persistent.mode self-managed-aof (daily snapshots).",
      ),
    );
  }
  for (const key of [...config.redis.configured].filter((k) => !k.includes("."))) {
    problems.push(
      error(
        ["redis", key],
        "(set)",
        "configures ElastiCache, which mastodon:redis.onHost replaces: remove it (the on-host servers take " +
          "redis.onHost.cacheMaxmemoryMiB and persistentMaxmemoryMiB).",
      ),
    );
  }
  return problems;
};
