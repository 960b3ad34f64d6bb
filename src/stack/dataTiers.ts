/**
 * MastodonStack's data tier: RDS PostgreSQL, and the two Redis (ElastiCache, the self-managed AOF
 * host, or both on the app host with redis.onHost), in the VPC's data subnets.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig, ValidatedConfig } from "../config";
import { databasePolicyTags } from "../aws/policyTags";
import type { DeploymentScope } from "../aws/naming/scope";
import type { Network } from "../network/network";
import { PostgresDatabase } from "../database/postgresDatabase";
import { OnHostRedis, onHostRedisArgs } from "../redis/onHostRedis";
import { RedisStore } from "../redis/redisStore";
import type { RedisTier } from "./tiers";

/** RDS PostgreSQL: the primary, and the read replica when configured. */
export function stackDatabase(
  name: string,
  validated: ValidatedConfig,
  network: Network,
  scope: DeploymentScope,
  stackTags: Record<string, string>,
  production: boolean,
  parent: pulumi.Resource,
): PostgresDatabase {
  const dataSubnetIds = network.dataSubnetIds;
  const groups = network.securityGroups;
  const databaseConfig = validated.config.database;
  return new PostgresDatabase(
    `${name}-db`,
    {
      instanceClass: databaseConfig.primary.instanceClass,
      maxConnections: databaseConfig.primary.maxConnections,
      workMemMiB: databaseConfig.primary.workMemMiB,
      engineVersion: databaseConfig.engineVersion,
      multiAz: databaseConfig.multiAz,
      storageGiB: databaseConfig.storageGiB,
      maxStorageGiB: databaseConfig.maxStorageGiB,
      // The app's role may hold what the budget plans for the fleets, no more (its CONNECTION LIMIT).
      budget: validated.budget,
      tags: { ...stackTags, ...databasePolicyTags(databaseConfig.adminHeadroom) },
      production,
      subnetIds: dataSubnetIds,
      securityGroupId: groups.database.id,
      parameterPrefix: scope.parameterPrefix,
      scope,
      ...(databaseConfig.restoreFrom && { restoreFrom: databaseConfig.restoreFrom }),
      ...(databaseConfig.replica && {
        replica: {
          instanceClass: databaseConfig.replica.instanceClass,
          maxConnections: databaseConfig.replica.maxConnections,
          workMemMiB: databaseConfig.replica.workMemMiB,
        },
      }),
    },
    { parent },
  );
}

/** The two Redis: on the app host with redis.onHost, else ElastiCache (or the self-managed AOF host). */
export function redisTiers(
  scope: DeploymentScope,
  network: Network,
  config: StackConfig,
  production: boolean,
  parent: pulumi.Resource,
): {
  cache: RedisTier;
  persistent: RedisTier;
  onHostRedis?: OnHostRedis;
  stores?: { cache: RedisStore; persistent: RedisStore };
} {
  const { cache, persistent, onHost } = config.redis;
  if (onHost) {
    const onHostRedis = new OnHostRedis(
      `${scope.name}-redis`,
      {
        parameterPrefix: scope.parameterPrefix,
        ...onHostRedisArgs(onHost, network, config.fleets, scope.tag, production),
      },
      { parent },
    );
    return { onHostRedis, cache: onHostRedis.cache, persistent: onHostRedis.persistent };
  }
  const cacheStore = new RedisStore(
    `${scope.name}-cache`,
    {
      role: "cache",
      engine: cache.engine,
      engineVersion: cache.engineVersion,
      nodeType: cache.nodeType,
      nodes: cache.nodes,
      production,
      subnetIds: network.dataSubnetIds,
      securityGroupId: network.securityGroups.redis.id,
      parameterPrefix: scope.parameterPrefix,
      scope,
    },
    { parent },
  );
  const persistentStore = new RedisStore(
    `${scope.name}-persistent`,
    {
      role: "persistent",
      mode: persistent.mode,
      engine: persistent.engine,
      engineVersion: persistent.engineVersion,
      nodeType: persistent.nodeType,
      nodes: persistent.nodes,
      production,
      subnetIds: network.dataSubnetIds,
      securityGroupId: network.securityGroups.redis.id,
      parameterPrefix: scope.parameterPrefix,
      scope,
      host: {
        vpcId: network.vpcId,
        // The host needs egress (packages, SSM), so it lives with the fleets, not in the data tier.
        subnetId: network.fleetSubnetIds[0] as pulumi.Output<string>,
        availabilityZone: network.availabilityZones.apply((zones) => zones[0] as string),
        instanceType: persistent.instanceType,
        volumeGiB: persistent.volumeGiB,
        publicIp: network.fleetsNeedPublicIp,
        debianSerial: config.image.debianSerial,
      },
    },
    { parent },
  );
  return {
    cache: cacheStore,
    persistent: persistentStore,
    stores: { cache: cacheStore, persistent: persistentStore },
  };
}
