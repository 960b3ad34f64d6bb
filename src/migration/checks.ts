/**
 * What a value copied from an existing instance's .env.production must be, checked one value at a
 * time (src/migration/rules.ts checks them together). Every message names what is wrong and never
 * shows the value. Pure.
 *
 * Rails takes any non-blank string as SECRET_KEY_BASE (Rails::Application#validate_secret_key_base:
 * a String, present) and derives the Active Record encryption keys from theirs with PBKDF2
 * (ActiveRecord::Encryption::KeyGenerator), so no length is imposed: `rails secret` writes 128
 * characters and `rails db:encryption:init` 32, but an instance set up otherwise is as valid. What
 * is refused is what Rails refuses (blank), what no .env.production could carry to both of
 * Mastodon's parsers, and the traces of a copy that took more than the value (the name and its =,
 * the quotes around it, white space dotenv drops).
 */
import { dotenvProblem } from "../host/boot";
import { MASTODON_ENV_NAMES } from "../host/env";
import { SECRET_PLACEHOLDER } from "../config/secretPlaceholder";
import { vapidPrivateKeyProblem, vapidPublicKeyProblem } from "./vapid";

/**
 * Whether the value is not known while the config is checked: the offline plan reads a `secure:`
 * value as "[secret]" (it has no passphrase). The checks that need the value skip it; pulumi preview
 * and pulumi up check the decrypted value, before any resource.
 */
export const isUnknown = (value: unknown): boolean => value === SECRET_PLACEHOLDER;

/** Why `value`, the old instance's `envName`, cannot be used as it is; undefined when it can. */
export function existingValueProblem(envName: string, value: string): string | undefined {
  if (isUnknown(value)) return undefined;
  if (value.trim() === "")
    return `is blank: Mastodon does not start without ${envName}. Give the value it has in the old instance's .env.production`;
  // A variable's name and its = copied with the value (this one's, or another line's by mistake):
  // only a name Mastodon reads is told, since anything else before an = may be the secret itself.
  const name = /^([A-Z][A-Z0-9_]*)=/.exec(value)?.[1];
  if (name && MASTODON_ENV_NAMES.has(name))
    return `starts with ${name}=: give only what follows the = on the line of ${envName} in .env.production`;
  if (value.length >= 2 && /^(["']).*\1$/s.test(value))
    return "is wrapped in quotes: .env.production may quote a value, but the quotes are not part of it (dotenv removes them). Give what is between them";
  if (value !== value.trim())
    return "starts or ends with white space, which dotenv drops from a .env.production value, so the old instance never read it. Give the value without it";
  const dotenv = dotenvProblem(value);
  if (dotenv)
    return `cannot be written into .env.production so that Ruby's dotenv (Rails) and Node's dotenv (streaming) both read it back unchanged: ${dotenv}`;
  if (envName === "VAPID_PRIVATE_KEY") return vapidPrivateKeyProblem(value);
  if (envName === "VAPID_PUBLIC_KEY") return vapidPublicKeyProblem(value);
  return undefined;
}
