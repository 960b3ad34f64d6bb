/**
 * mastodon:loadBalancer and mastodon:dns written out for Pulumi's component analyzer:
 * MastodonStack's `loadBalancer` and `dns` args, the ALB and the Route 53 zone. Only what the
 * analyzer reads (interfaces, `as const` enums, doc comments with `(@default ...)`);
 * src/config/args.ts says why.
 */
/** mastodon:loadBalancer */
export interface StackLoadBalancerArgs {
  /** ACM certificate for webDomain in the stack's region (@default one requested and DNS-validated in dns.zoneId). */
  certificateArn?: string;
  /** Seconds an idle connection stays open (@default 60). */
  idleTimeoutSeconds?: number;
  /** Access logs to a private, encrypted bucket (@default true in production). */
  accessLogs?: boolean;
  /** (@default true in production) */
  deletionProtection?: boolean;
}

/** mastodon:dns */
export interface StackDnsArgs {
  /** Route 53 hosted zone ID, e.g. Z0123456789ABCDEFGHIJ. */
  zoneId: string;
  /** The zone's domain; webDomain and media.customDomain must be inside it. */
  zoneName: string;
}
