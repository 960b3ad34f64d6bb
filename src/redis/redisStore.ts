import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { fitLogicalName } from "../aws/naming";
import { type DeploymentIdentity, scopedName } from "../aws/naming/scope";
import { DEFAULTS } from "../vocabulary/defaults";
import { type RedisEngine, type RedisRole, elasticacheFamily, elasticacheParameters } from "./redisServer";
import type { PersistentRedisMode } from "../vocabulary/configEnums";
import { type RedisHostArgs, selfManagedRedisHost } from "./redisHost";
import { providedType, withFormerType } from "../aws/typeToken";

export interface RedisStoreArgs {
  /** cache: allkeys-lru, no snapshots. persistent: noeviction, replicas, failover, snapshots. */
  role: RedisRole;
  /**
   * "elasticache", or for the persistent role "self-managed-aof": Redis from Debian on a c-family
   * instance with appendonly on an encrypted EBS volume (the only real AOF on AWS: docs/design.md, "The two Redis").
   * (@default "elasticache")
   */
  mode?: PersistentRedisMode;
  /** The ElastiCache engine (@default "valkey"). */
  engine?: RedisEngine;
  /** The engine's version: 7.x for redis, 8.x for valkey (@default "8.0" for valkey, "7.1" for redis). */
  engineVersion?: string;
  /** The ElastiCache node type (@default "cache.t4g.small"). */
  nodeType?: string;
  /** Primary plus replicas; 2 or more turns on automatic failover and Multi-AZ. (@default 1 for cache, 2 for persistent) */
  nodes?: number;
  /** Longer snapshot retention (7 days, else 1) and a final snapshot. (@default false) */
  production?: boolean;
  /** ElastiCache: the isolated data subnets. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The redis role's security group (6379 from the fleets). */
  securityGroupId: pulumi.Input<string>;
  /** Where the AUTH password is stored, e.g. /mastodon/mastodon-aws/production/mastodon. */
  parameterPrefix: string;
  /** The deployment (Pulumi project and stack, MastodonStack name): final snapshot and DLM target tag are named from it. */
  scope: DeploymentIdentity;
  /** self-managed-aof: where the host lives, with egress for packages and SSM (@default none). */
  host?: RedisHostArgs;
}

const PORT = 6379;

/**
 * One of Mastodon's two Redis (never one for both: docs/design.md, "The two Redis"). TLS and AUTH on ElastiCache;
 * the AUTH password is generated, kept as an SSM SecureString and exposed only as a Pulumi secret.
 */
export class RedisStore extends pulumi.ComponentResource {
  /** Which of the two Redis this is. */
  public readonly role: RedisRole;
  /** Where the hosts reach it: the replication group's primary endpoint, or the host's private IP. */
  public readonly host: pulumi.Output<string>;
  /** Its port: 6379. */
  public readonly port: number;
  /** Whether clients connect with TLS: on ElastiCache, not to the self-managed host. */
  public readonly tls: boolean;
  /** The AUTH password: a Pulumi secret. */
  public readonly password: pulumi.Output<string>;
  /** The SSM SecureString parameter holding the AUTH password, which the hosts read at boot. */
  public readonly passwordParameter: aws.ssm.Parameter;
  /** That parameter's name, <parameterPrefix>/redis-<role>-password. */
  public readonly passwordParameterName: string;
  /** ElastiCache: the replication group. */
  public readonly replicationGroup?: aws.elasticache.ReplicationGroup;
  /** ElastiCache's member clusters (<group>-001, -002, ...), one per node: CloudWatch's dimensions. */
  public readonly memberClusterIds: pulumi.Output<string>[];
  /** self-managed-aof: the Redis host. */
  public readonly instance?: aws.ec2.Instance;

  constructor(name: string, args: RedisStoreArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("RedisStore"), name, {}, withFormerType("mastodon:redis:RedisStore", opts));
    const parent = { parent: this };
    const mode = args.mode ?? "elasticache";
    if (mode === "self-managed-aof" && args.role !== "persistent") {
      throw new Error(`${name}: self-managed-aof is for the persistent role; a cache needs no AOF`);
    }
    this.role = args.role;
    this.port = PORT;

    // ElastiCache AUTH tokens: 16-128 characters; alphanumeric avoids the few symbols it refuses.
    const password = new random.RandomPassword(`${name}-auth`, { length: 64, special: false }, parent);
    this.password = pulumi.secret(password.result);
    this.passwordParameterName = `${args.parameterPrefix}/redis-${args.role}-password`;
    this.passwordParameter = new aws.ssm.Parameter(
      `${name}-auth`,
      {
        name: this.passwordParameterName,
        type: "SecureString",
        value: this.password,
        description: `Mastodon ${args.role} Redis AUTH password`,
      },
      parent,
    );

    switch (mode) {
      case "elasticache": {
        this.tls = true;
        const group = this.elasticache(name, args);
        this.replicationGroup = group;
        this.host = group.primaryEndpointAddress;
        this.memberClusterIds = Array.from({ length: this.nodes(args) }, (_, i) =>
          group.memberClusters.apply((members) => {
            const member = [...members].sort()[i];
            if (!member) throw new Error(`${name}: ElastiCache reported ${members.length} member clusters`);
            return member;
          }),
        );
        break;
      }
      case "self-managed-aof":
        // Redis from Debian has no certificate the clients would trust; the security group is the fence.
        this.tls = false;
        this.instance = selfManagedRedisHost(name, args, this.passwordParameter, PORT, this);
        this.host = this.instance.privateIp;
        this.memberClusterIds = [];
        break;
      default: {
        const unknown: never = mode;
        throw new Error(`${name}: unknown Redis mode ${String(unknown)}`);
      }
    }
    this.registerOutputs({
      host: this.host,
      port: this.port,
      passwordParameterName: this.passwordParameter.name,
    });
  }

  private elasticache(name: string, args: RedisStoreArgs): aws.elasticache.ReplicationGroup {
    const parent = { parent: this };
    const engine = args.engine ?? DEFAULTS.redis.engine;
    const engineVersion =
      args.engineVersion ??
      (engine === "valkey" ? DEFAULTS.redis.valkeyVersion : DEFAULTS.redis.redisVersion);
    const persistent = args.role === "persistent";
    const nodes = this.nodes(args);
    const production = args.production ?? false;

    const subnetGroup = new aws.elasticache.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: args.subnetIds, description: `${name}: data subnets` },
      parent,
    );
    const parameterGroup = new aws.elasticache.ParameterGroup(
      `${name}-params`,
      {
        family: elasticacheFamily(engine, engineVersion),
        description: `${name}: Mastodon ${args.role} Redis`,
        parameters: elasticacheParameters(args.role),
      },
      parent,
    );
    return new aws.elasticache.ReplicationGroup(
      fitLogicalName("aws:elasticache/replicationGroup:ReplicationGroup", name, "group"),
      {
        description: `Mastodon ${args.role} Redis`,
        engine,
        engineVersion,
        nodeType:
          args.nodeType ?? (persistent ? DEFAULTS.redis.persistentNodeType : DEFAULTS.redis.cacheNodeType),
        numCacheClusters: nodes,
        // Multi-AZ needs automatic failover, which needs a replica (docs/design.md, "The two Redis").
        automaticFailoverEnabled: nodes >= 2,
        multiAzEnabled: nodes >= 2,
        port: PORT,
        parameterGroupName: parameterGroup.name,
        subnetGroupName: subnetGroup.name,
        securityGroupIds: [args.securityGroupId],
        atRestEncryptionEnabled: true,
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        authToken: this.password,
        autoMinorVersionUpgrade: true,
        // The cache may be lost at will; the persistent store keeps daily snapshots.
        snapshotRetentionLimit: persistent ? (production ? 7 : 1) : 0,
        ...(persistent && {
          snapshotWindow: "03:00-04:00",
          // Unique per account and Region (ElastiCache API DeleteReplicationGroup,
          // FinalSnapshotIdentifier): project and stack keep two deployments apart.
          finalSnapshotIdentifier: scopedName(
            args.scope,
            "aws:elasticache/replicationGroup:ReplicationGroup",
            name,
            ["final"],
            "finalSnapshotIdentifier",
          ),
        }),
        maintenanceWindow: "sun:05:00-sun:06:00",
      },
      { parent: this, ...(production && persistent ? { protect: true } : {}) },
    );
  }

  private nodes(args: RedisStoreArgs): number {
    return (
      args.nodes ?? (args.role === "persistent" ? DEFAULTS.redis.persistentNodes : DEFAULTS.redis.cacheNodes)
    );
  }
}
