/**
 * The ALB under Pulumi's mocks: routing (both streaming anchors, every streaming port), health
 * checks, the redirect and TLS, its hardening, and its access logs' bucket.
 */
import { parseStackConfig } from "../config";
import { STACKS, all, arnOf, find, idOf, runStack, stackConfig } from "../../test/helpers";

const LISTENER = "aws:lb/listener:Listener";
const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const BUCKET = "aws:s3/bucket:Bucket";
const CERTIFICATE = "aws:acm/certificate:Certificate";

describe.each(STACKS)("stack %s", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack), stack);
  const production = config.environment === "production";
  const ports = config.fleets.find((f) => f.streaming)?.streaming?.ports ?? [];
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("the streaming rule matches both anchors and forwards to one target group per port", () => {
    const rule = find(run, "aws:lb/listenerRule:ListenerRule").inputs as any;
    expect(rule.listenerArn).toBe(arnOf(run, LISTENER, "mastodon-lb-https"));
    expect(rule.conditions).toEqual([
      { pathPattern: { values: ["/api/v1/streaming", "/api/v1/streaming/*"] } },
    ]);
    expect(rule.actions[0].forward.targetGroups).toEqual(
      ports.map((p) => ({ arn: arnOf(run, TARGET_GROUP, `mastodon-lb-stream-${p}`), weight: 1 })),
    );
  });

  test("health checks: Puma's /health on 3000, the streaming health path on each port", () => {
    expect(find(run, TARGET_GROUP, "mastodon-lb-web").inputs).toMatchObject({
      port: 3000,
      protocol: "HTTP",
      healthCheck: { path: "/health", matcher: "200", port: "traffic-port" },
    });
    for (const port of ports) {
      expect(find(run, TARGET_GROUP, `mastodon-lb-stream-${port}`).inputs).toMatchObject({
        port,
        healthCheck: { path: "/api/v1/streaming/health", matcher: "200" },
      });
    }
    expect(all(run, TARGET_GROUP)).toHaveLength(1 + ports.length);
  });

  test("HTTP redirects to HTTPS; HTTPS uses the TLS 1.3 policy and forwards to web by default", () => {
    expect(find(run, LISTENER, "mastodon-lb-http").inputs).toMatchObject({
      port: 80,
      defaultActions: [
        { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
      ],
    });
    const https = find(run, LISTENER, "mastodon-lb-https").inputs;
    expect(https).toMatchObject({
      port: 443,
      protocol: "HTTPS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      defaultActions: [{ type: "forward", targetGroupArn: arnOf(run, TARGET_GROUP, "mastodon-lb-web") }],
    });
    // A configured ARN is used as is; otherwise the DNS-validated certificate's.
    expect(https["certificateArn"]).toBe(
      config.loadBalancer.certificateArn ?? arnOf(run, CERTIFICATE, "mastodon-lb-cert"),
    );
  });

  test("the ALB drops invalid headers; production adds deletion protection and access logs", () => {
    const alb = find(run, "aws:lb/loadBalancer:LoadBalancer").inputs as any;
    expect(alb).toMatchObject({
      internal: false,
      dropInvalidHeaderFields: true,
      idleTimeout: config.loadBalancer.idleTimeoutSeconds,
      enableDeletionProtection: production,
      securityGroups: [idOf(run, "aws:ec2/securityGroup:SecurityGroup", "mastodon-network-alb")],
    });
    expect(alb.subnets).toHaveLength(config.network.availabilityZones);
    expect(Boolean(alb.accessLogs?.enabled)).toBe(production);
  });
});

test("the ALB's access logs go to a private bucket only the ELB log writers may write to", async () => {
  const run = await runStack("production");
  expect(
    find(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "mastodon-lb-logs").inputs[
      "blockPublicPolicy"
    ],
  ).toBe(true);
  const policy = JSON.parse(
    String(find(run, "aws:s3/bucketPolicy:BucketPolicy", "mastodon-lb-logs").inputs["policy"]),
  );
  const resource = `${arnOf(run, BUCKET, "mastodon-lb-logs")}/mastodon-lb/AWSLogs/123456789012/*`;
  expect(policy.Statement.slice(0, 2)).toEqual([
    {
      Sid: "ElbAccountWritesLogs",
      Effect: "Allow",
      Principal: { AWS: "arn:aws:iam::127311923021:root" },
      Action: "s3:PutObject",
      Resource: resource,
    },
    {
      Sid: "LogDeliveryWritesLogs",
      Effect: "Allow",
      Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: resource,
    },
  ]);
});
