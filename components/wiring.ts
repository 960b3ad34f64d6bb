/**
 * How MastodonStack's tiers feed each other: the env every host gets, each fleet's user-data,
 * security groups, target groups and image, and what Monitoring watches. Plain functions over the
 * tiers' outputs (no resources of their own, except the image lookups they declare on `parent`),
 * so the component itself is composition only.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { MonitoringInput } from "../core/aws/alarms";
import type { Fleet as FleetConfig, StackConfig, ValidatedConfig } from "../core/config";
import { ssmPlaceholder } from "../core/host/boot";
import { type Env, databaseEnv, instanceEnv, mastodonEnv, redisEnv } from "../core/host/env";
import { type HostRuntime, renderFleetHost } from "../core/host/fleetHost";
import { type DebianLookup, imageLookup, releaseImages } from "../core/host/images";
import type { Architecture } from "../core/sizing/catalog";
import type { LoadBalancer } from "./loadBalancer";
import type { Mail } from "./mail";
import type { MediaStorage } from "./mediaStorage";
import type { Network } from "./network";
import type { PostgresDatabase } from "./postgresDatabase";
import type { RedisStore } from "./redisStore";
import type { MastodonSecrets } from "./secrets";

export interface Tiers {
  readonly config: StackConfig;
  readonly network: Network;
  readonly database: PostgresDatabase;
  readonly cache: RedisStore;
  readonly persistent: RedisStore;
  readonly loadBalancer: LoadBalancer;
  readonly media: MediaStorage;
  readonly mail: Mail;
}

/**
 * The one place the tiers' endpoints become Mastodon env values (core/host/env.ts does the
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
  const redis = (store: RedisStore) => ({
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
    ])
    .apply(([primary, replica, persistent, cache, s3, smtp, vapidPublicKey]) =>
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
      }),
    );
}

/** A fleet's cloud-config: its units, env template and PgBouncer (core/host/fleetHost.ts). */
export function fleetUserData(
  fleet: FleetConfig,
  tiers: Tiers,
  input: { env: pulumi.Output<Env>; parameterPath: string; region: pulumi.Output<string> },
): pulumi.Output<string> {
  const db = tiers.database;
  return pulumi
    .all([input.env, db.address, pulumi.output(db.replicaAddress), input.region])
    .apply(([env, primaryHost, replicaHost, region]) => {
      const pooler = tiers.config.database.pooler;
      const base = {
        fleet,
        env,
        parameterPath: input.parameterPath,
        region,
        runtime: hostRuntime(tiers.config),
      };
      switch (pooler) {
        case "none":
          return renderFleetHost(base).userData;
        case "pgbouncer":
          return renderFleetHost({
            ...base,
            pgbouncer: {
              primaryHost,
              ...(replicaHost && { replicaHost }),
              databaseName: db.databaseName,
              user: db.username,
              passwordPlaceholder: ssmPlaceholder(db.passwordParameterName),
            },
          }).userData;
        default: {
          const unknown: never = pooler;
          throw new Error(`unknown pooler ${String(unknown)}`);
        }
      }
    });
}

/**
 * How Mastodon runs on the hosts, by image source: the release images in podman, or the AMI's
 * install (the operator's, or the one EC2 Image Builder baked from the release images).
 */
export function hostRuntime(config: StackConfig): HostRuntime {
  const { image } = config;
  switch (image.source) {
    case "official":
      return { kind: "containers", images: releaseImages(image.registry, config.version) };
    case "image-builder":
    case "ami":
      return { kind: "native" };
    default: {
      const unknown: never = image.source;
      throw new Error(`unknown image source ${String(unknown)}`);
    }
  }
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

/** The pinned Debian 12 AMI's id, by its exact name from Debian's account. */
export function debianAmiId(
  lookup: DebianLookup,
  architecture: Architecture,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  return aws.ec2.getAmiOutput(
    {
      owners: [lookup.owner],
      filters: [
        { name: "name", values: [lookup.name] },
        { name: "architecture", values: [architecture] },
      ],
    },
    { parent },
  ).id;
}

/**
 * The AMI for an architecture, looked up once: the pinned Debian 12 AMI (by its exact name, from
 * Debian's account) for the official images, the AMI EC2 Image Builder baked (`built`, the
 * ImageBuild's AMIs), or the operator's AMI as configured. Never an alias that moves ("latest").
 */
export function imageResolver(
  config: StackConfig,
  parent: pulumi.Resource,
  built?: Partial<Record<Architecture, pulumi.Output<string>>>,
): (architecture: Architecture) => pulumi.Output<string> {
  const lookups = new Map<Architecture, pulumi.Output<string>>();
  const find = (architecture: Architecture): pulumi.Output<string> => {
    const lookup = imageLookup(config, architecture);
    switch (lookup.kind) {
      case "debian":
        return debianAmiId(lookup, architecture, parent);
      case "built": {
        const ami = built?.[architecture];
        if (!ami) throw new Error(`no ${architecture} AMI built by EC2 Image Builder`);
        return ami;
      }
      case "ami":
        return pulumi.output(lookup.amiId);
      default: {
        const unknown: never = lookup;
        throw new Error(`unknown image lookup ${JSON.stringify(unknown)}`);
      }
    }
  };
  return (architecture) => {
    if (!lookups.has(architecture)) lookups.set(architecture, find(architecture));
    return lookups.get(architecture) as pulumi.Output<string>;
  };
}

/**
 * The operator's AMIs as AWS describes them, each checked against the architecture it is
 * configured for: a wrong one fails `pulumi preview` with the key to fix, where AWS itself would
 * only refuse later, at an instance launch. Resolves to architecture -> AMI id.
 */
export function checkedImages(
  config: StackConfig,
  parent: pulumi.Resource,
): pulumi.Output<Partial<Record<Architecture, string>>> {
  const architectures = [...new Set(config.fleets.map((f) => f.instance.architecture))].sort();
  const checks = architectures.map((architecture) => {
    const lookup = imageLookup(config, architecture);
    if (lookup.kind !== "ami") return pulumi.output([architecture, lookup.kind] as const);
    return aws.ec2
      .getAmiOutput({ filters: [{ name: "image-id", values: [lookup.amiId] }] }, { parent })
      .apply((ami) => {
        // An error diagnostic fails the update (and the offline plan) with the key to fix.
        if (ami.architecture && ami.architecture !== architecture) {
          void pulumi.log.error(
            `mastodon:image.amiIds.${architecture}: ${lookup.amiId} is an ${ami.architecture} AMI; the fleets it is for run ${architecture} instances`,
            parent,
          );
        }
        return [architecture, ami.id] as const;
      });
  });
  return pulumi.all(checks).apply((pairs) => Object.fromEntries(pairs));
}

/** What Monitoring watches: identifiers AWS assigns, and the budgets the alarms read. */
export function monitoringTargets(
  tiers: Tiers,
  validated: ValidatedConfig,
  fleets: readonly { readonly fleetName: string; readonly group: aws.autoscaling.Group }[],
): MonitoringInput<pulumi.Input<string>> {
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
  };
}
