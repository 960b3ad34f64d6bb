/**
 * The sizing core (`mastodon-aws/sizing`): the Postgres connection budget, the instance catalogs,
 * the per-host memory fit and RDS's connection arithmetic. Pure functions of the config: no Pulumi.
 */
export * from "../src/budget/budget";
export * from "../src/vocabulary/catalog";
export * from "../src/fleet/memory";
export * from "../src/database/postgres";
