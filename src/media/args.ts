/**
 * mastodon:media and mastodon:retention written out for Pulumi's component analyzer:
 * MastodonStack's `media` arg, the bucket and its CDN, and `retention`, how long cached remote
 * media is kept. Only what the analyzer reads (interfaces, `as const` enums, doc comments with
 * `(@default ...)`); src/config/args.ts says why.
 */
/** CloudFront price class. */
export const PriceClass = {
  /** North America and Europe. */
  PriceClass100: "PriceClass_100",
  PriceClass200: "PriceClass_200",
  PriceClassAll: "PriceClass_All",
} as const;
export type PriceClass = (typeof PriceClass)[keyof typeof PriceClass];

/** mastodon:media */
export interface StackMediaArgs {
  /** A domain for media (S3_ALIAS_HOST) (@default the CloudFront domain). */
  customDomain?: string;
  /** ACM certificate in us-east-1 for customDomain (@default one requested and DNS-validated in dns.zoneId). */
  certificateArn?: string;
  /** (@default false) */
  versioning?: boolean;
  /** (@default "PriceClass_100") */
  priceClass?: PriceClass;
}

/** mastodon:retention: what the scheduler's host removes of cached remote content, daily. */
export interface StackRetentionArgs {
  /** Cached remote media older than this many days is removed (@default 7). */
  mediaDays?: number;
  /** Link preview cards older than this many days are removed (@default 180). */
  previewCardsDays?: number;
}
