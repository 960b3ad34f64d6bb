/**
 * AWS WAF's limits on a web ACL and its rules, and what each statement costs in web ACL capacity
 * units (WCUs), as AWS documents them (pure). The WAF config (src/waf/schema.ts) refuses values
 * outside these bounds by key; the fake cloud (./wafRules.ts) refuses a web ACL or IP set that
 * breaks them, whatever declared it.
 */

/**
 * A rate-based rule's request limit per evaluation window (AWS WAF Developer Guide, "Rate-based rule
 * high-level settings": "The lowest limit setting allowed is 10", lowered from 100 in 2024; AWS WAF
 * quotas, "Minimum request rate that can be defined for a rate-based rule: 10"; terraform-provider-aws
 * internal/service/wafv2/schemas.go rate_based_statement limit IntBetween(10, 2000000000)).
 */
export const WAF_RATE_LIMIT = { min: 10, max: 2_000_000_000 } as const;

/**
 * A rate-based rule's evaluation window, seconds (AWS WAF Developer Guide, "Rate-based rule high-level
 * settings": "Valid settings are 60 (1 minute), 120 (2 minutes), 300 (5 minutes), and 600 (10
 * minutes), and 300 (5 minutes) is the default").
 */
export const WAF_EVALUATION_WINDOWS = [60, 120, 300, 600] as const;

/** The fixed quotas of AWS WAF Developer Guide, "AWS WAF quotas" (per account and Region; "can't be changed"). */
export const WAF_QUOTAS = {
  /** "Maximum protection pack (web ACL) capacity units (WCUs) per protection pack (web ACL): 5,000". */
  webAclCapacity: 5_000,
  /** "Using more than 1,500 WCUs in a protection pack (web ACL) incurs costs beyond the basic ... price". */
  includedCapacity: 1_500,
  /** "Maximum number of rate-based rules per protection pack (web ACL): 10". */
  rateBasedRules: 10,
  /** "Maximum number of reference statements per protection pack (web ACL)" (rule groups, IP sets): 50. */
  referenceStatements: 50,
  /** "Maximum number of IP addresses in CIDR notation per IP set: 10,000". */
  ipSetAddresses: 10_000,
  /** "Maximum number of characters in a string match statement: 200". */
  searchString: 200,
  /** "Maximum number of text transformations per rule statement: 10". */
  textTransformations: 10,
} as const;

/**
 * The WCUs of the AWS managed rule groups the package knows, as AWS WAF Developer Guide lists them
 * ("Baseline rule groups": AWSManagedRulesCommonRuleSet WCU 700, AWSManagedRulesKnownBadInputsRuleSet
 * WCU 200; "IP reputation rule groups": AWSManagedRulesAmazonIpReputationList WCU 25). A group not
 * listed cannot be priced, so the fake cloud refuses it rather than guess.
 */
export const MANAGED_RULE_GROUP_CAPACITY: Readonly<Record<string, number>> = {
  "AWS/AWSManagedRulesCommonRuleSet": 700,
  "AWS/AWSManagedRulesKnownBadInputsRuleSet": 200,
  "AWS/AWSManagedRulesAmazonIpReputationList": 25,
};

/** A statement as the provider receives it (camelCase, one key set). */
export type Statement = Readonly<Record<string, unknown>>;

interface Matched {
  readonly fieldToMatch?: Readonly<Record<string, unknown>>;
  readonly textTransformations?: readonly { readonly type?: unknown }[];
}

/**
 * A match statement's modifiers (AWS WAF Developer Guide, "Using match rule statements"): the request
 * component All query parameters adds 10, JSON body doubles the base, each text transformation adds
 * 10. NONE is the absence of a transformation, so it adds nothing.
 */
function withModifiers(base: number, s: Matched): number {
  const field = s.fieldToMatch ?? {};
  const cost = (field["jsonBody"] ? base * 2 : base) + (field["allQueryArguments"] ? 10 : 0);
  const transformations = (s.textTransformations ?? []).filter((t) => t.type !== "NONE").length;
  return cost + 10 * transformations;
}

/**
 * A statement's WCUs, or the kind of statement this table cannot price. Sources: AWS WAF Developer
 * Guide, "String match rule statement" (exactly, starts with, ends with: 2; contains, contains word:
 * 10), "Using match rule statements" (regex 3, IP set 1, geo 1, label 1, size constraint 1),
 * "Using logical rule statements" (AND, OR, NOT: based on the nested statements), "Using rate-based
 * rule statements" (2, plus 30 per custom aggregation key, plus the scope-down statement), and a
 * managed rule group's listed WCU plus its scope-down statement ("Using scope-down statements").
 */
export function statementCapacity(statement: Statement): number | { unpriced: string } {
  const [kind, body] = Object.entries(statement).find(([, v]) => v !== undefined && v !== null) ?? [];
  const s = (body ?? {}) as Readonly<Record<string, unknown>>;
  const nested = (list: unknown): number | { unpriced: string } => {
    let total = 0;
    for (const child of (list as Statement[] | undefined) ?? []) {
      const c = statementCapacity(child);
      if (typeof c !== "number") return c;
      total += c;
    }
    return total;
  };
  const scopeDown = () => (s["scopeDownStatement"] ? nested([s["scopeDownStatement"]]) : 0);
  const plus = (a: number, b: number | { unpriced: string }) => (typeof b === "number" ? a + b : b);
  switch (kind) {
    case "byteMatchStatement": {
      const contains = ["CONTAINS", "CONTAINS_WORD"].includes(String(s["positionalConstraint"]));
      return withModifiers(contains ? 10 : 2, s as Matched);
    }
    case "regexMatchStatement":
      return withModifiers(3, s as Matched);
    case "sizeConstraintStatement":
      return withModifiers(1, s as Matched);
    case "ipSetReferenceStatement":
    case "geoMatchStatement":
    case "labelMatchStatement":
      return 1;
    case "andStatement":
    case "orStatement":
      return nested(s["statements"]);
    case "notStatement":
      return nested([s["statement"]]);
    case "rateBasedStatement":
      return plus(2 + 30 * ((s["customKeys"] as unknown[] | undefined)?.length ?? 0), scopeDown());
    case "managedRuleGroupStatement": {
      const group = MANAGED_RULE_GROUP_CAPACITY[`${String(s["vendorName"])}/${String(s["name"])}`];
      if (group === undefined)
        return { unpriced: `managed rule group ${String(s["vendorName"])}/${String(s["name"])}` };
      return plus(group, scopeDown());
    }
    default:
      return { unpriced: String(kind) };
  }
}

/** A web ACL's rules' WCUs in total, or what could not be priced. */
export function webAclCapacity(
  rules: readonly { readonly statement?: Statement }[],
): number | { unpriced: string } {
  let total = 0;
  for (const rule of rules) {
    const c = statementCapacity(rule.statement ?? {});
    if (typeof c !== "number") return c;
    total += c;
  }
  return total;
}

/** Every statement of a rule, nested ones included, each with its depth under the rule (0 = the rule's own). */
export function statementsOf(
  statement: Statement,
  depth = 0,
): { kind: string; body: Statement; depth: number }[] {
  const [kind, body] = Object.entries(statement).find(([, v]) => v !== undefined && v !== null) ?? [];
  if (!kind) return [];
  const s = (body ?? {}) as Statement;
  const children = [
    ...((s["statements"] as Statement[] | undefined) ?? []),
    ...(s["statement"] ? [s["statement"] as Statement] : []),
    ...(s["scopeDownStatement"] ? [s["scopeDownStatement"] as Statement] : []),
  ];
  return [{ kind, body: s, depth }, ...children.flatMap((c) => statementsOf(c, depth + 1))];
}
