/**
 * The edge in the fake cloud's tables, beyond names AWS assigns: how a CloudFront Function is named
 * (and autonamed), and what AWS and the provider refuse in a function, in a distribution's function
 * associations and in an ALB listener rule. Each rule cites its source.
 */
import { DEFAULT_AUTONAME, type InputRule, type NamingRule } from "./types";

export const EDGE_NAMING_RULES: Readonly<Record<string, NamingRule | null>> = {
  "aws:cloudfront/function:Function": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 64,
    pattern: /^[A-Za-z0-9_-]+$/,
    charset: "letters, digits, _ and -",
    scope: "account",
    source:
      'pulumi-aws provider/autonaming.go setAutonaming (maxLength 255, "-": no override for aws_cloudfront_function in resource_overrides.go); CloudFront API Reference, CreateFunction Name: ^[a-zA-Z0-9-_]{1,64}$, unique per account (FunctionAlreadyExists)',
  },
};

/** CloudFront API Reference, FunctionConfig, Runtime: valid values. */
export const CLOUDFRONT_FUNCTION_RUNTIMES = ["cloudfront-js-1.0", "cloudfront-js-2.0"] as const;
/** Amazon CloudFront Developer Guide, "Quotas on CloudFront Functions": maximum function size, 10 KB. */
export const CLOUDFRONT_FUNCTION_MAX_BYTES = 10 * 1024;
/** The event types a CloudFront Function runs at (CloudFront API Reference, FunctionAssociation, EventType). */
export const CLOUDFRONT_FUNCTION_EVENTS = ["viewer-request", "viewer-response"] as const;

/** Elastic Load Balancing API Reference, CreateRule, Priority: 1-50000. */
export const LISTENER_RULE_PRIORITY = { min: 1, max: 50000 } as const;
/** Elastic Load Balancing, "Quotas for your Application Load Balancers": condition values per rule. */
export const LISTENER_RULE_CONDITION_VALUES = 5;
/** Path conditions: up to 128 characters of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & and the wildcards * ? */
const PATH_PATTERN = /^[A-Za-z0-9_.$/~"'@:+&*?-]{1,128}$/;
/** A forward action's target groups at most (Elastic Load Balancing API Reference, ForwardActionConfig). */
const FORWARD_TARGET_GROUPS = 5;

type Inputs = Readonly<Record<string, unknown>>;
const list = (value: unknown): Record<string, unknown>[] =>
  Array.isArray(value) ? (value as Record<string, unknown>[]) : [];
const values = (condition: Record<string, unknown>): unknown[] =>
  Object.values(condition).flatMap((c) =>
    c && typeof c === "object" ? list((c as Record<string, unknown>)["values"]) : [],
  );

/** The behaviors of a distribution: the default one, then the ordered ones, with where they are. */
function behaviors(inputs: Inputs): [string, Record<string, unknown>][] {
  const byDefault = inputs["defaultCacheBehavior"] as Record<string, unknown> | undefined;
  return [
    ...(byDefault ? [["defaultCacheBehavior", byDefault] as [string, Record<string, unknown>]] : []),
    ...list(inputs["orderedCacheBehaviors"]).map(
      (b, i) => [`orderedCacheBehaviors[${i}]`, b] as [string, Record<string, unknown>],
    ),
  ];
}

/** A redirect action's fields against CreateRule's RedirectActionConfig. */
function redirectProblems(where: string, redirect: Record<string, unknown>): string[] {
  const problems: string[] = [];
  const { statusCode, protocol, port, path } = redirect;
  if (statusCode !== "HTTP_301" && statusCode !== "HTTP_302")
    problems.push(`${where}.statusCode is ${JSON.stringify(statusCode)}: it must be HTTP_301 or HTTP_302`);
  if (protocol !== undefined && !["HTTP", "HTTPS", "#{protocol}"].includes(String(protocol)))
    problems.push(`${where}.protocol is ${JSON.stringify(protocol)}: it must be HTTP, HTTPS or #{protocol}`);
  const portNumber = Number(port);
  if (
    port !== undefined &&
    port !== "#{port}" &&
    !(Number.isInteger(portNumber) && portNumber >= 1 && portNumber <= 65535)
  )
    problems.push(`${where}.port is ${JSON.stringify(port)}: it must be 1-65535 or #{port}`);
  if (path !== undefined && !String(path).startsWith("/"))
    problems.push(`${where}.path is ${JSON.stringify(path)}: it must begin with "/"`);
  return problems;
}

export const EDGE_INPUT_RULES: Readonly<Record<string, readonly InputRule[]>> = {
  "aws:cloudfront/function:Function": [
    {
      property: "runtime",
      problems: (inputs) =>
        (CLOUDFRONT_FUNCTION_RUNTIMES as readonly unknown[]).includes(inputs["runtime"])
          ? []
          : [
              `runtime is ${JSON.stringify(inputs["runtime"])}: it must be one of ${CLOUDFRONT_FUNCTION_RUNTIMES.join(", ")}`,
            ],
      source:
        "CloudFront API Reference, CreateFunction, FunctionConfig Runtime: cloudfront-js-1.0 | cloudfront-js-2.0",
    },
    {
      property: "code",
      problems: (inputs) => {
        const bytes = Buffer.byteLength(String(inputs["code"] ?? ""), "utf8");
        return bytes >= 1 && bytes <= CLOUDFRONT_FUNCTION_MAX_BYTES
          ? []
          : [`code is ${bytes} bytes: a function holds 1 to ${CLOUDFRONT_FUNCTION_MAX_BYTES} bytes`];
      },
      source:
        'Amazon CloudFront Developer Guide, "Quotas on CloudFront Functions": maximum function size 10 KB (FunctionSizeLimitExceeded)',
    },
    {
      property: "comment",
      problems: (inputs) =>
        String(inputs["comment"] ?? "").length > 128
          ? [`comment is ${String(inputs["comment"]).length} characters, over the maximum 128`]
          : [],
      source:
        "CloudFront API Reference, FunctionConfig, Comment (a string); its bound is terraform-provider-aws's, internal/service/cloudfront/function.go comment: StringLenBetween(0, 128)",
    },
  ],
  "aws:cloudfront/distribution:Distribution": [
    {
      property: "functionAssociations",
      problems: (inputs) =>
        behaviors(inputs).flatMap(([where, behavior]) => {
          const associations = list(behavior["functionAssociations"]);
          const events = associations.map((a) => a["eventType"]);
          return [
            ...events
              .filter((e) => !(CLOUDFRONT_FUNCTION_EVENTS as readonly unknown[]).includes(e))
              .map(
                (e) =>
                  `${where}.functionAssociations has eventType ${JSON.stringify(e)}: a CloudFront Function runs at ${CLOUDFRONT_FUNCTION_EVENTS.join(" or ")}`,
              ),
            ...events
              .filter((e, i) => events.indexOf(e) !== i)
              .map(
                (e) => `${where}.functionAssociations has two functions at ${String(e)}; one per event type`,
              ),
            ...associations
              .filter((a) => typeof a["functionArn"] !== "string" || !a["functionArn"])
              .map(() => `${where}.functionAssociations has an association without a functionArn`),
          ];
        }),
      source:
        'CloudFront API Reference, FunctionAssociation: EventType "viewer-request | viewer-response ... origin-request | origin-response" (CloudFront Functions run at viewer events only), one function per event type and cache behavior',
    },
  ],
  "aws:lb/listenerRule:ListenerRule": [
    {
      property: "priority",
      problems: (inputs) => {
        const p = inputs["priority"];
        const { min, max } = LISTENER_RULE_PRIORITY;
        return typeof p === "number" && Number.isInteger(p) && p >= min && p <= max
          ? []
          : [`priority is ${JSON.stringify(p)}: it must be a whole number ${min}-${max}`];
      },
      source: "Elastic Load Balancing API Reference, CreateRule, Priority: Valid Range 1-50000",
    },
    {
      property: "conditions",
      problems: (inputs) => {
        const conditions = list(inputs["conditions"]);
        const all = conditions.flatMap(values);
        const paths = conditions.flatMap((c) =>
          list((c["pathPattern"] as Record<string, unknown> | undefined)?.["values"]),
        );
        return [
          ...(conditions.length === 0 ? ["conditions is empty: a rule needs at least one condition"] : []),
          ...(all.length > LISTENER_RULE_CONDITION_VALUES
            ? [
                `conditions hold ${all.length} values, over the ${LISTENER_RULE_CONDITION_VALUES} a rule takes`,
              ]
            : []),
          ...(conditions.filter((c) => c["pathPattern"]).length > 1
            ? ["conditions hold more than one pathPattern condition; a rule takes one"]
            : []),
          ...paths
            .filter((v) => typeof v !== "string" || !PATH_PATTERN.test(v))
            .map(
              (v) =>
                `pathPattern value ${JSON.stringify(v)} is not 1-128 of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?`,
            ),
        ];
      },
      source:
        'Elastic Load Balancing User Guide for Application Load Balancers, "Condition types for listener rules" (zero or one path-pattern condition per rule; path patterns up to 128 characters of A-Z, a-z, 0-9, _ - . $ / ~ " \' @ : + &, * and ?) and "Quotas for your Application Load Balancers" (condition values per rule: 5)',
    },
    {
      property: "actions",
      problems: (inputs) =>
        list(inputs["actions"]).flatMap((action, i) => {
          const where = `actions[${i}]`;
          if (action["type"] === "redirect")
            return redirectProblems(
              `${where}.redirect`,
              (action["redirect"] as Record<string, unknown> | undefined) ?? {},
            );
          const groups = list((action["forward"] as Record<string, unknown> | undefined)?.["targetGroups"]);
          return groups.length > FORWARD_TARGET_GROUPS
            ? [
                `${where}.forward has ${groups.length} target groups, over the ${FORWARD_TARGET_GROUPS} it takes`,
              ]
            : [];
        }),
      source:
        "Elastic Load Balancing API Reference, RedirectActionConfig (StatusCode HTTP_301 | HTTP_302; Protocol HTTP, HTTPS or #{protocol}; Port 1-65535 or #{port}; Path begins with /) and ForwardActionConfig (up to 5 target groups)",
    },
  ],
};
