/**
 * Settings that are well formed but that nothing would read or act on: a warning each, by key, so a
 * value the operator believes in does not sit in the stack file doing nothing. Pooler settings
 * without PgBouncer, SMTP settings with SES, the persistent Redis's settings of the mode not chosen,
 * and alarms that reach nobody in production.
 */
import type { Problem } from "../problems";
import type { StackConfig } from "../stackConfig";
import { type Rule, warning } from "./rule";

/** The written keys under `prefix` that hold a value (the deepest ones), or `prefix` itself when it is written empty. */
function writtenLeaves(config: StackConfig, prefix: string): string[] {
  if (!config.written.has(prefix)) return [];
  const below = [...config.written.entries()].filter(
    ([key, value]) =>
      key.startsWith(`${prefix}.`) && (value === null || typeof value !== "object" || Array.isArray(value)),
  );
  return below.length ? below.map(([key]) => key) : [prefix];
}

/**
 * PgBouncer's settings with `database.pooler` none: the hosts run no PgBouncer, so neither the
 * pool sizes nor the PgBouncer wait alarm (src/monitoring/queueAlarms.ts, pooled fleets only) exist.
 */
export const poolerOnlySettings: Rule = (config) => {
  if (config.database.pooler === "pgbouncer") return [];
  const keys = [
    ...writtenLeaves(config, "database.pgbouncer"),
    ...config.fleets
      .filter((f) => config.written.has(`fleets.${f.name}.pgbouncerPoolSize`))
      .map((f) => `fleets.${f.name}.pgbouncerPoolSize`),
    ...writtenLeaves(config, "alarms.pgbouncerMaxWait"),
  ];
  return keys.map((key) =>
    warning(
      key.split("."),
      config.written.get(key),
      `is read only with mastodon:database.pooler pgbouncer, and the pooler here is ${config.database.pooler}: no host runs PgBouncer, so nothing uses it. Set mastodon:database.pooler pgbouncer to pool connections, or remove it`,
    ),
  );
};

/** `mail.smtp` with `mail.provider` ses: Mastodon sends through SES's SMTP interface with the package's own user. */
export const smtpUnderSes: Rule = (config) => {
  if (config.mail.provider !== "ses" || !config.mail.smtp) return [];
  // The block as written, but login and password may be secrets (SECRET_CONFIG_PATHS): never shown.
  const written = Object.entries((config.written.get("mail.smtp") ?? {}) as Record<string, unknown>).map(
    ([k, v]) => [k, k === "login" || k === "password" ? "[hidden]" : v] as const,
  );
  return [
    warning(
      ["mail", "smtp"],
      Object.fromEntries(written),
      "is read only with mastodon:mail.provider smtp; with ses the package sends through SES with an SMTP user of its own, and this server, login and password are ignored. Set mastodon:mail.provider smtp to send through this server, or remove mastodon:mail.smtp",
    ),
  ];
};

/**
 * A production stack's alarms publish to an SNS topic; without mastodon:alarms.email nothing is
 * subscribed to it (src/monitoring/monitoring.ts subscribes that address only), so an alarm reaches
 * nobody.
 */
export const alarmSubscription: Rule = (config): Problem[] =>
  config.environment === "production" && !config.alarms.email
    ? [
        warning(
          ["alarms", "email"],
          undefined,
          "is not set: this production stack's alarms go to an SNS topic nobody is subscribed to. Set mastodon:alarms.email to the address that should be paged (AWS e-mails it a confirmation link first)",
        ),
      ]
    : [];

/**
 * The persistent Redis's keys of the other mode: `instanceType` and `volumeGiB` size the
 * self-managed AOF host (src/redis/redisHost.ts), `nodeType` and `nodes` the ElastiCache
 * replication group (src/redis/redisStore.ts); each mode reads only its own. With redis.onHost,
 * ElastiCache keys are refused already (redisOnHost.ts).
 */
export const persistentModeSettings: Rule = (config) => {
  if (config.redis.onHost) return [];
  const mode = config.redis.persistent.mode;
  const otherKeys = mode === "elasticache" ? ["instanceType", "volumeGiB"] : ["nodeType", "nodes"];
  const other = mode === "elasticache" ? "self-managed-aof" : "elasticache";
  return otherKeys
    .map((k) => `redis.persistent.${k}`)
    .filter((key) => config.written.has(key))
    .map((key) =>
      warning(
        key.split("."),
        config.written.get(key),
        `is read only with mastodon:redis.persistent.mode ${other}, and the mode here is ${mode}: nothing uses it. Set mastodon:redis.persistent.mode ${other}, or remove it`,
      ),
    );
};
