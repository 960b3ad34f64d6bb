/**
 * Media under Pulumi's mocks: a private bucket only this distribution reads (through OAC),
 * CloudFront's protocols and CORS, and the media certificate in us-east-1; then the component on
 * its own, branch by branch.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import { MediaStorage, type MediaStorageArgs } from "./mediaStorage";
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
    ).toMatchObject(ALL_PUBLIC_ACCESS_BLOCKED);
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

describe("MediaStorage on its own", () => {
  const OPTIONS = { project: "p", stack: "s", config: { "aws:region": "eu-west-1" } };
  const PROVIDER = "pulumi:providers:aws";
  const VALIDATION = "aws:acm/certificateValidation:CertificateValidation";
  const RECORD = "aws:route53/record:Record";
  const ZONE = "Z0123456789TEST";
  /**
   * A refused program leaves the component's own registration in flight: let it land before
   * rethrowing, so nothing of this run is still pending when the test file ends.
   */
  const settled = async (error: unknown): Promise<never> => {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    throw error;
  };
  /** WHEN: a program that builds this one MediaStorage runs under the mocks (in eu-west-1). */
  const alone = async (args?: MediaStorageArgs, name = "media", opts?: pulumi.ComponentResourceOptions) => {
    let media: MediaStorage | undefined;
    const run = await runUnderMocks(() => {
      media = new MediaStorage(name, args, opts);
      return {};
    }, OPTIONS).catch(settled);
    return { run, media: media as MediaStorage };
  };
  const inputsOf = (run: MockRun, type: string, name = "media-bucket") => find(run, type, name).inputs as any;
  /** Pulumi's own record of a resource's `protect` option (the mock monitor is not handed it). */
  const isProtected = (resource: pulumi.Resource) =>
    (resource as unknown as { __protect?: boolean }).__protect === true;

  test("GIVEN no args, THEN the bucket blocks every kind of public access, keeps ACLs for its owner only, is encrypted with SSE-S3 and aborts stale uploads", async () => {
    const { run } = await alone();
    const bucket = find(run, BUCKET, "media-bucket").id;
    expect(inputsOf(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock")).toEqual({
      bucket,
      ...ALL_PUBLIC_ACCESS_BLOCKED,
    });
    // Mastodon uploads with S3_PERMISSION=private: a bucket with ACLs disabled would refuse it.
    expect(inputsOf(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls").rule).toEqual({
      objectOwnership: "BucketOwnerPreferred",
    });
    expect(
      inputsOf(run, "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration")
        .rules,
    ).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }]);
    expect(inputsOf(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").rules).toEqual([
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: {},
        abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
      },
    ]);
    expect(all(run, "aws:s3/bucketVersioning:BucketVersioning")).toEqual([]);
    // Browsers may only read media cross-origin.
    expect(inputsOf(run, "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration").corsRules).toEqual([
      { allowedMethods: ["GET", "HEAD"], allowedOrigins: ["*"], allowedHeaders: ["*"], maxAgeSeconds: 3600 },
    ]);
  });

  test("GIVEN no args, THEN the bucket policy lets this distribution alone read, through OAC, and refuses plain HTTP to everyone", async () => {
    const { run } = await alone();
    const bucketArn = arnOf(run, BUCKET, "media-bucket");
    const policy = JSON.parse(inputsOf(run, "aws:s3/bucketPolicy:BucketPolicy").policy);
    expect(policy.Statement).toEqual([
      {
        Sid: "CloudFrontReadsThroughOAC",
        Effect: "Allow",
        Principal: { Service: "cloudfront.amazonaws.com" },
        Action: "s3:GetObject",
        Resource: `${bucketArn}/*`,
        Condition: { StringEquals: { "AWS:SourceArn": arnOf(run, DISTRIBUTION, "media-cdn") } },
      },
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, `${bucketArn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  test("WHEN it runs, THEN the fleets' access policy reaches this bucket's objects and listing alone, with no bucket administration", async () => {
    const { run, media } = await alone();
    const bucketArn = arnOf(run, BUCKET, "media-bucket");
    const policy = JSON.parse(await resolve(media.accessPolicy));
    expect(policy.Statement).toEqual([
      {
        Sid: "MediaObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"],
        Resource: `${bucketArn}/*`,
      },
      { Sid: "MediaList", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn },
    ]);
  });

  test("GIVEN no args, THEN CloudFront reads the bucket through a SigV4 OAC, serves HTTPS only, read methods only, cached, with CORS, nosniff and HSTS", async () => {
    const { run } = await alone();
    const cdn = inputsOf(run, DISTRIBUTION, "media-cdn");
    expect(cdn).toMatchObject({
      enabled: true,
      httpVersion: "http2and3",
      isIpv6Enabled: true,
      priceClass: "PriceClass_100",
      origins: [
        {
          originId: "media-bucket",
          domainName: stateOf(run, BUCKET, "media-bucket")["bucketRegionalDomainName"],
          originAccessControlId: idOf(
            run,
            "aws:cloudfront/originAccessControl:OriginAccessControl",
            "media-oac",
          ),
        },
      ],
      defaultCacheBehavior: {
        targetOriginId: "media-bucket",
        viewerProtocolPolicy: "redirect-to-https",
        allowedMethods: ["GET", "HEAD", "OPTIONS"],
        cachedMethods: ["GET", "HEAD"],
        cachePolicyId: "658327ea-f89d-4fab-a63d-7e88639e58f6",
        responseHeadersPolicyId: idOf(
          run,
          "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
          "media-headers",
        ),
      },
      restrictions: { geoRestriction: { restrictionType: "none" } },
    });
    // No origin is reached as a public website or over a custom (HTTP) origin.
    expect(cdn.origins[0].customOriginConfig).toBeUndefined();
    expect(
      inputsOf(run, "aws:cloudfront/originAccessControl:OriginAccessControl", "media-oac"),
    ).toMatchObject({
      originAccessControlOriginType: "s3",
      signingBehavior: "always",
      signingProtocol: "sigv4",
    });
    const headers = inputsOf(
      run,
      "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy",
      "media-headers",
    );
    expect(headers.corsConfig).toMatchObject({
      accessControlAllowOrigins: { items: ["*"] },
      accessControlAllowMethods: { items: ["GET", "HEAD", "OPTIONS"] },
      accessControlAllowCredentials: false,
      originOverride: true,
    });
    expect(headers.securityHeadersConfig).toEqual({
      contentTypeOptions: { override: true },
      strictTransportSecurity: { accessControlMaxAgeSec: 63072000, includeSubdomains: false, override: true },
    });
  });

  test("GIVEN no custom domain, THEN CloudFront serves its own certificate and domain, no certificate or us-east-1 provider is declared, and media is served from the cloudfront.net name", async () => {
    const { run, media } = await alone();
    const cdn = inputsOf(run, DISTRIBUTION, "media-cdn");
    expect(cdn.aliases).toEqual([]);
    expect(cdn.viewerCertificate).toEqual({ cloudfrontDefaultCertificate: true });
    expect(all(run, CERTIFICATE)).toEqual([]);
    expect(all(run, PROVIDER)).toEqual([]);
    const domainName = stateOf(run, DISTRIBUTION, "media-cdn")["domainName"];
    expect(domainName).toMatch(/\.cloudfront\.net$/);
    expect(await resolve(media.aliasHost)).toBe(domainName);
  });

  test("WHEN it runs, THEN env is Mastodon's S3_* for this bucket in the stack's region, over HTTPS, uploads private, served from the alias host", async () => {
    const { run, media } = await alone({ customDomain: "files.social.example.org", zoneId: ZONE });
    expect(await resolve(media.env)).toEqual({
      S3_ENABLED: "true",
      S3_BUCKET: find(run, BUCKET, "media-bucket").inputs["bucket"],
      S3_REGION: "eu-west-1",
      S3_PROTOCOL: "https",
      S3_HOSTNAME: "s3.eu-west-1.amazonaws.com",
      S3_ALIAS_HOST: "files.social.example.org",
      S3_PERMISSION: "private",
    });
    expect(await resolve(media.aliasHost)).toBe("files.social.example.org");
    expect(await resolve(media.bucket.bucket)).toBe(find(run, BUCKET, "media-bucket").inputs["bucket"]);
  });

  test("GIVEN a custom domain and a zone, THEN a certificate for it is requested in us-east-1 (whatever the stack's region), validated in the zone, and served by SNI with TLS 1.2 at least", async () => {
    const { run } = await alone({ customDomain: "files.social.example.org", zoneId: ZONE });
    expect(find(run, PROVIDER, "media-us-east-1").inputs["region"]).toBe("us-east-1");
    const cert = find(run, CERTIFICATE, "media-cert");
    expect(cert.provider).toBe("media-us-east-1");
    expect(cert.arn).toMatch(/^arn:aws:acm:us-east-1:/);
    expect(cert.inputs).toMatchObject({ domainName: "files.social.example.org", validationMethod: "DNS" });
    expect(find(run, VALIDATION, "media-cert").provider).toBe("media-us-east-1");
    expect(find(run, RECORD, "media-cert-validation").inputs["zoneId"]).toBe(ZONE);
    const cdn = inputsOf(run, DISTRIBUTION, "media-cdn");
    expect(cdn.aliases).toEqual(["files.social.example.org"]);
    expect(cdn.viewerCertificate).toEqual({
      acmCertificateArn: cert.arn,
      sslSupportMethod: "sni-only",
      minimumProtocolVersion: "TLSv1.2_2021",
    });
  });

  test("GIVEN a custom domain and its certificate, THEN nothing is requested and CloudFront serves the given certificate", async () => {
    const given = "arn:aws:acm:us-east-1:123456789012:certificate/00000000-0000-4000-8000-000000000002";
    const { run } = await alone({ customDomain: "files.social.example.org", certificateArn: given });
    expect(all(run, CERTIFICATE)).toEqual([]);
    expect(all(run, PROVIDER)).toEqual([]);
    expect(all(run, RECORD)).toEqual([]);
    expect(inputsOf(run, DISTRIBUTION, "media-cdn").viewerCertificate).toMatchObject({
      acmCertificateArn: given,
      sslSupportMethod: "sni-only",
    });
  });

  test("GIVEN versioning and a price class, THEN the bucket is versioned with noncurrent versions expiring after 30 days, and CloudFront uses that price class", async () => {
    const { run } = await alone({ versioning: true, priceClass: "PriceClass_All" });
    expect(inputsOf(run, "aws:s3/bucketVersioning:BucketVersioning").versioningConfiguration).toEqual({
      status: "Enabled",
    });
    const rules = inputsOf(run, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration").rules;
    expect(rules.find((r: any) => r.id === "expire-noncurrent")).toMatchObject({
      status: "Enabled",
      noncurrentVersionExpiration: { noncurrentDays: 30 },
    });
    expect(inputsOf(run, DISTRIBUTION, "media-cdn").priceClass).toBe("PriceClass_All");
  });

  test("GIVEN protect, THEN Pulumi protects the bucket; without it, not", async () => {
    expect(isProtected((await alone({ protect: true })).media.bucket)).toBe(true);
    expect(isProtected((await alone()).media.bucket)).toBe(false);
  });

  // An explicit `protect: false` on the bucket would override what a child inherits from its parent:
  // a caller protecting the component (or a MastodonStack around it) must get the media bucket
  // protected too.
  test("GIVEN the component itself protected (opts.protect) and no protect arg, THEN its bucket is protected like its other children", async () => {
    const { media } = await alone({}, "media", { protect: true });
    expect(isProtected(media.distribution)).toBe(true);
    expect(isProtected(media.bucket)).toBe(true);
  });

  test("GIVEN two instances, even with long names that share a prefix, THEN every logical and physical name is distinct and the bucket names fit S3's 63", async () => {
    const long = "mastodon-production-media-storage-for-the-blue-deployment";
    const run = await runUnderMocks(() => {
      for (const name of ["blue-media", "green-media", `${long}-a`, `${long}-b`]) new MediaStorage(name);
      return {};
    }, OPTIONS);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    const buckets = all(run, BUCKET).map((b) => String(b.inputs["bucket"]));
    expect(new Set(buckets).size).toBe(4);
    for (const b of buckets) expect(b.length).toBeLessThanOrEqual(63);
    const oacs = all(run, "aws:cloudfront/originAccessControl:OriginAccessControl").map(
      (o) => o.inputs["name"],
    );
    expect(new Set(oacs).size).toBe(4);
  });

  test("GIVEN a custom domain with neither a certificate nor a zone, THEN it refuses", async () => {
    await expect(alone({ customDomain: "files.social.example.org" })).rejects.toThrow(
      "media: customDomain files.social.example.org needs certificateArn (us-east-1) or zoneId",
    );
  });
});
