import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitLogicalName } from "../aws/naming";
import { DEFAULTS } from "../vocabulary/defaults";
import { type Env, s3Env } from "../host/env";
import { mediaAccessPolicy, mediaBucketPolicy } from "../aws/policies";
import { dnsValidatedCertificate } from "../edge/certificate";
import type { PriceClass } from "../vocabulary/configEnums";
import { LISTENER_RULE_PRIORITIES } from "../edge/rules";
import {
  LEGACY_SYSTEM_FUNCTION_CODE,
  LEGACY_SYSTEM_FUNCTION_RUNTIME,
  LEGACY_SYSTEM_PATTERN,
  legacySystemRedirect,
} from "./legacyPaths";
import { privateBucket } from "../aws/privateBucket";
import { providedType, withFormerType } from "../aws/typeToken";

/** MediaStorage's legacySystemPaths: where the web domain's /system/* requests arrive. */
export interface MediaLegacySystemPathsArgs {
  /** The web domain's HTTPS listener, which redirects /system/* to the media host. */
  listenerArn: pulumi.Input<string>;
}

/** CloudFront's managed CachingOptimized policy: media files are immutable once written. */
export const CACHING_OPTIMIZED_POLICY_ID = "658327ea-f89d-4fab-a63d-7e88639e58f6";

export interface MediaStorageArgs {
  /** Serve media from this domain (S3_ALIAS_HOST). (@default the distribution's cloudfront.net domain) */
  customDomain?: string;
  /** ACM certificate in us-east-1 for customDomain. (@default one requested in us-east-1 and validated in zoneId) */
  certificateArn?: pulumi.Input<string>;
  /** Route 53 zone to validate a requested certificate in (@default none). */
  zoneId?: string;
  /** S3 versioning on the bucket: a removed or overwritten file stays as a noncurrent version (@default false). */
  versioning?: boolean;
  /** Where CloudFront serves media from: North America and Europe, more, or everywhere (@default "PriceClass_100"). */
  priceClass?: PriceClass;
  /** Deletion protection for the bucket (Pulumi `protect`). (@default false) */
  protect?: boolean;
  /**
   * Keep a source install's media URLs (https://<web domain>/system/<key>) working: the listener
   * redirects /system/* here, and a CloudFront Function reads <key> (@default none).
   */
  legacySystemPaths?: MediaLegacySystemPathsArgs;
}

/**
 * Mastodon's media: a private S3 bucket behind CloudFront with Origin Access Control. The bucket
 * admits only this distribution (and the fleets, through the exported IAM policy); responses carry
 * `Access-Control-Allow-Origin: *`, which Mastodon's web client needs for media.
 */
export class MediaStorage extends pulumi.ComponentResource {
  /** The private media bucket (S3_BUCKET). */
  public readonly bucket: aws.s3.Bucket;
  /** The CloudFront distribution serving the bucket through Origin Access Control. */
  public readonly distribution: aws.cloudfront.Distribution;
  /** Where media is served from: the custom domain or the distribution's domain. */
  public readonly aliasHost: pulumi.Output<string>;
  /** The IAM policy the fleets attach: object read/write/delete on this bucket only (JSON). */
  public readonly accessPolicy: pulumi.Output<string>;
  /** S3_* for .env.production. */
  public readonly env: pulumi.Output<Env>;

  constructor(name: string, args: MediaStorageArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("MediaStorage"), name, {}, withFormerType("mastodon:edge:MediaStorage", opts));
    const parent = { parent: this };
    if (args.customDomain && !args.certificateArn && !args.zoneId) {
      throw new Error(
        `${name}: customDomain ${args.customDomain} needs certificateArn (us-east-1) or zoneId`,
      );
    }

    // ACLs stay enabled for the owner: Mastodon sends S3_PERMISSION ("private") with every upload,
    // which a bucket with ACLs disabled would refuse; public ACLs remain blocked.
    this.bucket = privateBucket(
      `${name}-bucket`,
      {
        objectOwnership: "BucketOwnerPreferred",
        versioning: args.versioning ?? false,
        protect: args.protect ?? false,
      },
      this,
    );
    new aws.s3.BucketCorsConfiguration(
      `${name}-bucket`,
      {
        bucket: this.bucket.id,
        corsRules: [
          {
            allowedMethods: ["GET", "HEAD"],
            allowedOrigins: ["*"],
            allowedHeaders: ["*"],
            maxAgeSeconds: 3600,
          },
        ],
      },
      parent,
    );

    const oac = new aws.cloudfront.OriginAccessControl(
      fitLogicalName("aws:cloudfront/originAccessControl:OriginAccessControl", name, "oac"),
      {
        description: `${name}: CloudFront reads the media bucket`,
        originAccessControlOriginType: "s3",
        signingBehavior: "always",
        signingProtocol: "sigv4",
      },
      parent,
    );
    const headers = new aws.cloudfront.ResponseHeadersPolicy(
      `${name}-headers`,
      {
        comment: "Mastodon media: CORS for every origin, no sniffing, HSTS",
        corsConfig: {
          accessControlAllowOrigins: { items: ["*"] },
          accessControlAllowMethods: { items: ["GET", "HEAD", "OPTIONS"] },
          accessControlAllowHeaders: { items: ["*"] },
          accessControlAllowCredentials: false,
          accessControlMaxAgeSec: 86400,
          originOverride: true,
        },
        securityHeadersConfig: {
          contentTypeOptions: { override: true },
          strictTransportSecurity: {
            accessControlMaxAgeSec: 63072000,
            includeSubdomains: false,
            override: true,
          },
        },
      },
      parent,
    );

    const certificateArn = args.customDomain
      ? args.certificateArn
        ? pulumi.output(args.certificateArn)
        : this.requestCertificate(name, args.customDomain, args.zoneId as string)
      : undefined;
    const originId = "media-bucket";
    const behavior = {
      targetOriginId: originId,
      viewerProtocolPolicy: "redirect-to-https",
      allowedMethods: ["GET", "HEAD", "OPTIONS"],
      cachedMethods: ["GET", "HEAD"],
      compress: true,
      cachePolicyId: CACHING_OPTIMIZED_POLICY_ID,
      responseHeadersPolicyId: headers.id,
    };
    const legacy = args.legacySystemPaths && this.legacySystemFunction(name);
    this.distribution = new aws.cloudfront.Distribution(
      `${name}-cdn`,
      {
        enabled: true,
        comment: `${name}: Mastodon media`,
        httpVersion: "http2and3",
        isIpv6Enabled: true,
        priceClass: args.priceClass ?? DEFAULTS.media.priceClass,
        aliases: args.customDomain ? [args.customDomain] : [],
        origins: [
          { originId, domainName: this.bucket.bucketRegionalDomainName, originAccessControlId: oac.id },
        ],
        defaultCacheBehavior: behavior,
        // mastodon:media.legacySystemPaths: /system/<key> reads <key> (./legacyPaths.ts). Only these
        // requests run the function, which CloudFront bills per invocation (Amazon CloudFront pricing).
        ...(legacy && {
          orderedCacheBehaviors: [
            {
              ...behavior,
              pathPattern: LEGACY_SYSTEM_PATTERN,
              functionAssociations: [{ eventType: "viewer-request", functionArn: legacy.arn }],
            },
          ],
        }),
        restrictions: { geoRestriction: { restrictionType: "none" } },
        viewerCertificate: certificateArn
          ? {
              acmCertificateArn: certificateArn,
              sslSupportMethod: "sni-only",
              minimumProtocolVersion: "TLSv1.2_2021",
            }
          : { cloudfrontDefaultCertificate: true },
      },
      parent,
    );

    new aws.s3.BucketPolicy(
      `${name}-bucket`,
      {
        bucket: this.bucket.id,
        policy: pulumi
          .all([this.bucket.arn, this.distribution.arn])
          .apply(([bucketArn, distributionArn]) =>
            JSON.stringify(mediaBucketPolicy(bucketArn, distributionArn)),
          ),
      },
      parent,
    );

    this.aliasHost = args.customDomain ? pulumi.output(args.customDomain) : this.distribution.domainName;
    if (args.legacySystemPaths) {
      // The web domain's HTTPS listener answers /system/* with a permanent redirect to the media host.
      new aws.lb.ListenerRule(
        `${name}-system-paths`,
        {
          listenerArn: args.legacySystemPaths.listenerArn,
          priority: LISTENER_RULE_PRIORITIES.legacySystemPaths,
          conditions: [{ pathPattern: { values: [LEGACY_SYSTEM_PATTERN] } }],
          actions: [{ type: "redirect", redirect: this.aliasHost.apply(legacySystemRedirect) }],
        },
        parent,
      );
    }
    this.accessPolicy = this.bucket.arn.apply((arn) => JSON.stringify(mediaAccessPolicy(arn)));
    const region = aws.getRegionOutput({}, parent).region;
    this.env = pulumi
      .all([this.bucket.bucket, region, this.aliasHost])
      .apply(([bucket, r, aliasHost]) => s3Env({ bucket, region: r, aliasHost }));
    this.registerOutputs({
      bucket: this.bucket.bucket,
      aliasHost: this.aliasHost,
      distributionId: this.distribution.id,
    });
  }

  /**
   * The function that takes /system off the URI, published to its LIVE stage (a cache behavior takes
   * only a published function: CloudFront API Reference, PublishFunction). Autonamed: function names
   * are unique per account.
   */
  private legacySystemFunction(name: string): aws.cloudfront.Function {
    return new aws.cloudfront.Function(
      fitLogicalName("aws:cloudfront/function:Function", name, "system-paths"),
      {
        runtime: LEGACY_SYSTEM_FUNCTION_RUNTIME,
        comment: "Mastodon media: /system/<key> (a source install's URL) reads <key>",
        code: LEGACY_SYSTEM_FUNCTION_CODE,
        publish: true,
      },
      { parent: this },
    );
  }

  /** CloudFront reads certificates only from us-east-1, whatever the stack's region. */
  private requestCertificate(name: string, domain: string, zoneId: string): pulumi.Output<string> {
    const usEast1 = new aws.Provider(`${name}-us-east-1`, { region: "us-east-1" }, { parent: this });
    return dnsValidatedCertificate(`${name}-cert`, domain, zoneId, { parent: this, provider: usEast1 });
  }
}
