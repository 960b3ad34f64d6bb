/**
 * The edge under Pulumi's mocks: ALB routing (both streaming anchors, every streaming port),
 * health checks, redirect and TLS; media privacy through OAC; DNS; mail; the env they imply.
 */
import * as pulumi from "@pulumi/pulumi";
import { DnsRecords } from "./dnsRecords";
import { LoadBalancer } from "./loadBalancer";
import { Mail } from "../mail/mail";
import { MastodonStack } from "../stack/mastodonStack";
import { MediaStorage } from "../media/mediaStorage";
import { parseStackConfig } from "../config";
import { runUnderMocks } from "../testing/mocks";
import {
  STACKS,
  all,
  arnOf,
  find,
  idOf,
  nameOf,
  resolve,
  runStack,
  stackConfig,
  stateOf,
} from "../../test/helpers";

const LISTENER = "aws:lb/listener:Listener";
const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const RECORD = "aws:route53/record:Record";
const BUCKET = "aws:s3/bucket:Bucket";
const CERTIFICATE = "aws:acm/certificate:Certificate";
const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";

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

  test("the media bucket is private and only this distribution reads it", () => {
    expect(
      find(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "mastodon-media-bucket").inputs,
    ).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      find(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "mastodon-media-bucket").inputs,
    ).toMatchObject({
      rule: { objectOwnership: "BucketOwnerPreferred" },
    });
    expect(
      find(
        run,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "mastodon-media-bucket",
      ).inputs,
    ).toMatchObject({ rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }] });
    const lifecycle = find(
      run,
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "mastodon-media-bucket",
    ).inputs as any;
    expect(lifecycle.rules[0]).toMatchObject({ abortIncompleteMultipartUpload: { daysAfterInitiation: 7 } });

    const policy = JSON.parse(
      String(find(run, "aws:s3/bucketPolicy:BucketPolicy", "mastodon-media-bucket").inputs["policy"]),
    );
    expect(policy.Statement[0]).toEqual({
      Sid: "CloudFrontReadsThroughOAC",
      Effect: "Allow",
      Principal: { Service: "cloudfront.amazonaws.com" },
      Action: "s3:GetObject",
      Resource: `${arnOf(run, BUCKET, "mastodon-media-bucket")}/*`,
      Condition: {
        StringEquals: { "AWS:SourceArn": arnOf(run, DISTRIBUTION, "mastodon-media-cdn") },
      },
    });
    expect(policy.Statement[1]).toMatchObject({
      Effect: "Deny",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  test("CloudFront: OAC, HTTP/2 and HTTP/3, IPv6, HTTPS only, CORS for every origin", () => {
    const cdn = find(run, DISTRIBUTION).inputs as any;
    expect(cdn).toMatchObject({
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      origins: [
        {
          originAccessControlId: idOf(
            run,
            "aws:cloudfront/originAccessControl:OriginAccessControl",
            "mastodon-media-oac",
          ),
          domainName: stateOf(run, BUCKET, "mastodon-media-bucket")["bucketRegionalDomainName"],
        },
      ],
      defaultCacheBehavior: {
        viewerProtocolPolicy: "redirect-to-https",
        responseHeadersPolicyId: idOf(
          run,
          "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
          "mastodon-media-headers",
        ),
      },
    });
    expect(cdn.aliases ?? []).toEqual(config.media.customDomain ? [config.media.customDomain] : []);
    expect(find(run, "aws:cloudfront/originAccessControl:OriginAccessControl").inputs).toMatchObject({
      originAccessControlOriginType: "s3",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    });
    const headers = find(run, "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy").inputs as any;
    expect(headers.corsConfig).toMatchObject({
      accessControlAllowOrigins: { items: ["*"] },
      originOverride: true,
    });
  });

  test("DNS aliases point the web domain at the ALB and the media domain at CloudFront", () => {
    const aliases = all(run, RECORD).filter((r) => r.parent === "mastodon-dns");
    if (!config.dns) {
      expect(aliases).toEqual([]);
      return;
    }
    const byName = Object.fromEntries(
      aliases.map((r) => [`${r.inputs["name"]} ${r.inputs["type"]}`, (r.inputs["aliases"] as any[])[0]]),
    );
    const alb = stateOf(run, "aws:lb/loadBalancer:LoadBalancer", "mastodon-lb-alb");
    expect(byName[`${config.webDomain} A`]).toEqual({
      name: alb["dnsName"],
      zoneId: alb["zoneId"],
      evaluateTargetHealth: true,
    });
    if (config.media.customDomain) {
      const cdn = stateOf(run, DISTRIBUTION, "mastodon-media-cdn");
      for (const type of ["A", "AAAA"]) {
        // Route 53 refuses EvaluateTargetHealth on an alias to CloudFront (API Reference, AliasTarget).
        expect(byName[`${config.media.customDomain} ${type}`]).toEqual({
          name: cdn["domainName"],
          zoneId: cdn["hostedZoneId"],
          evaluateTargetHealth: false,
        });
      }
    }
    expect(aliases.every((r) => r.inputs["zoneId"] === config.dns?.zoneId)).toBe(true);
  });

  test("SES: a domain identity with DKIM records, and an SMTP user allowed only to send", () => {
    const IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity";
    expect(find(run, IDENTITY).inputs["emailIdentity"]).toBe(config.mail.fromAddress.split("@")[1]);
    const dkim = all(run, RECORD).filter((r) => r.parent === "mastodon-mail" && r.inputs["type"] === "CNAME");
    expect(dkim).toHaveLength(config.dns ? 3 : 0);
    // One CNAME per token SES gave the identity, in its order.
    const tokens: string[] = stateOf(run, IDENTITY, "mastodon-mail-identity")["dkimSigningAttributes"].tokens;
    for (const [i, r] of dkim.entries()) {
      expect(r.inputs).toMatchObject({
        type: "CNAME",
        name: `${tokens[i]}._domainkey.${config.mail.fromAddress.split("@")[1]}`,
        records: [`${tokens[i]}.dkim.amazonses.com`],
      });
    }
    const policy = JSON.parse(String(find(run, "aws:iam/userPolicy:UserPolicy").inputs["policy"]));
    // Any identity (in the sandbox SES also authorizes against the recipient's), as the from address only.
    expect(policy.Statement).toEqual([
      {
        Sid: "SendAsStack",
        Effect: "Allow",
        Action: "ses:SendRawEmail",
        Resource: "*",
        Condition: { StringEquals: { "ses:FromAddress": [config.mail.fromAddress] } },
      },
    ]);
  });
});

test("the media certificate is requested in us-east-1, whatever the stack's region", async () => {
  const run = await runStack("production");
  const cert = find(run, CERTIFICATE, "mastodon-media-cert");
  expect(cert.provider).toBe("mastodon-media-us-east-1");
  expect(find(run, "pulumi:providers:aws", "mastodon-media-us-east-1").inputs["region"]).toBe("us-east-1");
  expect(find(run, CERTIFICATE, "mastodon-lb-cert").provider).toBeNull();
  const viewer = (find(run, DISTRIBUTION).inputs as any).viewerCertificate;
  expect(viewer).toEqual({
    acmCertificateArn: arnOf(run, CERTIFICATE, "mastodon-media-cert"),
    sslSupportMethod: "sni-only",
    minimumProtocolVersion: "TLSv1.2_2021",
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

describe("the env the edge implies", () => {
  async function envOf(raw: Record<string, unknown>, stack: string) {
    let env: pulumi.Output<Record<string, string>> | undefined;
    let mastodon: MastodonStack | undefined;
    const run = await runUnderMocks(
      () => {
        mastodon = new MastodonStack("m", raw as never);
        env = mastodon.env;
        return {};
      },
      { project: "p", stack, config: { "aws:region": "us-east-1" } },
    );
    return {
      run,
      env: await resolve(env!),
      policy: JSON.parse(await resolve(mastodon!.media.accessPolicy)),
    };
  }

  test("S3, SES SMTP, the instance's domains and the ALB as trusted proxy", async () => {
    const { run, env, policy } = await envOf(stackConfig("production"), "production");
    expect(env).toMatchObject({
      LOCAL_DOMAIN: "mastodon.example",
      LOCAL_HTTPS: "true",
      TRUSTED_PROXY_IP: "10.0.0.0/16",
      S3_ENABLED: "true",
      S3_BUCKET: nameOf(run, BUCKET, "m-media-bucket", "bucket"),
      S3_REGION: "us-east-1",
      S3_PROTOCOL: "https",
      S3_HOSTNAME: "s3.us-east-1.amazonaws.com",
      S3_ALIAS_HOST: "files.mastodon.example",
      S3_PERMISSION: "private",
      SMTP_SERVER: "email-smtp.us-east-1.amazonaws.com",
      SMTP_PORT: "587",
      SMTP_LOGIN: "{{ssm:/mastodon/p/production/m/smtp-login}}",
      SMTP_PASSWORD: "{{ssm:/mastodon/p/production/m/smtp-password}}",
      SMTP_FROM_ADDRESS: "notifications@mastodon.example",
      SMTP_ENABLE_STARTTLS: "always",
    });
    expect(env["WEB_DOMAIN"]).toBeUndefined();
    // The placeholders name the parameters the stack writes.
    expect(nameOf(run, "aws:ssm/parameter:Parameter", "m-mail-smtp-login")).toBe(
      "/mastodon/p/production/m/smtp-login",
    );
    expect(nameOf(run, "aws:ssm/parameter:Parameter", "m-mail-smtp-password")).toBe(
      "/mastodon/p/production/m/smtp-password",
    );
    // The fleets' media policy: objects of this bucket, and listing it. Nothing else.
    expect(policy.Statement).toEqual([
      {
        Sid: "MediaObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"],
        Resource: `${arnOf(run, BUCKET, "m-media-bucket")}/*`,
      },
      {
        Sid: "MediaList",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: arnOf(run, BUCKET, "m-media-bucket"),
      },
    ]);
  });

  test("without a media domain, S3_ALIAS_HOST is the CloudFront domain; WEB_DOMAIN when it differs", async () => {
    const raw = { ...stackConfig("staging"), webDomain: "social.mastodon.example" };
    const { run, env } = await envOf(raw, "staging");
    expect(env).toMatchObject({
      S3_ALIAS_HOST: stateOf(run, DISTRIBUTION, "m-media-cdn")["domainName"],
      LOCAL_DOMAIN: "staging.mastodon.example",
      WEB_DOMAIN: "social.mastodon.example",
    });
  });

  test("an external SMTP server: its settings, its password kept secret", async () => {
    const raw = {
      ...stackConfig("dev"),
      mail: {
        provider: "smtp",
        fromAddress: "mastodon@dev.mastodon.example",
        smtp: {
          server: "smtp.example.org",
          port: 465,
          login: "mastodon",
          password: "hunter2-not-in-any-file",
        },
      },
    };
    const { env } = await envOf(raw, "dev");
    expect(env).toMatchObject({
      SMTP_SERVER: "smtp.example.org",
      SMTP_PORT: "465",
      SMTP_TLS: "true",
      SMTP_PASSWORD: "{{ssm:/mastodon/p/dev/m/smtp-password}}",
    });
    const run = await runStack("dev", { mail: raw.mail });
    expect(find(run, "aws:ssm/parameter:Parameter", "mastodon-mail-smtp-password").inputs["value"]).toBe(
      "[secret]",
    );
    expect(JSON.stringify(run.resources)).not.toContain("hunter2-not-in-any-file");
    expect(all(run, "aws:sesv2/emailIdentity:EmailIdentity")).toEqual([]);
  });
});

test("every edge component twice in one stack: no duplicate (type, name)", async () => {
  const run = await runUnderMocks(
    () => {
      for (const n of ["blue", "green"]) {
        const lb = new LoadBalancer(`${n}-lb`, {
          vpcId: "vpc-1",
          publicSubnetIds: ["subnet-a", "subnet-b"],
          securityGroupId: "sg-alb",
          webDomain: `${n}.example.org`,
          zoneId: "Z0123456789TEST",
          streamingPorts: [4000, 4001, 4002],
          accessLogs: true,
        });
        const media = new MediaStorage(`${n}-media`, {
          customDomain: `files.${n}.example.org`,
          zoneId: "Z0123456789TEST",
        });
        new DnsRecords(`${n}-dns`, {
          zoneId: "Z0123456789TEST",
          aliases: [
            { name: `${n}.example.org`, dnsName: lb.dnsName, zoneId: lb.zoneId, ipv6: true },
            {
              name: `files.${n}.example.org`,
              dnsName: media.distribution.domainName,
              zoneId: media.distribution.hostedZoneId,
              ipv6: true,
            },
          ],
        });
        new Mail(`${n}-mail`, {
          provider: "ses",
          fromAddress: `a@${n}.example.org`,
          parameterPrefix: `/m/${n}`,
          zone: { zoneId: "Z0123456789TEST", zoneName: "example.org" },
        });
      }
      return {};
    },
    { project: "p", stack: "s", config: { "aws:region": "eu-west-1" } },
  );
  const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
  expect(new Set(pairs).size).toBe(pairs.length);
  expect(all(run, TARGET_GROUP)).toHaveLength(8);
  expect(all(run, RECORD).filter((r) => r.parent === "blue-dns")).toHaveLength(4);
});
