/**
 * What AWS or the provider refuses in a resource's inputs besides its name: per type, each rule
 * reads the inputs as the fake cloud receives them (references resolved) and says every way they
 * break it. The fake cloud (src/testing/fakeCloud.ts) reports a broken rule like a refused name, so one
 * plan lists every refusal at once.
 */
import type { InputRule } from "./types";
import { EDGE_INPUT_RULES } from "./edgeRules";
import { WAF_INPUT_RULES } from "./wafRules";

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

/** A group's warm pool as the provider sends it to PutWarmPool (warm_pool in the Terraform provider). */
interface WarmPool {
  readonly poolState?: unknown;
  readonly minSize?: unknown;
  readonly maxGroupPreparedCapacity?: unknown;
}

const warmPoolOf = (inputs: Readonly<Record<string, unknown>>) =>
  (inputs["warmPool"] ?? undefined) as WarmPool | undefined;

/** PutWarmPool's pool states, spelled as the API takes them. */
const AWS_WARM_POOL_STATES = ["Stopped", "Running", "Hibernated"] as const;

/**
 * `warmPool.<key>` when set and not a whole number of at least `min`: PutWarmPool's integer
 * parameters (an unset one is the provider's default, 0 and -1, which AWS takes).
 */
function warmPoolIntegerProblems(
  inputs: Readonly<Record<string, unknown>>,
  key: "minSize" | "maxGroupPreparedCapacity",
  min: number,
  why: string,
): string[] {
  const value = warmPoolOf(inputs)?.[key];
  if (value === undefined || value === null) return [];
  return typeof value === "number" && Number.isInteger(value) && value >= min
    ? []
    : [`warmPool.${key} is ${JSON.stringify(value)}: it must be a whole number of at least ${min}${why}`];
}

/**
 * The warm pool of an Auto Scaling group (src/fleet/warmPool.ts declares it), as PutWarmPool takes
 * it. AWS documents no refusal of a maxGroupPreparedCapacity below minSize (the API Reference has
 * MinSize decide the pool then: "the capacity of the warm pool is 0, unless you specify a value
 * for MinSize"), so none is encoded here; nor the Spot refusal through a launch template's market
 * options, which a group's inputs do not show (the package asks for Spot only through a mixed
 * instances policy, src/fleet/fleet.ts).
 */
const WARM_POOL_RULES: readonly InputRule[] = [
  {
    property: "warmPool",
    problems: (inputs) =>
      warmPoolOf(inputs) && (inputs["mixedInstancesPolicy"] ?? undefined) !== undefined
        ? [
            "warmPool is set on a group with a mixedInstancesPolicy, which PutWarmPool refuses; remove the warm pool or the mixed instances policy (Spot)",
          ]
        : [],
    source:
      'Amazon EC2 Auto Scaling API Reference, PutWarmPool: "This operation cannot be called on an Auto Scaling group that has a mixed instances policy or a launch template or launch configuration that requests Spot Instances"; Amazon EC2 Auto Scaling User Guide, "Warm pools for Amazon EC2 Auto Scaling", Limitations: "You cannot add a warm pool to Auto Scaling groups that have a mixed instances policy or that launch Spot Instances"',
  },
  {
    property: "warmPool.poolState",
    problems: (inputs) => {
      const state = warmPoolOf(inputs)?.poolState;
      return state === undefined ||
        state === null ||
        (AWS_WARM_POOL_STATES as readonly unknown[]).includes(state)
        ? []
        : [
            `warmPool.poolState is ${JSON.stringify(state)}: it must be one of ${AWS_WARM_POOL_STATES.join(", ")}`,
          ];
    },
    source:
      'Amazon EC2 Auto Scaling API Reference, PutWarmPool and WarmPoolConfiguration, PoolState: "Valid Values: Stopped | Running | Hibernated"',
  },
  {
    property: "warmPool.minSize",
    problems: (inputs) => warmPoolIntegerProblems(inputs, "minSize", 0, ""),
    source:
      'Amazon EC2 Auto Scaling API Reference, PutWarmPool, MinSize: "Type: Integer ... Valid Range: Minimum value of 0"',
  },
  {
    property: "warmPool.maxGroupPreparedCapacity",
    problems: (inputs) =>
      warmPoolIntegerProblems(
        inputs,
        "maxGroupPreparedCapacity",
        -1,
        " (-1 clears it: the group's maxSize bounds the pool)",
      ),
    source:
      'Amazon EC2 Auto Scaling API Reference, PutWarmPool, MaxGroupPreparedCapacity: "Type: Integer ... Valid Range: Minimum value of -1" and "To remove a value that you previously set, include the property but specify -1 for the value"',
  },
];

export const INPUT_RULES: Readonly<Record<string, readonly InputRule[]>> = {
  ...WAF_INPUT_RULES,
  ...EDGE_INPUT_RULES,
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
    ...WARM_POOL_RULES,
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
