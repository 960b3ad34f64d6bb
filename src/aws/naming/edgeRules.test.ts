/**
 * The fake cloud refuses what CloudFront and ELB refuse in a CloudFront Function, a distribution's
 * function associations and an ALB listener rule (./edgeRules.ts), each with its source, and takes
 * what AWS takes.
 */
import * as aws from "@pulumi/aws";
import { NameRefusedError } from "../../testing/mocks";
import { declareUnderMocks } from "../../../test/helpers";
import { CLOUDFRONT_FUNCTION_MAX_BYTES } from "./edgeRules";
import { nameProblems, NAMING_RULES, type NamingRule } from "./index";

const LISTENER =
  "arn:aws:elasticloadbalancing:us-east-1:123456789012:listener/app/a/0123456789abcdef/fedcba9876543210";
const CODE = "function handler(event) { return event.request; }";
const fn = (name: string, args: Partial<aws.cloudfront.FunctionArgs> = {}) =>
  new aws.cloudfront.Function(name, { runtime: "cloudfront-js-2.0", code: CODE, ...args });
const rule = (name: string, args: Partial<aws.lb.ListenerRuleArgs> = {}) =>
  new aws.lb.ListenerRule(name, {
    listenerArn: LISTENER,
    priority: 20,
    conditions: [{ pathPattern: { values: ["/system/*"] } }],
    actions: [{ type: "redirect", redirect: { host: "media.example", statusCode: "HTTP_301" } }],
    ...args,
  });
const behavior = (functionAssociations: { eventType: string; functionArn: string }[]) => ({
  targetOriginId: "o",
  viewerProtocolPolicy: "redirect-to-https",
  allowedMethods: ["GET", "HEAD"],
  cachedMethods: ["GET", "HEAD"],
  functionAssociations,
});
const distribution = (name: string, associations: { eventType: string; functionArn: string }[]) =>
  new aws.cloudfront.Distribution(name, {
    enabled: true,
    origins: [{ originId: "o", domainName: "b.s3.us-east-1.amazonaws.com" }],
    defaultCacheBehavior: behavior([]),
    orderedCacheBehaviors: [{ pathPattern: "/system/*", ...behavior(associations) }],
    restrictions: { geoRestriction: { restrictionType: "none" } },
    viewerCertificate: { cloudfrontDefaultCertificate: true },
  });

test("a CloudFront Function's name: 1-64 of letters, digits, _ and -, unique in the account", () => {
  const rule = NAMING_RULES["aws:cloudfront/function:Function"] as NamingRule;
  expect(rule.scope).toBe("account");
  expect(nameProblems(rule, "mastodon-media-system-paths-0a1b2c3")).toEqual([]);
  expect(nameProblems(rule, "x".repeat(65))).toEqual(["is 65 characters, over the maximum 64"]);
  expect(nameProblems(rule, "media.paths")).toEqual(["has characters outside letters, digits, _ and -"]);
});

test("what AWS takes passes: a published cloudfront-js-2.0 function at viewer request, a redirect rule", async () => {
  const run = await declareUnderMocks(() => {
    const f = fn("paths", { publish: true });
    distribution("cdn", [
      { eventType: "viewer-request", functionArn: "arn:aws:cloudfront::123456789012:function/f" },
    ]);
    rule("system", {
      actions: [
        {
          type: "redirect",
          redirect: {
            host: "m.example",
            statusCode: "HTTP_301",
            path: "/#{path}",
            port: "443",
            protocol: "HTTPS",
          },
        },
      ],
    });
    rule("streaming", { priority: 10 });
    void f;
  });
  const answered = run.resources.find((r) => r.type === "aws:cloudfront/function:Function");
  expect(answered?.name).toBe("paths");
});

test("each broken function, association and listener rule is refused with its reason and source", async () => {
  const error = (await declareUnderMocks(() => {
    fn("old-runtime", { runtime: "nodejs18.x" });
    fn("too-big", { code: `${CODE}\n//${"x".repeat(CLOUDFRONT_FUNCTION_MAX_BYTES)}` });
    fn("empty", { code: "" });
    fn("long-comment", { comment: "c".repeat(129) });
    distribution("origin-event", [{ eventType: "origin-request", functionArn: "arn:f" }]);
    distribution("twice", [
      { eventType: "viewer-request", functionArn: "arn:f" },
      { eventType: "viewer-request", functionArn: "arn:g" },
    ]);
    rule("zero", { priority: 0 });
    rule("first");
    rule("clash");
    rule("many-values", {
      priority: 30,
      conditions: [
        { pathPattern: { values: ["/a", "/b", "/c"] } },
        { hostHeader: { values: ["a.example", "b.example", "c.example"] } },
      ],
    });
    rule("bad-path", {
      priority: 40,
      conditions: [{ pathPattern: { values: ["/system/<script>", "x".repeat(129)] } }],
    });
    rule("no-condition", { priority: 50, conditions: [] });
    rule("temporary", {
      priority: 60,
      actions: [
        {
          type: "redirect",
          redirect: { host: "m.example", statusCode: "HTTP_307", path: "system", port: "0" },
        },
      ],
    });
  }).catch((e: unknown) => e)) as NameRefusedError;
  expect(error).toBeInstanceOf(NameRefusedError);
  const by = (resource: string) =>
    error.refusals.filter((r) => r.resource === resource).flatMap((r) => r.problems);
  expect(by("old-runtime")).toEqual([
    'runtime is "nodejs18.x": it must be one of cloudfront-js-1.0, cloudfront-js-2.0',
  ]);
  expect(by("too-big")).toEqual([
    `code is ${CODE.length + 3 + CLOUDFRONT_FUNCTION_MAX_BYTES} bytes: a function holds 1 to 10240 bytes`,
  ]);
  expect(by("empty")).toEqual(["code is 0 bytes: a function holds 1 to 10240 bytes"]);
  expect(by("long-comment")).toEqual(["comment is 129 characters, over the maximum 128"]);
  expect(by("origin-event")).toEqual([
    'orderedCacheBehaviors[0].functionAssociations has eventType "origin-request": a CloudFront Function runs at viewer-request or viewer-response',
  ]);
  expect(by("twice")).toEqual([
    "orderedCacheBehaviors[0].functionAssociations has two functions at viewer-request; one per event type",
  ]);
  expect(by("zero")).toEqual(["priority is 0: it must be a whole number 1-50000"]);
  expect(by("first")).toEqual([]);
  expect(by("clash")).toEqual(["priority 20 is already held by first on the same listener (PriorityInUse)"]);
  expect(by("many-values")).toEqual(["conditions hold 6 values, over the 5 a rule takes"]);
  expect(by("bad-path")).toEqual([
    'pathPattern value "/system/<script>" is not 1-128 of A-Z a-z 0-9 _ - . $ / ~ " \' @ : + & * ?',
    `pathPattern value "${"x".repeat(129)}" is not 1-128 of A-Z a-z 0-9 _ - . $ / ~ " ' @ : + & * ?`,
  ]);
  expect(by("no-condition")).toEqual(["conditions is empty: a rule needs at least one condition"]);
  expect(by("temporary")).toEqual([
    'actions[0].redirect.statusCode is "HTTP_307": it must be HTTP_301 or HTTP_302',
    'actions[0].redirect.port is "0": it must be 1-65535 or #{port}',
    'actions[0].redirect.path is "system": it must begin with "/"',
  ]);
  // Every refusal names its source.
  expect(error.refusals.every((r) => r.source.length > 20)).toBe(true);
});
