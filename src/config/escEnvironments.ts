/**
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
import { parse } from "yaml";
import type { Problem } from "./index";
import { PlanError } from "./planError";

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

/** Where an environment's exported definition is read from: stacks/esc/<name>.yaml. */
export function escDefinitionFile(stacksDir: string, environment: string): string {
  return path.join(stacksDir, "esc", `${environment}.yaml`);
}

const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*){0,2}$/;

export function importNames(value: unknown, where: string): string[] {
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

export interface EscValue {
  readonly value: unknown;
  readonly environment: string;
  readonly why?: string;
}

/** An environment's pulumiConfig after its imports (later ones win, its own values last). */
export function readEnvironment(
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
