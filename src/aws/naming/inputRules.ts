/**
 * What AWS or the provider refuses in a resource's inputs besides its name: per type, each rule
 * reads the inputs as the fake cloud receives them (references resolved) and says every way they
 * break it. The fake cloud (src/testing/fakeCloud.ts) reports a broken rule like a refused name, so one
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

/**
 * Every way a pair of healthy percentages breaks the Auto Scaling API's rules for them, a group's
 * InstanceMaintenancePolicy ("policy") and an instance refresh's RefreshPreferences ("refresh"):
 * min 0-100, max 100-200, at most 100 apart; the policy needs both and takes -1 to clear itself, a
 * refresh's max needs its min.
 */
function healthyPercentageProblems(where: string, value: unknown, kind: "policy" | "refresh"): string[] {
  if (value === undefined || value === null) return [];
  const { minHealthyPercentage: min, maxHealthyPercentage: max } = value as Record<string, unknown>;
  if (min === undefined && max === undefined) return [];
  if (min === undefined || (max === undefined && kind === "policy"))
    return [
      `${where} sets ${min === undefined ? "maxHealthyPercentage without minHealthyPercentage" : "minHealthyPercentage without maxHealthyPercentage"}; give both`,
    ];
  const clearable = kind === "policy";
  const problems: string[] = [];
  const cleared = (x: unknown) => clearable && x === -1;
  const within = (x: unknown, lo: number, hi: number) =>
    cleared(x) || (typeof x === "number" && Number.isInteger(x) && x >= lo && x <= hi);
  const clear = clearable ? " (or -1 to clear the policy)" : "";
  if (!within(min, 0, 100))
    problems.push(`${where}.minHealthyPercentage is ${String(min)}: it must be a whole number 0-100${clear}`);
  if (max !== undefined && !within(max, 100, 200))
    problems.push(
      `${where}.maxHealthyPercentage is ${String(max)}: it must be a whole number 100-200${clear}`,
    );
  if (
    problems.length === 0 &&
    max !== undefined &&
    !cleared(min) &&
    !cleared(max) &&
    (max as number) - (min as number) > 100
  )
    problems.push(
      `${where} has maxHealthyPercentage ${String(max)} and minHealthyPercentage ${String(min)}, more than 100 apart`,
    );
  return problems;
}

export const INPUT_RULES: Readonly<Record<string, readonly InputRule[]>> = {
  "aws:autoscaling/group:Group": [
    {
      property: "instanceMaintenancePolicy",
      problems: (inputs) =>
        healthyPercentageProblems("instanceMaintenancePolicy", inputs["instanceMaintenancePolicy"], "policy"),
      source:
        'Auto Scaling API Reference, InstanceMaintenancePolicy: MinHealthyPercentage "Value range is 0 to 100", MaxHealthyPercentage "Value range is 100 to 200. To clear a previously set value, specify a value of -1. Both MinHealthyPercentage and MaxHealthyPercentage must be specified, and the difference between them cannot be greater than 100"',
    },
    {
      property: "instanceRefresh.preferences",
      problems: (inputs) =>
        healthyPercentageProblems(
          "instanceRefresh.preferences",
          (inputs["instanceRefresh"] as { preferences?: unknown } | undefined)?.preferences,
          "refresh",
        ),
      source:
        'Auto Scaling API Reference, RefreshPreferences, MaxHealthyPercentage: "Value range is 100 to 200. If you specify MaxHealthyPercentage, you must also specify MinHealthyPercentage, and the difference between them cannot be greater than 100"',
    },
  ],
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
