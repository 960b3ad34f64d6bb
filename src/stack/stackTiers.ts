/**
 * The tiers MastodonStack composes, in the order they are declared: the VPC, the data tier
 * (PostgreSQL, the two Redis), the edge (ALB and its web ACL, media, DNS) and the services (mail, search,
 * translation), as the table the wiring reads (src/stack/tiers.ts).
 */
import type * as pulumi from "@pulumi/pulumi";
import type { ValidatedConfig } from "../config";
import type { DeploymentScope } from "../aws/naming/scope";
import type { DnsRecords } from "../edge/dnsRecords";
import { Network, hostInstanceTypes } from "../network/network";
import type { OnHostRedis } from "../redis/onHostRedis";
import type { RedisStore } from "../redis/redisStore";
import { redisTiers, stackDatabase } from "./dataTiers";
import { edgeTiers } from "./edgeTiers";
import { serviceTiers } from "./serviceTiers";
import type { Tiers } from "./tiers";

/** The tiers, and the components MastodonStack shows that the wiring does not read. */
export interface StackTiers {
  readonly tiers: Tiers;
  /** redis.onHost: the two Redis on the app host. */
  readonly onHostRedis?: OnHostRedis;
  /** Without redis.onHost: the two RedisStore components. */
  readonly stores?: { cache: RedisStore; persistent: RedisStore };
  readonly dns?: DnsRecords;
}

/** Every tier of the stack, declared on `parent` (the MastodonStack). */
export function stackTiers(
  name: string,
  scope: DeploymentScope,
  validated: ValidatedConfig,
  stackTags: Record<string, string>,
  parent: pulumi.Resource,
): StackTiers {
  const config = validated.config;
  const production = config.environment === "production";
  const network = new Network(
    `${name}-network`,
    {
      cidr: config.network.cidr,
      availabilityZones: config.network.availabilityZones,
      egress: config.network.egress,
      ipv6: config.network.ipv6,
      streamingPorts: [...config.streamingPorts],
      instanceTypes: hostInstanceTypes(config),
    },
    { parent },
  );
  const database = stackDatabase(name, validated, network, scope, stackTags, production, parent);
  const redis = redisTiers(scope, network, config, production, parent);
  const { loadBalancer, waf, media, dns } = edgeTiers(name, scope, config, network, production, parent);
  const { mail, search, translation } = serviceTiers(name, config, network, scope.parameterPrefix, parent);
  const tiers: Tiers = {
    config,
    network: network,
    database: database,
    cache: redis.cache,
    persistent: redis.persistent,
    loadBalancer: loadBalancer,
    media: media,
    mail: mail,
    ...(search && { search: search }),
    ...(translation && { translation: translation }),
    ...(waf && { waf }),
  };
  return { tiers, onHostRedis: redis.onHostRedis, stores: redis.stores, dns };
}
