/**
 * Reads stacks/Pulumi.<stack>.yaml the way the Pulumi CLI hands config to a program: a map of
 * `namespace:key` -> string, objects as JSON text. Encrypted values (`secure: v1:...`) cannot be
 * decrypted offline: they become the placeholder "[secret]" and their keys are marked secret. A key
 * written without a namespace goes into the project's, as the CLI puts it (the config rules then
 * refuse it: nothing reads it). The stack file's YAML is read as the CLI reads it
 * (src/config/stackYaml.ts), and the Pulumi ESC environments it imports from their exported
 * definitions (src/config/escEnvironments.ts).
 */
import * as fs from "fs";
import * as path from "path";
import { type EscReport, type EscValue, importNames, readEnvironment } from "./escEnvironments";
import { PlanError } from "./planError";
import { SECRET_PLACEHOLDER } from "./secretPlaceholder";
import { parseStackYaml } from "./stackYaml";

export { SECRET_PLACEHOLDER };

export interface StackFile {
  readonly stack: string;
  readonly file: string;
  readonly esc: EscReport;
  /** PULUMI_CONFIG-style: every value a string, objects JSON-encoded. */
  readonly config: Record<string, string>;
  readonly secretKeys: string[];
  /** Every `secure:` leaf, as a path inside the `mastodon:` namespace (e.g. ["mail", "smtp", "password"]). */
  readonly secretPaths: (string | number)[][];
}

function isSecure(value: unknown): value is { secure: string } {
  return typeof value === "object" && value !== null && Object.keys(value).length === 1 && "secure" in value;
}

type Path = (string | number)[];

/** Replaces `{ secure: ... }` leaves; returns the paths (below `at`) where it found them. */
function stripSecure(value: unknown, at: Path = []): { value: unknown; secrets: Path[] } {
  if (isSecure(value)) return { value: SECRET_PLACEHOLDER, secrets: [at] };
  if (Array.isArray(value)) {
    const items = value.map((v, i) => stripSecure(v, [...at, i]));
    return { value: items.map((i) => i.value), secrets: items.flatMap((i) => i.secrets) };
  }
  if (typeof value === "object" && value !== null) {
    const secrets: Path[] = [];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      const r = stripSecure(v, [...at, k]);
      out[k] = r.value;
      secrets.push(...r.secrets);
    }
    return { value: out, secrets };
  }
  return { value, secrets: [] };
}

export function listStacks(stacksDir: string): string[] {
  if (!fs.existsSync(stacksDir)) return [];
  return fs
    .readdirSync(stacksDir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

export function readStackFile(stacksDir: string, stack: string, project = "mastodon-aws"): StackFile {
  const file = path.join(stacksDir, `Pulumi.${stack}.yaml`);
  if (!fs.existsSync(file)) {
    const known = listStacks(stacksDir);
    throw new PlanError(`no stack file ${file}; stacks here: ${known.join(", ") || "none"}`);
  }
  const doc = parseStackYaml(fs.readFileSync(file, "utf8"), file);
  const rawConfig = (doc as { config?: unknown } | null)?.config ?? {};
  if (typeof rawConfig !== "object" || rawConfig === null || Array.isArray(rawConfig)) {
    throw new PlanError(`${file}: "config" must be a map of namespace:key to value`);
  }
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  const secretPaths: Path[] = [];
  // A bare key is the project's, as the Pulumi CLI reads it.
  const qualified = (key: string) => (key.includes(":") ? key : `${project}:${key}`);
  const own = new Map(Object.entries(rawConfig).map(([k, v]) => [qualified(k), v] as const));
  const environment = (doc as { environment?: unknown } | null)?.environment;
  const imports = environment === undefined ? [] : importNames(environment, file);
  const missing: string[] = [];
  const fromEsc = new Map<string, EscValue>();
  for (const name of imports)
    for (const [k, v] of readEnvironment(stacksDir, name, missing)) fromEsc.set(qualified(k), v);
  const resolved: EscReport["resolved"][number][] = [];
  const unresolved: EscReport["unresolved"][number][] = [];
  const entries = new Map<string, unknown>();
  for (const [key, v] of fromEsc) {
    if (own.has(key)) continue; // the stack file's own config wins
    if (v.why) unresolved.push({ key, environment: v.environment, why: v.why });
    else {
      resolved.push({ key, environment: v.environment });
      entries.set(key, v.value);
    }
  }
  for (const [key, value] of own) entries.set(key, value);
  for (const [key, value] of entries) {
    const { value: plain, secrets } = stripSecure(value);
    if (secrets.length) secretKeys.push(key);
    if (key.startsWith("mastodon:"))
      secretPaths.push(...secrets.map((p) => [key.slice("mastodon:".length), ...p]));
    // Pulumi passes top-level scalars as strings and objects/lists as JSON.
    config[key] = typeof plain === "object" && plain !== null ? JSON.stringify(plain) : String(plain);
  }
  return { stack, file, config, secretKeys, secretPaths, esc: { imports, resolved, unresolved, missing } };
}
