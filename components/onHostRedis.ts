import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import type { RedisRole } from "../core/host/redis";
import { providedType, withFormerType } from "./typeToken";

export interface OnHostRedisArgs {
  /** Where the AUTH passwords are stored, e.g. /mastodon/production/mastodon. */
  parameterPrefix: string;
  /** The cache server's port on 127.0.0.1. */
  cachePort: number;
  /** The persistent server's port on 127.0.0.1. */
  persistentPort: number;
}

/** One on-host server as the wiring reads it: the same shape as a RedisStore's endpoint. */
export interface OnHostRedisEndpoint {
  readonly role: RedisRole;
  readonly host: pulumi.Output<string>;
  readonly port: number;
  readonly tls: boolean;
  readonly passwordParameterName: string;
  /** No ElastiCache members: nothing for the ElastiCache alarms to watch. */
  readonly memberClusterIds: pulumi.Output<string>[];
}

/**
 * The two Redis that run on the app host (redis.onHost; docs/design.md, "Redis on the host"): only
 * their AUTH passwords are cloud resources, generated and kept as SSM SecureStrings that the host
 * reads at boot. The servers themselves are rendered into the host's user-data
 * (core/host/onHostRedis.ts) and listen on 127.0.0.1 only, in plain text (loopback never leaves
 * the host), still behind AUTH.
 */
export class OnHostRedis extends pulumi.ComponentResource {
  public readonly cache: OnHostRedisEndpoint;
  public readonly persistent: OnHostRedisEndpoint;

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
    this.cache = endpoint("cache", args.cachePort);
    this.persistent = endpoint("persistent", args.persistentPort);
    this.registerOutputs({
      cachePasswordParameterName: this.cache.passwordParameterName,
      persistentPasswordParameterName: this.persistent.passwordParameterName,
    });
  }
}
