import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { vapidKeysFromPrivate } from "./vapid";
import { providedType, withFormerType } from "../aws/typeToken";

export interface MastodonSecretsArgs {
  /** Where the secrets are stored, e.g. /mastodon/production/mastodon. */
  parameterPrefix: string;
}

/** Env name -> SSM parameter name, for the boot-time renderer's placeholders. */
export type SecretParameters = Readonly<Record<string, string>>;

/**
 * Mastodon's own secrets, generated once per stack and kept as SSM SecureStrings: SECRET_KEY_BASE
 * (128 characters, like `rails secret`), the three ACTIVE_RECORD_ENCRYPTION_* keys (boot aborts if
 * blank; 32 characters, like `rails db:encryption:init`) and a real VAPID key pair (EC P-256). Only
 * VAPID_PUBLIC_KEY is public; everything else is readable by the hosts' role alone.
 */
export class MastodonSecrets extends pulumi.ComponentResource {
  /** Env name -> SSM parameter name of every secret here. */
  public readonly parameters: SecretParameters;
  /** VAPID_PUBLIC_KEY (not secret: browsers receive it). */
  public readonly vapidPublicKey: pulumi.Output<string>;

  constructor(name: string, args: MastodonSecretsArgs, opts?: pulumi.ComponentResourceOptions) {
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
    const generated = (envName: string, slug: string, length: number) =>
      store(
        envName,
        slug,
        new random.RandomPassword(`${name}-${slug}`, { length, special: false }, parent).result,
      );

    generated("SECRET_KEY_BASE", "secret-key-base", 128);
    generated("ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY", "ar-deterministic-key", 32);
    generated("ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT", "ar-key-derivation-salt", 32);
    generated("ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY", "ar-primary-key", 32);

    const vapidSeed = new random.RandomBytes(`${name}-vapid`, { length: 32 }, parent);
    const vapid = vapidSeed.base64.apply(vapidKeysFromPrivate);
    store("VAPID_PRIVATE_KEY", "vapid-private-key", vapid.privateKey);
    this.vapidPublicKey = pulumi.unsecret(vapid.publicKey);
    this.parameters = parameters;
    this.registerOutputs({ vapidPublicKey: this.vapidPublicKey });
  }
}
