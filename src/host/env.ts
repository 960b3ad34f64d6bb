/**
 * The Mastodon environment the tiers imply, computed in one place (docs/design.md, "The environment Mastodon reads"). Pure: it
 * takes resolved endpoints and secrets and returns name -> value, refusing any name Mastodon 4.6
 * does not read (data/mastodon-4.6-env-names.txt).
 */
import { dataLines } from "../vocabulary/data";

export type Env = Readonly<Record<string, string>>;

/** Every variable Mastodon 4.6 reads. */
export const MASTODON_ENV_NAMES: ReadonlySet<string> = new Set(dataLines("mastodon-4.6-env-names.txt"));

/** Builds an env, refusing names Mastodon does not read (a typo would be silently ignored). */
export function mastodonEnv(entries: Record<string, string | undefined>): Env {
  const unknown = Object.keys(entries).filter((k) => !MASTODON_ENV_NAMES.has(k));
  if (unknown.length) throw new Error(`not Mastodon 4.6 environment variables: ${unknown.join(", ")}`);
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(entries)) if (v !== undefined) out[k] = v;
  return out;
}

/** PgBouncer on every host listens here; Rails and streaming connect to it when pooled. */
export const PGBOUNCER_PORT = 6432;
export const PGBOUNCER_HOST = "127.0.0.1";
/** The PgBouncer database alias that points at the read replica. */
export const PGBOUNCER_REPLICA_DB = "mastodon_replica";

export interface DatabaseEndpoint {
  readonly host: string;
  readonly port: number;
  readonly name: string;
  readonly user: string;
  readonly password: string;
}

export type Pooler = "none" | "pgbouncer";

/** Whether the processes connect through PgBouncer on their host (else straight to RDS over TLS). */
export function isPooled(pooler: Pooler): boolean {
  switch (pooler) {
    case "none":
      return false;
    case "pgbouncer":
      return true;
    default: {
      const unknown: never = pooler;
      throw new Error(`unknown pooler ${String(unknown)}`);
    }
  }
}

export interface DatabaseEnvInput {
  readonly primary: DatabaseEndpoint;
  readonly replica?: DatabaseEndpoint;
  readonly pooler: Pooler;
}

/**
 * DB_* (and REPLICA_DB_*). Direct: TLS verified against the RDS CA (rds.force_ssl is on; the host
 * installs the bundle where libpq and NODE_EXTRA_CA_CERTS find it). Pooled: the local PgBouncer,
 * which speaks TLS to RDS itself, and no prepared statements (transaction mode, docs/budget.md).
 * DB_POOL is per process and lives in the units, not here.
 */
export function databaseEnv({ primary, replica, pooler }: DatabaseEnvInput): Env {
  const pooled = isPooled(pooler);
  return mastodonEnv({
    DB_HOST: pooled ? PGBOUNCER_HOST : primary.host,
    DB_PORT: String(pooled ? PGBOUNCER_PORT : primary.port),
    DB_NAME: primary.name,
    DB_USER: primary.user,
    DB_PASS: primary.password,
    // The streaming server treats anything but disable/no-verify as verified TLS (docs/design.md, "Encryption in transit").
    DB_SSLMODE: pooled ? "disable" : "verify-full",
    PREPARED_STATEMENTS: pooled ? "false" : undefined,
    ...(replica && {
      REPLICA_DB_HOST: pooled ? PGBOUNCER_HOST : replica.host,
      REPLICA_DB_PORT: String(pooled ? PGBOUNCER_PORT : replica.port),
      REPLICA_DB_NAME: pooled ? PGBOUNCER_REPLICA_DB : replica.name,
      REPLICA_DB_USER: replica.user,
      REPLICA_DB_PASS: replica.password,
      REPLICA_PREPARED_STATEMENTS: pooled ? "false" : undefined,
    }),
  });
}

export interface RedisEndpoint {
  readonly host: string;
  readonly port: number;
  readonly password: string;
  readonly tls: boolean;
}

/** A full URL: prefixed variables do not inherit host, port or password from REDIS_* (docs/design.md, "The two Redis"). */
export function redisUrl(endpoint: RedisEndpoint, db = 0): string {
  // Passwords here are alphanumeric (generated so) or a boot-time placeholder that becomes one:
  // written as is, so the placeholder survives into the template intact.
  if (!/^([A-Za-z0-9]+|\{\{ssm:[A-Za-z0-9_.\-/]+\}\})$/.test(endpoint.password)) {
    throw new Error("a Redis password must be alphanumeric or an {{ssm:...}} placeholder");
  }
  const scheme = endpoint.tls ? "rediss" : "redis";
  return `${scheme}://:${endpoint.password}@${endpoint.host}:${endpoint.port}/${db}`;
}

/**
 * REDIS_URL (feeds, pub/sub; the streaming server reads only this one) and SIDEKIQ_REDIS_URL go to
 * the persistent store, CACHE_REDIS_URL to the cache. TLS needs REDIS_DRIVER=ruby: hiredis has none.
 */
export function redisEnv(persistent: RedisEndpoint, cache: RedisEndpoint): Env {
  return mastodonEnv({
    REDIS_URL: redisUrl(persistent),
    SIDEKIQ_REDIS_URL: redisUrl(persistent),
    CACHE_REDIS_URL: redisUrl(cache),
    REDIS_DRIVER: persistent.tls || cache.tls ? "ruby" : undefined,
  });
}

/**
 * S3_* (docs/design.md, "The environment Mastodon reads"). S3_HOSTNAME is the regional endpoint; S3_ALIAS_HOST is where media
 * is served (CloudFront or the custom media domain). S3_PERMISSION must match the bucket: public
 * ACLs are blocked, so Mastodon's default public-read would fail every upload; "private" is accepted
 * with ACLs enabled for the owner and public access blocked (src/media/mediaStorage.ts).
 */
export function s3Env(input: { bucket: string; region: string; aliasHost: string }): Env {
  return mastodonEnv({
    S3_ENABLED: "true",
    S3_BUCKET: input.bucket,
    S3_REGION: input.region,
    S3_PROTOCOL: "https",
    S3_HOSTNAME: `s3.${input.region}.amazonaws.com`,
    S3_ALIAS_HOST: input.aliasHost,
    S3_PERMISSION: S3_PERMISSION,
  });
}
export const S3_PERMISSION = "private";

export interface SmtpInput {
  readonly server: string;
  readonly port: number;
  /** The user name, or (SES: the access key ID) the `{{ssm:...}}` placeholder of its parameter. */
  readonly login: string;
  /** Always a placeholder: the boot renderer quotes it for dotenv (src/host/boot.ts, dotenvQuote). */
  readonly password: string;
  readonly fromAddress: string;
}

/** SMTP_*: STARTTLS on the submission port (587); SMTPS (465) uses SMTP_TLS. */
export function smtpEnv(input: SmtpInput): Env {
  return mastodonEnv({
    SMTP_SERVER: input.server,
    SMTP_PORT: String(input.port),
    SMTP_LOGIN: input.login,
    SMTP_PASSWORD: input.password,
    SMTP_FROM_ADDRESS: input.fromAddress,
    SMTP_AUTH_METHOD: "plain",
    ...(input.port === 465 ? { SMTP_TLS: "true" } : { SMTP_ENABLE_STARTTLS: "always" }),
  });
}

/** Who the instance is and where: LOCAL_DOMAIN, WEB_DOMAIN, HTTPS, and the ALB as a trusted proxy. */
export function instanceEnv(input: { domain: string; webDomain: string; vpcCidr: string }): Env {
  return mastodonEnv({
    LOCAL_DOMAIN: input.domain,
    WEB_DOMAIN: input.webDomain === input.domain ? undefined : input.webDomain,
    LOCAL_HTTPS: "true",
    // The ALB's addresses live in the VPC: trust X-Forwarded-For from there, so rate limits see clients.
    TRUSTED_PROXY_IP: input.vpcCidr,
  });
}

export interface SearchEnvInput {
  /** `https://` and the domain's VPC endpoint (src/search/searchUser.ts, SearchAccess.url). */
  readonly url: string;
  /** Mastodon's own user (searchUser.ts), never the domain's master. */
  readonly user: string;
  /** Always a placeholder of that user's password parameter, filled at boot. */
  readonly password: string;
  readonly preset: string;
  /** The indices' prefix, which the user's role is limited to (searchUser.ts, SEARCH_INDEX_PREFIX). */
  readonly prefix: string;
}

/**
 * ES_*: Mastodon's Chewy client connects to `ES_HOST:ES_PORT` (config/initializers/chewy.rb), so
 * the scheme goes into ES_HOST: the domain enforces HTTPS on 443 (Mastodon docs, "Configuring
 * full-text search"; ES_PRESET from src/search/engines.ts). ES_PREFIX names every index Chewy makes.
 */
export function searchEnv(input: SearchEnvInput): Env {
  return mastodonEnv({
    ES_ENABLED: "true",
    ES_HOST: input.url,
    ES_PORT: "443",
    ES_USER: input.user,
    ES_PASS: input.password,
    ES_PRESET: input.preset,
    ES_PREFIX: input.prefix,
  });
}

/**
 * What Mastodon's streaming server reads of the environment (Mastodon 4.6's streaming/index.js,
 * database.js, redis.js, logging.js): NODE_ENV, its database (DB_*, DATABASE_URL), its one Redis
 * (REDIS_*), the trusted proxies, where to listen and how much to log. No Rails secret, no mail, no
 * media, no search: a host that runs only the streaming server is given these and nothing else, so
 * its role need not read the rest (src/fleet/fleetRole.ts).
 */
export const STREAMING_ENV_NAMES: ReadonlySet<string> = new Set([
  "NODE_ENV",
  "DB_HOST",
  "DB_PORT",
  "DB_NAME",
  "DB_USER",
  "DB_PASS",
  "DB_SSLMODE",
  "DB_POOL",
  "DATABASE_URL",
  "REDIS_URL",
  "REDIS_HOST",
  "REDIS_PORT",
  "REDIS_DB",
  "REDIS_PASSWORD",
  "REDIS_NAMESPACE",
  "TRUSTED_PROXY_IP",
  "BIND",
  "PORT",
  "SOCKET",
  "LOG_LEVEL",
]);

/**
 * The env a fleet's hosts get: all of it where Rails runs (web or Sidekiq: Rails reads its secrets,
 * mail, media, search and translation at boot), only what the streaming server reads where nothing
 * else runs.
 */
export function fleetEnv(env: Env, fleet: { readonly web?: unknown; readonly sidekiq?: unknown }): Env {
  if (fleet.web !== undefined || fleet.sidekiq !== undefined) return env;
  return Object.fromEntries(Object.entries(env).filter(([name]) => STREAMING_ENV_NAMES.has(name)));
}

export type TranslationEnvInput =
  | { readonly provider: "deepl"; readonly apiKey: string; readonly plan: "free" | "pro" }
  | { readonly provider: "libretranslate"; readonly endpoint: string; readonly apiKey?: string };

/**
 * DEEPL_* or LIBRE_TRANSLATE_* (Mastodon's TranslationService picks DeepL when DEEPL_API_KEY is set,
 * else LibreTranslate when its endpoint is). Keys are placeholders of SSM parameters.
 */
export function translationEnv(input: TranslationEnvInput): Env {
  switch (input.provider) {
    case "deepl":
      return mastodonEnv({ DEEPL_API_KEY: input.apiKey, DEEPL_PLAN: input.plan });
    case "libretranslate":
      return mastodonEnv({
        LIBRE_TRANSLATE_ENDPOINT: input.endpoint,
        LIBRE_TRANSLATE_API_KEY: input.apiKey,
      });
    default: {
      const unknown: never = input;
      throw new Error(`unknown translation provider ${JSON.stringify(unknown)}`);
    }
  }
}
