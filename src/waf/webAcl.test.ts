/**
 * The production stack with mastodon:waf, as the offline plan runs it: the web ACL, its IP sets and
 * its association with the ALB in resources.json, in the shapes AWS gives them; no refusal from the
 * fake cloud (runUnderMocks raises any); the alarm on the stack's alarm topic; the WAF's rows in the
 * cost estimate; the policy pack passing. And the shipped production stack, without the key, with
 * nothing of it.
 */
import { parseStackConfig } from "../config";
import { costEstimate } from "../report/cost";
import type { MockRun } from "../testing/mocks";
import { POLICIES } from "../../policy/policies";
import { analyzeResource, analyzeStack, planResources } from "../../test/policyHarness";
import { all, arnOf, find, runStack, stackConfig, stateOf } from "../../test/helpers";

const WAF = {
  rateLimits: { signUp: 50, signIn: 60, apiWrites: 2000 },
  evaluationWindowSeconds: 120,
  blockList: ["203.0.113.0/24", "198.51.100.7/32", "2001:db8:bad::/48"],
  blockedRequestsAlarm: 500,
};
const ACL = "aws:wafv2/webAcl:WebAcl";
const IP_SET = "aws:wafv2/ipSet:IpSet";
const ASSOCIATION = "aws:wafv2/webAclAssociation:WebAclAssociation";
const UUID = "[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}";

let run: MockRun;
let shipped: MockRun;
beforeAll(async () => {
  run = await runStack("production", { waf: WAF });
  shipped = await runStack("production");
}, 120_000);

describe("production with mastodon:waf", () => {
  test("a REGIONAL web ACL under its component, named from project, stack and component, ARN in AWS's shape", () => {
    const acl = find(run, ACL);
    expect(acl).toMatchObject({
      name: "mastodon-waf",
      parentType: "mastodon:index:WebAcl",
      parent: "mastodon-waf",
    });
    expect(acl.inputs).toMatchObject({
      name: "mastodon-aws-production-mastodon-waf",
      scope: "REGIONAL",
      defaultAction: { allow: {} },
      visibilityConfig: {
        cloudwatchMetricsEnabled: true,
        metricName: "mastodon-aws-production-mastodon-waf",
        sampledRequestsEnabled: true,
      },
    });
    expect(acl.arn).toMatch(
      new RegExp(
        `^arn:aws:wafv2:us-east-1:\\d{12}:regional/webacl/mastodon-aws-production-mastodon-waf/${UUID}$`,
      ),
    );
    expect(acl.id).toMatch(new RegExp(`^${UUID}$`));
    // What GetWebACL reports as its capacity: within the 1,500 WCUs its price includes.
    expect(stateOf(run, ACL, "mastodon-waf")["capacity"]).toBe(956);
    const rules = acl.inputs["rules"] as { name: string; statement: Record<string, any> }[];
    expect(rules.map((r) => r.name)).toEqual([
      "block-list-ipv4",
      "block-list-ipv6",
      "aws-ip-reputation",
      "rate-sign-up",
      "rate-sign-in",
      "rate-api-writes",
      "aws-known-bad-inputs",
      "aws-common-rule-set",
    ]);
    const rate = (name: string) => rules.find((r) => r.name === name)?.statement["rateBasedStatement"];
    expect([rate("rate-sign-up").limit, rate("rate-sign-in").limit, rate("rate-api-writes").limit]).toEqual([
      50, 60, 2000,
    ]);
    expect(rate("rate-sign-up").evaluationWindowSec).toBe(120);
  });

  test("an IP set per version of the block list, each rule referencing its set's ARN", () => {
    // Registered in the order their inputs resolve: sorted by version here.
    const sets = all(run, IP_SET).sort((a, b) =>
      String(a.inputs["ipAddressVersion"]).localeCompare(String(b.inputs["ipAddressVersion"])),
    );
    expect(sets.map((s) => [s.inputs["ipAddressVersion"], s.inputs["addresses"], s.inputs["scope"]])).toEqual(
      [
        ["IPV4", ["203.0.113.0/24", "198.51.100.7/32"], "REGIONAL"],
        ["IPV6", ["2001:db8:bad::/48"], "REGIONAL"],
      ],
    );
    for (const set of sets) {
      expect(set.arn).toMatch(
        new RegExp(`^arn:aws:wafv2:us-east-1:\\d{12}:regional/ipset/${String(set.inputs["name"])}/${UUID}$`),
      );
      expect(String(set.inputs["name"])).toMatch(/^mastodon-waf-block-ipv[46]-[0-9a-f]{7}$/);
    }
    const rules = find(run, ACL).inputs["rules"] as { statement: Record<string, any> }[];
    expect(rules.slice(0, 2).map((r) => r.statement["ipSetReferenceStatement"].arn)).toEqual(
      sets.map((s) => s.arn),
    );
  });

  test("associated with the ALB by the two ARNs", () => {
    const association = find(run, ASSOCIATION);
    const albArn = arnOf(
      run,
      "aws:lb/loadBalancer:LoadBalancer",
      find(run, "aws:lb/loadBalancer:LoadBalancer").name,
    );
    expect(association.inputs).toEqual({ webAclArn: find(run, ACL).arn, resourceArn: albArn });
    expect(association.id).toBe(`${String(find(run, ACL).arn)},${albArn}`);
  });

  test("the blocked-requests alarm notifies the stack's alarm topic, as every other alarm does", () => {
    const alarms = all(run, "aws:cloudwatch/metricAlarm:MetricAlarm");
    const waf = alarms.find((a) => a.name === "mastodon-monitoring-waf-blocked");
    expect(waf?.inputs).toMatchObject({
      namespace: "AWS/WAFV2",
      metricName: "BlockedRequests",
      dimensions: { WebACL: "mastodon-aws-production-mastodon-waf", Region: "us-east-1", Rule: "ALL" },
      statistic: "Sum",
      comparisonOperator: "GreaterThanThreshold",
      threshold: 500,
      period: 300,
    });
    const cpu = alarms.find((a) => a.name === "mastodon-monitoring-db-primary-cpu");
    expect(waf?.inputs["alarmActions"]).toEqual(cpu?.inputs["alarmActions"]);
    expect(waf?.inputs["okActions"]).toEqual(cpu?.inputs["okActions"]);
    // On the dashboard's edge row.
    const dashboard = String(find(run, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardBody"]);
    expect(dashboard).toContain('"title":"edge: BlockedRequests"');
  });

  test("priced: the web ACL and 8 rules, 13 USD a month; its requests named as usage", () => {
    const { config } = parseStackConfig({ ...stackConfig("production"), waf: WAF }, "production");
    const cost = costEstimate(config, "us-east-1");
    const rows = cost.rows.filter((r) => r.resource.startsWith("AWS WAF"));
    expect(rows.map((r) => [r.resource, r.quantityMax, r.unitPrice, r.monthlyMax])).toEqual([
      ["AWS WAF web ACL", 1, 5, 5],
      ["AWS WAF rules (3 managed rule groups, 3 rate-based, 2 block list IP sets)", 8, 1, 8],
    ]);
    const without = costEstimate(
      parseStackConfig(stackConfig("production"), "production").config,
      "us-east-1",
    );
    expect(cost.monthly.max).toBeCloseTo(without.monthly.max + 13, 2);
    expect(cost.excluded).toContain(
      "AWS WAF requests (0.60 USD per million inspected, blocked ones included) (usage-based)",
    );
  });

  test("passes the policy pack, resource by resource and as a stack", async () => {
    const found = [];
    for (const r of planResources(run, "inputs")) found.push(...(await analyzeResource(POLICIES, r)));
    expect(found).toEqual([]);
    expect(await analyzeStack(POLICIES, planResources(run, "outputs"))).toEqual([]);
  });
});

describe("production as shipped, without mastodon:waf", () => {
  test("declares nothing of AWS WAF: no web ACL, IP set, association, alarm or cost row", () => {
    expect(shipped.resources.filter((r) => /wafv2|WebAcl/.test(r.type))).toEqual([]);
    expect(all(shipped, "aws:cloudwatch/metricAlarm:MetricAlarm").filter((a) => /waf/.test(a.name))).toEqual(
      [],
    );
    const cost = costEstimate(parseStackConfig(stackConfig("production"), "production").config, "us-east-1");
    expect(cost.rows.filter((r) => r.resource.includes("WAF"))).toEqual([]);
    expect(cost.excluded.filter((e) => e.includes("WAF"))).toEqual([]);
  });

  test("the same resources as with the WAF, less the WAF's and its alarm", () => {
    const key = (r: { type: string; name: string }) => `${r.type}::${r.name}`;
    const added = run.resources.map(key).filter((k) => !shipped.resources.map(key).includes(k));
    expect(added.sort()).toEqual(
      [
        "mastodon:index:WebAcl::mastodon-waf",
        `${ACL}::mastodon-waf`,
        `${IP_SET}::mastodon-waf-block-ipv4`,
        `${IP_SET}::mastodon-waf-block-ipv6`,
        `${ASSOCIATION}::mastodon-waf-alb`,
        "aws:cloudwatch/metricAlarm:MetricAlarm::mastodon-monitoring-waf-blocked",
      ].sort(),
    );
    expect(shipped.resources.map(key).filter((k) => !run.resources.map(key).includes(k))).toEqual([]);
  });
});
