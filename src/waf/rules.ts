/**
 * The web ACL's rules (pure), as aws.wafv2.WebAcl takes them, in the order AWS WAF evaluates them
 * (lowest priority first; a block ends the evaluation):
 *
 * 1. the block list, an IP set per IP version, everywhere, the streaming path included: the operator
 *    named those addresses;
 * 2. AWSManagedRulesAmazonIpReputationList (25 WCU): addresses Amazon's threat intelligence has seen
 *    attacking (AWS WAF Developer Guide, "IP reputation rule groups");
 * 3. rate-based rules per client IP on sign-up, sign-in and the API's write paths, answering 429 as
 *    Mastodon's own throttle does (config/initializers/rack_attack.rb), so clients back off alike;
 * 4. AWSManagedRulesKnownBadInputsRuleSet (200 WCU) and AWSManagedRulesCommonRuleSet (700 WCU), the
 *    rules that inspect bodies set to count (below, with why).
 *
 * The streaming API (/api/v1/streaming, a WebSocket or an event stream held open for hours) is left
 * alone: every managed group scopes down to requests outside it, and no rate rule's scope reaches it.
 * Not used: the anonymous IP list (it blocks hosting providers, where other servers federate from),
 * the SQL database group (a post may quote SQL; Rails binds every value), Bot Control and the fraud
 * groups (paid per request). ActivityPub deliveries (POST /inbox, /users/<name>/inbox) are not rate
 * limited: a large server delivers from a few addresses.
 */
import { STREAMING_PATHS } from "../vocabulary/defaults";
import type { WafConfig } from "./config";

/** The streaming API's paths all start so (the ALB routes them to the streaming fleets: src/edge/loadBalancer.ts). */
export const WAF_STREAMING_PREFIX = STREAMING_PATHS[0];

/** A statement as aws.wafv2.WebAcl's inputs spell it. */
export type WafStatement = Readonly<Record<string, unknown>>;

export interface WafRule<Id = string> {
  readonly name: string;
  readonly priority: number;
  readonly action?: { readonly block: { readonly customResponse?: { readonly responseCode: number } } };
  readonly overrideAction?: { readonly none: Record<string, never> };
  readonly statement: WafStatement & { ipSetReferenceStatement?: { arn: Id } };
  readonly visibilityConfig: {
    readonly cloudwatchMetricsEnabled: true;
    readonly metricName: string;
    readonly sampledRequestsEnabled: true;
  };
}

/**
 * Rules of the core rule set that read the request body (or, for one, a query argument) set to
 * count: Mastodon's bodies are people's words and files, and federated activities, which it stores
 * as data and sanitizes itself. Counted, they still show in the web ACL's metrics and samples.
 */
export const COMMON_RULE_SET_COUNTED: Readonly<Record<string, string>> = {
  // The rule blocks every body over 8 KB: media uploads (POST /api/v2/media), avatars and headers,
  // imports, and ActivityPub deliveries of long posts from software that allows them.
  SizeRestrictions_BODY: "media uploads and long federated posts are bodies over 8 KB",
  // A post about XSS, and the HTML of every federated post (Note.content); image metadata trips it too
  // (cds-snc/platform-forms-client#434).
  CrossSiteScripting_BODY: "post text and federated HTML are not scripts Mastodon runs",
  GenericLFI_BODY: "uploaded files' bytes read as paths (cds-snc/platform-forms-client#434)",
  GenericRFI_BODY: "a post or an app's redirect_uri may hold a URL with an IPv4 host",
  EC2MetaDataSSRF_BODY: "a post may name the instance metadata address",
  // RFC 8252 native apps sign in with a loopback redirect: GET /oauth/authorize?redirect_uri=http://127.0.0.1:...
  GenericRFI_QUERYARGUMENTS: "desktop apps' OAuth loopback redirect_uri is a URL with an IPv4 host",
};

/** Known bad inputs' body rules: posts about Log4Shell and Spring4Shell quote the payloads; Rails runs no Java. */
export const KNOWN_BAD_INPUTS_COUNTED: Readonly<Record<string, string>> = {
  Log4JRCE_BODY: "posts about Log4Shell quote ${jndi:...}; no Java runs here",
  JavaDeserializationRCE_BODY: "posts about Spring4Shell quote the payload; no Java runs here",
};

const visibility = (metricName: string) =>
  ({ cloudwatchMetricsEnabled: true, metricName, sampledRequestsEnabled: true }) as const;
const NONE = [{ priority: 0, type: "NONE" }];
const byte = (field: "uriPath" | "method", positionalConstraint: string, searchString: string) => ({
  byteMatchStatement: {
    fieldToMatch: { [field]: {} },
    positionalConstraint,
    searchString,
    textTransformations: NONE,
  },
});
const regex = (field: "uriPath" | "method", regexString: string) => ({
  regexMatchStatement: { fieldToMatch: { [field]: {} }, regexString, textTransformations: NONE },
});
const not = (statement: WafStatement) => ({ notStatement: { statement } });
const and = (...statements: WafStatement[]) => ({ andStatement: { statements } });

/** Outside the streaming API: every managed group's scope-down statement. */
export const OUTSIDE_STREAMING = not(byte("uriPath", "STARTS_WITH", WAF_STREAMING_PREFIX));

/**
 * The paths of each rate rule. Rails routes `/auth` and `/auth.json` (a format) and a trailing slash
 * alike, as Mastodon's own throttle does (`path_matches?`), so the patterns do too.
 */
export const RATE_PATHS = {
  signUp: "^/(auth(/password|/confirmation)?(\\.[^/]*)?|api/v1/(accounts|emails/confirmations))/?$",
  signIn: "^/(auth/sign_in(\\.[^/]*)?|oauth/token)/?$",
  apiWriteMethods: "^(POST|PUT|PATCH|DELETE)$",
} as const;

/** The rate rules' scope-down statements, by rule. */
export function rateScopes(): Record<"signUp" | "signIn" | "apiWrites", WafStatement> {
  return {
    signUp: and(byte("method", "EXACTLY", "POST"), regex("uriPath", RATE_PATHS.signUp)),
    signIn: and(byte("method", "EXACTLY", "POST"), regex("uriPath", RATE_PATHS.signIn)),
    apiWrites: and(
      regex("method", RATE_PATHS.apiWriteMethods),
      byte("uriPath", "STARTS_WITH", "/api/"),
      OUTSIDE_STREAMING,
    ),
  };
}

const managed = <Id>(
  name: string,
  priority: number,
  group: string,
  counted: Readonly<Record<string, string>>,
): WafRule<Id> => ({
  name,
  priority,
  overrideAction: { none: {} },
  statement: {
    managedRuleGroupStatement: {
      vendorName: "AWS",
      name: group,
      ...(Object.keys(counted).length > 0 && {
        ruleActionOverrides: Object.keys(counted).map((rule) => ({ name: rule, actionToUse: { count: {} } })),
      }),
      scopeDownStatement: OUTSIDE_STREAMING,
    },
  },
  visibilityConfig: visibility(name),
});

/** The web ACL's rules; `ipSets` holds the ARN of each version's block list that has addresses. */
export function wafRules<Id = string>(waf: WafConfig, ipSets: { ipv4?: Id; ipv6?: Id }): WafRule<Id>[] {
  const rules: WafRule<Id>[] = [];
  (["ipv4", "ipv6"] as const).forEach((version, i) => {
    const arn = ipSets[version];
    if (arn === undefined || waf.blockList[version].length === 0) return;
    const name = `block-list-${version}`;
    rules.push({
      name,
      priority: i,
      action: { block: {} },
      statement: { ipSetReferenceStatement: { arn } },
      visibilityConfig: visibility(name),
    });
  });
  rules.push(managed("aws-ip-reputation", 10, "AWSManagedRulesAmazonIpReputationList", {}));
  const scopes = rateScopes();
  (["signUp", "signIn", "apiWrites"] as const).forEach((key, i) => {
    const name = `rate-${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
    rules.push({
      name,
      priority: 20 + i,
      action: { block: { customResponse: { responseCode: 429 } } },
      statement: {
        rateBasedStatement: {
          aggregateKeyType: "IP",
          limit: waf.rateLimits[key],
          evaluationWindowSec: waf.evaluationWindowSeconds,
          scopeDownStatement: scopes[key],
        },
      },
      visibilityConfig: visibility(name),
    });
  });
  rules.push(
    managed("aws-known-bad-inputs", 30, "AWSManagedRulesKnownBadInputsRuleSet", KNOWN_BAD_INPUTS_COUNTED),
  );
  rules.push(managed("aws-common-rule-set", 40, "AWSManagedRulesCommonRuleSet", COMMON_RULE_SET_COUNTED));
  return rules;
}

/** The IP sets the block list needs: one per version that has addresses. */
export function blockListVersions(waf: WafConfig): ("ipv4" | "ipv6")[] {
  return (["ipv4", "ipv6"] as const).filter((v) => waf.blockList[v].length > 0);
}

/** What AWS WAF bills per month besides requests: the web ACL, and each rule (a managed group is one rule). */
export function billedRules(waf: WafConfig): {
  managedGroups: number;
  rateBased: number;
  blockLists: number;
} {
  const rules = wafRules(waf, { ipv4: "arn", ipv6: "arn" });
  const count = (kind: string) => rules.filter((r) => kind in r.statement).length;
  return {
    managedGroups: count("managedRuleGroupStatement"),
    rateBased: count("rateBasedStatement"),
    blockLists: count("ipSetReferenceStatement"),
  };
}
