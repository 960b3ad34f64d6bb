/** The Network component's args (src/network/network.ts), given by MastodonStack or a platform engineer. */
import type { AvailabilityZoneCount } from "../vocabulary/configEnums";
import type { Egress } from "./subnets";

/** The Network component's args: the VPC as a component of its own (src/network/network.ts). */
export interface NetworkArgs {
  /** IPv4 CIDR of the VPC, /16 to /20, cut by subnets.ts. (@default "10.0.0.0/16") */
  cidr?: string;
  /** Availability zones the subnets span, 2 or 3 (@default 2). */
  availabilityZones?: AvailabilityZoneCount;
  /**
   * How fleets reach the internet (federation, SSM, S3): a NAT gateway per AZ, one shared NAT
   * gateway, or no NAT with fleets in public subnets whose security groups admit nothing from the
   * internet. (@default "single-nat")
   */
  egress?: Egress;
  /** Dual-stack: an Amazon-provided /56, a /64 per subnet, egress-only IPv6 for app subnets. (@default false) */
  ipv6?: boolean;
  /** Ports the ALB reaches on streaming hosts (one per mastodon-streaming@ process). (@default [4000]) */
  streamingPorts?: number[];
  /**
   * The EC2 instance types the hosts in these subnets run (every fleet's type and Spot types, a
   * self-managed Redis host's, an image build's): the subnets go only in zones that offer them all,
   * the region's first such zones (EC2 DescribeInstanceTypeOfferings). (@default none: the region's
   * first zones)
   */
  instanceTypes?: string[];
}
