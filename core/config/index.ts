/**
 * One validation pass over the stack config (aws-cdk style): shape and per-field checks (zod),
 * then the cross-field rules, every problem reported at once by its config key.
 */
import type { z } from "zod";
import { type Budget, stackBudgets } from "../budget";
import { ConfigError, NAMESPACE, type PathSegment, type Problem, problemsFromZod } from "./problems";
import { type StackConfig, resolveStackConfig } from "./resolve";
import { checkRules } from "./rules";
import { stackConfigSchema } from "./schema";

export * from "./problems";
export * from "./resolve";
export { stackConfigSchema } from "./schema";

export interface ValidatedConfig {
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
  const unwrap = (s: AnySchema): AnySchema => {
    const def = s._zod.def as unknown as { type: string; innerType?: AnySchema; in?: AnySchema };
    if (def.innerType) return unwrap(def.innerType);
    if (def.type === "pipe" && def.in) return unwrap(def.in);
    return s;
  };
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
  const def = unwrap(schema)._zod.def as unknown as { type: string; shape?: Record<string, AnySchema> };
  return def.type === "object" && def.shape ? Object.keys(def.shape) : [];
}

/**
 * Parses the `mastodon:` namespace (keys without the prefix, values already decoded from JSON)
 * into the resolved config and its budget. Throws ConfigError listing every problem.
 */
export function parseStackConfig(raw: Record<string, unknown>, stack?: string): ValidatedConfig {
  const parsed = stackConfigSchema.safeParse(raw);
  if (!parsed.success) throw new ConfigError(problemsFromZod(parsed.error, raw, knownKeysAt), stack);
  const config = resolveStackConfig(parsed.data);
  const problems = checkRules(config);
  if (problems.some((p) => p.severity === "error")) throw new ConfigError(problems, stack);
  const budgets = stackBudgets(config);
  return {
    config,
    budget: budgets.primary,
    ...(budgets.replica && { replicaBudget: budgets.replica }),
    warnings: problems,
  };
}

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
    out[key] = /^\s*[[{]/.test(text) ? JSON.parse(text) : text;
  }
  return out;
}

/** What a caller may pass: the config before defaults (the stack file's shape). */
export type StackConfigInput = z.input<typeof stackConfigSchema>;
