/**
 * What AWS WAF and the provider refuse in a web ACL's inputs (the fake cloud's input rules for
 * aws:wafv2/webAcl:WebAcl, ./wafRules.ts gathers them): its description, the capacity (WCU),
 * rate-based and reference-statement quotas, rate limit bounds, statement nesting and sizes, actions,
 * and metric names. Each rule cites its source; ./wafLimits.ts holds the figures.
 */
import type { InputRule } from "./types";
import {
  WAF_EVALUATION_WINDOWS,
  WAF_QUOTAS,
  WAF_RATE_LIMIT,
  type Statement,
  statementsOf,
  webAclCapacity,
} from "./wafLimits";

type Inputs = Readonly<Record<string, unknown>>;
interface Rule {
  readonly name?: unknown;
  readonly statement?: Statement;
  readonly action?: unknown;
  readonly overrideAction?: unknown;
  readonly visibilityConfig?: { readonly metricName?: unknown };
}
const rulesOf = (inputs: Inputs) => (inputs["rules"] as readonly Rule[] | undefined) ?? [];
const every = (inputs: Inputs) =>
  rulesOf(inputs).flatMap((rule) =>
    statementsOf(rule.statement ?? {}).map((s) => ({ rule: String(rule.name), ...s })),
  );

/** The visibility config's metric name as the provider validates it; AWS reserves All and Default_Action. */
function metricNameProblem(where: string, name: unknown): string[] {
  if (typeof name !== "string" || !/^[\w-]{1,128}$/.test(name))
    return [`${where} metric name ${JSON.stringify(name)} is not 1-128 of letters, digits, _ and -`];
  return ["All", "Default_Action"].includes(name)
    ? [`${where} metric name ${name} is reserved by AWS WAF`]
    : [];
}

/** A web ACL's or IP set's description as AWS WAF takes it (no quotes, parentheses or non-ASCII letters). */
export const DESCRIPTION_RULE: InputRule = {
  property: "description",
  problems: (inputs) => {
    const d = inputs["description"];
    if (d === undefined || d === null) return [];
    return typeof d === "string" &&
      d.length <= 256 &&
      /^[\w+=:#@/\-,.][\w+=:#@/\-,.\s]+[\w+=:#@/\-,.]$/.test(d)
      ? []
      : [`description ${JSON.stringify(d)} is not 3-256 of letters, digits, spaces and _ + = : # @ / - , .`];
  },
  source:
    "AWS WAF API Reference WebACL and IPSet Description: Length Constraints 1-256, Pattern ^[\\w+=:#@/\\-,\\.][\\w+=:#@/\\-,\\.\\s]+[\\w+=:#@/\\-,\\.]$",
};

const STATEMENT_SOURCE =
  'terraform-provider-aws internal/service/wafv2/schemas.go (webACLRootStatementSchemaLevel 3: and/or/not hold compound statements two levels down, leaves at the third; rate_based_statement and managed_rule_group_statement only at a rule\'s root); AWS WAF API Reference ManagedRuleGroupStatement ("You cannot nest a ManagedRuleGroupStatement") and AWS WAF Developer Guide "Using rate-based rule statements" ("Not nestable")';

export const WEB_ACL_RULES: readonly InputRule[] = [
  DESCRIPTION_RULE,
  {
    property: "scope",
    problems: (inputs) =>
      ["REGIONAL", "CLOUDFRONT"].includes(String(inputs["scope"]))
        ? []
        : [`scope is ${JSON.stringify(inputs["scope"])}: it must be REGIONAL or CLOUDFRONT`],
    source: "AWS WAF API Reference CreateWebACL Scope: Valid Values: CLOUDFRONT | REGIONAL",
  },
  {
    property: "rules",
    problems: (inputs) => {
      const capacity = webAclCapacity(rulesOf(inputs));
      if (typeof capacity !== "number")
        return [
          `the fake cloud cannot price ${capacity.unpriced} in web ACL capacity units; add it to src/aws/naming/wafLimits.ts with its source`,
        ];
      return capacity > WAF_QUOTAS.webAclCapacity
        ? [`the rules take ${capacity} WCUs, over the ${WAF_QUOTAS.webAclCapacity} a web ACL may use`]
        : [];
    },
    source:
      'AWS WAF Developer Guide, "AWS WAF quotas": "Maximum protection pack (web ACL) capacity units (WCUs) per protection pack (web ACL): 5,000"; WCUs per statement: ./wafLimits.ts',
  },
  {
    property: "rules[].statement.rateBasedStatement",
    problems: (inputs) => {
      const rates = every(inputs).filter((s) => s.kind === "rateBasedStatement");
      const problems =
        rates.length > WAF_QUOTAS.rateBasedRules
          ? [`${rates.length} rate-based rules, over the ${WAF_QUOTAS.rateBasedRules} a web ACL may hold`]
          : [];
      for (const { rule, body } of rates) {
        const limit = body["limit"];
        if (
          !Number.isInteger(limit) ||
          (limit as number) < WAF_RATE_LIMIT.min ||
          (limit as number) > WAF_RATE_LIMIT.max
        )
          problems.push(
            `rule ${rule}: limit ${JSON.stringify(limit)} is not a whole number from ${WAF_RATE_LIMIT.min} to ${WAF_RATE_LIMIT.max}`,
          );
        const window = body["evaluationWindowSec"];
        if (window !== undefined && !(WAF_EVALUATION_WINDOWS as readonly unknown[]).includes(window))
          problems.push(
            `rule ${rule}: evaluationWindowSec ${JSON.stringify(window)} is not one of ${WAF_EVALUATION_WINDOWS.join(", ")}`,
          );
      }
      return problems;
    },
    source:
      'AWS WAF Developer Guide, "AWS WAF quotas" ("Maximum number of rate-based rules per protection pack (web ACL): 10") and "Rate-based rule high-level settings" (limit at least 10; evaluation window 60, 120, 300 or 600); terraform-provider-aws schemas.go limit IntBetween(10, 2000000000), evaluation_window_sec IntInSlice(60, 120, 300, 600)',
  },
  {
    property: "rules[].statement",
    problems: (inputs) =>
      every(inputs).flatMap(({ rule, kind, depth, body }) => {
        const compound = ["andStatement", "orStatement", "notStatement"].includes(kind);
        if (depth > 0 && (kind === "rateBasedStatement" || kind === "managedRuleGroupStatement"))
          return [
            `rule ${rule}: a ${kind} is nested ${depth} level(s) down; it may only be a rule's own statement`,
          ];
        if (depth > 3 || (depth === 3 && compound))
          return [`rule ${rule}: a ${kind} ${depth} levels down is deeper than the provider's schema holds`];
        const transformations = body["textTransformations"] as readonly unknown[] | undefined;
        if (
          ["byteMatchStatement", "regexMatchStatement"].includes(kind) &&
          (transformations?.length ?? 0) < 1
        )
          return [`rule ${rule}: a ${kind} needs at least one text transformation (NONE for none)`];
        if ((transformations?.length ?? 0) > WAF_QUOTAS.textTransformations)
          return [
            `rule ${rule}: ${transformations?.length} text transformations, over AWS's ${WAF_QUOTAS.textTransformations}`,
          ];
        if (kind === "byteMatchStatement") {
          const search = body["searchString"];
          if (typeof search !== "string" || search.length < 1 || search.length > WAF_QUOTAS.searchString)
            return [
              `rule ${rule}: searchString ${JSON.stringify(search)} is not 1-${WAF_QUOTAS.searchString} characters`,
            ];
        }
        if (kind === "regexMatchStatement") {
          const regex = body["regexString"];
          const compiles =
            typeof regex === "string" &&
            (() => {
              try {
                new RegExp(regex);
                return true;
              } catch {
                return false;
              }
            })();
          if (!compiles || (regex as string).length > 512)
            return [
              `rule ${rule}: regexString ${JSON.stringify(regex)} is not a valid regular expression of 1-512 characters`,
            ];
        }
        return [];
      }),
    source: `${STATEMENT_SOURCE}; schemas.go byte_match_statement search_string StringLenBetween(1, 200) (AWS WAF quotas: "Maximum number of characters in a string match statement: 200"), regex_match_statement regex_string StringLenBetween(1, 512) and StringIsValidRegExp, text_transformation Required MinItems 1; AWS WAF quotas "Maximum number of text transformations per rule statement: 10"`,
  },
  {
    property: "rules[].statement (reference statements)",
    problems: (inputs) => {
      const references = every(inputs).filter((s) =>
        [
          "ipSetReferenceStatement",
          "regexPatternSetReferenceStatement",
          "ruleGroupReferenceStatement",
          "managedRuleGroupStatement",
        ].includes(s.kind),
      ).length;
      return references > WAF_QUOTAS.referenceStatements
        ? [
            `${references} reference statements, over the ${WAF_QUOTAS.referenceStatements} a web ACL may hold`,
          ]
        : [];
    },
    source:
      'AWS WAF Developer Guide, "AWS WAF quotas": "Maximum number of reference statements per protection pack (web ACL). In a protection pack (web ACL), a reference statement can reference a rule group, an IP set, or a regex pattern set: 50"',
  },
  {
    property: "rules[].action",
    problems: (inputs) =>
      rulesOf(inputs).flatMap((rule) => {
        const group = rule.statement?.["managedRuleGroupStatement"] !== undefined;
        const has = (v: unknown) => v !== undefined && v !== null;
        if (group && (!has(rule.overrideAction) || has(rule.action)))
          return [`rule ${String(rule.name)} references a rule group: it takes overrideAction, not action`];
        if (!group && (has(rule.overrideAction) || !has(rule.action)))
          return [
            `rule ${String(rule.name)} takes an action, not an overrideAction (it references no rule group)`,
          ];
        return [];
      }),
    source:
      'AWS WAF API Reference Rule: Action "is used only for rules whose statements do not reference a rule group"; OverrideAction "is only valid in a rule that references a rule group ... You must specify either this OverrideAction setting or the rule Action setting, but not both"',
  },
  {
    property: "visibilityConfig.metricName",
    problems: (inputs) => [
      ...metricNameProblem(
        "the web ACL's",
        (inputs["visibilityConfig"] as Rule["visibilityConfig"])?.metricName,
      ),
      ...rulesOf(inputs).flatMap((rule) =>
        metricNameProblem(`rule ${String(rule.name)}'s`, rule.visibilityConfig?.metricName),
      ),
    ],
    source:
      'terraform-provider-aws schemas.go visibility_config metric_name StringLenBetween(1, 128), ^[0-9A-Za-z_-]+$; AWS WAF API Reference VisibilityConfig MetricName: "It can\'t contain whitespace or metric names that are reserved for AWS WAF, for example All and Default_Action"',
  },
];
