/**
 * The names AWS accepts, per resource type, and how the Pulumi AWS provider makes one up when the
 * program gives none (autonaming). Pure: the components read it to choose names that fit at any
 * length of component, stack and fleet name; the fake cloud (src/testing/fakeCloud.ts) reads it to answer
 * and refuse exactly as the provider and AWS would. One table, one mechanism.
 *
 * Autonaming (pulumi-aws provider/resources.go and resource_overrides.go, through
 * pulumi-terraform-bridge's AutoName and resource.NewUniqueHex): `<logical name>-<7 random hex>`,
 * lower-cased for some types, refused by the bridge when longer than its own ceiling for the type
 * ("name '<n>-' plus 7 random chars is longer than maximum length <max>"); types not configured
 * otherwise get `name` with ceiling 255. Where the bridge's ceiling is looser than AWS's (ALB names,
 * RDS identifiers), the Terraform provider's validation or AWS refuses the name instead: the
 * `maxLength` here is always AWS's.
 */
import { createHash } from "crypto";
import { DATA_TIER_RULES, PROPERTY_NAMING_RULES } from "./dataTierRules";
import { EDGE_NAMING_RULES } from "./edgeRules";
import { OTHER_RULES } from "./otherRules";
import { WAF_NAMING_RULES } from "./wafRules";
import type { AutonameOptions, NamingRule } from "./types";

export type { AutonameOptions, InputRule, NameScope, NamingRule } from "./types";
export { PROPERTY_NAMING_RULES } from "./dataTierRules";
export { CLOUDFRONT_HOSTED_ZONE_ID, INPUT_RULES, inputProblems } from "./inputRules";

/** The random part of an autoname (resource.NewUniqueHex in the bridge). */
export const AUTONAME_RANDOM_HEX = 7;

/**
 * Every named type the package declares. A type missing here is refused by the fake cloud, so a new
 * resource cannot enter the plan without its naming rule.
 */
export const NAMING_RULES: Readonly<Record<string, NamingRule | null>> = {
  ...DATA_TIER_RULES,
  ...OTHER_RULES,
  ...WAF_NAMING_RULES,
  ...EDGE_NAMING_RULES,
};

/** The naming rule of a type: a rule, null (AWS assigns an id), or undefined (not in the table). */
export function namingRule(type: string): NamingRule | null | undefined {
  return NAMING_RULES[type];
}

/** Every way `name` breaks `rule`, as phrases ("is 34 characters, over the maximum 32"). */
export function nameProblems(rule: NamingRule, name: string): string[] {
  const problems: string[] = [];
  if (name.length > rule.maxLength)
    problems.push(`is ${name.length} characters, over the maximum ${rule.maxLength}`);
  if (name.length < (rule.minLength ?? 1))
    problems.push(`is ${name.length} characters, under the minimum ${rule.minLength ?? 1}`);
  if (!rule.pattern.test(name)) problems.push(`has characters outside ${rule.charset}`);
  if (rule.startsWithLetter && !/^[A-Za-z]/.test(name)) problems.push("must begin with a letter");
  if (rule.hyphenRules && /--/.test(name)) problems.push("has two consecutive hyphens");
  if ((rule.hyphenRules || rule.noEdgeHyphen) && /-$/.test(name)) problems.push("ends with a hyphen");
  if (rule.noEdgeHyphen && /^-/.test(name)) problems.push("begins with a hyphen");
  if (rule.requiredPrefix && !name.startsWith(rule.requiredPrefix))
    problems.push(`must begin with "${rule.requiredPrefix}"`);
  const prefix = rule.forbiddenPrefixes?.find((p) => name.toLowerCase().startsWith(p));
  if (prefix) problems.push(`begins with the reserved prefix "${prefix}"`);
  return problems;
}

/** Lower-case hex digest of `text`, `length` characters long. */
export function shortHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * The provider's autoname for a logical name, with the random part drawn from `seed` (the fake
 * cloud's stand-in for randomness: the same resource gets the same name in every run).
 */
export function autoname(options: AutonameOptions, logicalName: string, seed: string): string {
  const name = `${logicalName}${options.separator ?? "-"}${shortHash(seed, AUTONAME_RANDOM_HEX)}`;
  return options.lowercase ? name.toLowerCase() : name;
}

/** The bridge's own refusal, word for word, when a logical name leaves no room for the random part. */
export function autonameTooLong(options: AutonameOptions, logicalName: string): string | undefined {
  const prefix = `${logicalName}${options.separator ?? "-"}`;
  return prefix.length + AUTONAME_RANDOM_HEX > options.maxLength
    ? `name '${prefix}' plus ${AUTONAME_RANDOM_HEX} random chars is longer than maximum length ${options.maxLength}`
    : undefined;
}

function ruleOf(type: string, property?: string): NamingRule {
  const rule =
    property === undefined || NAMING_RULES[type]?.property === property
      ? NAMING_RULES[type]
      : PROPERTY_NAMING_RULES[type]?.find((r) => r.property === property);
  if (!rule) throw new Error(`no naming rule for ${type} ${property ?? ""} (src/aws/naming/)`);
  return rule;
}

/**
 * A logical name `<base>-<suffix>` whose autoname fits `type`'s maximum. When it would not, the
 * base is cut and a hash of the whole base keeps it unique: `<cut base>-<5 hex>-<suffix>`. Children
 * keep their logical names as long as they fit, and any component, stack or fleet name still works.
 */
export function fitLogicalName(type: string, base: string, suffix: string): string {
  const rule = ruleOf(type);
  if (!rule.autoname) throw new Error(`${type} is not autonamed`);
  const full = `${base}-${suffix}`;
  const extra = (rule.autoname.separator ?? "-").length + AUTONAME_RANDOM_HEX;
  const room = Math.min(rule.autoname.maxLength, rule.maxLength) - extra;
  if (full.length <= room) return full;
  const hash = shortHash(base, 5);
  const keep = room - suffix.length - hash.length - 2;
  if (keep < 1) throw new Error(`${type}: suffix "${suffix}" leaves no room within ${rule.maxLength}`);
  const cut = base.slice(0, keep).replace(/-+$/, "");
  return `${cut}-${hash}-${suffix}`;
}

/** fitLogicalName for a logical name taken whole: cut with a hash of it when its autoname would not fit. */
export function fitName(type: string, logicalName: string): string {
  const cut = logicalName.lastIndexOf("-");
  return cut > 0 ? fitLogicalName(type, logicalName.slice(0, cut), logicalName.slice(cut + 1)) : logicalName;
}

/**
 * An explicit physical name built from parts (component name, stack name, ...) that satisfies
 * `type`'s rule: characters outside it become hyphens, case follows the rule, and when the result
 * had to change or is too long, a hash of the original parts keeps it unique.
 */
export function physicalName(type: string, parts: readonly string[], property?: string): string {
  const rule = ruleOf(type, property);
  const original = parts.join("-");
  // A lower-case-only character set: fold the parts' case rather than refuse it.
  let name = rule.pattern.test("a") !== rule.pattern.test("A") ? original.toLowerCase() : original;
  name = name.replace(/[^A-Za-z0-9-]/g, "-");
  if (rule.hyphenRules || rule.noEdgeHyphen) name = name.replace(/-{2,}/g, "-").replace(/^-+|-+$/g, "");
  if (rule.startsWithLetter && !/^[A-Za-z]/.test(name)) name = `n${name}`;
  if (name === original && nameProblems(rule, name).length === 0) return name;
  const hash = shortHash(original, 7);
  const cut = name.slice(0, rule.maxLength - hash.length - 1).replace(/-+$/, "");
  return `${cut}-${hash}`;
}
