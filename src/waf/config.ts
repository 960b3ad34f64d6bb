/** The WAF as every other module reads it: its limits, and its block list split by IP version. */
import { z } from "zod";
import { ConfigError, problemsFromZod } from "../config/problems";
import type { ParsedStackConfig } from "../config/schema";
import { parseCidr } from "./cidr";
import { wafSchema } from "./schema";

export interface WafConfig {
  readonly rateLimits: Readonly<NonNullable<ParsedStackConfig["waf"]>["rateLimits"]>;
  readonly evaluationWindowSeconds: NonNullable<ParsedStackConfig["waf"]>["evaluationWindowSeconds"];
  /** One IP set per version: AWS WAF's IP sets hold one IPAddressVersion each. */
  readonly blockList: { readonly ipv4: readonly string[]; readonly ipv6: readonly string[] };
  /** Blocked requests in 5 minutes above which the alarm fires. */
  readonly blockedRequestsAlarm: number;
}

export function resolveWaf(parsed: NonNullable<ParsedStackConfig["waf"]>): WafConfig {
  const of = (version: "ipv4" | "ipv6") => parsed.blockList.filter((c) => parseCidr(c)?.version === version);
  return {
    rateLimits: { ...parsed.rateLimits },
    evaluationWindowSeconds: parsed.evaluationWindowSeconds,
    blockList: { ipv4: of("ipv4"), ipv6: of("ipv6") },
    blockedRequestsAlarm: parsed.blockedRequestsAlarm,
  };
}

/**
 * The WAF from its config as written (mastodon:waf, StackWafArgs; defaults filled by the schema),
 * for a WebAcl declared on its own. Refused values are reported as the stack config reports them,
 * every one by its key.
 */
export function parseWaf(raw: unknown): WafConfig {
  const parsed = z.strictObject({ waf: wafSchema }).safeParse({ waf: raw ?? {} });
  if (!parsed.success)
    throw new ConfigError(
      problemsFromZod(parsed.error, { waf: raw }, (path) =>
        path.length === 0
          ? ["waf"]
          : path[1] === "rateLimits"
            ? Object.keys(wafSchema.shape.rateLimits.unwrap().shape)
            : Object.keys(wafSchema.shape),
      ),
    );
  return resolveWaf(parsed.data.waf);
}
