/**
 * The table behind MastodonStack's getters: the tiers as components and the resolved config, kept
 * out of the component's fields so Pulumi's analyzer does not make them schema outputs.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { Budget } from "../budget/budget";
import type { ValidatedConfig } from "../config";
import type { Env } from "../host/env";
import type { Architecture } from "../vocabulary/catalog";
import type { DnsRecords } from "../edge/dnsRecords";
import type { Fleet } from "../fleet/fleet";
import type { HostFiles } from "../fleet/hostFiles";
import type { ImageBuild } from "../images/imageBuild";
import type { LoadBalancer } from "../edge/loadBalancer";
import type { Mail } from "../mail/mail";
import type { MediaStorage } from "../media/mediaStorage";
import type { Network } from "../network/network";
import type { PostgresDatabase } from "../database/postgresDatabase";
import type { OnHostRedis } from "../redis/onHostRedis";
import type { RedisStore } from "../redis/redisStore";
import type { Monitoring } from "../monitoring/monitoring";
import type { SearchDomain } from "../search/searchDomain";
import type { Translation } from "../translation/translation";

/**
 * What TypeScript callers read of a stack besides its schema outputs: the tiers as components and
 * the resolved config. Pulumi's analyzer makes every field of a component an output of its schema,
 * and these have no cross-language form (components of this package, zod-derived types), so they
 * are getters over this table rather than fields.
 */
export interface StackParts {
  readonly validated: ValidatedConfig;
  readonly network: Network;
  readonly database: PostgresDatabase;
  readonly cache?: RedisStore;
  readonly persistent?: RedisStore;
  readonly onHostRedis?: OnHostRedis;
  readonly loadBalancer: LoadBalancer;
  readonly media: MediaStorage;
  readonly mail: Mail;
  readonly dns?: DnsRecords;
  readonly search?: SearchDomain;
  readonly translation?: Translation;
  readonly env: pulumi.Output<Env>;
  readonly fleetComponents: Fleet[];
  readonly hostFiles: HostFiles;
  readonly monitoring: Monitoring;
  readonly imageBuild?: ImageBuild;
  readonly images: pulumi.Output<Partial<Record<Architecture, string>>>;
  readonly budget: pulumi.Output<Budget>;
  readonly replicaBudget: pulumi.Output<Budget | undefined>;
}
