/**
 * The sizing core (`mastodon-aws/sizing`): the Postgres connection budget, the instance catalogs,
 * the per-host memory fit and RDS's connection arithmetic. Pure functions of the config: no Pulumi.
 */
export * from "../core/sizing/budget";
export * from "../core/sizing/catalog";
export * from "../core/sizing/memory";
export * from "../core/sizing/postgres";
