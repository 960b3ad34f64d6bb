/**
 * The WAF's monthly cost rows (pure), from data/other-prices-us-east-1.tsv (AWS WAF pricing): the web
 * ACL, and each rule, a managed rule group counting as one. The requests it inspects, blocked ones
 * included, are usage: src/report/cost.ts names them among what it leaves out. The rules stay under
 * the 1,500 WCUs the web ACL's price includes (src/waf/rules.test.ts), so no capacity charge.
 */
import type { WafConfig } from "./config";
import { billedRules } from "./rules";
import { type CostRowInput, OTHER_SOURCE, otherPrice } from "../report/prices";

export function wafCostRows(waf: WafConfig): CostRowInput[] {
  const { managedGroups, rateBased, blockLists } = billedRules(waf);
  const rules = managedGroups + rateBased + blockLists;
  return [
    {
      component: "edge",
      resource: "AWS WAF web ACL",
      quantityDesired: 1,
      quantityMax: 1,
      unitPrice: otherPrice("waf-web-acl").usd,
      unit: "month",
      source: OTHER_SOURCE,
      estimated: false,
    },
    {
      component: "edge",
      resource: `AWS WAF rules (${managedGroups} managed rule groups, ${rateBased} rate-based, ${blockLists} block list IP sets)`,
      quantityDesired: rules,
      quantityMax: rules,
      unitPrice: otherPrice("waf-rule").usd,
      unit: "month",
      source: OTHER_SOURCE,
      estimated: false,
      note: "a managed rule group is billed as one rule; plus requests (usage)",
    },
  ];
}

/** The requests' price, for the estimate's list of what it leaves out. */
export function wafRequestsNotPriced(): string {
  return `AWS WAF requests (${otherPrice("waf-requests-million").usd.toFixed(2)} USD per million inspected, blocked ones included)`;
}
