/**
 * Media under Pulumi's mocks: a private bucket only this distribution reads (through OAC),
 * CloudFront's protocols and CORS, and the media certificate in us-east-1.
 */
import { parseStackConfig } from "../config";
import { STACKS, arnOf, find, idOf, runStack, stackConfig, stateOf } from "../../test/helpers";

const BUCKET = "aws:s3/bucket:Bucket";
const CERTIFICATE = "aws:acm/certificate:Certificate";
const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";

describe.each(STACKS)("stack %s", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack), stack);
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    run = await runStack(stack);
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
