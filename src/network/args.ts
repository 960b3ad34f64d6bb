/**
 * mastodon:network written out for Pulumi's component analyzer: MastodonStack's `network` arg, the
 * VPC. Only what the analyzer reads (interfaces, `as const` enums, doc comments with
 * `(@default ...)`); src/config/args.ts says why.
 */
import type { Egress } from "./subnets";

/** Availability zones the VPC spans. */
export const AvailabilityZoneCount = { Two: 2, Three: 3 } as const;
export type AvailabilityZoneCount = (typeof AvailabilityZoneCount)[keyof typeof AvailabilityZoneCount];

/** mastodon:network */
export interface StackNetworkArgs {
  /** IPv4 CIDR of the VPC, /16 to /20, private (@default "10.0.0.0/16"). */
  cidr?: string;
  /** (@default 2) */
  availabilityZones?: AvailabilityZoneCount;
  /** How fleets reach the internet (@default "nat-per-az" in production, "single-nat" elsewhere). */
  egress?: Egress;
  /** Dual-stack VPC and ALB (@default false). */
  ipv6?: boolean;
}
