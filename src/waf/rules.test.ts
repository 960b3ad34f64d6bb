/**
 * The web ACL's rules (src/waf/rules.ts) read as AWS WAF reads them: each rate rule's scope-down
 * statement evaluated against requests Mastodon serves (a small evaluator of the statements the
 * rules use), the streaming API outside every scope, the managed groups' overrides, and the rules'
 * capacity within the 1,500 WCUs the web ACL's price includes.
 */
import { WAF_QUOTAS, webAclCapacity } from "../aws/naming/wafLimits";
import { parseWaf } from "./config";
import {
  COMMON_RULE_SET_COUNTED,
  KNOWN_BAD_INPUTS_COUNTED,
  type WafRule,
  type WafStatement,
  billedRules,
  rateScopes,
  wafRules,
} from "./rules";

interface Request {
  readonly method: string;
  /** The URI path, as AWS WAF's UriPath holds it: no query string. */
  readonly path: string;
}

/** Whether `statement` matches `request`, for the statement kinds the rules use (a kind it lacks throws). */
function matches(statement: WafStatement, request: Request): boolean {
  const [kind, body] = Object.entries(statement)[0] as [string, Record<string, any>];
  const field = (b: Record<string, any>) => ("method" in b.fieldToMatch ? request.method : request.path);
  switch (kind) {
    case "byteMatchStatement": {
      const value = field(body);
      const search: string = body.searchString;
      const how: Record<string, boolean> = {
        EXACTLY: value === search,
        STARTS_WITH: value.startsWith(search),
        ENDS_WITH: value.endsWith(search),
        CONTAINS: value.includes(search),
      };
      if (!(body.positionalConstraint in how)) throw new Error(`no ${body.positionalConstraint}`);
      return how[body.positionalConstraint] as boolean;
    }
    case "regexMatchStatement":
      return new RegExp(body.regexString).test(field(body));
    case "andStatement":
      return (body.statements as WafStatement[]).every((s) => matches(s, request));
    case "orStatement":
      return (body.statements as WafStatement[]).some((s) => matches(s, request));
    case "notStatement":
      return !matches(body.statement, request);
    default:
      throw new Error(`the evaluator has no ${kind}`);
  }
}

const waf = parseWaf({ blockList: ["203.0.113.0/24", "2001:db8::/32"] });
const RULES = wafRules(waf, { ipv4: "arn:ipv4", ipv6: "arn:ipv6" });
const scopes = rateScopes();
const req = (method: string, path: string): Request => ({ method, path });

describe("each rate rule's scope: the paths it counts, and the ones it leaves", () => {
  test.each([
    ["POST", "/auth"],
    ["POST", "/auth/"],
    ["POST", "/auth.json"],
    ["POST", "/auth/password"],
    ["POST", "/auth/confirmation"],
    ["POST", "/api/v1/accounts"],
    ["POST", "/api/v1/emails/confirmations"],
  ])("sign-up counts %s %s", (method, path) => {
    expect(matches(scopes.signUp, req(method, path))).toBe(true);
  });
  test.each([
    ["GET", "/auth/sign_up"],
    ["PUT", "/auth"],
    ["POST", "/auth/sign_in"],
    ["POST", "/authorize_interaction"],
    ["POST", "/api/v1/accounts/109876543210/follow"],
    ["POST", "/api/v1/accounts/lookup"],
  ])("sign-up leaves %s %s", (method, path) => {
    expect(matches(scopes.signUp, req(method, path))).toBe(false);
  });

  test.each([
    ["POST", "/auth/sign_in"],
    ["POST", "/auth/sign_in.json"],
    ["POST", "/oauth/token"],
  ])("sign-in counts %s %s", (method, path) => {
    expect(matches(scopes.signIn, req(method, path))).toBe(true);
  });
  test.each([
    ["GET", "/auth/sign_in"],
    ["DELETE", "/auth/sign_out"],
    ["POST", "/oauth/revoke"],
    ["GET", "/oauth/authorize"],
  ])("sign-in leaves %s %s", (method, path) => {
    expect(matches(scopes.signIn, req(method, path))).toBe(false);
  });

  test.each([
    ["POST", "/api/v1/statuses"],
    ["POST", "/api/v2/media"],
    ["PUT", "/api/v1/media/1"],
    ["PATCH", "/api/v1/accounts/update_credentials"],
    ["DELETE", "/api/v1/statuses/1"],
  ])("API writes count %s %s", (method, path) => {
    expect(matches(scopes.apiWrites, req(method, path))).toBe(true);
  });
  test.each([
    ["GET", "/api/v1/timelines/home"],
    ["HEAD", "/api/v1/instance"],
    // Federation: a large server delivers from a few addresses.
    ["POST", "/inbox"],
    ["POST", "/users/alice/inbox"],
    ["POST", "/api/v1/streaming"],
  ])("API writes leave %s %s", (method, path) => {
    expect(matches(scopes.apiWrites, req(method, path))).toBe(false);
  });
});

describe("the streaming API is outside every rule's scope but the block list's", () => {
  const streaming = [
    "/api/v1/streaming",
    "/api/v1/streaming/",
    "/api/v1/streaming/user",
    "/api/v1/streaming/hashtag",
  ];
  const methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
  const scoped = RULES.filter((r) => !r.name.startsWith("block-list"));
  const scopeOf = (rule: WafRule) => {
    const s = rule.statement as Record<string, any>;
    return (s.rateBasedStatement ?? s.managedRuleGroupStatement)?.scopeDownStatement as WafStatement;
  };

  test("every rule but the block lists has a scope-down statement", () => {
    expect(scoped.map((r) => r.name)).toEqual([
      "aws-ip-reputation",
      "rate-sign-up",
      "rate-sign-in",
      "rate-api-writes",
      "aws-known-bad-inputs",
      "aws-common-rule-set",
    ]);
    for (const rule of scoped)
      expect({ rule: rule.name, scoped: scopeOf(rule) !== undefined }).toEqual({
        rule: rule.name,
        scoped: true,
      });
  });

  test.each(scoped.map((r) => [r.name, r] as const))(
    "%s matches no request to the streaming API",
    (_name, rule) => {
      for (const path of streaming)
        for (const method of methods)
          expect({ method, path, matched: matches(scopeOf(rule), req(method, path)) }).toEqual({
            method,
            path,
            matched: false,
          });
    },
  );

  test("the managed groups still inspect everything else", () => {
    const group = scoped.find((r) => r.name === "aws-common-rule-set") as WafRule;
    for (const path of ["/", "/api/v1/statuses", "/api/v2/media", "/inbox", "/@alice"])
      expect(matches(scopeOf(group), req("POST", path))).toBe(true);
  });
});

describe("the rules as AWS WAF takes them", () => {
  test("names, priorities and metric names are unique; every rule publishes metrics and samples", () => {
    const names = RULES.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    expect(new Set(RULES.map((r) => r.priority)).size).toBe(names.length);
    for (const r of RULES)
      expect(r.visibilityConfig).toEqual({
        cloudwatchMetricsEnabled: true,
        metricName: r.name,
        sampledRequestsEnabled: true,
      });
  });

  test("the limits and the window come from config; rate rules answer 429 as Mastodon does", () => {
    const custom = parseWaf({
      rateLimits: { signUp: 10, apiWrites: 2_000_000_000 },
      evaluationWindowSeconds: 60,
    });
    const rates = wafRules(custom, {}).filter((r) => "rateBasedStatement" in r.statement);
    expect(rates.map((r) => [r.name, (r.statement as any).rateBasedStatement.limit])).toEqual([
      ["rate-sign-up", 10],
      ["rate-sign-in", 100],
      ["rate-api-writes", 2_000_000_000],
    ]);
    for (const r of rates) {
      expect((r.statement as any).rateBasedStatement).toMatchObject({
        aggregateKeyType: "IP",
        evaluationWindowSec: 60,
      });
      expect(r.action).toEqual({ block: { customResponse: { responseCode: 429 } } });
    }
  });

  test("the body rules of the managed groups count instead of block; the groups' own action is none", () => {
    const overrides = (name: string) =>
      (
        (RULES.find((r) => r.name === name)?.statement as any).managedRuleGroupStatement
          .ruleActionOverrides ?? []
      ).map((o: { name: string; actionToUse: unknown }) => [o.name, o.actionToUse]);
    expect(overrides("aws-common-rule-set")).toEqual(
      Object.keys(COMMON_RULE_SET_COUNTED).map((n) => [n, { count: {} }]),
    );
    expect(overrides("aws-common-rule-set").map(([n]: [string]) => n)).toContain("SizeRestrictions_BODY");
    expect(overrides("aws-known-bad-inputs")).toEqual(
      Object.keys(KNOWN_BAD_INPUTS_COUNTED).map((n) => [n, { count: {} }]),
    );
    expect(overrides("aws-ip-reputation")).toEqual([]);
    for (const r of RULES.filter((r) => "managedRuleGroupStatement" in r.statement))
      expect(r.overrideAction).toEqual({ none: {} });
  });

  test("a block list per IP version that has addresses, first of all", () => {
    expect(RULES.slice(0, 2).map((r) => [r.name, r.statement])).toEqual([
      ["block-list-ipv4", { ipSetReferenceStatement: { arn: "arn:ipv4" } }],
      ["block-list-ipv6", { ipSetReferenceStatement: { arn: "arn:ipv6" } }],
    ]);
    const v4only = parseWaf({ blockList: ["198.51.100.7/32"] });
    expect(
      wafRules(v4only, { ipv4: "arn:ipv4" })
        .filter((r) => r.name.startsWith("block-list"))
        .map((r) => r.name),
    ).toEqual(["block-list-ipv4"]);
    expect(wafRules(parseWaf({}), {}).some((r) => r.name.startsWith("block-list"))).toBe(false);
  });

  test("within the 1,500 WCUs the web ACL's price includes, and the rate rules within AWS's 10", () => {
    // 1 + 1 (block lists) + 27 (IP reputation 25, its scope-down 2) + 7 + 7 + 9 (rate rules: 2 each,
    // scope-downs 5, 5, 7) + 202 (known bad inputs 200) + 702 (core rule set 700).
    expect(webAclCapacity(RULES)).toBe(956);
    expect(webAclCapacity(RULES) as number).toBeLessThanOrEqual(WAF_QUOTAS.includedCapacity);
    expect(RULES.filter((r) => "rateBasedStatement" in r.statement).length).toBeLessThanOrEqual(
      WAF_QUOTAS.rateBasedRules,
    );
  });

  test("billed rules: a managed group is one rule", () => {
    expect(billedRules(waf)).toEqual({ managedGroups: 3, rateBased: 3, blockLists: 2 });
    expect(billedRules(parseWaf({}))).toEqual({ managedGroups: 3, rateBased: 3, blockLists: 0 });
  });

  test("the patterns use nothing AWS WAF's regex engine lacks (no lookaround, no backreference)", () => {
    const regexes = JSON.stringify(RULES).match(/"regexString":"[^"]*"/g) ?? [];
    expect(regexes.length).toBe(3);
    for (const r of regexes) expect(r).not.toMatch(/\(\?|\\[1-9]/);
  });
});
