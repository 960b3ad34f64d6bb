import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Budget } from "../budget/budget";
import {
  type ParseOptions,
  type StackConfig,
  type ValidatedConfig,
  formatProblem,
  parseStackConfig,
} from "../config";
import type {
  Environment,
  StackAlarmsArgs,
  StackDatabaseArgs,
  StackDnsArgs,
  StackFleetArgs,
  StackImageArgs,
  StackLoadBalancerArgs,
  StackLogsArgs,
  StackOwnerArgs,
  StackRetentionArgs,
  StackMailArgs,
  StackMediaArgs,
  StackNetworkArgs,
  StackRedisArgs,
  StackSearchArgs,
  StackTranslationArgs,
} from "../config/args";
import type { Env } from "../host/env";
import type { Architecture } from "../vocabulary/catalog";
import { POLICY_TAGS, databasePolicyTags } from "../aws/policyTags";
import { type DeploymentScope, deploymentScope } from "../aws/naming/scope";
import { DnsRecords } from "../edge/dnsRecords";
import { Fleet } from "../fleet/fleet";
import { HostFiles } from "../fleet/hostFiles";
import type { ImageBuild } from "../images/imageBuild";
import { stackImages } from "../images/stackImages";
import { migrationsDocument } from "./wiring";
import {
  ownerPasswordCommand,
  ownerPasswordParameter,
  ownerPasswordParameterName,
} from "../database/ownerPassword";
import { LoadBalancer } from "../edge/loadBalancer";
import { Mail } from "../mail/mail";
import { MediaStorage } from "../media/mediaStorage";
import { Network, hostInstanceTypes } from "../network/network";
import { PostgresDatabase } from "../database/postgresDatabase";
import { OnHostRedis, onHostRedisArgs } from "../redis/onHostRedis";
import { RedisStore } from "../redis/redisStore";
import { Monitoring } from "../monitoring/monitoring";
import { MastodonSecrets } from "./secrets";
import { SearchDomain } from "../search/searchDomain";
import { Translation } from "../translation/translation";
import {
  type RedisTier,
  type Tiers,
  fleetSecurityGroups,
  fleetTargetGroups,
  fleetLaunch,
  fleetGroup,
  monitoringTargets,
  queueMonitoringInput,
  stackEnv,
} from "./wiring";

const COMPONENT_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/**
 * The arguments of a whole Mastodon deployment: the keys of the `mastodon:` stack config (README,
 * "Config reference"), so a platform engineer can pass an object built in code, from any Pulumi
 * language. Written out as an interface (src/config/args.ts) for Pulumi's component analyzer;
 * provider/componentSchema.test.ts keeps it equal to the zod schema, which validates it.
 */
export interface MastodonStackArgs {
  /** dev, staging or production: production turns on Multi-AZ, deletion protection and the stricter checks. */
  environment: Environment;
  /** The Mastodon release this stack runs, a 4.6 release tag such as v4.6.5. */
  version: string;
  /** LOCAL_DOMAIN: the domain in users' handles. */
  domain: string;
  /** WEB_DOMAIN: where the web interface is served, when it differs from domain (@default domain). */
  webDomain?: string;
  /** The VPC (@default {}). */
  network?: StackNetworkArgs;
  /** RDS PostgreSQL. */
  database: StackDatabaseArgs;
  /** The two Redis (@default {}). */
  redis?: StackRedisArgs;
  /** Media on S3 behind CloudFront (@default {}). */
  media?: StackMediaArgs;
  /** The ALB (@default {}). */
  loadBalancer?: StackLoadBalancerArgs;
  /** Alias records, certificate validation and DKIM records go in this zone when set (@default none). */
  dns?: StackDnsArgs;
  /** (@default {}) */
  mail?: StackMailArgs;
  /** (@default {}) */
  alarms?: StackAlarmsArgs;
  /** (@default {}) */
  logs?: StackLogsArgs;
  /** The owner account and where its first password goes (@default none). */
  owner?: StackOwnerArgs;
  /** Daily removal of cached remote media and preview cards (@default {}). */
  retention?: StackRetentionArgs;
  /** Full-text search: an OpenSearch domain (@default none: search off). */
  search?: StackSearchArgs;
  /** Translation of posts (@default none: translation off). */
  translation?: StackTranslationArgs;
  /** (@default {}) */
  image?: StackImageArgs;
  /** The fleets by name (2-32 characters of a-z, 0-9 and -); at least one. */
  fleets: { [name: string]: StackFleetArgs };
}

/** MastodonStack's options: what the program knows besides args, checked in the same pass. */
export interface MastodonStackOptions extends pulumi.ComponentResourceOptions {
  /** `aws:region` and which config keys are secrets (index.ts reads them from the engine). */
  readonly check?: ParseOptions;
}

/**
 * What TypeScript callers read of a stack besides its schema outputs: the tiers as components and
 * the resolved config. Pulumi's analyzer makes every field of a component an output of its schema,
 * and these have no cross-language form (components of this package, zod-derived types), so they
 * are getters over this table rather than fields.
 */
interface StackParts {
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

  private get parts(): StackParts {
    const parts = PARTS.get(this);
    if (!parts) throw new Error("MastodonStack: read before its constructor finished");
    return parts;
  }
  /** The resolved config every tier reads (defaults filled in). */
  public get config(): StackConfig {
    return this.parts.validated.config;
  }
  /** Problems that did not stop the deployment (e.g. more than 25 Sidekiq threads). */
  public get warnings(): ValidatedConfig["warnings"] {
    return this.parts.validated.warnings;
  }
  /** The Postgres connection budget at maximum fleet sizes. */
  public get budget(): pulumi.Output<Budget> {
    return this.parts.budget;
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
    const validated = parseStackConfig(args as unknown as Record<string, unknown>, scope.stack, check ?? {});
    super("mastodon:index:MastodonStack", name, {}, resourceOpts);
    const config = validated.config;
    for (const warning of validated.warnings) pulumi.log.warn(formatProblem(warning), this);
    const production = config.environment === "production";
    const parent = { parent: this };
    this.parameterPrefix = scope.parameterPrefix;

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
      parent,
    );
    const dataSubnetIds = network.dataSubnetIds;
    const groups = network.securityGroups;

    const stackTags = { [POLICY_TAGS.stack]: scope.tag };
    const databaseConfig = config.database;
    const database = new PostgresDatabase(
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
        parameterPrefix: this.parameterPrefix,
        scope,
        ...(databaseConfig.replica && {
          replica: {
            instanceClass: databaseConfig.replica.instanceClass,
            maxConnections: databaseConfig.replica.maxConnections,
            workMemMiB: databaseConfig.replica.workMemMiB,
          },
        }),
      },
      parent,
    );

    const redis = this.redisTiers(scope, network, config, production);
    const loadBalancer = new LoadBalancer(
      `${name}-lb`,
      {
        vpcId: network.vpcId,
        publicSubnetIds: network.publicSubnetIds,
        securityGroupId: groups.alb.id,
        webDomain: config.webDomain,
        ...(config.loadBalancer.certificateArn && { certificateArn: config.loadBalancer.certificateArn }),
        ...(config.dns && { zoneId: config.dns.zoneId }),
        streamingPorts: [...config.streamingPorts],
        dualStack: config.network.ipv6,
        idleTimeoutSeconds: config.loadBalancer.idleTimeoutSeconds,
        accessLogs: config.loadBalancer.accessLogs,
        deletionProtection: config.loadBalancer.deletionProtection,
      },
      parent,
    );
    const media = new MediaStorage(
      `${name}-media`,
      {
        ...(config.media.customDomain && { customDomain: config.media.customDomain }),
        ...(config.media.certificateArn && { certificateArn: config.media.certificateArn }),
        ...(config.dns && { zoneId: config.dns.zoneId }),
        versioning: config.media.versioning,
        priceClass: config.media.priceClass,
        protect: production,
      },
      parent,
    );
    let dns: DnsRecords | undefined;
    if (config.dns) {
      dns = new DnsRecords(
        `${name}-dns`,
        {
          zoneId: config.dns.zoneId,
          aliases: [
            {
              name: config.webDomain,
              dnsName: loadBalancer.dnsName,
              zoneId: loadBalancer.zoneId,
              ipv6: config.network.ipv6,
            },
            ...(config.media.customDomain
              ? [
                  {
                    name: config.media.customDomain,
                    dnsName: media.distribution.domainName,
                    zoneId: media.distribution.hostedZoneId,
                    ipv6: true,
                  },
                ]
              : []),
          ],
        },
        parent,
      );
    }
    const smtp = config.mail.smtp;
    const mail = new Mail(
      `${name}-mail`,
      {
        provider: config.mail.provider,
        fromAddress: config.mail.fromAddress,
        parameterPrefix: this.parameterPrefix,
        ...(config.dns && { zone: config.dns }),
        // Stack config secrets arrive decrypted: wrap the password before it touches a resource.
        ...(smtp && {
          smtp: {
            server: smtp.server,
            port: smtp.port,
            login: smtp.login,
            password: pulumi.secret(smtp.password),
          },
        }),
      },
      parent,
    );

    let search: SearchDomain | undefined;
    if (config.search) {
      search = new SearchDomain(
        `${name}-search`,
        {
          // The config as written: the domain derives its preset and zones from it (src/search/config.ts).
          search: {
            instanceType: config.search.instanceType,
            nodes: config.search.nodes,
            volumeGiB: config.search.volumeGiB,
            engineVersion: config.search.engineVersion,
          },
          vpcId: network.vpcId,
          dataSubnetIds,
          // Puma answers searches and Sidekiq indexes; streaming never queries the index.
          clientSecurityGroupIds: { web: groups.web.id, sidekiq: groups.sidekiq.id },
          parameterPrefix: this.parameterPrefix,
        },
        parent,
      );
    }
    const translationConfig = config.translation;
    let translation: Translation | undefined;
    if (translationConfig) {
      translation = new Translation(
        `${name}-translation`,
        {
          provider: translationConfig.provider,
          // Stack config secrets arrive decrypted: wrap the key before it touches a resource.
          ...(translationConfig.apiKey !== undefined && { apiKey: pulumi.secret(translationConfig.apiKey) }),
          deeplPlan: translationConfig.deeplPlan,
          ...(translationConfig.endpoint && { endpoint: translationConfig.endpoint }),
          parameterPrefix: this.parameterPrefix,
        },
        parent,
      );
    }

    const secrets = new MastodonSecrets(`${name}-secrets`, { parameterPrefix: this.parameterPrefix }, parent);
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
    };
    const env = stackEnv(tiers, secrets);
    const region = aws.getRegionOutput({}, parent).region;
    const images = stackImages(scope, config, network, stackTags, this);
    if (images.releaseImage) this.releaseImage = images.releaseImage;
    this.imageRegistry = images.registry;
    const hostFiles = new HostFiles(`${name}-host-files`, {}, parent);
    const owner =
      config.owner && ownerPasswordParameter(name, this.parameterPrefix, config.owner.username, this);
    const makeFleet = (fleet: (typeof config.fleets)[number], schemaFromGroup?: pulumi.Output<string>) => {
      const launch = fleetLaunch(fleet, tiers, {
        env: env,
        parameterPath: this.parameterPrefix,
        region,
        registry: images.registry,
        hostFilesBucket: hostFiles.bucket.bucket,
        ...(owner && { ownerPasswordParameter: ownerPasswordParameterName(this.parameterPrefix) }),
      });
      return new Fleet(
        `${name}-${fleet.name}`,
        {
          fleet: fleetGroup(fleet),
          imageId: images.imageFor(fleet.instance.architecture),
          rootDeviceName: config.image.rootDeviceName,
          // With redis.onHost, the volume's zone only, and the role may attach it (OnHostRedis).
          ...(redis.onHostRedis?.placement ?? { subnetIds: network.fleetSubnetIds }),
          securityGroupIds: fleetSecurityGroups(fleet, network),
          associatePublicIp: network.fleetsNeedPublicIp,
          userData: launch.userData,
          launchHeartbeatSeconds: launch.launchHeartbeatSeconds,
          // Its hosts read these SSM parameters, each by name, and its role no other.
          parameterNames: launch.apply((l) => [...l.parameterNames]),
          ...(schemaFromGroup && { schemaFromGroup }),
          hostFilesPolicy: hostFiles.readPolicy,
          // The scheduler's host prepares the database (the RDS master's password) and the owner.
          ...(fleet.servesScheduler && { adminPasswordParameterArn: database.adminPasswordParameter.arn }),
          ...(fleet.servesScheduler && owner && { ownerPasswordParameterArn: owner.arn }),
          ...(images.pullPolicy && { pullPolicy: images.pullPolicy }),
          targetGroupArns: fleetTargetGroups(fleet, loadBalancer),
          parameterPath: this.parameterPrefix,
          // Puma stores uploads, Sidekiq fetches and removes media; the streaming server never does.
          ...((fleet.web || fleet.sidekiq) && { mediaAccessPolicy: media.accessPolicy }),
          tags: stackTags,
          instanceTags: { "mastodon:version": config.version },
          logRetentionDays: config.logs.retentionDays,
        },
        parent,
      );
    };
    if (owner)
      this.ownerPassword = pulumi.all([owner.name, region]).apply(([n, r]) => ownerPasswordCommand(n, r));
    // The scheduler's fleet first: its one host prepares the database, and every other group is
    // created only once that host is InService (Fleet's schemaFromGroup).
    const schedulerConfig = config.fleets.find((f) => f.servesScheduler);
    const schedulerComponent = schedulerConfig && makeFleet(schedulerConfig);
    const fleetComponents = config.fleets.map((fleet) =>
      fleet === schedulerConfig && schedulerComponent
        ? schedulerComponent
        : makeFleet(fleet, schedulerComponent?.group.name),
    );
    this.migrations = migrationsDocument(name, database, images.releaseImage, this, search !== undefined);
    this.schedulerFleet = config.schedulerFleet as string;
    // Alarms on what breaks first, thresholds from the sizing core and the budget (src/monitoring/alarms.ts).
    const monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        scope,
        ...(config.alarms.email && { email: config.alarms.email }),
        targets: monitoringTargets(tiers, validated, fleetComponents),
        queues: queueMonitoringInput(tiers, this.parameterPrefix),
      },
      parent,
    );
    const budget = pulumi.output(validated.budget);
    const replicaBudget = pulumi.output(validated.replicaBudget);
    this.albDnsName = loadBalancer.dnsName;
    this.mediaHost = media.aliasHost;
    PARTS.set(this, {
      validated,
      network,
      database,
      ...(redis.stores && { cache: redis.stores.cache, persistent: redis.stores.persistent }),
      ...(redis.onHostRedis && { onHostRedis: redis.onHostRedis }),
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

  /** The two Redis: on the app host with redis.onHost, else ElastiCache (or the self-managed AOF host). */
  private redisTiers(
    scope: DeploymentScope,
    network: Network,
    config: StackConfig,
    production: boolean,
  ): {
    cache: RedisTier;
    persistent: RedisTier;
    onHostRedis?: OnHostRedis;
    stores?: { cache: RedisStore; persistent: RedisStore };
  } {
    const parent = { parent: this };
    const { cache, persistent, onHost } = config.redis;
    if (onHost) {
      const onHostRedis = new OnHostRedis(
        `${scope.name}-redis`,
        {
          parameterPrefix: this.parameterPrefix,
          ...onHostRedisArgs(onHost, network, config.fleets, scope.tag, production),
        },
        parent,
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
        parameterPrefix: this.parameterPrefix,
        scope,
      },
      parent,
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
        parameterPrefix: this.parameterPrefix,
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
      parent,
    );
    return {
      cache: cacheStore,
      persistent: persistentStore,
      stores: { cache: cacheStore, persistent: persistentStore },
    };
  }
}
