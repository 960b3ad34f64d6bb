/**
 * The package's main entry (`import { MastodonStack } from "mastodon-aws"`): the components, the
 * stack config's types and parser, and the sizing core. Each component is also importable on its own
 * (`mastodon-aws/components/<file>`), the sizing core as `mastodon-aws/sizing`, the config as
 * `mastodon-aws/config`, the fake cloud as `mastodon-aws/testing`, and the whole config-driven
 * program (this repository's index.ts) as `mastodon-aws/program`.
 */
export * from "../src/stack/mastodonStack";
export * from "../src/network/network";
export * from "../src/database/postgresDatabase";
export * from "../src/redis/redisStore";
export type { RedisHostArgs } from "../src/redis/redisHost";
export * from "../src/redis/onHostRedis";
export * from "../src/edge/loadBalancer";
export * from "../src/waf/webAcl";
export * from "../src/media/mediaStorage";
export * from "../src/edge/dnsRecords";
export * from "../src/mail/mail";
export * from "../src/fleet/fleet";
export * from "../src/monitoring/monitoring";
export * from "../src/search/searchDomain";
export * from "../src/translation/translation";
export * from "../src/stack/secrets";
export * from "../src/config";
// The config's resolved `Fleet` and `OnHostRedis` shapes share their names with the components; here
// the names are the components, and the shapes are `mastodon-aws/config`'s.
export { Fleet } from "../src/fleet/fleet";
export { OnHostRedis } from "../src/redis/onHostRedis";
export * from "./sizing";
