/**
 * Config problems: each names its config key (as `pulumi config set --path` spells it), shows the
 * value, says what is wrong and how to fix it. Errors stop the program before any resource is
 * declared; warnings are printed and let it go on.
 */
import type { z } from "zod";
import { EXISTING_SECRETS, EXISTING_SECRET_LEAVES } from "../migration/paths";

export const NAMESPACE = "mastodon";

export interface Problem {
  readonly severity: "error" | "warning";
  /** The full config key, e.g. `mastodon:fleets.sidekiq-default.sidekiq.threads`. */
  readonly key: string;
  /** The offending value as configured; undefined when the key is missing. */
  readonly value?: unknown;
  /** What is wrong and how to fix it; reads on from the value. */
  readonly message: string;
}

export type PathSegment = string | number;

/**
 * Config paths that may hold secrets (`pulumi config set --secret`, or `secure:` in a stack file).
 * Everything else becomes names, tags, user-data or outputs, where a secret does not belong. A
 * problem never shows their values.
 */
export const SECRET_CONFIG_PATHS: readonly (readonly string[])[] = [
  ["mail", "smtp", "password"],
  ["mail", "smtp", "login"],
  ["translation", "apiKey"],
  // An existing instance's secrets (src/migration/paths.ts).
  ...EXISTING_SECRET_LEAVES.map((l) => l.path),
];
const HIDDEN = "[hidden]";
// Under mastodon:existingSecrets every value is hidden: a secret may sit at a misspelt key there.
const isSecretPath = (path: readonly PathSegment[]) =>
  path[0] === EXISTING_SECRETS ||
  SECRET_CONFIG_PATHS.some((p) => p.length === path.length && p.every((s, i) => s === path[i]));

/** `["fleets", "web", "sidekiq", "queues", 1]` -> `mastodon:fleets.web.sidekiq.queues[1]`. */
export function configKey(path: readonly PathSegment[]): string {
  let key = "";
  for (const segment of path) {
    if (typeof segment === "number") key += `[${segment}]`;
    else if (/^[A-Za-z0-9_-]+$/.test(segment)) key += key ? `.${segment}` : segment;
    else key += `["${segment}"]`;
  }
  return `${NAMESPACE}:${key}`;
}

export function valueAt(root: unknown, path: readonly PathSegment[]): unknown {
  let node = root;
  for (const segment of path) {
    if (node === null || typeof node !== "object") return undefined;
    node = (node as Record<string | number, unknown>)[segment];
  }
  return node;
}

function formatValue(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value === undefined) return "";
  const json = JSON.stringify(value);
  return json.length > 60 ? `${json.slice(0, 57)}...` : json;
}

export function formatProblem(problem: Problem): string {
  const value = formatValue(problem.value);
  return `${problem.key}: ${value ? `${value} ` : ""}${problem.message}`;
}

/**
 * Each problem once: rules that read each fleet can find one stack-wide key wrong through several
 * fleets in the same words (the budget's shared PgBouncer pool), and the operator changes it once.
 */
export function distinctProblems(problems: readonly Problem[]): Problem[] {
  const seen = new Set<string>();
  return problems.filter((p) => {
    const line = `${p.severity} ${formatProblem(p)}`;
    if (seen.has(line)) return false;
    seen.add(line);
    return true;
  });
}

/** The error text shown to the operator: every error, then every warning, one per line. */
export function formatProblems(problems: readonly Problem[], stack?: string): string {
  const errors = problems.filter((p) => p.severity === "error");
  const warnings = problems.filter((p) => p.severity === "warning");
  const where = stack ? ` of stack "${stack}"` : "";
  const lines = [
    `invalid config${where}: ${errors.length} ${errors.length === 1 ? "problem" : "problems"}`,
    ...errors.map((p) => `  ${formatProblem(p)}`),
  ];
  if (warnings.length)
    lines.push(`and ${warnings.length} warning(s):`, ...warnings.map((p) => `  ${formatProblem(p)}`));
  return lines.join("\n");
}

/** Thrown by parseStackConfig: carries every problem found in one pass. */
export class ConfigError extends Error {
  /** Every problem, each once. */
  readonly problems: readonly Problem[];

  constructor(
    problems: readonly Problem[],
    readonly stackName?: string,
  ) {
    const distinct = distinctProblems(problems);
    super(formatProblems(distinct, stackName));
    this.problems = distinct;
    this.name = "ConfigError";
  }
}

// ---------------------------------------------------------------------------------------------
// zod issues -> problems

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0] ?? 0;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j] ?? 0;
      dp[j] = Math.min((dp[j] ?? 0) + 1, (dp[j - 1] ?? 0) + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length] ?? 0;
}

/** The closest known key, for "did you mean". */
export function suggest(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = c.toLowerCase() === word.toLowerCase() ? 0 : levenshtein(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) [best, bestDistance] = [c, d];
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return `a ${typeof value}`;
}

/** Keys a zod object schema at `path` accepts, for suggestions on unknown keys. */
export type KnownKeys = (path: readonly PathSegment[]) => readonly string[];

export function problemsFromZod(error: z.ZodError, raw: unknown, knownKeys: KnownKeys): Problem[] {
  const problems: Problem[] = [];
  const visit = (issue: z.core.$ZodIssue, base: readonly PathSegment[]) => {
    const path = [...base, ...(issue.path as PathSegment[])];
    // A secret is hidden, but what it is (missing, a number) is told from the value itself.
    const actual = valueAt(raw, path);
    const value = isSecretPath(path) && actual !== undefined ? HIDDEN : actual;
    const error = (message: string, at: readonly PathSegment[] = path, v: unknown = value) =>
      problems.push({ severity: "error", key: configKey(at), value: v, message });
    // Messages written in the schema (lower-case, reading on from the value) win over generic ones.
    if (
      !/^(Invalid|Too (small|big)|Unrecognized)/.test(issue.message) &&
      issue.code !== "unrecognized_keys"
    ) {
      error(issue.message);
      return;
    }
    switch (issue.code) {
      case "unrecognized_keys":
        for (const key of issue.keys) {
          const hint = suggest(key, knownKeys(path));
          error(
            `is not a known key${hint ? `; did you mean ${hint}?` : `; known keys here: ${knownKeys(path).join(", ")}`}`,
            [...path, key],
            valueAt(raw, [...path, key]),
          );
        }
        return;
      case "invalid_type":
        if (value === undefined) error(`is required (${issue.expected})`);
        else
          error(
            `is ${describeType(actual)}; expected ${issue.expected === "int" ? "a whole number" : issue.expected}`,
          );
        return;
      case "invalid_value":
        error(`is not allowed; use one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}`);
        return;
      case "too_small":
        if (issue.origin === "array") error(`must list at least ${String(issue.minimum)} item(s)`);
        else error(`is below the minimum ${String(issue.minimum)}`);
        return;
      case "too_big":
        error(
          issue.message.startsWith("Too big")
            ? `is above the maximum ${String(issue.maximum)}`
            : issue.message,
        );
        return;
      case "invalid_key":
        error(issue.issues.map((i) => i.message).join("; "), path, path[path.length - 1]);
        return;
      case "invalid_union":
        error(issue.message);
        return;
      default:
        error(issue.message);
    }
  };
  for (const issue of error.issues) visit(issue, []);
  return problems;
}
