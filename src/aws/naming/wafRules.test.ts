/**
 * The fake cloud refuses what AWS WAF and the provider refuse in a web ACL, an IP set and an
 * association (./wafRules.ts), each with its source, and answers the package's own web ACL.
 */
import * as aws from "@pulumi/aws";
import { NameRefusedError, runUnderMocks } from "../../testing/mocks";
import { inputProblems, nameProblems, NAMING_RULES, type NamingRule } from "./index";
import { statementCapacity, webAclCapacity } from "./wafLimits";
import { parseWaf } from "../../waf/config";
import { wafRules } from "../../waf/rules";

const declare = (declareResources: () => void) =>
  runUnderMocks(
    () => {
      declareResources();
      return {};
    },
    { project: "p", stack: "s", config: { "aws:region": "us-east-1" } },
  );

const ACL = "aws:wafv2/webAcl:WebAcl";
const visibility = (metricName: string) => ({
  cloudwatchMetricsEnabled: true,
  metricName,
  sampledRequestsEnabled: true,
});
const group = (name: string, extra: Record<string, unknown> = {}) => ({
  managedRuleGroupStatement: { vendorName: "AWS", name, ...extra },
});
const rate = (limit: number, evaluationWindowSec?: number) => ({
  rateBasedStatement: { aggregateKeyType: "IP", limit, ...(evaluationWindowSec && { evaluationWindowSec }) },
});
const rule = (name: string, statement: Record<string, unknown>, priority = 0) => ({
  name,
  priority,
  ...("managedRuleGroupStatement" in statement
    ? { overrideAction: { none: {} } }
    : { action: { block: {} } }),
  statement,
  visibilityConfig: visibility(name),
});
const acl = (name: string, rules: unknown[], extra: Record<string, unknown> = {}) =>
  new aws.wafv2.WebAcl(name, {
    scope: "REGIONAL",
    defaultAction: { allow: {} },
    rules: rules as aws.types.input.wafv2.WebAclRule[],
    visibilityConfig: visibility(name),
    ...extra,
  });

describe("the fake cloud refuses what AWS WAF refuses", () => {
  test("each broken web ACL, IP set and association is refused with its reason and source", async () => {
    const error = (await declare(() => {
      acl("low-limit", [rule("r", rate(5, 90))]);
      acl(
        "too-many-rates",
        Array.from({ length: 11 }, (_, i) => rule(`r${i}`, rate(100), i)),
      );
      acl(
        "over-capacity",
        Array.from({ length: 8 }, (_, i) => rule(`crs${i}`, group("AWSManagedRulesCommonRuleSet"), i)),
      );
      acl("unpriced", [rule("bots", group("AWSManagedRulesBotControlRuleSet"))]);
      acl("nested", [rule("r", { notStatement: { statement: group("AWSManagedRulesCommonRuleSet") } })]);
      acl("both-actions", [{ ...rule("r", group("AWSManagedRulesCommonRuleSet")), action: { block: {} } }]);
      acl("reserved-metric", [{ ...rule("r", rate(100)), visibilityConfig: visibility("All") }]);
      acl("global", [], { scope: "GLOBAL" });
      acl("quoted", [], { description: "Mastodon's web ACL (mastodon:waf)" });
      const leaf = (searchString: string) => ({
        byteMatchStatement: {
          positionalConstraint: "EXACTLY",
          searchString,
          fieldToMatch: { uriPath: {} },
          textTransformations: [{ priority: 0, type: "NONE" }],
        },
      });
      const not = (statement: unknown) => ({ notStatement: { statement } });
      acl("too-deep", [rule("r", not(not(not(not(leaf("x"))))))]);
      acl("long-search", [rule("r", leaf("x".repeat(201)))]);
      acl("untransformed", [
        rule("r", { regexMatchStatement: { regexString: "^/x$", fieldToMatch: { uriPath: {} } } }),
      ]);
      new aws.wafv2.WebAcl("x".repeat(129), {
        name: "x".repeat(129),
        scope: "REGIONAL",
        defaultAction: { allow: {} },
        visibilityConfig: visibility("x"),
      });
      new aws.wafv2.IpSet("set", {
        scope: "REGIONAL",
        ipAddressVersion: "IPV4",
        addresses: ["0.0.0.0/0", "2001:db8::/32", "203.0.113.0/24"],
      });
      new aws.wafv2.IpSet("big", {
        scope: "REGIONAL",
        ipAddressVersion: "IPV6",
        addresses: Array.from({ length: 10_001 }, (_, i) => `2001:db8:${i.toString(16)}::/48`),
      });
      const wafArn =
        "arn:aws:wafv2:us-east-1:123456789012:regional/webacl/w/11111111-1111-4111-a111-111111111111";
      new aws.wafv2.WebAclAssociation("nlb", {
        webAclArn: wafArn,
        resourceArn:
          "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/net/n/0123456789abcdef",
      });
      new aws.wafv2.WebAclAssociation("elsewhere", {
        webAclArn: wafArn,
        resourceArn:
          "arn:aws:elasticloadbalancing:eu-west-1:123456789012:loadbalancer/app/a/0123456789abcdef",
      });
    }).catch((e: unknown) => e)) as NameRefusedError;
    expect(error).toBeInstanceOf(NameRefusedError);
    const by = (resource: string) =>
      error.refusals.filter((r) => r.resource === resource).flatMap((r) => r.problems);
    expect(by("low-limit")).toEqual([
      "rule r: limit 5 is not a whole number from 10 to 2000000000",
      "rule r: evaluationWindowSec 90 is not one of 60, 120, 300, 600",
    ]);
    expect(by("too-many-rates")).toEqual(["11 rate-based rules, over the 10 a web ACL may hold"]);
    expect(by("over-capacity")).toEqual(["the rules take 5600 WCUs, over the 5000 a web ACL may use"]);
    expect(by("unpriced")[0]).toContain(
      "cannot price managed rule group AWS/AWSManagedRulesBotControlRuleSet",
    );
    expect(by("nested")).toEqual([
      "rule r: a managedRuleGroupStatement is nested 1 level(s) down; it may only be a rule's own statement",
    ]);
    expect(by("both-actions")).toEqual([
      "rule r references a rule group: it takes overrideAction, not action",
    ]);
    expect(by("reserved-metric")).toEqual(["rule r's metric name All is reserved by AWS WAF"]);
    expect(by("too-deep")).toEqual([
      "rule r: a notStatement 3 levels down is deeper than the provider's schema holds",
      "rule r: a byteMatchStatement 4 levels down is deeper than the provider's schema holds",
    ]);
    expect(by("untransformed")).toEqual([
      "rule r: a regexMatchStatement needs at least one text transformation (NONE for none)",
    ]);
    expect(by("long-search")).toEqual([`rule r: searchString "${"x".repeat(201)}" is not 1-200 characters`]);
    expect(by("quoted")).toEqual([
      'description "Mastodon\'s web ACL (mastodon:waf)" is not 3-256 of letters, digits, spaces and _ + = : # @ / - , .',
    ]);
    expect(by("global")).toEqual(['scope is "GLOBAL": it must be REGIONAL or CLOUDFRONT']);
    expect(by("x".repeat(129))).toEqual(["is 129 characters, over the maximum 128"]);
    expect(by("set")).toEqual([
      '"0.0.0.0/0" is not an address in CIDR notation (/0 excepted)',
      '"2001:db8::/32" is IPV6 in an IPV4 set',
    ]);
    expect(by("big")).toEqual(["10001 addresses, over the 10000 an IP set holds"]);
    expect(by("nlb")[0]).toContain("is not an Application Load Balancer's ARN");
    expect(by("elsewhere")).toEqual([
      "the web ACL is in us-east-1, the load balancer in eu-west-1: they must share a Region",
    ]);
    for (const source of [
      '"Maximum number of rate-based rules per protection pack (web ACL): 10"',
      '"Maximum protection pack (web ACL) capacity units (WCUs) per protection pack (web ACL): 5,000"',
      "AWS WAF API Reference IPSet Addresses",
      "AWS WAF API Reference AssociateWebACL",
      "webACLRootStatementSchemaLevel 3",
    ])
      expect(error.message).toContain(source);
  });

  test("the package's own rules pass, at every limit AWS allows", async () => {
    const edge = parseWaf({
      rateLimits: { signUp: 10, signIn: 2_000_000_000, apiWrites: 10 },
      evaluationWindowSeconds: 600,
      blockList: ["203.0.113.0/24", "2001:db8::/32"],
    });
    const run = await declare(() => {
      const v4 = new aws.wafv2.IpSet("v4", {
        scope: "REGIONAL",
        ipAddressVersion: "IPV4",
        addresses: ["203.0.113.0/24"],
      });
      const v6 = new aws.wafv2.IpSet("v6", {
        scope: "REGIONAL",
        ipAddressVersion: "IPV6",
        addresses: ["2001:db8::/32"],
      });
      acl("ours", wafRules(edge, { ipv4: v4.arn, ipv6: v6.arn }));
    });
    const ours = run.resources.find((r) => r.type === ACL);
    expect(ours?.arn).toMatch(/^arn:aws:wafv2:us-east-1:123456789012:regional\/webacl\/ours-[0-9a-f]{7}\//);
    expect(inputProblems(ACL, ours?.inputs ?? {})).toEqual([]);
  });
});

describe("names and capacity units as AWS counts them", () => {
  test("web ACL and IP set names: autonamed by the bridge, refused by AWS's 128 and character set", () => {
    const rule = NAMING_RULES[ACL] as NamingRule;
    expect(rule.autoname).toEqual({ maxLength: 255 });
    expect(nameProblems(rule, "mastodon aws")).toEqual(["has characters outside letters, digits, _ and -"]);
    expect(NAMING_RULES["aws:wafv2/webAclAssociation:WebAclAssociation"]).toBeNull();
  });

  test("statements priced by AWS WAF Developer Guide's tables", () => {
    const byte = (positionalConstraint: string, types = ["NONE"]) => ({
      byteMatchStatement: {
        positionalConstraint,
        searchString: "x",
        fieldToMatch: { uriPath: {} },
        textTransformations: types.map((type, priority) => ({ priority, type })),
      },
    });
    expect(statementCapacity(byte("EXACTLY"))).toBe(2);
    expect(statementCapacity(byte("CONTAINS"))).toBe(10);
    expect(statementCapacity(byte("STARTS_WITH", ["LOWERCASE", "URL_DECODE"]))).toBe(22);
    expect(statementCapacity({ ipSetReferenceStatement: { arn: "a" } })).toBe(1);
    expect(
      statementCapacity({ rateBasedStatement: { limit: 10, scopeDownStatement: byte("EXACTLY") } }),
    ).toBe(4);
    expect(
      statementCapacity(group("AWSManagedRulesCommonRuleSet", { scopeDownStatement: byte("EXACTLY") })),
    ).toBe(702);
    expect(statementCapacity({ xssMatchStatement: {} })).toEqual({ unpriced: "xssMatchStatement" });
    expect(
      webAclCapacity([
        { statement: group("AWSManagedRulesKnownBadInputsRuleSet") },
        { statement: group("AWSManagedRulesAmazonIpReputationList") },
      ]),
    ).toBe(225);
  });
});
