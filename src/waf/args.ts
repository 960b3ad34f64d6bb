/**
 * mastodon:waf written out for Pulumi's component analyzer: MastodonStack's `waf` arg, an AWS WAF web
 * ACL on the ALB, and the WebAcl component's. Only what the analyzer reads (interfaces, `as const`
 * enums, doc comments with `(@default ...)`); src/config/args.ts says why.
 */

/** The seconds a rate-based rule counts back over (AWS WAF: 60, 120, 300 or 600). */
export const WafEvaluationWindow = {
  OneMinute: 60,
  TwoMinutes: 120,
  FiveMinutes: 300,
  TenMinutes: 600,
} as const;
export type WafEvaluationWindow = (typeof WafEvaluationWindow)[keyof typeof WafEvaluationWindow];

/** Requests per client IP in one evaluation window before the WAF answers 429; each 10 to 2,000,000,000. */
export interface StackWafRateLimitsArgs {
  /** POST to sign-up and the mail it sends: /auth, /auth/password, /auth/confirmation, /api/v1/accounts, /api/v1/emails/confirmations (@default 100). */
  signUp?: number;
  /** POST to sign-in: /auth/sign_in and /oauth/token (@default 100). */
  signIn?: number;
  /** POST, PUT, PATCH and DELETE under /api/ (the streaming API excepted) (@default 3000). */
  apiWrites?: number;
}

/** mastodon:waf: an AWS WAF web ACL on the ALB; its presence turns it on. */
export interface StackWafArgs {
  /** Per client IP, per evaluation window (@default {}). */
  rateLimits?: StackWafRateLimitsArgs;
  /** The seconds each rate-based rule counts back over (@default 300). */
  evaluationWindowSeconds?: WafEvaluationWindow;
  /** Address ranges blocked outright, IPv4 and IPv6 in CIDR notation such as 203.0.113.0/24 (@default []). */
  blockList?: string[];
  /** The alarm fires when the web ACL blocks more requests than this in 5 minutes (@default 1000). */
  blockedRequestsAlarm?: number;
}
