/** Values that must agree across tiers: Redis engine versions, the AMI's architecture, SMTP settings. */
import { isSupportedEngineVersion } from "../../host/redis";
import type { Problem } from "../problems";
import { type Rule, error } from "./rule";

export const crossTierConsistency: Rule = (config) => {
  const problems: Problem[] = [];
  for (const role of ["cache", "persistent"] as const) {
    const redis = config.redis[role];
    const selfManaged = "mode" in redis && redis.mode === "self-managed-aof";
    if (!selfManaged && !isSupportedEngineVersion(redis.engine, redis.engineVersion)) {
      problems.push(
        error(
          ["redis", role, "engineVersion"],
          redis.engineVersion,
          `is not an ElastiCache ${redis.engine} version Mastodon 4.6 can use (Redis 7+): use ${redis.engine === "redis" ? "7.0 or 7.1" : "7.2 or 8.x"}`,
        ),
      );
    }
  }
  const architectures = new Set(config.fleets.map((f) => f.instance.architecture));
  if (config.image.amiId && architectures.size > 1) {
    problems.push(
      error(
        ["image", "amiId"],
        config.image.amiId,
        `is one AMI but the fleets mix ${[...architectures].sort().join(" and ")} instance types; use mastodon:image.ssmParameter with {arch} in its name (one AMI per architecture), or keep all fleets on one architecture`,
      ),
    );
  }
  if (config.mail.provider === "smtp" && !config.mail.smtp) {
    problems.push(
      error(
        ["mail", "smtp"],
        undefined,
        "is required with mastodon:mail.provider smtp: set server, port, login and (as a secret) password",
      ),
    );
  }
  return problems;
};
