/**
 * The ALB under Pulumi's mocks: routing (both streaming anchors, every streaming port), health
 * checks, the redirect and TLS, its hardening, and its access logs' bucket; then the component on
 * its own over plain ids, branch by branch.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { FAKE_ACCOUNT } from "../testing/fakeCloud";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import { LoadBalancer, type LoadBalancerArgs } from "./loadBalancer";
import {
  ALL_PUBLIC_ACCESS_BLOCKED,
  STACKS,
  all,
  arnOf,
  find,
  idOf,
  resolve,
  runStack,
  stackConfig,
  stateOf,
} from "../../test/helpers";

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

describe("LoadBalancer on its own", () => {
  const OPTIONS = { project: "p", stack: "s", config: { "aws:region": "eu-west-1" } };
  const ALB = "aws:lb/loadBalancer:LoadBalancer";
  const RULE = "aws:lb/listenerRule:ListenerRule";
  const VALIDATION = "aws:acm/certificateValidation:CertificateValidation";
  const RECORD = "aws:route53/record:Record";
  /** The fewest args: plain ids, a web domain and the zone its certificate is validated in. */
  const minimal = (): LoadBalancerArgs => ({
    vpcId: "vpc-0a1b2c3d",
    publicSubnetIds: ["subnet-a", "subnet-b"],
    securityGroupId: "sg-alb",
    webDomain: "social.example.org",
    zoneId: "Z0123456789TEST",
  });
  /**
   * A refused program leaves the component's own registration in flight: let it land before
   * rethrowing, so nothing of this run is still pending when the test file ends.
   */
  const settled = async (error: unknown): Promise<never> => {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    throw error;
  };
  /** WHEN: a program that builds this one LoadBalancer runs under the mocks. */
  const alone = async (args: LoadBalancerArgs, name = "edge", opts?: pulumi.ComponentResourceOptions) => {
    let lb: LoadBalancer | undefined;
    const run = await runUnderMocks(() => {
      lb = new LoadBalancer(name, args, opts);
      return {};
    }, OPTIONS).catch(settled);
    return { run, lb: lb as LoadBalancer };
  };
  const types = (run: MockRun) => run.resources.filter((r) => r.custom).map((r) => r.type);
  /** Pulumi's own record of a resource's `protect` option (the mock monitor is not handed it). */
  const isProtected = (resource: pulumi.Resource) =>
    (resource as unknown as { __protect?: boolean }).__protect === true;

  test("GIVEN the minimal args, THEN it declares the ALB, web and one streaming target group, two listeners, the streaming rule and a validated certificate, and no bucket", async () => {
    const { run } = await alone(minimal());
    expect(types(run).sort()).toEqual(
      [ALB, TARGET_GROUP, TARGET_GROUP, LISTENER, LISTENER, RULE, CERTIFICATE, RECORD, VALIDATION].sort(),
    );
    // Every resource is the component's child: nothing leaks to the stack's top level.
    expect(run.resources.filter((r) => r.custom).every((r) => r.parent === "edge")).toBe(true);
  });

  test("GIVEN the minimal args, THEN HTTP on 80 only redirects to HTTPS (301), and HTTPS on 443 uses the TLS 1.3 policy with the validated certificate and forwards to web", async () => {
    const { run } = await alone(minimal());
    const http = find(run, LISTENER, "edge-http").inputs;
    expect(http).toEqual({
      loadBalancerArn: arnOf(run, ALB, "edge-alb"),
      port: 80,
      protocol: "HTTP",
      defaultActions: [
        { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
      ],
    });
    const https = find(run, LISTENER, "edge-https").inputs;
    expect(https).toEqual({
      loadBalancerArn: arnOf(run, ALB, "edge-alb"),
      port: 443,
      protocol: "HTTPS",
      sslPolicy: "ELBSecurityPolicy-TLS13-1-2-2021-06",
      certificateArn: arnOf(run, CERTIFICATE, "edge-cert"),
      defaultActions: [{ type: "forward", targetGroupArn: arnOf(run, TARGET_GROUP, "edge-web") }],
    });
  });

  test("GIVEN no certificateArn, THEN a certificate for the web domain is requested in the stack's region and validated by a record in zoneId", async () => {
    const { run } = await alone(minimal());
    const cert = find(run, CERTIFICATE, "edge-cert");
    expect(cert.inputs).toEqual({
      domainName: "social.example.org",
      validationMethod: "DNS",
      keyAlgorithm: "EC_prime256v1",
    });
    expect(cert.provider).toBeNull();
    expect(cert.arn).toMatch(/^arn:aws:acm:eu-west-1:/);
    const acm = stateOf(run, CERTIFICATE, "edge-cert")["domainValidationOptions"][0];
    const record = find(run, RECORD, "edge-cert-validation").inputs;
    expect(record).toMatchObject({
      zoneId: "Z0123456789TEST",
      name: acm.resourceRecordName,
      type: acm.resourceRecordType,
      records: [acm.resourceRecordValue],
    });
    expect(find(run, VALIDATION, "edge-cert").inputs).toEqual({
      certificateArn: cert.arn,
      validationRecordFqdns: [stateOf(run, RECORD, "edge-cert-validation")["fqdn"]],
    });
  });

  test("GIVEN a certificateArn and no zoneId, THEN no certificate or record is declared and HTTPS serves the given certificate", async () => {
    const given = "arn:aws:acm:eu-west-1:123456789012:certificate/00000000-0000-4000-8000-000000000001";
    const args = minimal();
    delete args.zoneId;
    const { run, lb } = await alone({ ...args, certificateArn: given });
    expect(all(run, CERTIFICATE)).toEqual([]);
    expect(all(run, VALIDATION)).toEqual([]);
    expect(all(run, RECORD)).toEqual([]);
    expect(find(run, LISTENER, "edge-https").inputs["certificateArn"]).toBe(given);
    expect(await resolve(lb.certificateArn)).toBe(given);
  });

  test("GIVEN three streaming ports, THEN WebSocket paths on the HTTPS listener go to one target group per port, weighted equally, each health-checked on its own port", async () => {
    const { run, lb } = await alone({ ...minimal(), streamingPorts: [4000, 4001, 4002] });
    const rule = find(run, RULE, "edge-streaming").inputs as any;
    expect(rule.listenerArn).toBe(arnOf(run, LISTENER, "edge-https"));
    expect(rule.conditions).toEqual([
      { pathPattern: { values: ["/api/v1/streaming", "/api/v1/streaming/*"] } },
    ]);
    expect(rule.actions).toEqual([
      {
        type: "forward",
        forward: {
          targetGroups: [4000, 4001, 4002].map((p) => ({
            arn: arnOf(run, TARGET_GROUP, `edge-stream-${p}`),
            weight: 1,
          })),
        },
      },
    ]);
    for (const port of [4000, 4001, 4002]) {
      expect(find(run, TARGET_GROUP, `edge-stream-${port}`).inputs).toMatchObject({
        vpcId: "vpc-0a1b2c3d",
        port,
        protocol: "HTTP",
        targetType: "instance",
        loadBalancingAlgorithmType: "round_robin",
        healthCheck: { path: "/api/v1/streaming/health", port: "traffic-port", matcher: "200" },
      });
    }
    // The component's handles are the declared groups, in port order.
    expect(await Promise.all(lb.streamingTargetGroups.map((tg) => resolve(tg.port)))).toEqual([
      4000, 4001, 4002,
    ]);
    expect(all(run, RULE)).toHaveLength(1);
  });

  test("GIVEN no streamingPorts, THEN one streaming target group on 4000, and Puma's group on 3000 with /health and least outstanding requests", async () => {
    const { run } = await alone(minimal());
    expect(all(run, TARGET_GROUP).map((tg) => tg.name)).toEqual(["edge-web", "edge-stream-4000"]);
    expect(find(run, TARGET_GROUP, "edge-web").inputs).toMatchObject({
      vpcId: "vpc-0a1b2c3d",
      port: 3000,
      protocol: "HTTP",
      loadBalancingAlgorithmType: "least_outstanding_requests",
      deregistrationDelay: 30,
      healthCheck: { path: "/health", port: "traffic-port", protocol: "HTTP", matcher: "200" },
    });
  });

  test("GIVEN the minimal args, THEN the ALB is internet-facing in the given subnets and group, drops invalid headers, IPv4 only, 60 s idle, no deletion protection", async () => {
    const { run, lb } = await alone(minimal());
    expect(find(run, ALB, "edge-alb").inputs).toMatchObject({
      loadBalancerType: "application",
      internal: false,
      subnets: ["subnet-a", "subnet-b"],
      securityGroups: ["sg-alb"],
      ipAddressType: "ipv4",
      idleTimeout: 60,
      dropInvalidHeaderFields: true,
      enableHttp2: true,
      enableDeletionProtection: false,
    });
    expect(find(run, ALB, "edge-alb").inputs["accessLogs"]).toBeUndefined();
    expect(isProtected(lb.alb)).toBe(false);
  });

  test("GIVEN dualStack and a 300 s idle timeout, THEN the ALB answers on IPv6 too and keeps idle connections 300 s", async () => {
    const { run } = await alone({ ...minimal(), dualStack: true, idleTimeoutSeconds: 300 });
    expect(find(run, ALB, "edge-alb").inputs).toMatchObject({ ipAddressType: "dualstack", idleTimeout: 300 });
  });

  test("GIVEN deletionProtection, THEN AWS refuses deleting the ALB and Pulumi protects it", async () => {
    const { run, lb } = await alone({ ...minimal(), deletionProtection: true });
    expect(find(run, ALB, "edge-alb").inputs["enableDeletionProtection"]).toBe(true);
    expect(isProtected(lb.alb)).toBe(true);
  });

  // An explicit `protect: false` on the ALB would override what a child inherits from its parent: a
  // caller protecting the component (or a MastodonStack around it) must get the ALB protected too.
  test("GIVEN the component itself protected (opts.protect) and no deletionProtection, THEN its ALB is protected like its other children", async () => {
    const { lb } = await alone(minimal(), "edge", { protect: true });
    expect(isProtected(lb.webTargetGroup)).toBe(true);
    expect(isProtected(lb.httpsListener)).toBe(true);
    expect(isProtected(lb.alb)).toBe(true);
  });

  test("GIVEN accessLogs, THEN the ALB logs under its own name's prefix to a private, encrypted bucket only the ELB log writers may write to, expiring after 90 days", async () => {
    const { run } = await alone({ ...minimal(), accessLogs: true });
    const bucket = find(run, BUCKET, "edge-logs");
    expect(find(run, ALB, "edge-alb").inputs["accessLogs"]).toEqual({
      bucket: bucket.id,
      prefix: "edge",
      enabled: true,
    });
    expect(find(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "edge-logs").inputs).toEqual({
      bucket: bucket.id,
      ...ALL_PUBLIC_ACCESS_BLOCKED,
    });
    expect(
      find(
        run,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "edge-logs",
      ).inputs["rules"],
    ).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }]);
    expect(
      find(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "edge-logs").inputs["rule"],
    ).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    const lifecycle = find(
      run,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "edge-logs",
    ).inputs["rules"] as any[];
    expect(lifecycle.find((r) => r.id === "expire")).toMatchObject({ expiration: { days: 90 } });

    const policy = JSON.parse(
      String(find(run, "aws:s3/bucketPolicy:BucketPolicy", "edge-logs").inputs["policy"]),
    );
    const allows = policy.Statement.filter((s: any) => s.Effect === "Allow");
    // Writes only, only under this ALB's prefix of this account: nothing to read, list or delete.
    for (const s of allows) {
      expect(s.Action).toBe("s3:PutObject");
      expect(s.Resource).toBe(`${bucket.arn}/edge/AWSLogs/${FAKE_ACCOUNT}/*`);
    }
    expect(allows.map((s: any) => s.Principal)).toEqual([
      { AWS: expect.stringMatching(/^arn:aws:iam::[0-9]{12}:root$/) },
      { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
    ]);
    expect(policy.Statement.filter((s: any) => s.Effect === "Deny")).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucket.arn, `${bucket.arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  test("GIVEN no accessLogs, THEN no bucket or bucket policy is declared", async () => {
    const { run } = await alone(minimal());
    expect(run.resources.filter((r) => r.type.startsWith("aws:s3/"))).toEqual([]);
  });

  test("WHEN it runs, THEN its outputs are the ALB's DNS name and canonical zone (for alias records) and the certificate HTTPS serves", async () => {
    const { run, lb } = await alone(minimal());
    const alb = stateOf(run, ALB, "edge-alb");
    expect(await resolve(lb.dnsName)).toBe(alb["dnsName"]);
    expect(await resolve(lb.zoneId)).toBe(alb["zoneId"]);
    expect(await resolve(lb.certificateArn)).toBe(arnOf(run, CERTIFICATE, "edge-cert"));
    expect(await resolve(lb.httpsListener.arn)).toBe(arnOf(run, LISTENER, "edge-https"));
  });

  test("GIVEN two instances, even with long names that share a prefix, THEN every logical and physical name is distinct and fits the ELB limit of 32", async () => {
    const long = "mastodon-production-edge-load-balancer";
    const run = await runUnderMocks(() => {
      for (const name of ["blue", "green", `${long}-one`, `${long}-two`])
        new LoadBalancer(name, { ...minimal(), accessLogs: true, streamingPorts: [4000, 4001] });
      return {};
    }, OPTIONS);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    const elbNames = [...all(run, ALB), ...all(run, TARGET_GROUP)].map((r) => String(r.inputs["name"]));
    expect(elbNames).toHaveLength(4 * 4);
    expect(new Set(elbNames).size).toBe(elbNames.length);
    for (const n of elbNames) expect(n.length).toBeLessThanOrEqual(32);
    const buckets = all(run, BUCKET).map((b) => String(b.inputs["bucket"]));
    expect(new Set(buckets).size).toBe(4);
    // Each ALB logs under its own prefix.
    expect(all(run, ALB).map((a) => (a.inputs["accessLogs"] as any).prefix)).toEqual([
      "blue",
      "green",
      `${long}-one`,
      `${long}-two`,
    ]);
  });

  test("GIVEN no streaming port or six of them, THEN it refuses: a forward action takes 1 to 5 target groups", async () => {
    for (const streamingPorts of [[], [4000, 4001, 4002, 4003, 4004, 4005]])
      await expect(alone({ ...minimal(), streamingPorts })).rejects.toThrow(
        `edge: 1 to 5 streaming ports, not ${streamingPorts.length} (a forward action takes 5 target groups)`,
      );
    await expect(
      alone({ ...minimal(), streamingPorts: [4000, 4001, 4002, 4003, 4004] }),
    ).resolves.toBeDefined();
  });

  test("GIVEN neither certificateArn nor zoneId, THEN it refuses: no way to get a certificate", async () => {
    const args = minimal();
    delete args.zoneId;
    await expect(alone(args)).rejects.toThrow(
      "edge: without certificateArn, a zoneId is needed to validate a certificate",
    );
  });
});
