import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { assumeRolePolicy } from "../aws/policies";
import { parameterReadPolicy } from "../aws/parameterPolicies";
import { ssmAgentPolicy } from "../aws/ssmAgentPolicy";
import { scopedTag } from "../aws/naming/scope";
import { DEFAULTS } from "../vocabulary/defaults";
import { debianAmiName } from "../images/amis";
import { SELF_MANAGED_MAXMEMORY_FRACTION, renderSelfManagedUserData } from "./redisServer";
import { ec2InstanceSpec } from "../vocabulary/catalog";
import type { DeploymentIdentity } from "../aws/naming/scope";

/** A self-managed-aof store's host. */
export interface RedisHostArgs {
  /** The VPC the host runs in. */
  vpcId: pulumi.Input<string>;
  /** The subnet the host runs in, with egress for Debian's packages and SSM. */
  subnetId: pulumi.Input<string>;
  /** The subnet's zone: the data volume is created there. */
  availabilityZone: pulumi.Input<string>;
  /** The host's EC2 instance type (@default "c7g.large"). */
  instanceType?: string;
  /** The encrypted gp3 data volume holding the AOF, GiB (@default 20). */
  volumeGiB?: number;
  /** Public IPv4 for egress when the subnet has no NAT. (@default false) */
  publicIp?: boolean;
  /** The pinned Debian 12 image serial the host boots (never "latest"). (@default DEFAULTS.image.debianSerial) */
  debianSerial?: string;
}

/** What the host takes from its RedisStore's args. */
export interface SelfManagedRedisArgs {
  /** Longer snapshot retention and a protected volume. */
  production?: boolean;
  /** The redis role's security group (6379 from the fleets). */
  securityGroupId: pulumi.Input<string>;
  /** The deployment: the DLM target tag is named from it. */
  scope: DeploymentIdentity;
  /** Where the host lives. */
  host?: RedisHostArgs;
}

/**
 * The persistent Redis as Redis from Debian on a c-family instance, with appendonly on an
 * encrypted EBS volume kept apart from the instance (protected in production) and snapshotted daily
 * by Data Lifecycle Manager: the only real AOF on AWS (docs/design.md, "The two Redis"). A plain
 * function: its resources belong to the RedisStore that calls it.
 */
export function selfManagedRedisHost(
  name: string,
  args: SelfManagedRedisArgs,
  passwordParameter: aws.ssm.Parameter,
  port: number,
  owner: pulumi.Resource,
): aws.ec2.Instance {
  const parent = { parent: owner };
  const host = args.host;
  if (!host) throw new Error(`${name}: self-managed-aof needs host (vpcId, subnetId, availabilityZone)`);
  const instanceType = host.instanceType ?? DEFAULTS.selfManagedRedis.instanceType;
  const spec = ec2InstanceSpec(instanceType);
  if (!spec) throw new Error(`${name}: ${instanceType} is not a c-family type in the catalog`);
  const production = args.production ?? false;
  const region = aws.getRegionOutput({}, parent).region;
  const identity = aws.getCallerIdentityOutput({}, parent);

  // Egress for Debian's mirrors and SSM; inbound only through the shared redis group.
  const hostGroup = new aws.ec2.SecurityGroup(
    `${name}-host`,
    { vpcId: host.vpcId, description: `${name}: Redis host egress` },
    parent,
  );
  for (const port of [80, 443]) {
    new aws.vpc.SecurityGroupEgressRule(
      `${name}-host-out-${port}`,
      {
        securityGroupId: hostGroup.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
      },
      parent,
    );
  }

  const role = new aws.iam.Role(
    `${name}-host`,
    {
      assumeRolePolicy: assumeRolePolicy("ec2"),
    },
    parent,
  );
  // Session Manager: the SSM Agent's actions without the managed AmazonSSMManagedInstanceCore's read
  // of every parameter (src/aws/ssmAgentPolicy.ts); the host reads its password alone, below.
  new aws.iam.RolePolicy(
    `${name}-host-ssm-agent`,
    { role: role.id, policy: JSON.stringify(ssmAgentPolicy()) },
    parent,
  );
  new aws.iam.RolePolicy(
    `${name}-host-password`,
    {
      role: role.id,
      policy: pulumi
        .all([passwordParameter.arn, region, identity.accountId])
        .apply(([arn, r, account]) => JSON.stringify(parameterReadPolicy(arn, r, account))),
    },
    parent,
  );
  const profile = new aws.iam.InstanceProfile(`${name}-host`, { role: role.name }, parent);

  // DLM snapshots every volume in the account and Region that carries its target tag (Amazon Data
  // Lifecycle Manager User Guide, "Target resource tags"): the value names this deployment's
  // volume alone, or each deployment's policy would snapshot the others' volumes too.
  const snapshotTag = { "mastodon:redis-snapshots": scopedTag(args.scope, name) };
  const volume = new aws.ebs.Volume(
    `${name}-data`,
    {
      availabilityZone: host.availabilityZone,
      size: host.volumeGiB ?? DEFAULTS.selfManagedRedis.volumeGiB,
      type: "gp3",
      encrypted: true,
      tags: { Name: `${name}-data`, ...snapshotTag },
    },
    { parent: owner, ...(production ? { protect: true } : {}) },
  );

  // The same pinned Debian 12 image the fleets boot: a new Debian image arrives only by config.
  // Deprecated images included: the pin outlives the two years after which AWS deprecates a public
  // AMI (Amazon EC2 User Guide, "Deprecate an Amazon EC2 AMI"; src/images/stackImages.ts).
  const ami = aws.ec2.getAmiOutput(
    {
      owners: [DEFAULTS.image.debianOwner],
      includeDeprecated: true,
      filters: [
        {
          name: "name",
          values: [debianAmiName(spec.architecture, host.debianSerial ?? DEFAULTS.image.debianSerial)],
        },
        { name: "architecture", values: [spec.architecture] },
      ],
    },
    parent,
  );
  const maxmemoryBytes = Math.floor(spec.memoryGiB * 1024 ** 3 * SELF_MANAGED_MAXMEMORY_FRACTION);
  const instance = new aws.ec2.Instance(
    `${name}-host`,
    {
      ami: ami.id,
      instanceType,
      subnetId: host.subnetId,
      availabilityZone: host.availabilityZone,
      vpcSecurityGroupIds: [hostGroup.id, args.securityGroupId],
      associatePublicIpAddress: host.publicIp ?? false,
      iamInstanceProfile: profile.name,
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { volumeType: "gp3", volumeSize: 10, encrypted: true },
      userData: pulumi
        .all([volume.id, passwordParameter.name, region])
        .apply(([volumeId, passwordParameter, r]) =>
          renderSelfManagedUserData({ volumeId, passwordParameter, region: r, port, maxmemoryBytes }),
        ),
      userDataReplaceOnChange: true,
      tags: { Name: `${name}-host` },
    },
    parent,
  );
  new aws.ec2.VolumeAttachment(
    `${name}-data`,
    { instanceId: instance.id, volumeId: volume.id, deviceName: "/dev/sdf" },
    parent,
  );

  // Daily EBS snapshots of the data volume (AOF + RDB), by Data Lifecycle Manager.
  const dlmRole = new aws.iam.Role(
    `${name}-snapshots`,
    {
      assumeRolePolicy: assumeRolePolicy("dlm"),
    },
    parent,
  );
  new aws.iam.RolePolicyAttachment(
    `${name}-snapshots`,
    {
      role: dlmRole.name,
      policyArn: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
    },
    parent,
  );
  new aws.dlm.LifecyclePolicy(
    `${name}-snapshots`,
    {
      description: `${name}: daily snapshots of the Redis data volume`,
      executionRoleArn: dlmRole.arn,
      state: "ENABLED",
      policyDetails: {
        resourceTypes: ["VOLUME"],
        targetTags: snapshotTag,
        schedules: [
          {
            name: "daily",
            createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" },
            retainRule: { count: production ? 7 : 1 },
            copyTags: true,
          },
        ],
      },
    },
    parent,
  );
  return instance;
}
