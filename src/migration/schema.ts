/**
 * mastodon:existingSecrets: the secrets of the instance this stack takes over, from its
 * .env.production, kept in place of the ones the stack would generate (src/stack/secrets.ts). Each
 * value is checked alone here (src/migration/checks.ts), the sets in src/migration/rules.ts.
 *
 * Every object here is closed by hand rather than by zod's strictObject: an unknown key's value may
 * be a secret written at a misspelt key, and zod's own unknown-key issue carries the value, while
 * the issues below carry none (src/config/problems.ts hides every value under existingSecrets).
 */
import { z } from "zod";
import { suggest } from "../config/problems";
import { existingValueProblem } from "./checks";
import { argsType, documented } from "../config/schema/keyDoc";

/**
 * OTP_SECRET encrypted two-factor secrets until Mastodon 4.3, whose post-deployment migration
 * (MigrateDeviseTwoFactorSecrets) re-encrypted them with the Active Record encryption keys; 4.4
 * removed the old columns and the code that read them (mastodon/mastodon#34743). Mastodon 4.6 does
 * not read it (data/mastodon-4.6-env-names.txt), so a host's environment cannot carry it
 * (src/host/env.ts refuses the name).
 */
export const OTP_SECRET_REFUSED =
  "is not read by Mastodon 4.6: OTP_SECRET encrypted two-factor secrets until 4.3, whose post-deployment migration re-encrypted them with the Active Record encryption keys, and 4.4 removed the old columns (mastodon/mastodon#34743). Bring activeRecordEncryption instead (the two-factor secrets are under those keys now) and remove this key: pulumi config rm --path mastodon:existingSecrets.otpSecret. An instance older than 4.4 is first upgraded to 4.4 or later where it runs, post-deployment migrations included";

/** A value of the old instance's `envName`, checked alone; optional, since the sets are checked together. */
const existingValue = (envName: string) =>
  z
    .string()
    .superRefine((value, ctx) => {
      const problem = existingValueProblem(envName, value);
      if (problem) ctx.addIssue({ code: "custom", message: problem });
    })
    .optional();

/**
 * An object with `shape`'s keys and no other, each other key refused by itself with a message that
 * holds no value (`refused` gives a key its own message).
 */
function closedObject<S extends z.core.$ZodLooseShape>(shape: S, refused: Record<string, string> = {}) {
  const known = Object.keys(shape);
  return z.looseObject(shape).superRefine(
    (value, ctx) => {
      if (typeof value !== "object" || value === null || Array.isArray(value)) return;
      for (const key of Object.keys(value).filter((k) => !known.includes(k))) {
        const hint = suggest(key, known);
        ctx.addIssue({
          code: "custom",
          path: [key],
          message:
            refused[key] ??
            `is not a known key; ${hint ? `did you mean ${hint}?` : `known keys here: ${known.join(", ")}`}`,
        });
      }
    },
    // Also when a known key failed its own check: every problem in one pass.
    { when: () => true },
  );
}

const AR_ALL_OR_NONE =
  "all three or none (Rails derives the encryption keys from the three; what the old instance encrypted, two-factor secrets among it, stays readable).";

export const existingSecretsSchema = argsType(
  closedObject(
    {
      secretKeyBase: documented(existingValue("SECRET_KEY_BASE"), {
        description:
          "SECRET_KEY_BASE of the old instance, a secret (pulumi config set --secret --path), kept in place of a generated one: its sessions, cookies and signed links stay valid. It is refused in plain text, blank, quoted, or with SECRET_KEY_BASE= in front.",
        default: "generated",
      }),
      activeRecordEncryption: documented(
        argsType(
          closedObject({
            deterministicKey: documented(existingValue("ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY"), {
              description: `ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY of the old instance, a secret: with primaryKey and keyDerivationSalt, ${AR_ALL_OR_NONE}`,
              default: "generated",
            }),
            keyDerivationSalt: documented(existingValue("ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT"), {
              description: `ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT of the old instance, a secret: with primaryKey and deterministicKey, ${AR_ALL_OR_NONE}`,
              default: "generated",
            }),
            primaryKey: documented(existingValue("ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY"), {
              description: `ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY of the old instance, a secret: with deterministicKey and keyDerivationSalt, ${AR_ALL_OR_NONE}`,
              default: "generated",
            }),
          }),
          {
            name: "StackActiveRecordEncryptionArgs",
            folder: "migration",
            description: "mastodon:existingSecrets.activeRecordEncryption: the three keys, all or none.",
          },
        ).optional(),
        {
          description:
            "The old instance's three ACTIVE_RECORD_ENCRYPTION_* keys, all or none: what it encrypted stays readable. OTP_SECRET is refused: Mastodon 4.6 does not read it (4.3 re-encrypted the two-factor secrets with these keys).",
          default: "generated",
        },
      ),
      vapid: documented(
        argsType(
          closedObject({
            privateKey: documented(existingValue("VAPID_PRIVATE_KEY"), {
              description:
                "VAPID_PRIVATE_KEY of the old instance, a secret: with publicKey, both or neither, and a P-256 pair.",
              default: "generated",
            }),
            publicKey: documented(existingValue("VAPID_PUBLIC_KEY"), {
              description:
                "VAPID_PUBLIC_KEY of the old instance, the private key's public key; not a secret, since browsers receive it. The hosts' VAPID_PUBLIC_KEY is the one given.",
              default: "derived from the generated private key",
            }),
          }),
          {
            name: "StackVapidArgs",
            folder: "migration",
            description: "mastodon:existingSecrets.vapid: the Web Push key pair, both or neither.",
          },
        ).optional(),
        {
          description:
            "The old instance's VAPID pair, VAPID_PRIVATE_KEY (a secret) and VAPID_PUBLIC_KEY (plain), both or neither: browsers' push subscriptions keep working.",
          default: "generated",
        },
      ),
    },
    { otpSecret: OTP_SECRET_REFUSED },
  ),
  {
    name: "StackExistingSecretsArgs",
    folder: "migration",
    description:
      "mastodon:existingSecrets: the secrets of the instance this stack takes over, from its .env.production.",
  },
);
