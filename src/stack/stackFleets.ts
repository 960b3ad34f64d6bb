/**
 * MastodonStack's fleets: one Fleet component (Auto Scaling group, launch template, role) per
 * configured fleet, wired to the tiers (src/stack/fleetLaunch.ts, fleetGroup.ts), the scheduler's
 * fleet first.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { Env } from "../host/env";
import { ownerPasswordParameterName } from "../database/ownerPassword";
import { Fleet } from "../fleet/fleet";
import type { HostFiles } from "../fleet/hostFiles";
import type { StackImages } from "../images/stackImages";
import type { OnHostRedis } from "../redis/onHostRedis";
import { fleetLaunch } from "./fleetLaunch";
import { fleetGroup, fleetSecurityGroups, fleetTargetGroups } from "./fleetGroup";
import type { Tiers } from "./tiers";

/** What the fleets are built from besides the tiers: what MastodonStack made before them. */
export interface StackFleetsInput {
  readonly name: string;
  readonly tiers: Tiers;
  readonly env: pulumi.Output<Env>;
  readonly parameterPrefix: string;
  readonly region: pulumi.Output<string>;
  readonly images: StackImages;
  readonly hostFiles: HostFiles;
  /** The owner's first-password parameter (mastodon:owner). */
  readonly owner?: aws.ssm.Parameter;
  /** redis.onHost: the Redis on the app host, whose volume's zone the fleet is placed in. */
  readonly onHostRedis?: OnHostRedis;
  readonly stackTags: Record<string, string>;
  readonly parent: pulumi.Resource;
}

/** Every fleet's component, in config order; the scheduler's is created first. */
export function stackFleets(input: StackFleetsInput): Fleet[] {
  const {
    name,
    tiers,
    env,
    parameterPrefix,
    region,
    images,
    hostFiles,
    owner,
    onHostRedis,
    stackTags,
    parent,
  } = input;
  const { config, network, database, loadBalancer, media } = tiers;
  const makeFleet = (fleet: (typeof config.fleets)[number], schemaFromGroup?: pulumi.Output<string>) => {
    const launch = fleetLaunch(fleet, tiers, {
      env: env,
      parameterPath: parameterPrefix,
      region,
      registry: images.registry,
      hostFilesBucket: hostFiles.bucket.bucket,
      ...(owner && { ownerPasswordParameter: ownerPasswordParameterName(parameterPrefix) }),
    });
    return new Fleet(
      `${name}-${fleet.name}`,
      {
        fleet: fleetGroup(fleet),
        imageId: images.imageFor(fleet.instance.architecture),
        rootDeviceName: config.image.rootDeviceName,
        // With redis.onHost, the volume's zone only, and the role may attach it (OnHostRedis).
        ...(onHostRedis?.placement ?? { subnetIds: network.fleetSubnetIds }),
        securityGroupIds: fleetSecurityGroups(fleet, network),
        associatePublicIp: network.fleetsNeedPublicIp,
        userData: launch.userData,
        launchHeartbeatSeconds: launch.launchHeartbeatSeconds,
        launchWaitSeconds: launch.launchWaitSeconds,
        // Its hosts read these SSM parameters, each by name, and its role no other.
        parameterNames: launch.apply((l) => [...l.parameterNames]),
        ...(schemaFromGroup && { schemaFromGroup }),
        hostFilesPolicy: hostFiles.readPolicy,
        // The scheduler's host prepares the database (the RDS master's password) and the owner.
        ...(fleet.servesScheduler && { adminPasswordParameterArn: database.adminPasswordParameter.arn }),
        ...(fleet.servesScheduler && owner && { ownerPasswordParameterArn: owner.arn }),
        ...(fleet.servesScheduler && database.dump && { databaseDumpPolicy: database.dump.readPolicy }),
        ...(images.pullPolicy && { pullPolicy: images.pullPolicy }),
        targetGroupArns: fleetTargetGroups(fleet, loadBalancer),
        parameterPath: parameterPrefix,
        // Puma stores uploads, Sidekiq fetches and removes media; the streaming server never does.
        ...((fleet.web || fleet.sidekiq) && { mediaAccessPolicy: media.accessPolicy }),
        tags: stackTags,
        instanceTags: { "mastodon:version": config.version },
        logRetentionDays: config.logs.retentionDays,
      },
      { parent },
    );
  };
  // The scheduler's fleet first: its one host prepares the database, and every other group is
  // created only once that host is InService (Fleet's schemaFromGroup).
  const schedulerConfig = config.fleets.find((f) => f.servesScheduler);
  const schedulerComponent = schedulerConfig && makeFleet(schedulerConfig);
  return config.fleets.map((fleet) =>
    fleet === schedulerConfig && schedulerComponent
      ? schedulerComponent
      : makeFleet(fleet, schedulerComponent?.group.name),
  );
}
