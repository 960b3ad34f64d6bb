import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { Budget } from "../core/sizing/budget";
import {
  type StackConfig,
  type StackConfigInput,
  type ValidatedConfig,
  formatProblem,
  isValidatedConfig,
  parseStackConfig,
} from "../core/config";
import type { Env } from "../core/host/env";
import type { Architecture } from "../core/sizing/catalog";
import { POLICY_TAGS, databasePolicyTags } from "../core/aws/policyTags";
import { DnsRecords } from "./dnsRecords";
import { Fleet } from "./fleet";
import { HostFiles } from "./hostFiles";
import type { ImageBuild } from "./imageBuild";
import { stackImages } from "./stackImages";
import { migrationsDocument } from "./wiring";
import { LoadBalancer } from "./loadBalancer";
import { Mail } from "./mail";
import { MediaStorage } from "./mediaStorage";
import { Network } from "./network";
import { PostgresDatabase } from "./postgresDatabase";
import { OnHostRedis } from "./onHostRedis";
import { RedisStore } from "./redisStore";
import { Monitoring } from "./monitoring";
import { MastodonSecrets } from "./secrets";
import { SearchDomain } from "./searchDomain";
import { Translation } from "./translation";
import {
  type RedisTier,
  type Tiers,
  fleetSecurityGroups,
  fleetTargetGroups,
  fleetUserData,
  monitoringTargets,
  queueMonitoringInput,
  stackEnv,
} from "./wiring";

const COMPONENT_NAME = /^[a-z]([a-z0-9-]*[a-z0-9])?$/;

/**
 * The arguments of a whole Mastodon deployment: the same shape as the `mastodon:` stack config
 * (see README "Config reference"), so a platform engineer can pass an object built in code.
 */
export type MastodonStackArgs = StackConfigInput | ValidatedConfig;

/**
 * One Mastodon instance: validates its config (every problem at once, before any resource is
 * declared), computes the connection budget and composes the tiers.
 */
export class MastodonStack extends pulumi.ComponentResource {
  /** The resolved config every tier reads (defaults filled in). */
  public readonly config: StackConfig;
  /** The Postgres connection budget at maximum fleet sizes. */
  public readonly budget: pulumi.Output<Budget>;
  /** The read replica's budget, when there is a replica. */
  public readonly replicaBudget: pulumi.Output<Budget | undefined>;
  /** Problems that did not stop the deployment (e.g. more than 25 Sidekiq threads). */
  public readonly warnings: ValidatedConfig["warnings"];
  public readonly network: Network;
  public readonly database: PostgresDatabase;
  /** ElastiCache (or the self-managed AOF host); absent with redis.onHost. */
  public readonly cache?: RedisStore;
  public readonly persistent?: RedisStore;
  /** redis.onHost: the passwords of the two Redis on the app host. */
  public readonly onHostRedis?: OnHostRedis;
  public readonly loadBalancer: LoadBalancer;
  public readonly media: MediaStorage;
  public readonly mail: Mail;
  public readonly dns?: DnsRecords;
  /** Full-text search (mastodon:search), when configured. */
  public readonly search?: SearchDomain;
  /** Translation (mastodon:translation), when configured. */
  public readonly translation?: Translation;
  /** SSM parameters of this instance live under this path (fleets may read only these). */
  public readonly parameterPrefix: string;
  /** .env.production for every host: secrets as `{{ssm:...}}` placeholders filled at boot. */
  public readonly env: pulumi.Output<Env>;
  public readonly fleetComponents: Fleet[];
  /** The programs the hosts fetch at boot (core/host/hostFiles.ts). */
  public readonly hostFiles: HostFiles;
  /** The SSM document that runs the migrations (README: upgrade runbook). */
  public readonly migrations: aws.ssm.Document;
  /** The fleet whose single host runs the scheduler and the migrations. */
  public readonly schedulerFleet: string;
  public readonly monitoring: Monitoring;
  /** Image source official: the Rails release image the hosts run (for one-off commands). */
  public readonly releaseImage?: pulumi.Output<string>;
  /** Where the release images are pulled from: image.registry, or the pull-through cache's path. */
  public readonly imageRegistry: pulumi.Output<string>;
  /** Image source image-builder: the AMIs EC2 Image Builder bakes from mastodon:version. */
  public readonly imageBuild?: ImageBuild;
  /** The images the fleets boot by architecture, the operator's AMIs checked against AWS. */
  public readonly images: pulumi.Output<Partial<Record<Architecture, string>>>;

  constructor(name: string, args: MastodonStackArgs, opts?: pulumi.ComponentResourceOptions) {
    // The name starts every child's name, S3 buckets and RDS/ElastiCache identifiers among them: it
    // must suit the strictest of them. Its length is free (core/aws/naming.ts cuts names to fit).
    if (!COMPONENT_NAME.test(name) || name.includes("--")) {
      throw new Error(
        `MastodonStack name "${name}": use lower-case letters, digits and single hyphens, starting with a letter (it becomes part of S3 bucket and RDS identifiers)`,
      );
    }
    // Throws ConfigError before anything is registered with the engine. A program that validated
    // already (index.ts checks the region and secrets in the same pass) passes the result.
    const validated = isValidatedConfig(args) ? args : parseStackConfig(args, pulumi.getStack());
    super("mastodon:index:MastodonStack", name, {}, opts);
    const config = validated.config;
    this.config = config;
    this.warnings = validated.warnings;
    for (const warning of validated.warnings) pulumi.log.warn(formatProblem(warning), this);
    const production = config.environment === "production";
    const parent = { parent: this };
    this.parameterPrefix = `/mastodon/${pulumi.getStack()}/${name}`;

    this.network = new Network(
      `${name}-network`,
      {
        cidr: config.network.cidr,
        availabilityZones: config.network.availabilityZones,
        egress: config.network.egress,
        ipv6: config.network.ipv6,
        streamingPorts: config.streamingPorts,
      },
      parent,
    );
    const dataSubnetIds = this.network.dataSubnetIds;
    const groups = this.network.securityGroups;

    const stackTags = { [POLICY_TAGS.stack]: `${pulumi.getStack()}/${name}` };
    const { database } = config;
    this.database = new PostgresDatabase(
      `${name}-db`,
      {
        instanceClass: database.primary.instanceClass,
        maxConnections: database.primary.maxConnections,
        workMemMiB: database.primary.workMemMiB,
        engineVersion: database.engineVersion,
        multiAz: database.multiAz,
        storageGiB: database.storageGiB,
        maxStorageGiB: database.maxStorageGiB,
        // The app's role may hold what the budget plans for the fleets, no more (its CONNECTION LIMIT).
        budget: validated.budget,
        tags: { ...stackTags, ...databasePolicyTags(database.adminHeadroom) },
        production,
        subnetIds: dataSubnetIds,
        securityGroupId: groups.database.id,
        parameterPrefix: this.parameterPrefix,
        ...(database.replica && {
          replica: {
            instanceClass: database.replica.instanceClass,
            maxConnections: database.replica.maxConnections,
            workMemMiB: database.replica.workMemMiB,
          },
        }),
      },
      parent,
    );

    const redis = this.redisTiers(name, config, production);
    this.cache = redis.stores?.cache;
    this.persistent = redis.stores?.persistent;
    this.onHostRedis = redis.onHostRedis;
    this.loadBalancer = new LoadBalancer(
      `${name}-lb`,
      {
        vpcId: this.network.vpcId,
        publicSubnetIds: this.network.publicSubnetIds,
        securityGroupId: groups.alb.id,
        webDomain: config.webDomain,
        ...(config.loadBalancer.certificateArn && { certificateArn: config.loadBalancer.certificateArn }),
        ...(config.dns && { zoneId: config.dns.zoneId }),
        streamingPorts: config.streamingPorts,
        dualStack: config.network.ipv6,
        idleTimeoutSeconds: config.loadBalancer.idleTimeoutSeconds,
        accessLogs: config.loadBalancer.accessLogs,
        deletionProtection: config.loadBalancer.deletionProtection,
      },
      parent,
    );
    this.media = new MediaStorage(
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
    if (config.dns) {
      this.dns = new DnsRecords(
        `${name}-dns`,
        {
          zoneId: config.dns.zoneId,
          aliases: [
            {
              name: config.webDomain,
              dnsName: this.loadBalancer.dnsName,
              zoneId: this.loadBalancer.zoneId,
              ipv6: config.network.ipv6,
            },
            ...(config.media.customDomain
              ? [
                  {
                    name: config.media.customDomain,
                    dnsName: this.media.distribution.domainName,
                    zoneId: this.media.distribution.hostedZoneId,
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
    this.mail = new Mail(
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

    if (config.search) {
      this.search = new SearchDomain(
        `${name}-search`,
        {
          search: config.search,
          vpcId: this.network.vpcId,
          dataSubnetIds,
          // Puma answers searches and Sidekiq indexes; streaming never queries the index.
          clientSecurityGroupIds: { web: groups.web.id, sidekiq: groups.sidekiq.id },
          parameterPrefix: this.parameterPrefix,
        },
        parent,
      );
    }
    const translation = config.translation;
    if (translation) {
      this.translation = new Translation(
        `${name}-translation`,
        {
          provider: translation.provider,
          // Stack config secrets arrive decrypted: wrap the key before it touches a resource.
          ...(translation.apiKey !== undefined && { apiKey: pulumi.secret(translation.apiKey) }),
          deeplPlan: translation.deeplPlan,
          ...(translation.endpoint && { endpoint: translation.endpoint }),
          parameterPrefix: this.parameterPrefix,
        },
        parent,
      );
    }

    const secrets = new MastodonSecrets(`${name}-secrets`, { parameterPrefix: this.parameterPrefix }, parent);
    const tiers: Tiers = {
      config,
      network: this.network,
      database: this.database,
      cache: redis.cache,
      persistent: redis.persistent,
      loadBalancer: this.loadBalancer,
      media: this.media,
      mail: this.mail,
      ...(this.search && { search: this.search }),
      ...(this.translation && { translation: this.translation }),
    };
    this.env = stackEnv(tiers, secrets);
    const region = aws.getRegionOutput({}, parent).region;
    const images = stackImages(name, config, this.network, stackTags, this);
    this.imageBuild = images.imageBuild;
    this.images = images.images;
    this.releaseImage = images.releaseImage;
    this.imageRegistry = images.registry;
    this.hostFiles = new HostFiles(`${name}-host-files`, {}, parent);
    this.fleetComponents = config.fleets.map(
      (fleet) =>
        new Fleet(
          `${name}-${fleet.name}`,
          {
            fleet,
            imageId: images.imageFor(fleet.instance.architecture),
            rootDeviceName: config.image.rootDeviceName,
            subnetIds: this.network.fleetSubnetIds,
            securityGroupIds: fleetSecurityGroups(fleet, this.network),
            associatePublicIp: this.network.fleetsNeedPublicIp,
            userData: fleetUserData(fleet, tiers, {
              env: this.env,
              parameterPath: this.parameterPrefix,
              region,
              registry: images.registry,
              hostFilesBucket: this.hostFiles.bucket.bucket,
            }),
            hostFilesPolicy: this.hostFiles.readPolicy,
            ...(images.pullPolicy && { pullPolicy: images.pullPolicy }),
            targetGroupArns: fleetTargetGroups(fleet, this.loadBalancer),
            parameterPath: this.parameterPrefix,
            mediaAccessPolicy: this.media.accessPolicy,
            tags: stackTags,
            instanceTags: { "mastodon:version": config.version },
            logRetentionDays: config.logs.retentionDays,
          },
          parent,
        ),
    );
    this.migrations = migrationsDocument(
      name,
      this.database,
      region,
      images.releaseImage,
      this,
      this.search !== undefined,
    );
    this.schedulerFleet = config.schedulerFleet as string;
    // Alarms on what breaks first, thresholds from the sizing core and the budget (core/aws/alarms.ts).
    this.monitoring = new Monitoring(
      `${name}-monitoring`,
      {
        ...(config.alarms.email && { email: config.alarms.email }),
        targets: monitoringTargets(tiers, validated, this.fleetComponents),
        queues: queueMonitoringInput(tiers, this.parameterPrefix),
      },
      parent,
    );
    this.budget = pulumi.output(validated.budget);
    this.replicaBudget = pulumi.output(validated.replicaBudget);
    this.registerOutputs({ budget: this.budget, replicaBudget: this.replicaBudget });
  }

  /** The two Redis: on the app host with redis.onHost, else ElastiCache (or the self-managed AOF host). */
  private redisTiers(
    name: string,
    config: StackConfig,
    production: boolean,
  ): {
    cache: RedisTier;
    persistent: RedisTier;
    onHostRedis?: OnHostRedis;
    stores?: { cache: RedisStore; persistent: RedisStore };
  } {
    const parent = { parent: this };
    const dataSubnetIds = this.network.dataSubnetIds;
    const groups = this.network.securityGroups;
    const { cache, persistent, onHost } = config.redis;
    if (onHost) {
      const onHostRedis = new OnHostRedis(
        `${name}-redis`,
        {
          parameterPrefix: this.parameterPrefix,
          cachePort: onHost.cachePort,
          persistentPort: onHost.persistentPort,
        },
        parent,
      );
      return { onHostRedis, cache: onHostRedis.cache, persistent: onHostRedis.persistent };
    }
    const cacheStore = new RedisStore(
      `${name}-cache`,
      {
        role: "cache",
        engine: cache.engine,
        engineVersion: cache.engineVersion,
        nodeType: cache.nodeType,
        nodes: cache.nodes,
        production,
        subnetIds: dataSubnetIds,
        securityGroupId: groups.redis.id,
        parameterPrefix: this.parameterPrefix,
      },
      parent,
    );
    const persistentStore = new RedisStore(
      `${name}-persistent`,
      {
        role: "persistent",
        mode: persistent.mode,
        engine: persistent.engine,
        engineVersion: persistent.engineVersion,
        nodeType: persistent.nodeType,
        nodes: persistent.nodes,
        production,
        subnetIds: dataSubnetIds,
        securityGroupId: groups.redis.id,
        parameterPrefix: this.parameterPrefix,
        host: {
          vpcId: this.network.vpcId,
          // The host needs egress (packages, SSM), so it lives with the fleets, not in the data tier.
          subnetId: this.network.fleetSubnetIds[0] as pulumi.Output<string>,
          availabilityZone: this.network.availabilityZones.apply((zones) => zones[0] as string),
          instanceType: persistent.instanceType,
          volumeGiB: persistent.volumeGiB,
          publicIp: this.network.fleetsNeedPublicIp,
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
