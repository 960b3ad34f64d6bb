/**
 * Reads stacks/Pulumi.<stack>.yaml the way the Pulumi CLI hands config to a program: a map of
 * `namespace:key` -> string, objects as JSON text. Encrypted values (`secure: v1:...`) cannot be
 * decrypted offline: they become the placeholder "[secret]" and their keys are marked secret. A key
 * written without a namespace goes into the project's, as the CLI puts it (the config rules then
 * refuse it: nothing reads it).
 *
 * Pulumi ESC: the stack file's `environment:` imports environments whose `values.pulumiConfig`
 * become stack config, the stack file's own `config:` taking precedence (Pulumi ESC documentation,
 * "Integrate with Pulumi IaC"). Environments live in Pulumi Cloud; offline, an environment is read
 * from its definition exported beside the stack files (`esc env get <org>/<project>/<env>
 * --definition > stacks/esc/<project>/<env>.yaml`), with its own imports. What cannot be known
 * offline is said, by key and environment: an environment without a local definition, a value
 * computed by a provider or function (`fn::open::aws-login`, `fn::join`, ...) or interpolated
 * (`${...}`). `fn::secret` values are secrets: placeholders, as `secure:` ones.
 */
import * as fs from "fs";
import * as path from "path";
import {
  LineCounter,
  type Node,
  Scalar,
  isAlias,
  isMap,
  isScalar,
  isSeq,
  parse,
  parseDocument,
  visit,
} from "yaml";
import type { Problem } from "./index";

export const SECRET_PLACEHOLDER = "[secret]";

/** What came from Pulumi ESC, and what of it could not be resolved offline. */
export interface EscReport {
  /** The environments the stack file imports, in order. */
  readonly imports: readonly string[];
  /** Config keys whose value came from an environment (and not overridden by the stack file). */
  readonly resolved: readonly { readonly key: string; readonly environment: string }[];
  /** Config keys an environment sets whose value is unknown offline, and why. */
  readonly unresolved: readonly {
    readonly key: string;
    readonly environment: string;
    readonly why: string;
  }[];
  /** Imported environments with no local definition: every key they set is unknown here. */
  readonly missing: readonly string[];
}

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

export class PlanError extends Error {
  override name = "PlanError";
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

const MERGE = "<<";
const isMergeKey = (key: unknown): key is Scalar =>
  isScalar(key) && typeof key.value === "symbol" && key.value.description === MERGE;

/**
 * A stack file's YAML as the Pulumi CLI reads it. The CLI decodes the stack file with go-yaml v3
 * (gopkg.in/yaml.v3 v3.0.1: pulumi/pulumi sdk/go/common/encoding/marshal.go, read by
 * workspace.LoadProjectStackBytes into a plain value before anything else), which applies YAML
 * merge keys: `<<: *base` in a mapping takes every key of the anchored mapping (or of each mapping
 * in a list, earlier ones first) that the mapping does not set itself, wherever the `<<` stands
 * (go-yaml v3 decode.go, mapping and merge). The yaml package does the same with `merge: true`; it
 * also accepts what go-yaml refuses, refused here as there (and with go-yaml's words): two `<<` in
 * one mapping ("mapping key already defined"), and a `<<` whose value is not a mapping, an alias of
 * one, or a list of those ("map merge requires map or sequence of maps as the value"). A `<<` that
 * is quoted or given another tag (`!!str <<`) is an ordinary key for go-yaml: kept one here.
 */
function parseStackYaml(text: string, file: string): unknown {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { merge: true, lineCounter });
  const [first] = doc.errors;
  if (first) throw new PlanError(`${file} is not valid YAML: ${first.message}`);
  const line = (node: Node | unknown) => {
    const offset = (node as Node).range?.[0];
    return offset === undefined ? "?" : String(lineCounter.linePos(offset).line);
  };
  const isMapping = (node: unknown) => isMap(isAlias(node) ? node.resolve(doc) : node);
  visit(doc, {
    Pair(_, pair) {
      // A plain `<<` with another explicit tag: go-yaml reads an ordinary key, the yaml package a merge.
      if (isScalar(pair.key) && pair.key.value === MERGE && pair.key.type === Scalar.PLAIN)
        pair.key.type = Scalar.QUOTE_DOUBLE;
    },
    Map(_, map) {
      const merges = map.items.filter((p) => isMergeKey(p.key));
      // go-yaml compares keys by their text: a quoted "<<" beside a merge is defined twice too.
      const [firstMerge, second] = map.items.filter(
        (p) => isMergeKey(p.key) || (isScalar(p.key) && p.key.value === MERGE),
      );
      if (firstMerge && second)
        throw new PlanError(
          `${file} is not valid YAML: line ${line(second.key)}: mapping key "<<" already defined at line ${line(firstMerge.key)}`,
        );
      for (const { key, value } of merges) {
        const sources = isSeq(value) ? value.items : [value];
        if (!sources.every(isMapping))
          throw new PlanError(
            `${file} is not valid YAML: line ${line(key)}: map merge requires map or sequence of maps as the value`,
          );
      }
    },
  });
  try {
    return doc.toJS();
  } catch (e) {
    throw new PlanError(`${file} is not valid YAML: ${(e as Error).message}`);
  }
}

export function listStacks(stacksDir: string): string[] {
  if (!fs.existsSync(stacksDir)) return [];
  return fs
    .readdirSync(stacksDir)
    .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
    .filter((s): s is string => s !== undefined)
    .sort();
}

/** Where an environment's exported definition is read from: stacks/esc/<name>.yaml. */
export function escDefinitionFile(stacksDir: string, environment: string): string {
  return path.join(stacksDir, "esc", `${environment}.yaml`);
}

const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*){0,2}$/;

function importNames(value: unknown, where: string): string[] {
  // `environment: [a, b]`, or the older `environment: { imports: [a, b] }`.
  const list = Array.isArray(value) ? value : (value as { imports?: unknown } | null)?.imports;
  if (!Array.isArray(list) || !list.every((n) => typeof n === "string" && ENVIRONMENT_NAME.test(n)))
    throw new PlanError(`${where}: "environment" must list ESC environment names such as myproject/dev`);
  return list as string[];
}

/** Why a value cannot be known offline, or undefined when it is plain data. */
function unresolvable(value: unknown): string | undefined {
  if (typeof value === "string") return value.includes("${") ? "it interpolates ${...}" : undefined;
  if (Array.isArray(value)) return value.map(unresolvable).find((w) => w !== undefined);
  if (typeof value === "object" && value !== null) {
    const fn = Object.keys(value).find((k) => k.startsWith("fn::"));
    if (fn) return `it is computed by ${fn}`;
    return Object.values(value)
      .map(unresolvable)
      .find((w) => w !== undefined);
  }
  return undefined;
}

interface EscValue {
  readonly value: unknown;
  readonly environment: string;
  readonly why?: string;
}

/** An environment's pulumiConfig after its imports (later ones win, its own values last). */
function readEnvironment(
  stacksDir: string,
  environment: string,
  missing: string[],
  seen: readonly string[] = [],
): Map<string, EscValue> {
  if (seen.includes(environment))
    throw new PlanError(
      `ESC environment ${environment} imports itself: ${[...seen, environment].join(" -> ")}`,
    );
  const file = escDefinitionFile(stacksDir, environment);
  const out = new Map<string, EscValue>();
  if (!fs.existsSync(file)) {
    missing.push(environment);
    return out;
  }
  let doc: { imports?: unknown; values?: { pulumiConfig?: unknown } } | null;
  try {
    doc = parse(fs.readFileSync(file, "utf8")) as typeof doc;
  } catch (e) {
    throw new PlanError(`${file} is not valid YAML: ${(e as Error).message}`);
  }
  if (doc?.imports !== undefined)
    for (const name of importNames(doc.imports, file))
      for (const [k, v] of readEnvironment(stacksDir, name, missing, [...seen, environment])) out.set(k, v);
  const config = doc?.values?.pulumiConfig ?? {};
  if (typeof config !== "object" || config === null || Array.isArray(config))
    throw new PlanError(`${file}: values.pulumiConfig must be a map of namespace:key to value`);
  for (const [key, value] of Object.entries(config)) {
    // fn::secret is a secret value: the same placeholder as `secure:` in a stack file.
    const secret = typeof value === "object" && value !== null && "fn::secret" in value;
    const why = secret ? undefined : unresolvable(value);
    out.set(key, { value: secret ? { secure: "esc" } : value, environment, ...(why && { why }) });
  }
  return out;
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

/**
 * What the plan says about ESC, as warnings beside the config's own problems (listed with them when
 * the config is refused, in the summary when not): where values came from, and what is unknown.
 */
export function escNotes(esc: EscReport): Problem[] {
  const note = (key: string, message: string): Problem => ({ severity: "warning", key, message });
  return [
    ...esc.resolved.map((r) =>
      note(r.key, `comes from ESC environment ${r.environment} (stacks/esc/${r.environment}.yaml)`),
    ),
    ...esc.unresolved.map((u) =>
      note(
        u.key,
        `comes from ESC environment ${u.environment} and cannot be resolved offline: ${u.why}; it is left unset here`,
      ),
    ),
    ...esc.missing.map((m) =>
      note(
        `environment: ${m}`,
        `this ESC environment cannot be read offline: export its definition to stacks/esc/${m}.yaml (esc env get <org>/${m} --definition); the keys it sets are unknown here`,
      ),
    ),
  ];
}
