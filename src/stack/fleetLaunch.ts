/**
 * A fleet's launch: its cloud-config (units, env template, PgBouncer, and on the scheduler's fleet
 * the database's lifecycle), the boot's bound and the SSM parameters its hosts read, from the tiers'
 * outputs (src/fleet/host/fleetHost.ts renders it).
 */
import * as pulumi from "@pulumi/pulumi";
import type { Fleet as FleetConfig } from "../config";
import { ssmPlaceholder } from "../host/boot";
import type { Env } from "../host/env";
import { renderFleetHost } from "../fleet/host/fleetHost";
import { hostRuntime } from "../images/stackImages";
import { onHostRedisInput } from "../redis/onHostRedis";
import { fleetLogGroupName } from "../monitoring/logs";
import type { Tiers } from "./tiers";

/**
 * What a fleet's group reads of its host: the cloud-config, the boot's bound (the launch hook's
 * heartbeat), and the SSM parameters its hosts read (its role may read those alone).
 */
export interface FleetLaunch {
  readonly userData: string;
  readonly launchHeartbeatSeconds: number;
  readonly launchWaitSeconds: number;
  readonly parameterNames: readonly string[];
}

/**
 * A fleet's cloud-config: its units, env template and PgBouncer (src/fleet/host/fleetHost.ts); on the
 * scheduler's fleet, the database's lifecycle too (src/database/database.ts).
 */
export function fleetLaunch(
  fleet: FleetConfig,
  tiers: Tiers,
  input: {
    env: pulumi.Output<Env>;
    parameterPath: string;
    region: pulumi.Output<string>;
    /** Where the release images are pulled from (image.registry, or the pull-through cache). */
    registry: pulumi.Output<string>;
    /** The bucket of the programs hosts fetch at boot (HostFiles). */
    hostFilesBucket: pulumi.Output<string>;
    /** The owner's first-password parameter (mastodon:owner), on the scheduler's fleet. */
    ownerPasswordParameter?: string;
  },
): pulumi.Output<FleetLaunch> {
  const db = tiers.database;
  const { config } = tiers;
  return pulumi
    .all([
      input.env,
      db.address,
      pulumi.output(db.replicaAddress),
      input.region,
      input.registry,
      input.hostFilesBucket,
      db.port,
      // pulumi.all takes tuples of 8 at most: the tiers only some hosts have, as one.
      pulumi.all([
        pulumi.output(tiers.search?.access),
        onHostRedisInput(tiers.config.redis.onHost, tiers),
        pulumi.output(db.dump?.url),
      ]),
    ])
    .apply(
      ([
        env,
        primaryHost,
        replicaHost,
        region,
        registry,
        bucket,
        port,
        [search, redis, dumpUrl],
      ]): FleetLaunch => {
        const pooler = tiers.config.database.pooler;
        const base = {
          fleet,
          env,
          parameterPath: input.parameterPath,
          region,
          logGroupName: fleetLogGroupName(input.parameterPath, fleet.name),
          runtime: hostRuntime(tiers.config, registry),
          metrics: { stack: input.parameterPath, region, fleets: tiers.config.fleets },
          hostFiles: { bucket },
          // The rules allow redis.onHost with one fleet only: that fleet's host runs both.
          ...(redis && { onHostRedis: redis }),
          // The scheduler's one host prepares the database before any unit starts, on every stack.
          ...(fleet.servesScheduler &&
            db.roleSetup && {
              database: {
                region,
                databaseHost: primaryHost,
                databasePort: port,
                role: db.roleSetup,
                ...(config.owner &&
                  input.ownerPasswordParameter && {
                    owner: { ...config.owner, passwordParameter: input.ownerPasswordParameter },
                  }),
                ...(search && { search }),
                retention: config.retention,
                ...(dumpUrl && db.dump && { restore: { url: dumpUrl, bytes: db.dump.bytes } }),
              },
            }),
        };
        const launch = (host: FleetLaunch): FleetLaunch => ({
          userData: host.userData,
          launchHeartbeatSeconds: host.launchHeartbeatSeconds,
          launchWaitSeconds: host.launchWaitSeconds,
          parameterNames: host.parameterNames,
        });
        switch (pooler) {
          case "none":
            return launch(renderFleetHost(base));
          case "pgbouncer":
            return launch(
              renderFleetHost({
                ...base,
                pgbouncer: {
                  primaryHost,
                  ...(replicaHost && { replicaHost }),
                  databaseName: db.databaseName,
                  user: db.username,
                  passwordPlaceholder: ssmPlaceholder(db.passwordParameterName),
                },
              }),
            );
          default: {
            const unknown: never = pooler;
            throw new Error(`unknown pooler ${String(unknown)}`);
          }
        }
      },
    );
}
