/**
 * Both Redis on the app host (redis.onHost; docs/design.md, "Redis on the host") works only where
 * every Mastodon process shares that one host, and in production only when the operator has said
 * that losing queued jobs with the host is accepted.
 */
import type { Problem } from "../problems";
import { type Rule, error } from "./rule";

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
  if (config.environment === "production" && !onHost.acceptJobLoss) {
    problems.push(
      error(
        ["redis", "onHost", "acceptJobLoss"],
        onHost.acceptJobLoss,
        "must be true in production to keep Redis on the app host: its AOF survives a restart of redis-server or a " +
          "reboot, but not the host's replacement (an instance refresh on every upgrade, a failed health check, the loss " +
          "of its AZ), which loses the queued, scheduled and retrying Sidekiq jobs and the home feeds (rebuilt by " +
          "tootctl feeds build). Set it to accept that, or remove redis.onHost to use ElastiCache.",
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
