/**
 * The WAF's alarm (pure): blocked requests across every rule of the web ACL, summed over 5 minutes.
 * A spike is an attack being turned away, or a rule blocking people it should not (a managed rule
 * AWS changed, a limit set too low): either way someone should look at the web ACL's sampled
 * requests. AWS WAF publishes BlockedRequests in AWS/WAFV2 by WebACL, Region and Rule, Rule ALL for
 * the web ACL as a whole (AWS WAF Developer Guide, "AWS WAF metrics and dimensions").
 */
import type { MetricAlarmSpec } from "../monitoring/alarmSpecs";

export interface WafTarget<Id = string> {
  /** The web ACL's metric name, which the package makes its name too: CloudWatch's WebACL dimension. */
  readonly webAcl: Id;
  /** The web ACL's Region: the Region dimension of a REGIONAL web ACL's metrics. */
  readonly region: Id;
  /** Blocked requests in 5 minutes above which the alarm fires. */
  readonly blockedRequests: number;
}

/** The Rule dimension's value for the web ACL as a whole. */
export const WAF_ALL_RULES = "ALL";

export function wafAlarmSpecs<Id = string>(target: WafTarget<Id>): MetricAlarmSpec<Id>[] {
  return [
    {
      id: "waf-blocked",
      tier: "edge",
      description: `The WAF blocked more than ${target.blockedRequests} requests in 5 minutes: an attack turned away, or a rule blocking people; read the web ACL's sampled requests (docs/deployed.md, "Keeping abusers out (WAF)")`,
      namespace: "AWS/WAFV2",
      metricName: "BlockedRequests",
      // "ALL" is a plain string, which every form of Id (a string, a Pulumi input) holds.
      dimensions: { WebACL: target.webAcl, Region: target.region, Rule: WAF_ALL_RULES as Id },
      statistic: "Sum",
      comparison: "GreaterThanThreshold",
      threshold: target.blockedRequests,
      periodSeconds: 300,
      evaluationPeriods: 1,
    },
  ];
}
