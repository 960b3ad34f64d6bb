/**
 * What the wiring reads of MastodonStack's tiers: the components it composed, as one table, and the
 * one shape both kinds of Redis share. Types only, so every wiring module (and the tiers' own
 * construction) reads the same table without importing each other.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { LoadBalancer } from "../edge/loadBalancer";
import type { Mail } from "../mail/mail";
import type { MediaStorage } from "../media/mediaStorage";
import type { Network } from "../network/network";
import type { PostgresDatabase } from "../database/postgresDatabase";
import type { SearchDomain } from "../search/searchDomain";
import type { Translation } from "../translation/translation";
import type { WebAcl } from "../waf/webAcl";

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
  /** The ALB's web ACL, with mastodon:waf. */
  readonly waf?: WebAcl;
}
