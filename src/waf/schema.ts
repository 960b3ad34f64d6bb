/**
 * mastodon:waf: an AWS WAF web ACL on the ALB (src/waf/webAcl.ts); its presence turns it on. Every
 * bound is AWS's (src/aws/naming/wafLimits.ts), refused here by key before anything is declared.
 */
import { z } from "zod";
import { WAF_EVALUATION_WINDOWS, WAF_QUOTAS, WAF_RATE_LIMIT } from "../aws/naming/wafLimits";
import { blockListProblem, parseCidr } from "./cidr";
import { argsType, documented, enumType } from "../config/schema/keyDoc";

/**
 * The defaults sit above Mastodon's own per-IP throttles (config/initializers/rack_attack.rb: sign-up,
 * password resets, confirmations and sign-in 25 per 5 minutes; unauthenticated API 300, an account's
 * API 1,500), so a person meets Mastodon's own 429 first and the WAF turns away only a flood, before
 * it reaches Puma. Several people behind one address (a campus, a carrier's NAT) share the limits.
 */
export const WAF_DEFAULTS = {
  rateLimits: { signUp: 100, signIn: 100, apiWrites: 3000 },
  evaluationWindowSeconds: 300,
  blockedRequestsAlarm: 1000,
} as const;

const rateLimit = (dflt: number) =>
  z
    .int({ error: "must be a whole number of requests" })
    .min(WAF_RATE_LIMIT.min, {
      error: `is below ${WAF_RATE_LIMIT.min}, the lowest limit AWS WAF takes for a rate-based rule (AWS WAF Developer Guide, "Rate-based rule high-level settings"); use ${WAF_RATE_LIMIT.min} or more`,
    })
    .max(WAF_RATE_LIMIT.max, {
      error: `is above ${WAF_RATE_LIMIT.max}, the highest limit AWS WAF takes for a rate-based rule; use a lower one`,
    })
    .default(dflt);

export const wafSchema = argsType(
  z.strictObject({
    rateLimits: documented(
      argsType(
        z.strictObject({
          signUp: documented(rateLimit(WAF_DEFAULTS.rateLimits.signUp), {
            description:
              "POST to sign-up and the mail it sends: /auth, /auth/password, /auth/confirmation, /api/v1/accounts, /api/v1/emails/confirmations.",
          }),
          signIn: documented(rateLimit(WAF_DEFAULTS.rateLimits.signIn), {
            description: "POST to sign-in: /auth/sign_in and /oauth/token.",
          }),
          apiWrites: documented(rateLimit(WAF_DEFAULTS.rateLimits.apiWrites), {
            description: "POST, PUT, PATCH and DELETE under /api/, the streaming API excepted.",
          }),
        }),
        {
          name: "StackWafRateLimitsArgs",
          folder: "waf",
          description:
            "Requests per client IP in one evaluation window before the WAF answers 429; each 10 to 2,000,000,000.",
        },
      ).prefault({}),
      {
        description:
          "Requests per client IP, per evaluation window, before the WAF answers 429: each limit 10 to 2,000,000,000 (AWS's bounds for a rate-based rule). The defaults sit above Mastodon's own per-IP throttles, so a person meets Mastodon's 429 first and the WAF turns away only a flood.",
      },
    ),
    evaluationWindowSeconds: documented(
      enumType(
        z.union(
          WAF_EVALUATION_WINDOWS.map((w) => z.literal(w)) as unknown as [
            z.ZodLiteral<60>,
            z.ZodLiteral<120>,
            z.ZodLiteral<300>,
            z.ZodLiteral<600>,
          ],
          {
            error: `must be ${WAF_EVALUATION_WINDOWS.join(", ")} seconds, the evaluation windows AWS WAF offers a rate-based rule`,
          },
        ),
        "WafEvaluationWindow",
        "src/vocabulary/configEnums",
      ).default(WAF_DEFAULTS.evaluationWindowSeconds),
      {
        description:
          "The seconds each rate-based rule counts back over: 60, 120, 300 or 600, the evaluation windows AWS WAF offers.",
      },
    ),
    blockList: documented(
      z
        .array(
          z.string().superRefine((value, ctx) => {
            const problem = blockListProblem(value);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
          }),
        )
        .superRefine((list, ctx) => {
          const seen = new Set<string>();
          list.forEach((value, i) => {
            if (seen.has(value))
              ctx.addIssue({ code: "custom", path: [i], message: "is listed twice; list each range once" });
            seen.add(value);
          });
          for (const version of ["ipv4", "ipv6"] as const) {
            const count = list.filter((v) => parseCidr(v)?.version === version).length;
            if (count > WAF_QUOTAS.ipSetAddresses)
              ctx.addIssue({
                code: "custom",
                message: `holds ${count} ${version === "ipv4" ? "IPv4" : "IPv6"} ranges; an IP set holds at most ${WAF_QUOTAS.ipSetAddresses} (AWS WAF quotas, "Maximum number of IP addresses in CIDR notation per IP set"). Merge neighbouring ranges into wider ones`,
              });
          }
        })
        .default([]),
      {
        description:
          "Address ranges blocked outright, everywhere: IPv4 and IPv6 in CIDR notation such as 203.0.113.0/24 or 2001:db8::/32 (a single address as /32 or /128), each a network address and listed once, at most 10,000 per IP version, each version an IP set of its own.",
      },
    ),
    blockedRequestsAlarm: documented(
      z
        .int({ error: "must be a whole number of requests" })
        .min(1, { error: "must be at least 1 blocked request in 5 minutes" })
        .default(WAF_DEFAULTS.blockedRequestsAlarm),
      {
        description:
          "The alarm notifies the alarm topic when the web ACL blocks more requests than this in 5 minutes; at least 1.",
      },
    ),
  }),
  {
    name: "StackWafArgs",
    folder: "waf",
    description: "mastodon:waf: an AWS WAF web ACL on the ALB; its presence turns it on.",
  },
);
