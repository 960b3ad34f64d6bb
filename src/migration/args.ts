/**
 * mastodon:existingSecrets written out for Pulumi's component analyzer: MastodonStack's
 * `existingSecrets` arg and MastodonSecrets' `existing`, an existing instance's secrets kept in place
 * of generated ones. Only what the analyzer reads (interfaces, doc comments with `(@default ...)`);
 * src/config/args.ts says why. The secrets may be Outputs (pass secret values); the VAPID public key,
 * which browsers receive, is plain.
 */
import type * as pulumi from "@pulumi/pulumi";

/** mastodon:existingSecrets.activeRecordEncryption: the three keys, all or none. */
export interface StackActiveRecordEncryptionArgs {
  /** ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY of the old instance, a secret (@default generated). */
  deterministicKey?: pulumi.Input<string>;
  /** ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT of the old instance, a secret (@default generated). */
  keyDerivationSalt?: pulumi.Input<string>;
  /** ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY of the old instance, a secret (@default generated). */
  primaryKey?: pulumi.Input<string>;
}

/** mastodon:existingSecrets.vapid: the Web Push key pair, both or neither. */
export interface StackVapidArgs {
  /** VAPID_PRIVATE_KEY of the old instance, a secret (@default generated). */
  privateKey?: pulumi.Input<string>;
  /** VAPID_PUBLIC_KEY of the old instance, the private key's public key; not a secret (@default derived from the generated private key). */
  publicKey?: string;
}

/** mastodon:existingSecrets: the secrets of the instance this stack takes over, from its .env.production. */
export interface StackExistingSecretsArgs {
  /** SECRET_KEY_BASE of the old instance, a secret: sessions and signed links stay valid (@default generated). */
  secretKeyBase?: pulumi.Input<string>;
  /** The Active Record encryption keys: what the old instance encrypted stays readable (@default generated). */
  activeRecordEncryption?: StackActiveRecordEncryptionArgs;
  /** The VAPID pair: browsers' push subscriptions keep working (@default generated). */
  vapid?: StackVapidArgs;
}
