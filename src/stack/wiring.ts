/**
 * How MastodonStack's tiers feed each other: the env every host gets, each fleet's user-data,
 * security groups, target groups and image, and what Monitoring watches. Plain functions over the
 * tiers' outputs (no resources of their own, except the migrations' SSM document they declare on
 * `parent`), so the component itself is composition only.
 *
 * The package's entry for them (`mastodon-aws/components/wiring`): each lives in its own module
 * under src/stack/, named for what it holds, and is exported here under its name.
 */
export type { RedisTier, Tiers } from "./tiers";
export { stackEnv } from "./stackEnv";
export { type FleetLaunch, fleetLaunch } from "./fleetLaunch";
export { fleetGroup, fleetSecurityGroups, fleetTargetGroups } from "./fleetGroup";
export { monitoringTargets, queueMonitoringInput } from "./stackMonitoring";
export { migrationsDocument } from "./migrationsDocument";
