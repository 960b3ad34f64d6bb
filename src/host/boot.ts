/**
 * What a fleet host does at boot, rendered as files (pure): the env file and PgBouncer userlist as
 * templates whose secrets are `{{ssm:<parameter name>}}` placeholders, and a small Python program
 * that fills them from SSM Parameter Store. No secret value is ever in user-data or a launch
 * template: only parameter names are.
 */
import type { Env } from "./env";
import { programText, RENDER_SECRETS } from "./programs";

const PLACEHOLDER = /\{\{ssm:([A-Za-z0-9_.\-/]+)\}\}/g;

/** The placeholder for an SSM SecureString, filled in at boot. */
export function ssmPlaceholder(parameterName: string): string {
  return `{{ssm:${parameterName}}}`;
}

/** Parameter names a text refers to. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/**
 * Every SSM parameter a host reads: those its templates name (the renderer reads exactly these) and
 * `others` its own programs read by name. Its role may read these and no other (fleetRole.ts).
 */
export function hostParameterNames(templates: readonly string[], others: readonly string[] = []): string[] {
  return [...new Set([...placeholdersIn(templates.join("\n")), ...others])].sort();
}

/**
 * An env file Ruby's dotenv and Node's dotenv read alike: one KEY=value per line, sorted. Values
 * are refused if they could be read differently by either (spaces, quotes, #, $, backslashes):
 * everything this package emits is a URL, a name, a number or a placeholder. A placeholder that is
 * a line's whole value is filled quoted at boot (dotenvQuote), so the secret may hold any of these.
 */
export function renderEnvFile(env: Env, header: string): string {
  const lines = Object.keys(env)
    .sort()
    .map((key) => {
      const value = env[key] as string;
      if (/[\s"'`#$\\]/.test(value)) throw new Error(`${key}: value would need quoting in .env.production`);
      return `${key}=${value}`;
    });
  return [`# ${header}`, ...lines, ""].join("\n");
}

/**
 * Why `value` cannot be the whole value of a .env.production line that both of Mastodon's parsers
 * read back byte for byte, or undefined when it can. The same rule as dotenv_quote in
 * files/render-secrets.py (src/host/boot.test.ts holds them to it), so config validation can refuse at plan
 * time, by its key, a secret the boot would refuse.
 *
 * The parsers are Ruby's dotenv gem (Rails; Mastodon bundles 3.x, Debian ships 2.4) and Node's
 * dotenv package (the streaming server, 16.x), as their parsers read (dotenv's lib/dotenv/parser.rb
 * and lib/dotenv/substitutions; dotenv's lib/main.js):
 * - single-quoted `'v'`: all three take v literally (no unescaping, no `$VAR` or `$(command)`
 *   substitution, no `\n` expansion, `#` and spaces kept). It cannot hold `'`; and a v ending in `\`
 *   makes `\'` of the closing quote, which gem 3.x and Node may read as an escaped quote: their
 *   quoted values may span lines, and this one then swallows the lines after it (e.g. when a later
 *   single-quoted value starts with `#`).
 * - double-quoted `"v"`: all three turn `\n` into a line break, the gem (2.4 and 3.x) also unescapes
 *   `\x` and substitutes `$VAR`, `${VAR}` and runs `$(command)`. Literal only without `"`, `\`, `$`.
 * - line breaks (LF, CR): neither form holds them in all three (gem 2.4 splits lines on CR and LF
 *   before parsing; Node and gem 3.x turn CR LF into LF).
 * - unquoted is never used: `#` starts a comment, surrounding spaces are stripped, gem 3.x unescapes.
 */
export function dotenvProblem(value: string): string | undefined {
  if (/[\n\r]/.test(value)) return "it contains a line break";
  if (!value.includes("'") && !value.endsWith("\\")) return undefined;
  if (!/["\\$]/.test(value)) return undefined;
  return value.includes("'")
    ? "it contains a single quote (') and also a double quote (\"), a backslash (\\) or a dollar sign ($)"
    : "it ends with a backslash (\\)";
}

/** Whether dotenvQuote can write `value` (see dotenvProblem). */
export function dotenvRepresentable(value: string): boolean {
  return dotenvProblem(value) === undefined;
}

/**
 * `value` as the renderer writes it after `KEY=`: alphanumeric as is (what every generated secret
 * is); else single-quoted when it holds no `'` and does not end in `\`; else double-quoted when it
 * holds none of `"` `\` `$`. Throws when neither reads back exactly (dotenvProblem says why), never
 * quoting the value in the message.
 */
export function dotenvQuote(value: string): string {
  if (/^[A-Za-z0-9]+$/.test(value)) return value;
  const problem = dotenvProblem(value);
  if (problem) throw new Error(`value cannot be written in .env.production: ${problem}`);
  return !value.includes("'") && !value.endsWith("\\") ? `'${value}'` : `"${value}"`;
}

export interface RenderedFile {
  /** Template with placeholders, written by cloud-init. */
  readonly template: string;
  /** Where the filled-in file goes. */
  readonly target: string;
  readonly mode: string;
  readonly owner: string;
}

export const BOOT_PATHS = {
  dir: "/etc/mastodon",
  manifest: "/etc/mastodon/secrets-manifest.json",
  renderer: "/usr/local/sbin/mastodon-render-secrets",
} as const;

/** How the renderer retries its SSM read (the manifest's "retry"; render-secrets.py's DEFAULT_RETRY). */
export interface SsmReadRetry {
  /** Calls in all, the first included, over every batch of 10 names (a host names at most 20 or so). */
  readonly attempts: number;
  /** The wait after the first failure; it doubles after each one, up to maxDelaySeconds. */
  readonly baseSeconds: number;
  readonly maxDelaySeconds: number;
  /** One `aws ssm get-parameters` call is killed after this long and counts as a failure. */
  readonly callTimeoutSeconds: number;
}

/**
 * 8 attempts, waiting 5, 10, 20, 40, 80, 80, 80 s at most between them (half of each wait is
 * random jitter, so a fleet launched at once does not retry in step): 158-315 s of waiting, about
 * five minutes, long enough to ride out IAM's eventual consistency for a new instance profile and
 * SSM throttling (AWS Systems Manager User Guide, Parameter Store quotas: GetParameters is
 * throttled per account and region).
 */
export const SSM_READ_RETRY: SsmReadRetry = {
  attempts: 8,
  baseSeconds: 5,
  maxDelaySeconds: 80,
  callTimeoutSeconds: 30,
};

/** The longest the renderer can take to read SSM before it gives up: every call timed out, every wait at its ceiling. */
export function ssmReadBoundSeconds(retry: SsmReadRetry = SSM_READ_RETRY): number {
  let waits = 0;
  for (let attempt = 1; attempt < retry.attempts; attempt++)
    waits += Math.min(retry.maxDelaySeconds, retry.baseSeconds * 2 ** (attempt - 1));
  return retry.attempts * retry.callTimeoutSeconds + waits;
}

/**
 * The manifest the renderer reads: which templates to fill, where to put them, with what mode, how to
 * retry; `parameterPath` (the stack's SSM path) only names the stack in its messages: the renderer
 * reads the parameters the templates name, by name.
 */
export function renderManifest(
  parameterPath: string,
  region: string,
  files: readonly RenderedFile[],
  retry: SsmReadRetry = SSM_READ_RETRY,
): string {
  return `${JSON.stringify({ parameterPath, region, retry, files }, null, 2)}\n`;
}

/**
 * The boot-time renderer, src/host/files/render-secrets.py (Python 3, standard library only). It
 * reads exactly the parameters its templates name, with the instance role, by name
 * (`aws ssm get-parameters --with-decryption`, at most 10 names a call: AWS Systems Manager API
 * Reference, GetParameters), retrying a failed read as the manifest's "retry" says
 * (SSM_READ_RETRY), fills each template, and writes the result atomically with its mode and owner.
 * The role may read those names only (fleetHost.ts, FleetHost.parameterNames). It fails, writing
 * nothing, if a placeholder names a parameter that does not exist (GetParameters answers it among
 * its InvalidParameters), or if a value cannot be written
 * where its placeholder stands: a line's whole value must pass dotenvQuote, a value inside a larger
 * one must be alphanumeric. Its messages name parameters, never values. `--parameters FILE` reads the
 * parameters from a JSON file in the same shape instead of calling AWS (used by the tests).
 */
export function renderSecretsProgram(): string {
  return programText(RENDER_SECRETS);
}

/** The renderer's text, for the tests that run it (src/mail/mail.test.ts); hosts get renderSecretsProgram(). */
export const RENDER_SECRETS_PY: string = renderSecretsProgram();
