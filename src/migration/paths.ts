/**
 * Where mastodon:existingSecrets keeps an existing instance's secrets: each leaf's config path and
 * the variable it is in the old instance's .env.production. Constants only, imported by the config's
 * problems (src/config/problems.ts), which keep these values out of every message.
 */

/** The top-level key: `pulumi config set --secret --path mastodon:existingSecrets.<leaf> ...`. */
export const EXISTING_SECRETS = "existingSecrets";

export interface ExistingSecretLeaf {
  /** From the top of the `mastodon:` namespace. */
  readonly path: readonly string[];
  /** The variable Mastodon 4.6 reads it from (data/mastodon-4.6-env-names.txt). */
  readonly envName: string;
}

/** The leaves that are secrets: given only as Pulumi secrets, never shown. */
export const EXISTING_SECRET_LEAVES: readonly ExistingSecretLeaf[] = [
  { path: [EXISTING_SECRETS, "secretKeyBase"], envName: "SECRET_KEY_BASE" },
  {
    path: [EXISTING_SECRETS, "activeRecordEncryption", "deterministicKey"],
    envName: "ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY",
  },
  {
    path: [EXISTING_SECRETS, "activeRecordEncryption", "keyDerivationSalt"],
    envName: "ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT",
  },
  {
    path: [EXISTING_SECRETS, "activeRecordEncryption", "primaryKey"],
    envName: "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY",
  },
  { path: [EXISTING_SECRETS, "vapid", "privateKey"], envName: "VAPID_PRIVATE_KEY" },
];

/** VAPID_PUBLIC_KEY: public (browsers receive it, and it is in the hosts' user-data), so given in plain text. */
export const VAPID_PUBLIC_KEY_PATH: readonly string[] = [EXISTING_SECRETS, "vapid", "publicKey"];

/**
 * What MastodonStack checks in place of a secret given as an Output (src/stack/stackInputs.ts): a
 * value each check accepts. The VAPID one is a private key (the scalar 0x0101...01), whose pair the
 * config's rule does not check: MastodonSecrets checks the Output's value once it resolves.
 */
export const OUTPUT_STAND_IN = "stand-in";
export const VAPID_PRIVATE_KEY_STAND_IN = "AQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQE=";
