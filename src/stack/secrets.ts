import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { ConfigError, configKey } from "../config";
import type { StackExistingSecretsArgs } from "../migration/args";
import { existingValueProblem, isUnknown } from "../migration/checks";
import { EXISTING_SECRET_LEAVES, VAPID_PUBLIC_KEY_PATH } from "../migration/paths";
import { VAPID_MISMATCH, existingSecretsProblems } from "../migration/rules";
import { isVapidPair, vapidKeysFromPrivate } from "../migration/vapid";
import { providedType, withFormerType } from "../aws/typeToken";

export interface MastodonSecretsArgs {
  /** Where the secrets are stored, e.g. /mastodon/production/mastodon. */
  parameterPrefix: string;
  /**
   * An existing instance's secrets (mastodon:existingSecrets), stored in place of generated ones under
   * the same parameter names (@default none: every secret generated).
   */
  existing?: StackExistingSecretsArgs;
}

/** Env name -> SSM parameter name, for the boot-time renderer's placeholders. */
export type SecretParameters = Readonly<Record<string, string>>;

/** Each secret's parameter (under the prefix) and, generated, its length. */
const GENERATED = {
  SECRET_KEY_BASE: { slug: "secret-key-base", length: 128 },
  ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY: { slug: "ar-deterministic-key", length: 32 },
  ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT: { slug: "ar-key-derivation-salt", length: 32 },
  ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY: { slug: "ar-primary-key", length: 32 },
} as const;

/** `value` once it is known, checked as the config checks it; the deployment fails by key, never showing it. */
export function checked(
  path: readonly string[],
  envName: string,
  value: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.output(value).apply((v) => {
    const problem = existingValueProblem(envName, v);
    if (problem) throw new pulumi.RunError(`${configKey(path)} ${problem}`);
    return v;
  });
}

/** The private key once it is known (a secret given as an Output resolves only then), alone and as `publicKey`'s pair. */
export function checkedVapidPrivateKey(
  privateKey: pulumi.Input<string>,
  publicKey: string,
): pulumi.Output<string> {
  const path = EXISTING_SECRET_LEAVES.find((l) => l.envName === "VAPID_PRIVATE_KEY")?.path ?? [];
  return checked(path, "VAPID_PRIVATE_KEY", privateKey).apply((key) => {
    if (!isUnknown(key) && !isVapidPair(key, publicKey))
      throw new pulumi.RunError(`${configKey(VAPID_PUBLIC_KEY_PATH)} ${VAPID_MISMATCH}`);
    return key;
  });
}

/**
 * Mastodon's own secrets, kept as SSM SecureStrings: SECRET_KEY_BASE (generated 128 characters, like
 * `rails secret`), the three ACTIVE_RECORD_ENCRYPTION_* keys (boot aborts if blank; generated 32
 * characters, like `rails db:encryption:init`) and a VAPID key pair (EC P-256, RFC 8292). Each is
 * generated once per stack unless `existing` gives it (an instance moving here keeps its sessions,
 * encrypted data and push subscriptions): then no random resource, and the same parameter, so the
 * hosts are unchanged. Only VAPID_PUBLIC_KEY is public; everything else is readable by the hosts'
 * role alone, and stays a secret in the state.
 */
export class MastodonSecrets extends pulumi.ComponentResource {
  /** Env name -> SSM parameter name of every secret here. */
  public readonly parameters: SecretParameters;
  /** VAPID_PUBLIC_KEY (not secret: browsers receive it). */
  public readonly vapidPublicKey: pulumi.Output<string>;

  constructor(name: string, args: MastodonSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
    // Plain values are checked before anything is registered; Outputs when they resolve (below).
    const given = args.existing ?? {};
    const problems = existingSecretsProblems(given as Parameters<typeof existingSecretsProblems>[0]);
    if (problems.some((p) => p.severity === "error")) throw new ConfigError(problems);
    super(
      providedType("MastodonSecrets"),
      name,
      {},
      withFormerType("mastodon:secrets:MastodonSecrets", opts),
    );
    const parent = { parent: this };
    const parameters: Record<string, string> = {};
    const store = (envName: string, slug: string, value: pulumi.Input<string>) => {
      const parameterName = `${args.parameterPrefix}/${slug}`;
      new aws.ssm.Parameter(
        `${name}-${slug}`,
        {
          name: parameterName,
          type: "SecureString",
          value: pulumi.secret(value),
          description: `Mastodon ${envName}`,
        },
        parent,
      );
      parameters[envName] = parameterName;
    };
    const existing = (path: readonly string[]) =>
      path
        .slice(1)
        .reduce<unknown>((node, s) => (node as Record<string, unknown> | undefined)?.[s], given) as
        pulumi.Input<string> | undefined;

    for (const [envName, { slug, length }] of Object.entries(GENERATED)) {
      const path = EXISTING_SECRET_LEAVES.find((l) => l.envName === envName)?.path ?? [];
      const value = existing(path);
      store(
        envName,
        slug,
        value !== undefined
          ? checked(path, envName, value)
          : new random.RandomPassword(`${name}-${slug}`, { length, special: false }, parent).result,
      );
    }

    const { privateKey, publicKey } = given.vapid ?? {};
    if (privateKey !== undefined && publicKey !== undefined) {
      store("VAPID_PRIVATE_KEY", "vapid-private-key", checkedVapidPrivateKey(privateKey, publicKey));
      this.vapidPublicKey = pulumi.output(publicKey);
    } else {
      const vapidSeed = new random.RandomBytes(`${name}-vapid`, { length: 32 }, parent);
      const vapid = vapidSeed.base64.apply(vapidKeysFromPrivate);
      store("VAPID_PRIVATE_KEY", "vapid-private-key", vapid.privateKey);
      this.vapidPublicKey = pulumi.unsecret(vapid.publicKey);
    }
    this.parameters = parameters;
    this.registerOutputs({ vapidPublicKey: this.vapidPublicKey });
  }
}
