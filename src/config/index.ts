/**
 * One validation pass over the stack config (aws-cdk style): shape and per-field checks (zod),
 * then the cross-field rules, every problem reported at once by its config key.
 */
import { z } from "zod";
import { type Budget, stackBudgets } from "../budget/budget";
import {
  ConfigError,
  NAMESPACE,
  type PathSegment,
  type Problem,
  configKey,
  problemsFromZod,
} from "./problems";
import { resolveStackConfig } from "./resolve";
import type { StackConfig } from "./stackConfig";
import { checkRules, regionProblems, secretProblems } from "./rules";
import { type ParsedStackConfig, fleetName, fleetSchema, stackConfigSchema } from "./schema";
import { restoreRegionProblems } from "../database/restoreFrom";
import { unwrapKey } from "./schema/keyDoc";

export * from "./problems";
export * from "./resolve";
export * from "./stackConfig";
export { stackConfigSchema } from "./schema";

const VALIDATED: unique symbol = Symbol("mastodon-aws validated config");

/** Whether `value` came out of parseStackConfig (so a component need not parse it again). */
export function isValidatedConfig(value: unknown): value is ValidatedConfig {
  return typeof value === "object" && value !== null && VALIDATED in value;
}

export interface ValidatedConfig {
  readonly [VALIDATED]: true;
  readonly config: StackConfig;
  readonly budget: Budget;
  /** The read replica's budget, when there is a replica. */
  readonly replicaBudget?: Budget;
  readonly warnings: readonly Problem[];
}

type AnySchema = z.core.$ZodType;

/** Walks the schema along a config path to list the keys an object there accepts. */
function knownKeysAt(path: readonly PathSegment[]): string[] {
  let schema: AnySchema | undefined = stackConfigSchema;
  const unwrap = (s: AnySchema): AnySchema => unwrapKey(s).inner;
  for (const segment of path) {
    if (!schema) return [];
    const def = unwrap(schema)._zod.def as unknown as {
      type: string;
      shape?: Record<string, AnySchema>;
      valueType?: AnySchema;
      element?: AnySchema;
    };
    if (def.type === "object") schema = def.shape?.[String(segment)];
    else if (def.type === "record") schema = def.valueType;
    else if (def.type === "array") schema = def.element;
    else return [];
  }
  if (!schema) return [];
  const def = unwrap(schema)._zod.def as unknown as {
    type: string;
    shape?: Record<string, AnySchema>;
    keyType?: AnySchema;
  };
  if (def.type === "object" && def.shape) return Object.keys(def.shape);
  // A record keyed by an enum (alarms.queueLatency by queue): the enum's values are its keys.
  const values = def.type === "record" ? def.keyType?._zod.values : undefined;
  return values ? [...values].map(String) : [];
}

/** What the program knows besides the `mastodon:` namespace, checked in the same pass. */
export interface ParseOptions {
  /** `aws:region`; checked when the key is given (even as undefined). */
  readonly region?: string | undefined;
  /** Config paths stored as secrets (whole top-level keys under `pulumi up`, leaves in the plan). */
  readonly secretPaths?: readonly (readonly PathSegment[])[];
  /**
   * Every config key the stack holds (`namespace:key`) and the Pulumi project's name: a key in the
   * project's namespace is one written without `mastodon:` (Pulumi puts a bare key there), which
   * nothing reads; it is refused by its key rather than ignored.
   */
  readonly allKeys?: { readonly keys: readonly string[]; readonly project: string };
  /** What the caller found about where config came from (e.g. Pulumi ESC offline), reported with the rest. */
  readonly notes?: readonly Problem[];
}

/** Keys in the project's namespace: written without `mastodon:`, so read by nothing. */
export function strayKeyProblems(keys: readonly string[], project: string): Problem[] {
  const prefix = `${project}:`;
  return keys
    .filter((k) => k.startsWith(prefix))
    .map((k) => {
      const bare = k.slice(prefix.length);
      return {
        severity: "error" as const,
        key: k,
        message: `is read by nothing: a key written without a namespace lands in the project's (${project}:), and this package reads mastodon:. Set it as mastodon:${bare} (pulumi config set mastodon:${bare} <value>; --path for a nested key) and remove ${bare}`,
      };
    });
}

const MAX_PRUNE_ROUNDS = 12;

/**
 * Neutral values for required top-level keys that failed their shape check: neither production's
 * extra rules nor any domain-dependent rule fire on them, and their own key's findings are left out.
 * A database set aside also leaves out the rules that read it (rules/index.ts, READS_DATABASE).
 */
const STAND_INS: Readonly<Record<string, unknown>> = {
  environment: "staging",
  domain: "stand-in.invalid",
  version: "v4.6.0",
  database: { instanceClass: "db.t4g.medium" },
  fleets: {},
};

/**
 * The schema the remainder is parsed with: the stack's fleets may all have been set aside (a stack
 * whose only fleet is malformed), and the rules still run on everything else.
 */
const remainderSchema = stackConfigSchema.extend({ fleets: z.record(fleetName, fleetSchema) });

/**
 * The config with every value a shape problem points at set aside, so the cross-field rules can
 * run on the rest in the same pass: an unknown key alone; a fleet as a whole (half a fleet would
 * skew the budget and the rules); a required value that is still missing once set aside takes its
 * parent with it, up to a top-level key, which gets a neutral stand-in. Returns the parsed
 * remainder, the remainder as written (for the values operators wrote), the paths set aside, and
 * those of them the schema reads (an unknown key is read by nothing, so no rule misses it).
 */
function prunedParse(raw: Record<string, unknown>, issues: readonly z.core.$ZodIssue[]) {
  const copy = structuredClone(raw);
  const removed: PathSegment[][] = [];
  // Values the schema reads (not unknown keys, which nothing reads): rules that read them are left out.
  const known: PathSegment[][] = [];
  const isRemoved = (path: readonly PathSegment[]) => removed.some((r) => configKey(r) === configKey(path));
  let pending = issues;
  for (let round = 0; round < MAX_PRUNE_ROUNDS; round++) {
    for (const issue of pending) {
      const at = issue.path.map((s) => (typeof s === "number" ? s : String(s)));
      const targets = issue.code === "unrecognized_keys" ? issue.keys.map((k) => [...at, k]) : [at];
      for (const found of targets) {
        let target = found;
        // A fleet's problem sets aside the whole fleet.
        if (target[0] === "fleets" && target.length >= 2) target = target.slice(0, 2);
        // Set aside already and still wrong: the value is required where it is, so its parent goes.
        while (target.length > 1 && isRemoved(target)) target = target.slice(0, -1);
        if (target.length === 0) return undefined;
        if (issue.code !== "unrecognized_keys" || target !== found) known.push(target);
        const parent = valueAtPath(copy, target.slice(0, -1));
        if (parent === null || typeof parent !== "object") return undefined;
        const key = target[target.length - 1] as string | number;
        const standIn = target.length === 1 ? STAND_INS[String(key)] : undefined;
        if (target.length === 1 && isRemoved(target) && standIn === undefined) return undefined;
        // A required top-level value gets a neutral stand-in so the rest can still be checked.
        if (standIn !== undefined)
          (parent as Record<string | number, unknown>)[key] = structuredClone(standIn);
        else delete (parent as Record<string | number, unknown>)[key];
        if (!isRemoved(target)) removed.push(target);
      }
    }
    const again = remainderSchema.safeParse(copy);
    if (again.success) return { parsed: again.data as ParsedStackConfig, written: copy, removed, known };
    pending = again.error.issues;
  }
  return undefined;
}

function valueAtPath(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

/**
 * Parses the `mastodon:` namespace (keys without the prefix, values already decoded from JSON)
 * into the resolved config and its budget. Throws ConfigError listing every problem: shape
 * problems, and in the same pass the cross-field rules over what is well formed (a rule whose
 * finding touches a removed value, the fleets as a whole once a fleet was removed, or the rules that
 * read the database once a database value was, are left out: they would report a consequence, not
 * a cause), the region and secrets.
 */
export function parseStackConfig(
  raw: Record<string, unknown>,
  stack?: string,
  options: ParseOptions = {},
): ValidatedConfig {
  const outside: Problem[] = [
    ...("region" in options ? regionProblems(options.region) : []),
    // A snapshot ARN of another Region than the stack's (src/database/restoreFrom.ts).
    ...(options.region ? restoreRegionProblems(raw, options.region) : []),
    ...(options.secretPaths ? secretProblems(raw, options.secretPaths) : []),
    ...(options.allKeys ? strayKeyProblems(options.allKeys.keys, options.allKeys.project) : []),
    ...(options.notes ?? []),
  ];
  const parsed = stackConfigSchema.safeParse(raw);
  if (!parsed.success) {
    const shape = problemsFromZod(parsed.error, raw, knownKeysAt);
    const pruned = prunedParse(raw, parsed.error.issues);
    const removedKeys = pruned?.removed.map((p) => configKey(p)) ?? [];
    const fleetRemoved = pruned?.removed.some((p) => p[0] === "fleets") ?? false;
    const databaseRemoved = pruned?.known.some((p) => p[0] === "database") ?? false;
    const remainder = pruned && resolveStackConfig(pruned.parsed, pruned.written);
    const consequences = remainder
      ? checkRules(remainder, stackBudgets(remainder), { databaseSetAside: databaseRemoved }).filter(
          (p) =>
            !removedKeys.some((k) => p.key === k || p.key.startsWith(`${k}.`) || p.key.startsWith(`${k}[`)) &&
            !(fleetRemoved && p.key === configKey(["fleets"])),
        )
      : [];
    // A secret where a plain value belongs fails its shape too: the secret is the cause to report.
    const secretKeys = new Set(outside.map((p) => p.key));
    throw new ConfigError(
      [...outside, ...shape.filter((p) => !secretKeys.has(p.key)), ...consequences],
      stack,
    );
  }
  const config = resolveStackConfig(parsed.data, raw);
  // The budgets, once: the rules read them, and so does every component (through the result).
  const budgets = stackBudgets(config);
  const problems = [...outside, ...checkRules(config, budgets)];
  if (problems.some((p) => p.severity === "error")) throw new ConfigError(problems, stack);
  return {
    [VALIDATED]: true,
    config,
    budget: budgets.primary,
    ...(budgets.replica && { replicaBudget: budgets.replica }),
    warnings: problems,
  };
}

/** An object or list arrives as JSON text; anything else (e.g. "[secret]" or "[a") stays a string. */
function decodeValue(text: string): unknown {
  if (!/^\s*[[{]/.test(text)) return text;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

/**
 * The name of the program's MastodonStack (index.ts): its children's names start with it, and its
 * database's snapshots carry it in their mastodon:stack tag.
 */
export const PROGRAM_STACK_NAME = "mastodon";

/**
 * Pulumi hands a program its config as `namespace:key` -> string, objects as JSON text (with secret
 * leaves decrypted). Top-level values are always strings; objects and lists are decoded here.
 */
export function namespaceConfig(all: Readonly<Record<string, string>>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const prefix = `${NAMESPACE}:`;
  for (const [fullKey, text] of Object.entries(all)) {
    if (!fullKey.startsWith(prefix)) continue;
    const key = fullKey.slice(prefix.length);
    out[key] = decodeValue(text);
  }
  return out;
}

/** What a caller may pass: the config before defaults (the stack file's shape). */
export type StackConfigInput = z.input<typeof stackConfigSchema>;
