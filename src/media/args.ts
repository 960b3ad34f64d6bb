/**
 * mastodon:media and mastodon:retention written out for Pulumi's component analyzer:
 * MastodonStack's `media` arg, the bucket and its CDN, and `retention`, how long cached remote
 * media is kept. Only what the analyzer reads (interfaces, `as const` enums, doc comments with
 * `(@default ...)`); src/config/args.ts says why.
 */
import type * as pulumi from "@pulumi/pulumi";

/** CloudFront price class. */
export const PriceClass = {
  /** North America and Europe. */
  PriceClass100: "PriceClass_100",
  /** Those, and most of Asia, the Middle East and Africa. */
  PriceClass200: "PriceClass_200",
  /** Every edge location. */
  PriceClassAll: "PriceClass_All",
} as const;
export type PriceClass = (typeof PriceClass)[keyof typeof PriceClass];

/** mastodon:media */
export interface StackMediaArgs {
  /** A domain for media (S3_ALIAS_HOST) (@default the CloudFront domain). */
  customDomain?: string;
  /**
   * The ARN of an ACM certificate for customDomain in us-east-1 (CloudFront reads only there); may
   * be another resource's output (@default one requested and DNS-validated in dns.zoneId).
   */
  certificateArn?: pulumi.Input<string>;
  /** S3 versioning on the media bucket: a removed or overwritten file stays as a noncurrent version (@default false). */
  versioning?: boolean;
  /** Where CloudFront serves media from (@default "PriceClass_100"). */
  priceClass?: PriceClass;
  /**
   * Keep a source install's media URLs (https://<web domain>/system/...) working: the ALB redirects
   * /system/* to the media host, which reads the key without /system (@default false).
   */
  legacySystemPaths?: boolean;
}

/** MediaStorage's legacySystemPaths: where the web domain's /system/* requests arrive. */
export interface MediaLegacySystemPathsArgs {
  /** The web domain's HTTPS listener, which redirects /system/* to the media host. */
  listenerArn: pulumi.Input<string>;
}

/** mastodon:retention: what the scheduler's host removes of cached remote content, daily. */
export interface StackRetentionArgs {
  /** Cached remote media older than this many days is removed (@default 7). */
  mediaDays?: number;
  /** Link preview cards older than this many days are removed (@default 180). */
  previewCardsDays?: number;
}
