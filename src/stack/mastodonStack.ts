import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Budget } from "../budget/budget";
import { type ConnectionBudget, asConnectionBudget } from "../budget/connectionBudget";
import { type ParseOptions, type StackConfig, type ValidatedConfig, formatProblem } from "../config";
import type { Env } from "../host/env";
import type { Architecture } from "../vocabulary/catalog";
import { POLICY_TAGS } from "../aws/policyTags";
import { deploymentScope } from "../aws/naming/scope";
import type { DnsRecords } from "../edge/dnsRecords";
import type { Fleet } from "../fleet/fleet";
import { HostFiles } from "../fleet/hostFiles";
import type { ImageBuild } from "../images/imageBuild";
import { stackImages } from "../images/stackImages";
import { ownerPasswordCommand, ownerPasswordParameter } from "../database/ownerPassword";
import type { LoadBalancer } from "../edge/loadBalancer";
import type { Mail } from "../mail/mail";
import type { MediaStorage } from "../media/mediaStorage";
import type { Network } from "../network/network";
import type { PostgresDatabase } from "../database/postgresDatabase";
import type { OnHostRedis } from "../redis/onHostRedis";
import type { RedisStore } from "../redis/redisStore";
import type { Monitoring } from "../monitoring/monitoring";
import { MastodonSecrets } from "./secrets";
import type { SearchDomain } from "../search/searchDomain";
import type { Translation } from "../translation/translation";
import { migrationsDocument } from "./migrationsDocument";
import { drillDocument } from "./drillDocument";
import { stackEnv } from "./stackEnv";
import { stackFleets } from "./stackFleets";
import { stackMonitoring } from "./stackMonitoring";
import type { StackParts } from "./stackParts";
import { stackTiers } from "./stackTiers";
import { validateStackArgs } from "./stackInputs";
import type { MastodonStackArgs } from "./mastodonStackArgs";

export type * from "./mastodonStackArgs";

const COMPONENT_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;
/** MastodonStack's options: what the program knows besides args, checked in the same pass. */
export interface MastodonStackOptions extends pulumi.ComponentResourceOptions {
  /** `aws:region` and which config keys are secrets (index.ts reads them from the engine). */
  readonly check?: ParseOptions;
}

const PARTS = new WeakMap<MastodonStack, StackParts>();
/**
 * One Mastodon instance: validates its config (every problem at once, before any resource is
 * declared), computes the connection budget and composes the tiers.
 */
export class MastodonStack extends pulumi.ComponentResource {
  /** SSM parameters of this instance live under this path (fleets may read only these). */
  public readonly parameterPrefix: string;
  /** The SSM document that runs the migrations (README: upgrade runbook). */
  public readonly migrations: aws.ssm.Document;
  /** The SSM document that runs the restore drill's checks (docs/drill.md). */
  public readonly drill: aws.ssm.Document;
  /** The fleet whose single host runs the scheduler and the migrations. */
  public readonly schedulerFleet: string;
  /** Image source official: the Rails release image the hosts run, for one-off commands (@default none for AMI sources). */
  public readonly releaseImage?: pulumi.Output<string>;
  /** Where the release images are pulled from: image.registry, or the pull-through cache's path. */
  public readonly imageRegistry: pulumi.Output<string>;
  /** With mastodon:owner: the command that prints the owner's first password (an SSM SecureString). */
  public readonly ownerPassword?: pulumi.Output<string>;
  /** The ALB's DNS name: where webDomain points. */
  public readonly albDnsName: pulumi.Output<string>;
  /** Where media is served from (S3_ALIAS_HOST): media.customDomain or the CloudFront domain. */
  public readonly mediaHost: pulumi.Output<string>;
  /** The Postgres connection budget at maximum fleet sizes: what the stack was sized with (docs/budget.md). */
  public readonly budget: pulumi.Output<ConnectionBudget>;

  private get parts(): StackParts {
    const parts = PARTS.get(this);
    if (!parts) throw new Error("MastodonStack: read before its constructor finished");
    return parts;
  }
  /** The resolved config every tier reads (defaults filled in; a leaf given as an Output holds it). */
  public get config(): StackConfig {
    return this.parts.validated.config;
  }
  /** Problems that did not stop the deployment (e.g. more than 25 Sidekiq threads). */
  public get warnings(): ValidatedConfig["warnings"] {
    return this.parts.validated.warnings;
  }
  /** The read replica's budget, when there is a replica. */
  public get replicaBudget(): pulumi.Output<Budget | undefined> {
    return this.parts.replicaBudget;
  }
  public get network(): Network {
    return this.parts.network;
  }
  public get database(): PostgresDatabase {
    return this.parts.database;
  }
  /** ElastiCache (or the self-managed AOF host); absent with redis.onHost. */
  public get cache(): RedisStore | undefined {
    return this.parts.cache;
  }
  public get persistent(): RedisStore | undefined {
    return this.parts.persistent;
  }
  /** redis.onHost: the passwords of the two Redis on the app host. */
  public get onHostRedis(): OnHostRedis | undefined {
    return this.parts.onHostRedis;
  }
  public get loadBalancer(): LoadBalancer {
    return this.parts.loadBalancer;
  }
  public get media(): MediaStorage {
    return this.parts.media;
  }
  public get mail(): Mail {
    return this.parts.mail;
  }
  public get dns(): DnsRecords | undefined {
    return this.parts.dns;
  }
  /** Full-text search (mastodon:search), when configured. */
  public get search(): SearchDomain | undefined {
    return this.parts.search;
  }
  /** Translation (mastodon:translation), when configured. */
  public get translation(): Translation | undefined {
    return this.parts.translation;
  }
  /** .env.production for every host: secrets as `{{ssm:...}}` placeholders filled at boot. */
  public get env(): pulumi.Output<Env> {
    return this.parts.env;
  }
  public get fleetComponents(): Fleet[] {
    return this.parts.fleetComponents;
  }
  /** The programs the hosts fetch at boot (src/fleet/host/hostFiles.ts). */
  public get hostFiles(): HostFiles {
    return this.parts.hostFiles;
  }
  public get monitoring(): Monitoring {
    return this.parts.monitoring;
  }
  /** Image source image-builder: the AMIs EC2 Image Builder bakes from mastodon:version. */
  public get imageBuild(): ImageBuild | undefined {
    return this.parts.imageBuild;
  }
  /** The images the fleets boot by architecture, the operator's AMIs checked against AWS. */
  public get images(): pulumi.Output<Partial<Record<Architecture, string>>> {
    return this.parts.images;
  }

  constructor(name: string, args: MastodonStackArgs, opts?: MastodonStackOptions) {
    // The name starts every child's name, S3 buckets and RDS/ElastiCache identifiers among them: it
    // must suit the strictest of them. Its length is free (src/aws/naming/ cuts names to fit).
    if (!COMPONENT_NAME.test(name) || name.includes("--")) {
      throw new Error(
        `MastodonStack name "${name}": use lower-case letters, digits and single hyphens, starting with a letter (it becomes part of S3 bucket and RDS identifiers)`,
      );
    }
    // Throws ConfigError before anything is registered with the engine, every problem at once; the
    // program's region and secret keys (opts.check) are checked in the same pass. args is read as
    // the raw config it is until zod has checked it.
    const { check, ...resourceOpts } = opts ?? {};
    const scope = deploymentScope(pulumi.getProject(), pulumi.getStack(), name);
    const validated = validateStackArgs(args as unknown as Record<string, unknown>, scope.stack, check ?? {});
    super("mastodon:index:MastodonStack", name, {}, resourceOpts);
    const config = validated.config;
    for (const warning of validated.warnings) pulumi.log.warn(formatProblem(warning), this);
    const parent = { parent: this };
    this.parameterPrefix = scope.parameterPrefix;

    const stackTags = { [POLICY_TAGS.stack]: scope.tag };
    const { tiers, onHostRedis, stores, dns } = stackTiers(name, scope, validated, stackTags, this);
    const { network, database, loadBalancer, media, mail, search, translation } = tiers;
    const secretsArgs = { parameterPrefix: this.parameterPrefix, existing: config.existingSecrets };
    const secrets = new MastodonSecrets(`${name}-secrets`, secretsArgs, parent);
    const env = stackEnv(tiers, secrets);
    const region = aws.getRegionOutput({}, parent).region;
    const images = stackImages(scope, config, network, stackTags, this);
    if (images.releaseImage) this.releaseImage = images.releaseImage;
    this.imageRegistry = images.registry;
    const hostFiles = new HostFiles(`${name}-host-files`, {}, parent);
    const owner =
      config.owner && ownerPasswordParameter(name, this.parameterPrefix, config.owner.username, this);
    if (owner)
      this.ownerPassword = pulumi.all([owner.name, region]).apply(([n, r]) => ownerPasswordCommand(n, r));
    const fleetComponents = stackFleets({
      name,
      tiers,
      env,
      parameterPrefix: this.parameterPrefix,
      region,
      images,
      hostFiles,
      owner,
      onHostRedis,
      stackTags,
      parent: this,
    });
    this.migrations = migrationsDocument(name, database, images.releaseImage, this, search !== undefined);
    this.drill = drillDocument(name, this);
    this.schedulerFleet = config.schedulerFleet as string;
    const monitoring = stackMonitoring(name, scope, tiers, validated, fleetComponents, this);
    const budget = pulumi.output(asConnectionBudget(validated.budget));
    const replicaBudget = pulumi.output(validated.replicaBudget);
    [this.albDnsName, this.mediaHost, this.budget] = [loadBalancer.dnsName, media.aliasHost, budget];
    PARTS.set(this, {
      validated,
      network,
      database,
      ...(stores && { cache: stores.cache, persistent: stores.persistent }),
      ...(onHostRedis && { onHostRedis }),
      loadBalancer,
      media,
      mail,
      ...(dns && { dns }),
      ...(search && { search }),
      ...(translation && { translation }),
      env,
      fleetComponents,
      hostFiles,
      monitoring,
      ...(images.imageBuild && { imageBuild: images.imageBuild }),
      images: images.images,
      budget,
      replicaBudget,
    });
    this.registerOutputs({
      budget,
      replicaBudget,
      albDnsName: this.albDnsName,
      mediaHost: this.mediaHost,
      parameterPrefix: this.parameterPrefix,
      schedulerFleet: this.schedulerFleet,
      imageRegistry: this.imageRegistry,
    });
  }
}
