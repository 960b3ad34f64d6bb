/**
 * The package's main entry (`import { MastodonStack } from "mastodon-aws"`): the components, the
 * stack config's types and parser, and the sizing core. Each component is also importable on its own
 * (`mastodon-aws/components/<file>`), the sizing core as `mastodon-aws/sizing`, the config as
 * `mastodon-aws/config`, the fake cloud as `mastodon-aws/testing`, and the whole config-driven
 * program (this repository's index.ts) as `mastodon-aws/program`.
 */
export * from "../components/mastodonStack";
export * from "../components/network";
export * from "../components/postgresDatabase";
export * from "../components/redisStore";
export * from "../components/onHostRedis";
export * from "../components/loadBalancer";
export * from "../components/mediaStorage";
export * from "../components/dnsRecords";
export * from "../components/mail";
export * from "../components/fleet";
export * from "../components/monitoring";
export * from "../components/searchDomain";
export * from "../components/translation";
export * from "../components/secrets";
export * from "../core/config";
// The config's resolved `Fleet` and `OnHostRedis` shapes share their names with the components; here
// the names are the components, and the shapes are `mastodon-aws/config`'s.
export { Fleet } from "../components/fleet";
export { OnHostRedis } from "../components/onHostRedis";
export * from "./sizing";
