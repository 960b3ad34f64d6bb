/**
 * The leaves of MastodonStack's args that may be Outputs (Pulumi docs, "Inputs and Outputs"): values
 * another resource or a secret holds, which the stack only passes on to AWS (a Route 53 zone ID, ACM
 * certificate ARNs, a Secrets Manager ARN) or stores as a SecureString (the SMTP password, the
 * translation key, an existing instance's secrets). Everything else sizes or names the deployment: the connection budget, the
 * memory fit, the rules across keys and the resources' names are computed before any resource is
 * declared, so those values are needed plain (an Output's value arrives only during the deployment).
 *
 * The stack validates its args with a stand-in at each leaf given as an Output (one the leaf's own
 * check accepts), puts the Output back in the resolved config, and checks its value with that same
 * check once it resolves.
 */
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import {
  type ParseOptions,
  type PathSegment,
  type Problem,
  type ValidatedConfig,
  configKey,
  parseStackConfig,
  stackConfigSchema,
} from "../config";
import { unwrapKey } from "../config/schema/keyDoc";
import { EXISTING_SECRET_LEAVES, OUTPUT_STAND_IN, VAPID_PRIVATE_KEY_STAND_IN } from "../migration/paths";

/** A leaf that may be an Output, and the stand-in validation reads in its place. */
export interface InputLeaf {
  readonly path: readonly string[];
  /** A value the leaf's own check accepts; it never reaches a resource. */
  readonly standIn: string;
}

const ACM_STAND_IN = "arn:aws:acm:us-east-1:000000000000:certificate/00000000-0000-0000-0000-000000000000";

export const INPUT_LEAVES: readonly InputLeaf[] = [
  { path: ["dns", "zoneId"], standIn: "Z0STANDIN" },
  { path: ["loadBalancer", "certificateArn"], standIn: ACM_STAND_IN },
  { path: ["media", "certificateArn"], standIn: ACM_STAND_IN },
  { path: ["mail", "smtp", "password"], standIn: "stand-in" },
  { path: ["translation", "apiKey"], standIn: "stand-in" },
  {
    path: ["image", "pullThroughCache", "credentialArn"],
    standIn: "arn:aws:secretsmanager:us-east-1:000000000000:secret:ecr-pullthroughcache/stand-in",
  },
  // An existing instance's secrets; MastodonSecrets checks the Output's value once it resolves.
  ...EXISTING_SECRET_LEAVES.map(({ path, envName }) => ({
    path,
    standIn: envName === "VAPID_PRIVATE_KEY" ? VAPID_PRIVATE_KEY_STAND_IN : OUTPUT_STAND_IN,
  })),
];

/** An Output, or a Promise (pulumi.Input allows both). */
function isEventual(value: unknown): boolean {
  return (
    pulumi.Output.isInstance(value) ||
    (typeof value === "object" && value !== null && typeof (value as Promise<unknown>).then === "function")
  );
}

const sameAs = (a: readonly PathSegment[], b: readonly PathSegment[]) =>
  a.length === b.length && a.every((s, i) => s === b[i]);
const leafAt = (path: readonly PathSegment[]) => INPUT_LEAVES.find((l) => sameAs(l.path, path));
const LEAF_KEYS = INPUT_LEAVES.map((l) => configKey(l.path)).join(", ");

/** An eventual value found in the args: a leaf that may be one, or a value that must be plain. */
interface Found {
  readonly path: PathSegment[];
  readonly value: unknown;
}

/**
 * The args with every eventual value replaced (its leaf's stand-in, or nothing where a plain value
 * is needed), what was replaced, and a problem for each value that must be plain. The args as given
 * when nothing in them is eventual.
 */
export function splitInputs(args: Record<string, unknown>): {
  plain: Record<string, unknown>;
  deferred: Found[];
  problems: Problem[];
} {
  const deferred: Found[] = [];
  const problems: Problem[] = [];
  const copy = (value: unknown, path: PathSegment[]): unknown => {
    if (isEventual(value)) {
      const leaf = leafAt(path);
      if (leaf) {
        deferred.push({ path, value });
        return leaf.standIn;
      }
      const inside = INPUT_LEAVES.filter((l) => sameAs(l.path.slice(0, path.length), path));
      problems.push({
        severity: "error",
        key: configKey(path),
        message: `is an Output (its value arrives only during the deployment), but the stack needs it when it validates, sizes and names the deployment, before any resource exists: pass a plain value${
          inside.length
            ? `, an object whose ${inside.map((l) => l.path.slice(path.length).join(".")).join(" and ")} may be an Output`
            : ""
        }. Only ${LEAF_KEYS} may be Outputs`,
      });
      return undefined;
    }
    if (Array.isArray(value)) return value.map((v, i) => copy(v, [...path, i]));
    if (typeof value === "object" && value !== null)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, copy(v, [...path, k])]));
    return value;
  };
  const plain = copy(args, []) as Record<string, unknown>;
  return deferred.length || problems.length
    ? { plain, deferred, problems }
    : { plain: args, deferred, problems };
}

type AnySchema = z.core.$ZodType;

/** The stack config schema's check for the value at `path` (optional and default wrappers removed). */
function fieldSchema(path: readonly string[]): AnySchema {
  let schema: AnySchema = stackConfigSchema;
  for (const segment of path) {
    const def = unwrapKey(schema).inner._zod.def as unknown as { shape?: Record<string, AnySchema> };
    const next = def.shape?.[segment];
    if (!next) throw new Error(`no config key ${configKey(path)}`);
    schema = next;
  }
  return schema;
}

/**
 * The value of an Output given for `path`, once checked as the config checks it: the deployment
 * fails with the key and what is wrong (never the value) when the leaf's check refuses it.
 */
export function checkedInput(path: readonly string[], value: pulumi.Input<string>): pulumi.Output<string> {
  const schema = fieldSchema(path);
  return pulumi.output(value).apply((resolved) => {
    const result = (schema as z.ZodType).safeParse(resolved);
    if (!result.success)
      throw new pulumi.RunError(`${configKey(path)} ${result.error.issues.map((i) => i.message).join("; ")}`);
    return resolved;
  });
}

/**
 * Validates MastodonStack's args as parseStackConfig does, with each leaf given as an Output read as
 * its stand-in, and puts the checked Outputs back in the resolved config the tiers read. An
 * eventual value anywhere else is a problem reported with the rest.
 */
export function validateStackArgs(
  args: Record<string, unknown>,
  stack: string,
  options: ParseOptions,
): ValidatedConfig {
  const { plain, deferred, problems } = splitInputs(args);
  const validated = parseStackConfig(
    plain,
    stack,
    problems.length ? { ...options, notes: [...(options.notes ?? []), ...problems] } : options,
  );
  for (const { path, value } of deferred) {
    const parent = path
      .slice(0, -1)
      .reduce<unknown>((node, s) => (node as Record<string, unknown>)[s], validated.config);
    (parent as Record<string, unknown>)[path[path.length - 1] as string] = checkedInput(
      path as string[],
      value as pulumi.Input<string>,
    );
  }
  return validated;
}
