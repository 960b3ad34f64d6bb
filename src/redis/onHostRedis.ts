import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { POLICY_TAGS } from "../aws/policyTags";
import { REDIS_VOLUME_TAG, redisVolumePolicy } from "./redisVolumePolicy";
import type { OnHostRedis as OnHostRedisConfig } from "../config/stackConfig";
import { ssmPlaceholder } from "../host/boot";
import type { OnHostRedisInput } from "./onHostRedisUnits";
import type { RedisRole } from "./redisServer";
import { MIB } from "../fleet/memory";
import { providedType, withFormerType } from "../aws/typeToken";

export interface OnHostRedisArgs {
  /** Where the AUTH passwords are stored, e.g. /mastodon/production/mastodon. */
  parameterPrefix: string;
  /** The cache server's port on 127.0.0.1. */
  cachePort: number;
  /** The persistent server's port on 127.0.0.1. */
  persistentPort: number;
  /** The persistent store's encrypted gp3 volume, GiB (redis.onHost.persistentVolumeGiB). */
  persistentVolumeGiB: number;
  /** The volume's zone: the network's first. */
  availabilityZone: pulumi.Input<string>;
  /** The fleets' subnet in that zone: the one-host fleet's only subnet, so its hosts can attach the volume. */
  subnetId: pulumi.Input<string>;
  /** The one fleet whose host runs both Redis (the rules allow no other). */
  fleetName: string;
  /** The deployment's tags (mastodon:stack): on the volume, and the attach policy's conditions. */
  tags: Record<string, string>;
  /** A last snapshot of the volume when it is deleted (`pulumi destroy`). (@default false) */
  finalSnapshot?: boolean;
}

/** Where the fleet that runs both Redis goes, and what its role may do with the volume (src/fleet/fleet.ts). */
export interface OnHostRedisPlacement {
  /** The fleet's only subnet: subnetId, in the volume's zone. */
  readonly subnetIds: pulumi.Output<string>[];
  /** The IAM policy (JSON) that lets the fleet's role attach that one volume (FleetArgs.dataVolumePolicy). */
  readonly dataVolumePolicy: pulumi.Output<string>;
}

/** One on-host server as the wiring reads it: the same shape as a RedisStore's endpoint. */
export interface OnHostRedisEndpoint {
  /** Which of the two Redis this is. */
  readonly role: RedisRole;
  /** Where Mastodon reaches it: 127.0.0.1. */
  readonly host: pulumi.Output<string>;
  /** Its port on 127.0.0.1: cachePort or persistentPort. */
  readonly port: number;
  /** Always false: loopback traffic never leaves the host. */
  readonly tls: boolean;
  /** The SSM SecureString parameter holding its AUTH password. */
  readonly passwordParameterName: string;
  /** No ElastiCache members: nothing for the ElastiCache alarms to watch. */
  readonly memberClusterIds: pulumi.Output<string>[];
  /** The persistent store's own EBS volume, which its host attaches at boot. */
  readonly dataVolumeId?: pulumi.Output<string>;
}

/**
 * The two Redis that run on the app host (redis.onHost; docs/design.md, "Redis on the host"): their
 * AUTH passwords, generated and kept as SSM SecureStrings that the host reads at boot, and the
 * persistent store's own EBS volume, which the host attaches and mounts at boot
 * (src/redis/redisVolume.ts) so that its AOF outlives the instance. The servers themselves are
 * rendered into the host's user-data (src/redis/onHostRedisUnits.ts) and listen on 127.0.0.1 only, in
 * plain text (loopback never leaves the host), still behind AUTH.
 *
 * The volume lives in one zone (EBS volumes attach within their zone only: Amazon EBS User Guide,
 * "Attach an Amazon EBS volume to an instance"), so the fleet is placed in that zone's subnet only
 * (`placement`): a one-host fleet gains nothing from more zones, and its replacement must land where
 * the volume is. Encrypted at rest with the account's EBS key. Neither `protect` nor
 * `retainOnDelete`: it holds queues and feeds, not the instance's record (PostgreSQL and S3 do), so
 * `pulumi destroy` removes it with the stack, after the group (whose user-data names it) has
 * terminated the host that holds it; a retained volume would bill on outside any stack, and a new
 * stack would not adopt it. A production stack takes a final snapshot of it on the way out, as its
 * database does.
 */
export class OnHostRedis extends pulumi.ComponentResource {
  /** The cache (allkeys-lru, no persistence). */
  public readonly cache: OnHostRedisEndpoint;
  /** The persistent store (noeviction, AOF on its own volume). */
  public readonly persistent: OnHostRedisEndpoint;
  /** The persistent store's encrypted gp3 EBS volume, which the host attaches at boot. */
  public readonly persistentVolume: aws.ebs.Volume;
  /** Where the fleet that runs both Redis goes, and what its role may do with the volume. */
  public readonly placement: OnHostRedisPlacement;

  constructor(name: string, args: OnHostRedisArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("OnHostRedis"), name, {}, withFormerType("mastodon:redis:OnHostRedis", opts));
    const parent = { parent: this };
    const endpoint = (role: RedisRole, port: number): OnHostRedisEndpoint => {
      // Alphanumeric: it goes into a redis:// URL and a redis.conf include as is (boot.ts).
      const password = new random.RandomPassword(
        `${name}-${role}-auth`,
        { length: 64, special: false },
        parent,
      );
      const passwordParameterName = `${args.parameterPrefix}/redis-${role}-password`;
      new aws.ssm.Parameter(
        `${name}-${role}-auth`,
        {
          name: passwordParameterName,
          type: "SecureString",
          value: pulumi.secret(password.result),
          description: `Mastodon ${role} Redis AUTH password (on the app host)`,
        },
        parent,
      );
      return {
        role,
        host: pulumi.output("127.0.0.1"),
        port,
        tls: false,
        passwordParameterName,
        memberClusterIds: [],
      };
    };
    const volumeTags = { ...args.tags, [REDIS_VOLUME_TAG]: "persistent" };
    this.persistentVolume = new aws.ebs.Volume(
      `${name}-persistent-data`,
      {
        availabilityZone: args.availabilityZone,
        size: args.persistentVolumeGiB,
        type: "gp3",
        encrypted: true,
        finalSnapshot: args.finalSnapshot ?? false,
        tags: { ...volumeTags, Name: `${name}-persistent-data` },
      },
      parent,
    );
    this.cache = endpoint("cache", args.cachePort);
    this.persistent = {
      ...endpoint("persistent", args.persistentPort),
      dataVolumeId: this.persistentVolume.id,
    };
    // The fleet's instances carry the deployment's tags and their fleet's (src/fleet/fleet.ts).
    const instanceTags = { ...args.tags, [POLICY_TAGS.fleet]: args.fleetName };
    this.placement = {
      subnetIds: [pulumi.output(args.subnetId)],
      dataVolumePolicy: this.persistentVolume.arn.apply((arn) =>
        JSON.stringify(redisVolumePolicy(arn, volumeTags, instanceTags)),
      ),
    };
    this.registerOutputs({
      cachePasswordParameterName: this.cache.passwordParameterName,
      persistentPasswordParameterName: this.persistent.passwordParameterName,
      persistentVolumeId: this.persistentVolume.id,
    });
  }
}

/** What MastodonStack hands the component (src/stack/dataTiers.ts, redisTiers). */
export function onHostRedisArgs(
  onHost: OnHostRedisConfig,
  network: { availabilityZones: pulumi.Output<string[]>; fleetSubnetIds: pulumi.Output<string>[] },
  fleets: readonly { readonly name: string }[],
  /** The deployment's mastodon:stack tag, as MastodonStack tags its resources and fleets. */
  stackTag: string,
  production: boolean,
): Omit<OnHostRedisArgs, "parameterPrefix"> {
  const subnetId = network.fleetSubnetIds[0];
  if (!subnetId) throw new Error("redis.onHost: the network has no subnet for the fleets");
  const [fleet, ...others] = fleets;
  if (!fleet || others.length > 0) throw new Error("redis.onHost: exactly one fleet runs both Redis");
  return {
    cachePort: onHost.cachePort,
    persistentPort: onHost.persistentPort,
    persistentVolumeGiB: onHost.persistentVolumeGiB,
    // The first zone's subnet, as the Network makes its subnets in the order of its zones.
    availabilityZone: network.availabilityZones.apply((zones) => zones[0] as string),
    subnetId,
    fleetName: fleet.name,
    tags: { [POLICY_TAGS.stack]: stackTag },
    finalSnapshot: production,
  };
}

/**
 * The two servers as the host renders them (src/redis/onHostRedisUnits.ts): ports, maxmemory, the
 * passwords' SSM placeholders, the persistent store's volume. Undefined without redis.onHost.
 */
export function onHostRedisInput(
  onHost: OnHostRedisConfig | undefined,
  tiers: {
    cache: { port: number; passwordParameterName: string };
    persistent: { port: number; passwordParameterName: string; dataVolumeId?: pulumi.Output<string> };
  },
): pulumi.Output<OnHostRedisInput | undefined> {
  if (!onHost) return pulumi.output(undefined);
  const volumeId = tiers.persistent.dataVolumeId;
  if (!volumeId) throw new Error("redis.onHost: the persistent Redis has no volume");
  const server = (tier: { port: number; passwordParameterName: string }, maxmemoryMiB: number) => ({
    port: tier.port,
    maxmemoryBytes: maxmemoryMiB * MIB,
    passwordPlaceholder: ssmPlaceholder(tier.passwordParameterName),
  });
  return volumeId.apply((persistentVolumeId) => ({
    cache: server(tiers.cache, onHost.cacheMaxmemoryMiB),
    persistent: server(tiers.persistent, onHost.persistentMaxmemoryMiB),
    persistentVolumeId,
  }));
}
