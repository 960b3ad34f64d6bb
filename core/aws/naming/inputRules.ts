/**
 * What AWS or the provider refuses in a resource's inputs besides its name: per type, each rule
 * reads the inputs as the fake cloud receives them (references resolved) and says every way they
 * break it. The fake cloud (plan/fakeCloud.ts) reports a broken rule like a refused name, so one
 * plan lists every refusal at once.
 */
import type { InputRule } from "./types";

/**
 * The hosted zone of every CloudFront distribution, the zone an alias to one names (Route 53 API
 * Reference, AliasTarget, HostedZoneId: "Specify Z2FDTNDATAQYW2. This is always the hosted zone ID
 * when you create an alias record that routes traffic to a CloudFront distribution").
 */
export const CLOUDFRONT_HOSTED_ZONE_ID = "Z2FDTNDATAQYW2";

interface Alias {
  readonly name?: unknown;
  readonly zoneId?: unknown;
  readonly evaluateTargetHealth?: unknown;
}

export const INPUT_RULES: Readonly<Record<string, readonly InputRule[]>> = {
  "aws:route53/record:Record": [
    {
      property: "aliases[].evaluateTargetHealth",
      problems: (inputs) =>
        ((inputs["aliases"] as readonly Alias[] | undefined) ?? []).flatMap((alias, i) =>
          alias.zoneId === CLOUDFRONT_HOSTED_ZONE_ID &&
          (alias.evaluateTargetHealth === true || alias.evaluateTargetHealth === "true")
            ? [
                `aliases[${i}] targets the CloudFront distribution ${String(alias.name)} with evaluateTargetHealth true, which Route 53 refuses; set it to false`,
              ]
            : [],
        ),
      source:
        'Route 53 API Reference, AliasTarget, EvaluateTargetHealth: "If the AliasTarget element is a CloudFront distribution ... you can\'t set EvaluateTargetHealth to true"',
    },
  ],
};

/** Every way `inputs` of a resource of `type` break its type's input rules, with each rule. */
export function inputProblems(
  type: string,
  inputs: Readonly<Record<string, unknown>>,
): { readonly rule: InputRule; readonly problems: readonly string[] }[] {
  return (INPUT_RULES[type] ?? [])
    .map((rule) => ({ rule, problems: rule.problems(inputs) }))
    .filter((r) => r.problems.length > 0);
}
