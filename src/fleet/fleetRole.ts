import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitLogicalName } from "../aws/naming";
import { assumeRolePolicy, fleetLifecyclePolicy, fleetLogsPolicy, fleetMetricsPolicy } from "../aws/policies";
import { fleetParametersPolicy, parameterReadPolicy, parameterWritePolicy } from "../aws/parameterPolicies";
import { ssmAgentPolicy } from "../aws/ssmAgentPolicy";

/** Fleet's args (src/fleet/fleet.ts, FleetArgs) for the fleet that runs both Redis (redis.onHost). */
export interface FleetVolumeArgs {
  /**
   * Attaching the persistent Redis's EBS volume to the fleet's own instances: the policy (JSON) from
   * OnHostRedis.placement (src/redis/redisVolumePolicy.ts). (@default none)
   */
  dataVolumePolicy?: pulumi.Input<string>;
}

/** What of a Fleet's args (src/fleet/fleet.ts, FleetArgs) its role reads. */
export interface FleetRoleArgs {
  readonly fleet: { readonly name: string };
  /** The SSM parameters the hosts read, by name: the role may read these alone (none without it). */
  readonly parameterNames?: pulumi.Input<string[]>;
  readonly mediaAccessPolicy?: pulumi.Input<string>;
  readonly dataVolumePolicy?: pulumi.Input<string>;
  readonly hostFilesPolicy?: pulumi.Input<string>;
  readonly pullPolicy?: pulumi.Input<string>;
  readonly adminPasswordParameterArn?: pulumi.Input<string>;
  readonly ownerPasswordParameterArn?: pulumi.Input<string>;
  readonly databaseDumpPolicy?: pulumi.Input<string>;
}

/** What the role's policies are scoped by, besides the fleet's args. */
export interface FleetRoleContext {
  readonly region: pulumi.Output<string>;
  readonly accountId: pulumi.Output<string>;
  /** The fleet's tags: the lifecycle policy acts only on groups that carry them. */
  readonly tags: Record<string, string>;
  readonly logGroupArn: pulumi.Output<string>;
  /** The Fleet component: the role and its policies are its children, named from its name. */
  readonly parent: pulumi.Resource;
}

/**
 * A fleet's instance role and profile (src/fleet/fleet.ts): Session Manager instead of SSH, the
 * parameters its hosts read (each by name: a host running only the streaming server reads no Rails
 * secret), the media bucket where the fleet touches media, the host files, the image
 * registry's pull-through cache, the database's passwords (and a pg_dump archive to restore) on the
 * scheduler's fleet, its own log
 * group, metrics in the Mastodon namespace, and the lifecycle actions of its own group.
 */
export function fleetRole(
  name: string,
  args: FleetRoleArgs,
  ctx: FleetRoleContext,
): { role: aws.iam.Role; profile: aws.iam.InstanceProfile } {
  const parent = { parent: ctx.parent };
  // IAM role names hold 64 characters: a long component and fleet name are cut to fit.
  const role = new aws.iam.Role(
    fitLogicalName("aws:iam/role:Role", name, "role"),
    {
      description: `Mastodon fleet ${args.fleet.name}`,
      assumeRolePolicy: assumeRolePolicy("ec2"),
    },
    parent,
  );
  // Session Manager instead of SSH, and Run Command: the SSM Agent's actions without the managed
  // AmazonSSMManagedInstanceCore's read of every parameter (src/aws/ssmAgentPolicy.ts).
  new aws.iam.RolePolicy(
    `${name}-ssm-agent`,
    { role: role.id, policy: JSON.stringify(ssmAgentPolicy()) },
    parent,
  );
  if (args.parameterNames !== undefined)
    new aws.iam.RolePolicy(
      `${name}-parameters`,
      {
        role: role.id,
        policy: pulumi
          .all([ctx.region, ctx.accountId, args.parameterNames])
          .apply(([r, account, names]) => JSON.stringify(fleetParametersPolicy(r, account, names))),
      },
      parent,
    );
  if (args.mediaAccessPolicy !== undefined)
    new aws.iam.RolePolicy(`${name}-media`, { role: role.id, policy: args.mediaAccessPolicy }, parent);
  if (args.hostFilesPolicy)
    new aws.iam.RolePolicy(`${name}-host-files`, { role: role.id, policy: args.hostFilesPolicy }, parent);
  if (args.dataVolumePolicy)
    new aws.iam.RolePolicy(`${name}-redis-volume`, { role: role.id, policy: args.dataVolumePolicy }, parent);
  if (args.pullPolicy)
    new aws.iam.RolePolicy(`${name}-registry`, { role: role.id, policy: args.pullPolicy }, parent);
  if (args.adminPasswordParameterArn !== undefined)
    new aws.iam.RolePolicy(
      `${name}-db-admin`,
      {
        role: role.id,
        policy: pulumi
          .all([args.adminPasswordParameterArn, ctx.region, ctx.accountId])
          .apply(([arn, r, account]) => JSON.stringify(parameterReadPolicy(arn, r, account))),
      },
      parent,
    );
  if (args.ownerPasswordParameterArn !== undefined)
    new aws.iam.RolePolicy(
      `${name}-owner-password`,
      {
        role: role.id,
        policy: pulumi
          .all([args.ownerPasswordParameterArn, ctx.region, ctx.accountId])
          .apply(([arn, r, account]) => JSON.stringify(parameterWritePolicy(arn, r, account))),
      },
      parent,
    );
  if (args.databaseDumpPolicy)
    new aws.iam.RolePolicy(`${name}-db-dump`, { role: role.id, policy: args.databaseDumpPolicy }, parent);
  new aws.iam.RolePolicy(
    `${name}-logs`,
    { role: role.id, policy: ctx.logGroupArn.apply((arn) => JSON.stringify(fleetLogsPolicy(arn))) },
    parent,
  );
  new aws.iam.RolePolicy(
    `${name}-metrics`,
    { role: role.id, policy: JSON.stringify(fleetMetricsPolicy()) },
    parent,
  );
  new aws.iam.RolePolicy(
    `${name}-lifecycle`,
    {
      role: role.id,
      policy: pulumi.all([ctx.region, ctx.accountId]).apply(([r, account]) =>
        // The restore of a pg_dump archive keeps the launch hook waiting with heartbeats.
        JSON.stringify(fleetLifecyclePolicy(r, account, ctx.tags, args.databaseDumpPolicy !== undefined)),
      ),
    },
    parent,
  );
  const profile = new aws.iam.InstanceProfile(`${name}-profile`, { role: role.name }, parent);
  return { role, profile };
}
