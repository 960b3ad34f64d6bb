/**
 * mastodon:loadBalancer and mastodon:dns written out for Pulumi's component analyzer:
 * MastodonStack's `loadBalancer` and `dns` args, the ALB and the Route 53 zone. Only what the
 * analyzer reads (interfaces, `as const` enums, doc comments with `(@default ...)`);
 * src/config/args.ts says why.
 */
import type * as pulumi from "@pulumi/pulumi";

/** mastodon:loadBalancer */
export interface StackLoadBalancerArgs {
  /**
   * The ARN of an ACM certificate for webDomain in the stack's region; may be another resource's
   * output (@default one requested and DNS-validated in dns.zoneId).
   */
  certificateArn?: pulumi.Input<string>;
  /** Seconds an idle connection stays open (@default 60). */
  idleTimeoutSeconds?: number;
  /** Access logs to a private, encrypted S3 bucket (@default true in production). */
  accessLogs?: boolean;
  /** The ALB refuses deletion until this is turned off (@default true in production). */
  deletionProtection?: boolean;
}

/** mastodon:dns */
export interface StackDnsArgs {
  /** Route 53 hosted zone ID, e.g. Z0123456789ABCDEFGHIJ; may be a zone resource's output. */
  zoneId: pulumi.Input<string>;
  /** The zone's domain; webDomain and media.customDomain must be inside it. */
  zoneName: string;
}
