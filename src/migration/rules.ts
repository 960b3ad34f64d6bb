/**
 * mastodon:existingSecrets across its values: the Active Record encryption keys all or none, the
 * VAPID keys both or neither and a pair, and every secret kept a secret in the stack file. Each
 * problem names its key and never shows a secret.
 */
import { type PathSegment, type Problem, configKey, valueAt } from "../config/problems";
import { type Rule, error, warning } from "../config/rules/rule";
import { existingValueProblem, isUnknown } from "./checks";
import type { ExistingSecrets } from "./config";
import {
  EXISTING_SECRETS,
  EXISTING_SECRET_LEAVES,
  VAPID_PRIVATE_KEY_STAND_IN,
  VAPID_PUBLIC_KEY_PATH,
} from "./paths";
import { isVapidPair } from "./vapid";

/** What a problem shows in place of a secret (src/config/problems.ts shows the same). */
export const HIDDEN = "[hidden]";

const AR_KEYS = ["deterministicKey", "keyDerivationSalt", "primaryKey"] as const;
const AR_ENV = {
  deterministicKey: "ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY",
  keyDerivationSalt: "ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT",
  primaryKey: "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY",
} as const;
const AR_PATH = [EXISTING_SECRETS, "activeRecordEncryption"];
const VAPID_PATH = [EXISTING_SECRETS, "vapid"];
const setCommand = (path: readonly string[], envName: string, secret = true) =>
  `pulumi config set ${secret ? "--secret " : ""}--path '${configKey(path)}' "<${envName} of the old instance's .env.production>"`;

/**
 * Rails derives the keys that encrypt a column from the three together (ActiveRecord::Encryption:
 * the primary key and the salt for non-deterministic encryption, the deterministic key and the salt
 * for deterministic), so a set completed with generated keys reads nothing the old instance wrote.
 */
function activeRecordSet(given: NonNullable<ExistingSecrets["activeRecordEncryption"]>): Problem[] {
  const present = AR_KEYS.filter((k) => given[k] !== undefined);
  if (present.length === 0 || present.length === AR_KEYS.length) return [];
  return AR_KEYS.filter((k) => given[k] === undefined).map((missing) =>
    error(
      [...AR_PATH, missing],
      undefined,
      `is missing while ${present.join(" and ")} ${present.length === 1 ? "is" : "are"} given: Rails derives the encryption keys from the three together, so with one generated the stack reads nothing the old instance encrypted (two-factor secrets among it). Give it: ${setCommand([...AR_PATH, missing], AR_ENV[missing])}; or remove the others to have all three generated`,
    ),
  );
}

/** The pair is used whole: the private key signs each push, the browser's subscription holds the public key. */
function vapidSet(given: NonNullable<ExistingSecrets["vapid"]>): Problem[] {
  const { privateKey, publicKey } = given;
  if (privateKey === undefined && publicKey === undefined) return [];
  if (privateKey === undefined || publicKey === undefined) {
    const [missing, envName, other] =
      privateKey === undefined
        ? (["privateKey", "VAPID_PRIVATE_KEY", "publicKey"] as const)
        : (["publicKey", "VAPID_PUBLIC_KEY", "privateKey"] as const);
    return [
      error(
        [...VAPID_PATH, missing],
        undefined,
        `is missing while vapid.${other} is given: a VAPID key pair is used whole (the private key signs every push, and each browser's subscription was made with the public key: RFC 8292). Give it: ${setCommand([...VAPID_PATH, missing], envName, missing === "privateKey")}; or remove vapid.${other} to have a new pair generated (every browser then has to subscribe again)`,
      ),
    ];
  }
  // Unknown here (encrypted in the offline plan, or an Output): MastodonSecrets checks it once known.
  if (typeof privateKey !== "string" || privateKey === VAPID_PRIVATE_KEY_STAND_IN) return [];
  if (isUnknown(privateKey) || isUnknown(publicKey)) return [];
  // Either malformed: its own check reported it.
  if (
    existingValueProblem("VAPID_PRIVATE_KEY", privateKey) ||
    existingValueProblem("VAPID_PUBLIC_KEY", publicKey)
  )
    return [];
  return isVapidPair(privateKey, publicKey) ? [] : [error(VAPID_PUBLIC_KEY_PATH, publicKey, VAPID_MISMATCH)];
}

export const VAPID_MISMATCH =
  "is not the public key of vapid.privateKey (the P-256 point the private key derives is another): push services would refuse every push signed with that private key. Copy VAPID_PRIVATE_KEY and VAPID_PUBLIC_KEY from the same .env.production";

/** The sets of mastodon:existingSecrets (each value alone is checked by the schema). */
export const existingSecretsSets: Rule = (config) => {
  const given = config.existingSecrets;
  if (!given) return [];
  return [
    ...(given.activeRecordEncryption ? activeRecordSet(given.activeRecordEncryption) : []),
    ...(given.vapid ? vapidSet(given.vapid) : []),
  ];
};

/** The same checks for MastodonSecrets given `existing` on its own (no stack config around it). */
export function existingSecretsProblems(given: ExistingSecrets): Problem[] {
  const values = EXISTING_SECRET_LEAVES.flatMap(({ path, envName }) => {
    const value = valueAt({ [EXISTING_SECRETS]: given }, path);
    const problem = typeof value === "string" ? existingValueProblem(envName, value) : undefined;
    return problem ? [error(path, HIDDEN, problem)] : [];
  });
  const publicKey = given.vapid?.publicKey;
  const publicProblem =
    publicKey === undefined ? undefined : existingValueProblem("VAPID_PUBLIC_KEY", publicKey);
  return [
    ...values,
    ...(publicProblem ? [error(VAPID_PUBLIC_KEY_PATH, publicKey, publicProblem)] : []),
    ...(given.activeRecordEncryption ? activeRecordSet(given.activeRecordEncryption) : []),
    ...(given.vapid ? vapidSet(given.vapid) : []),
  ];
}

const isPrefix = (prefix: readonly PathSegment[], of: readonly PathSegment[]) =>
  prefix.length <= of.length && prefix.every((s, i) => s === of[i]);

/**
 * The secrets given in plain text in the stack file (where everyone who reads the repository, and
 * its history, reads them), and a note for those the offline plan could not decrypt. `secretPaths`
 * are the paths stored as secrets: leaves in the plan, whole top-level keys under `pulumi up`
 * (Pulumi marks the key whose leaf is a secret), so there a plain leaf beside a secret one passes.
 */
export function existingSecretsInClear(
  raw: Record<string, unknown>,
  secretPaths: readonly (readonly PathSegment[])[],
): Problem[] {
  const problems: Problem[] = [];
  const unknown: string[] = [];
  for (const { path, envName } of EXISTING_SECRET_LEAVES) {
    const value = valueAt(raw, path);
    const secret = secretPaths.some((p) => isPrefix(p, path));
    if (value === undefined) continue;
    if (!secret)
      problems.push(
        error(
          path,
          HIDDEN,
          `is in plain text in the stack file, where everyone who reads the repository (and its history) reads ${envName}; keep it a secret: ${setCommand(path, envName)}`,
        ),
      );
    else if (isUnknown(value)) unknown.push(path.slice(1).join("."));
  }
  if (unknown.length)
    problems.push(
      warning(
        [EXISTING_SECRETS],
        undefined,
        `holds ${unknown.join(", ")} encrypted (secure:), which the offline plan cannot decrypt (it has no passphrase): it checked that they are given, not their form${unknown.includes("vapid.privateKey") ? " or that vapid.publicKey is their public key" : ""}. pulumi preview and pulumi up check them decrypted, before any resource`,
      ),
    );
  return problems;
}
