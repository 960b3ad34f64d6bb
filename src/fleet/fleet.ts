import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../vocabulary/defaults";
import { fleetLogGroupName } from "../monitoring/logs";
import { groupMaintenancePolicy } from "./replacement";
import { POLICY_TAGS, fleetPolicyTags } from "../aws/policyTags";
import { MAX_LIFECYCLE_HEARTBEAT_SECONDS, capacityWaitSeconds } from "./host/readiness";
import { type FleetVolumeArgs, fleetRole } from "./fleetRole";
import { providedType, withFormerType } from "../aws/typeToken";
import type { FleetGroupArgs } from "./fleetGroup";
import { compressUserData } from "./userData";
import { groupLifecycleHooks } from "./lifecycleHooks";
import { INSTANCE_WARMUP_SECONDS, scalingPolicies } from "./scalingPolicies";
import { groupWarmPool } from "./warmPool";

// The group's args and the user-data limit are part of the package's API (lib/index.ts).
export type { FleetGroupArgs } from "./fleetGroup";
export { USER_DATA_LIMIT_BYTES } from "./userData";

/** The group tag naming the group whose host prepared the database before this one was created. */
export const SCHEMA_FROM_TAG = "mastodon:schema-from";

export interface FleetArgs extends FleetVolumeArgs {
  /** The group: sizes, types, scaling and the budget's facts (src/stack/fleetGroup.ts). */
  fleet: FleetGroupArgs;
  /** The AMI the hosts boot; its architecture must be fleet.instanceType's. */
  imageId: pulumi.Input<string>;
  /** The AMI's root device, which the launch template encrypts and sizes (@default "/dev/xvda"). */
  rootDeviceName?: string;
  /** The subnets the group launches hosts in, one per zone (the app subnets, or the public ones without NAT). */
  subnetIds: pulumi.Input<string>[];
  /** The hosts' security groups: those of the roles the fleet runs (web, streaming, sidekiq). */
  securityGroupIds: pulumi.Input<string>[];
  /** Fleets in public subnets (no NAT) need a public IPv4 for egress. (@default false) */
  associatePublicIp?: boolean;
  /** cloud-config (plain text); compressed and encoded here. */
  userData: pulumi.Input<string>;
  /**
   * The launch hook's heartbeat timeout: the boot's own bound (src/fleet/host/readiness.ts,
   * lifecycleHeartbeatSeconds of the steps userData runs). (@default 7200, AWS's longest)
   */
  launchHeartbeatSeconds?: pulumi.Input<number>;
  /**
   * The longest the boot may hold the launch hook, a step that records heartbeats at its full bound
   * (readiness.ts, launchWaitSeconds): `pulumi up` waits for the group's capacity this long plus a
   * launch. (@default launchHeartbeatSeconds)
   */
  launchWaitSeconds?: pulumi.Input<number>;
  /**
   * The group of the host that prepares the database (the scheduler's fleet; src/database/database.ts).
   * This group is created only once that group has its host InService, so no host of this fleet
   * boots before the schema exists: the name is a tag of this group (`mastodon:schema-from`, not on
   * the instances), a reference the engine must resolve first. (@default none: this fleet prepares it)
   */
  schemaFromGroup?: pulumi.Input<string>;
  /** ALB target groups the instances join (web, or one per streaming port). (@default []) */
  targetGroupArns?: pulumi.Input<string>[];
  /** The stack's SSM path: it names the fleet's log group and its metrics' Stack dimension. */
  parameterPath: string;
  /**
   * The SSM parameters the hosts read, each by name (src/fleet/host/fleetHost.ts, FleetHost.parameterNames):
   * the role may read (and decrypt) these and no other parameter. (@default none)
   */
  parameterNames?: pulumi.Input<string[]>;
  /**
   * The media bucket policy (JSON) from MediaStorage, for fleets that read or write media (Puma's
   * uploads, Sidekiq's fetches and removals). The streaming server never touches S3. (@default none)
   */
  mediaAccessPolicy?: pulumi.Input<string>;
  /** The host-files bucket's read policy (JSON): the programs the hosts fetch at boot. (@default none) */
  hostFilesPolicy?: pulumi.Input<string>;
  /**
   * The RDS master password's SSM parameter ARN, for the fleet that prepares the database (the
   * scheduler's): no other fleet may read it. (@default none)
   */
  adminPasswordParameterArn?: pulumi.Input<string>;
  /**
   * The owner's first-password SSM parameter ARN, for the fleet that creates the owner account: it
   * may read (whether it exists) and write that one parameter. (@default none)
   */
  ownerPasswordParameterArn?: pulumi.Input<string>;
  /**
   * The database's pg_dump archive's read policy (JSON), for the fleet that restores it
   * (the scheduler's, with mastodon:database.restoreFrom.dump): no other fleet may read it. (@default none)
   */
  databaseDumpPolicy?: pulumi.Input<string>;
  /** Image source official with a pull-through cache: the role's ECR pull policy (JSON). (@default none) */
  pullPolicy?: pulumi.Input<string>;
  /** Tags on every instance, e.g. the stack that owns it. (@default {}) */
  tags?: Record<string, string>;
  /**
   * Tags on the instances and volumes only, through the launch template (e.g. the Mastodon version
   * they run): a change rolls the fleet, and touches nothing else. (@default {})
   */
  instanceTags?: Record<string, string>;
  /** Days the fleet's log group keeps its logs, one of CloudWatch Logs' periods (@default 30). */
  logRetentionDays?: number;
}

/**
 * One role fleet: a launch template (IMDSv2 only, encrypted gp3 root, no key pair, user-data
 * compressed), an instance profile allowed only what the fleet needs (SSM agent, the parameters
 * its hosts read, the media bucket, its log group, metrics in the Mastodon namespace), and an Auto
 * Scaling group across the app subnets.
 *
 * A new instance stays in Pending:Wait on the launch lifecycle hook until its boot completes the
 * action (src/fleet/host/readiness.ts): CONTINUE when every unit serves, ABANDON (the instance is
 * terminated and replaced) when a step fails or it is not ready in time, and ABANDON by default
 * when nothing answers within the heartbeat timeout. The hook is declared with the group
 * (initialLifecycleHooks), so even the first instances wait on it (Amazon EC2 Auto Scaling User
 * Guide, "Add lifecycle hooks": a hook added after the group misses the instances already
 * launching). After the boot, the host's watch marks it Unhealthy when its units stay down; web
 * and streaming fleets also use the ALB's health checks.
 *
 * Hosts are replaced (an instance refresh on a launch-template change, a host marked Unhealthy) as
 * the group's instance maintenance policy says: web and streaming launch first, the scheduler's one
 * host and other Sidekiq hosts leave first (src/fleet/replacement.ts, which the budget reads).
 */
export class Fleet extends pulumi.ComponentResource {
  /** The fleet's name, fleet.name (its mastodon:fleets key). */
  public readonly fleetName: string;
  /** The hosts' launch template: the AMI, user-data, IMDSv2 only, the encrypted root volume. */
  public readonly launchTemplate: aws.ec2.LaunchTemplate;
  /** The fleet's Auto Scaling group. */
  public readonly group: aws.autoscaling.Group;
  /** The hosts' IAM role: SSM, the parameters they read, media, their log group, metrics. */
  public readonly role: aws.iam.Role;
  /** The CloudWatch log group the hosts' journald logs go to. */
  public readonly logGroup: aws.cloudwatch.LogGroup;

  constructor(name: string, args: FleetArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("Fleet"), name, {}, withFormerType("mastodon:compute:Fleet", opts));
    const parent = { parent: this };
    const { fleet } = args;
    this.fleetName = fleet.name;
    const region = aws.getRegionOutput({}, parent).region;
    const identity = aws.getCallerIdentityOutput({}, parent);
    const tags = { ...(args.tags ?? {}), [POLICY_TAGS.fleet]: fleet.name };

    this.logGroup = new aws.cloudwatch.LogGroup(
      `${name}-logs`,
      {
        name: fleetLogGroupName(args.parameterPath, fleet.name),
        retentionInDays: args.logRetentionDays ?? DEFAULTS.fleet.logRetentionDays,
      },
      parent,
    );

    const { role, profile } = fleetRole(name, args, {
      region,
      accountId: identity.accountId,
      tags,
      logGroupArn: this.logGroup.arn,
      parent: this,
    });
    this.role = role;

    const userData = pulumi.output(args.userData).apply((text) => compressUserData(name, text));

    this.launchTemplate = new aws.ec2.LaunchTemplate(
      `${name}-template`,
      {
        description: `Mastodon fleet ${fleet.name}`,
        imageId: args.imageId,
        instanceType: fleet.instanceType,
        iamInstanceProfile: { arn: profile.arn },
        metadataOptions: {
          httpTokens: "required",
          httpEndpoint: "enabled",
          httpPutResponseHopLimit: 1,
          instanceMetadataTags: "enabled",
        },
        blockDeviceMappings: [
          {
            deviceName: args.rootDeviceName ?? DEFAULTS.fleet.rootDeviceName,
            ebs: {
              volumeType: "gp3",
              volumeSize: fleet.rootVolumeGiB ?? DEFAULTS.fleet.rootVolumeGiB,
              encrypted: "true",
              deleteOnTermination: "true",
            },
          },
        ],
        networkInterfaces: [
          {
            deviceIndex: 0,
            associatePublicIpAddress: String(args.associatePublicIp ?? false),
            securityGroups: args.securityGroupIds,
            deleteOnTermination: "true",
          },
        ],
        monitoring: { enabled: true },
        userData,
        updateDefaultVersion: true,
        tagSpecifications: [
          { resourceType: "instance", tags: { ...tags, ...args.instanceTags, Name: name } },
          { resourceType: "volume", tags: { ...tags, ...args.instanceTags, Name: name } },
        ],
      },
      parent,
    );

    const launchTemplate = {
      id: this.launchTemplate.id,
      version: pulumi.interpolate`${this.launchTemplate.latestVersion}`,
    };
    const targetGroupArns = args.targetGroupArns ?? [];
    const heartbeat = pulumi.output(args.launchHeartbeatSeconds ?? MAX_LIFECYCLE_HEARTBEAT_SECONDS);
    const scaled = fleet.cpuTarget !== undefined || fleet.queueLatencyTarget !== undefined;
    const maintenance = groupMaintenancePolicy(fleet, targetGroupArns.length > 0);
    const warmPool = groupWarmPool(fleet);
    this.group = new aws.autoscaling.Group(
      `${name}-group`,
      {
        vpcZoneIdentifiers: args.subnetIds,
        minSize: fleet.minSize,
        maxSize: fleet.maxSize,
        desiredCapacity: fleet.desiredSize,
        ...(fleet.spot === true
          ? {
              capacityRebalance: true,
              mixedInstancesPolicy: {
                // The minimum stays on-demand; what autoscaling adds above it runs on Spot.
                instancesDistribution: {
                  onDemandBaseCapacity: fleet.minSize,
                  onDemandPercentageAboveBaseCapacity: 0,
                  spotAllocationStrategy: "price-capacity-optimized",
                },
                launchTemplate: {
                  launchTemplateSpecification: {
                    launchTemplateId: launchTemplate.id,
                    version: launchTemplate.version,
                  },
                  // Several types widen the Spot pools price-capacity-optimized draws from. The
                  // rules keep them alike in architecture and vCPUs and no smaller in memory than
                  // instanceType (src/search/rules.ts), so one launch template and the
                  // sizing done for instanceType hold on each; the on-demand base takes the first.
                  ...(fleet.spotInstanceTypes?.length && {
                    overrides: [fleet.instanceType, ...fleet.spotInstanceTypes].map((instanceType) => ({
                      instanceType,
                    })),
                  }),
                },
              },
            }
          : { launchTemplate }),
        targetGroupArns,
        // The provider's default is 10 minutes, shorter than a first boot: the boot's own bound.
        waitForCapacityTimeout: pulumi
          .output(args.launchWaitSeconds ?? heartbeat)
          .apply((wait) => `${capacityWaitSeconds(wait)}s`),
        initialLifecycleHooks: groupLifecycleHooks(fleet, heartbeat),
        ...(warmPool && { warmPool }),
        healthCheckType: targetGroupArns.length ? "ELB" : "EC2",
        healthCheckGracePeriod: 300,
        defaultInstanceWarmup: INSTANCE_WARMUP_SECONDS,
        enabledMetrics: [
          "GroupDesiredCapacity",
          "GroupInServiceInstances",
          "GroupMaxSize",
          "GroupMinSize",
          "GroupTotalInstances",
        ],
        instanceMaintenancePolicy: maintenance,
        // A refresh's preferences override the policy; the provider fills left-out ones with 90/100.
        instanceRefresh: {
          strategy: "Rolling",
          preferences: {
            ...maintenance,
            instanceWarmup: String(INSTANCE_WARMUP_SECONDS),
          },
        },
        // The budget's and the scheduler's facts for the policy pack (src/aws/policyTags.ts); kept
        // off `tags`, which also scopes the lifecycle policy.
        tags: [
          ...Object.entries({ ...tags, ...fleetPolicyTags(fleet), Name: name }).map(([key, value]) => ({
            key,
            value,
            propagateAtLaunch: true,
          })),
          ...(args.schemaFromGroup !== undefined
            ? [{ key: SCHEMA_FROM_TAG, value: args.schemaFromGroup, propagateAtLaunch: false }]
            : []),
        ],
      },
      // Target tracking owns the desired size between min and max once it is on.
      { parent: this, ...(scaled && { ignoreChanges: ["desiredCapacity"] }) },
    );

    scalingPolicies(name, fleet, this.group.name, args.parameterPath, this);
    this.registerOutputs({ groupName: this.group.name, launchTemplateId: this.launchTemplate.id });
  }
}
