/**
 * How MastodonStack's tiers feed each other: the env every host gets, each fleet's user-data,
 * security groups, target groups and image, and what Monitoring watches. Plain functions over the
 * tiers' outputs (no resources of their own, except the image lookups they declare on `parent`),
 * so the component itself is composition only.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { stackQueues } from "../monitoring/metrics";
import { pgbouncerRow, postgresConnectionsPerHost } from "../budget/budget";
import { fleetReplacement } from "../fleet/replacement";
import type { Fleet as FleetConfig, StackConfig, ValidatedConfig } from "../config";
import { ssmPlaceholder } from "../host/boot";
import { type Env, databaseEnv, instanceEnv, mastodonEnv, redisEnv } from "../host/env";
import { renderFleetHost } from "../fleet/host/fleetHost";
import { renderMigrationsDocument } from "../database/migrations";
import { hostRuntime } from "../images/stackImages";
import { onHostRedisInput } from "../redis/onHostRedis";
import type { LoadBalancer } from "../edge/loadBalancer";
import type { FleetGroupArgs } from "../fleet/fleet";
import type { Mail } from "../mail/mail";
import type { MonitoringTargetsArgs, QueueMonitoringArgs } from "../monitoring/monitoring";
import type { MediaStorage } from "../media/mediaStorage";
import type { Network } from "../network/network";
import type { PostgresDatabase } from "../database/postgresDatabase";
import type { SearchDomain } from "../search/searchDomain";
import type { MastodonSecrets } from "./secrets";
import type { Translation } from "../translation/translation";
import { fleetLogGroupName } from "../monitoring/logs";

/** What the wiring reads of a Redis: an ElastiCache/self-managed RedisStore, or an on-host server. */
export interface RedisTier {
  readonly host: pulumi.Input<string>;
  readonly port: number;
  readonly tls: boolean;
  readonly passwordParameterName: string;
  /** ElastiCache's member clusters (the alarms' dimensions); none elsewhere. */
  readonly memberClusterIds: pulumi.Output<string>[];
  /** A self-managed Redis host. */
  readonly instance?: aws.ec2.Instance;
}

export interface Tiers {
  readonly config: StackConfig;
  readonly network: Network;
  readonly database: PostgresDatabase;
  readonly cache: RedisTier;
  readonly persistent: RedisTier;
  readonly loadBalancer: LoadBalancer;
  readonly media: MediaStorage;
  readonly mail: Mail;
  /** Full-text search, when configured. */
  readonly search?: SearchDomain;
  /** Translation, when configured. */
  readonly translation?: Translation;
}

/**
 * The one place the tiers' endpoints become Mastodon env values (src/host/env.ts does the
 * mapping). Every secret is the `{{ssm:...}}` placeholder of its parameter, filled on the host at
 * boot: this env holds no secret value, so it may go into user-data.
 */
export function stackEnv(tiers: Tiers, secrets: MastodonSecrets): pulumi.Output<Env> {
  const { config, database: db } = tiers;
  const endpoint = (host: pulumi.Input<string>) => ({
    host,
    port: db.port,
    name: db.databaseName,
    user: db.username,
    password: ssmPlaceholder(db.passwordParameterName),
  });
  const redis = (store: RedisTier) => ({
    host: store.host,
    port: store.port,
    password: ssmPlaceholder(store.passwordParameterName),
    tls: store.tls,
  });
  const secretEnv = mastodonEnv(
    Object.fromEntries(
      Object.entries(secrets.parameters).map(([envName, parameter]) => [envName, ssmPlaceholder(parameter)]),
    ),
  );
  return pulumi
    .all([
      pulumi.output(endpoint(db.address)),
      pulumi.output(db.replicaAddress ? endpoint(db.replicaAddress) : undefined),
      pulumi.output(redis(tiers.persistent)),
      pulumi.output(redis(tiers.cache)),
      tiers.media.env,
      tiers.mail.env,
      secrets.vapidPublicKey,
      pulumi.output(tiers.search?.env),
    ])
    .apply(([primary, replica, persistent, cache, s3, smtp, vapidPublicKey, search]) =>
      mastodonEnv({
        RAILS_ENV: "production",
        NODE_ENV: "production",
        ...instanceEnv({ domain: config.domain, webDomain: config.webDomain, vpcCidr: tiers.network.cidr }),
        ...databaseEnv({ primary, ...(replica && { replica }), pooler: config.database.pooler }),
        ...redisEnv(persistent, cache),
        ...s3,
        ...smtp,
        ...secretEnv,
        VAPID_PUBLIC_KEY: vapidPublicKey,
        ...search,
        ...tiers.translation?.env,
      }),
    );
}

/**
 * What a fleet's group reads of its host: the cloud-config, the boot's bound (the launch hook's
 * heartbeat), and the SSM parameters its hosts read (its role may read those alone).
 */
export interface FleetLaunch {
  readonly userData: string;
  readonly launchHeartbeatSeconds: number;
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
      pulumi.all([pulumi.output(tiers.search?.access), onHostRedisInput(tiers.config.redis.onHost, tiers)]),
    ])
    .apply(
      ([env, primaryHost, replicaHost, region, registry, bucket, port, [search, redis]]): FleetLaunch => {
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
              },
            }),
        };
        const launch = (host: FleetLaunch): FleetLaunch => ({
          userData: host.userData,
          launchHeartbeatSeconds: host.launchHeartbeatSeconds,
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

/** The security groups of the roles a fleet runs. */
export function fleetSecurityGroups(fleet: FleetConfig, network: Network): pulumi.Output<string>[] {
  const groups = network.securityGroups;
  return [
    ...(fleet.web ? [groups.web.id] : []),
    ...(fleet.streaming ? [groups.streaming.id] : []),
    ...(fleet.sidekiq ? [groups.sidekiq.id] : []),
  ];
}

/** The ALB target groups a fleet's hosts join: web's, and one per streaming port. */
export function fleetTargetGroups(fleet: FleetConfig, loadBalancer: LoadBalancer): pulumi.Output<string>[] {
  return [
    ...(fleet.web ? [loadBalancer.webTargetGroup.arn] : []),
    ...(fleet.streaming ? loadBalancer.streamingTargetGroups.map((tg) => tg.arn) : []),
  ];
}

/** What Monitoring reads of the hosts' own figures (src/monitoring/metrics.ts), and their thresholds. */
/** A resolved fleet as its Auto Scaling group reads it (the Fleet component's args). */
export function fleetGroup(fleet: FleetConfig): FleetGroupArgs {
  return {
    name: fleet.name,
    instanceType: fleet.instanceType,
    minSize: fleet.minSize,
    desiredSize: fleet.desiredSize,
    maxSize: fleet.maxSize,
    spot: fleet.spot,
    ...(fleet.spotInstanceTypes && { spotInstanceTypes: [...fleet.spotInstanceTypes] }),
    ...(fleet.cpuTarget !== undefined && { cpuTarget: fleet.cpuTarget }),
    ...(fleet.queueLatencyTarget !== undefined && { queueLatencyTarget: fleet.queueLatencyTarget }),
    rootVolumeGiB: fleet.rootVolumeGiB,
    ...(fleet.sidekiq && { sidekiqQueues: [...fleet.sidekiq.queues] }),
    postgresConnectionsPerHost: postgresConnectionsPerHost(fleet),
    instanceMaintenancePolicy: { ...fleetReplacement(fleet).policy },
  };
}

export function queueMonitoringInput(tiers: Tiers, stack: string): QueueMonitoringArgs {
  const { config } = tiers;
  return {
    stack,
    queues: stackQueues(config.fleets),
    alarms: config.alarms,
    pooledFleets:
      config.database.pooler === "pgbouncer"
        ? config.fleets.map((f) => ({ name: f.name, poolSize: pgbouncerRow(f).poolSize }))
        : [],
    streamingFleets: config.fleets.filter((f) => f.streaming).map((f) => f.name),
    onHostRedis: config.redis.onHost !== undefined,
    loadBalancer: tiers.loadBalancer.alb.arnSuffix,
  };
}

/** What Monitoring watches: identifiers AWS assigns, and the budgets the alarms read. */
export function monitoringTargets(
  tiers: Tiers,
  validated: ValidatedConfig,
  fleets: readonly { readonly fleetName: string; readonly group: aws.autoscaling.Group }[],
): MonitoringTargetsArgs {
  const { config, database: db, loadBalancer } = tiers;
  const database = (id: string, identifier: pulumi.Input<string>, budget: ValidatedConfig["budget"]) => ({
    id,
    identifier,
    budget,
    storageGiB: config.database.storageGiB,
    replica: id !== "db-primary",
  });
  return {
    databases: [
      database("db-primary", db.instance.identifier, validated.budget),
      ...(db.replica && validated.replicaBudget
        ? [database("db-replica", db.replica.identifier, validated.replicaBudget)]
        : []),
    ],
    redis: [
      { role: "cache", cacheClusterIds: tiers.cache.memberClusterIds },
      { role: "persistent", cacheClusterIds: tiers.persistent.memberClusterIds },
    ],
    ...(tiers.persistent.instance && { redisHost: tiers.persistent.instance.id }),
    loadBalancer: loadBalancer.alb.arnSuffix,
    targetGroups: [
      { id: "tg-web", arnSuffix: loadBalancer.webTargetGroup.arnSuffix },
      ...loadBalancer.streamingTargetGroups.map((tg, i) => ({
        id: `tg-streaming-${i + 1}`,
        arnSuffix: tg.arnSuffix,
      })),
    ],
    fleets: fleets.map((f) => ({ name: f.fleetName, groupName: f.group.name })),
    ...(tiers.search &&
      config.search && {
        search: {
          domainName: tiers.search.domainName,
          // domainId is <account>/<domain name>: the account is CloudWatch's ClientId.
          clientId: tiers.search.domain.domainId.apply((id) => id.split("/")[0] as string),
          volumeGiB: config.search.volumeGiB,
        },
      }),
  };
}

/**
 * The SSM document that runs Mastodon's post-deployment migrations (and the search deploy) on the
 * scheduler's host for `npm run upgrade` (src/database/migrations.ts): straight to PostgreSQL, its
 * default image the stack's release image.
 */
export function migrationsDocument(
  name: string,
  database: PostgresDatabase,
  releaseImage: pulumi.Output<string> | undefined,
  parent: pulumi.Resource,
  /** Whether the stack has a search domain: adds phase `search` (tootctl search deploy). @default false */
  search = false,
): aws.ssm.Document {
  return new aws.ssm.Document(
    `${name}-migrations`,
    {
      documentType: "Command",
      documentFormat: "JSON",
      content: pulumi
        .all([database.address, database.port, pulumi.output(releaseImage)])
        .apply(([databaseHost, databasePort, image]) =>
          renderMigrationsDocument({
            databaseHost,
            databasePort,
            ...(image && { defaultImage: image }),
            search,
          }),
        ),
    },
    { parent },
  );
}
