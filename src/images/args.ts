/**
 * mastodon:image written out for Pulumi's component analyzer: MastodonStack's `image` arg, where
 * Mastodon's images come from. Only what the analyzer reads (interfaces, `as const` enums, doc
 * comments with `(@default ...)`); src/config/args.ts says why.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Where Mastodon comes from (README, "Images"). */
export const ImageSource = {
  /** Mastodon's release images on a pinned stock Debian 12 AMI. */
  Official: "official",
  /** An AMI per architecture baked in the account by EC2 Image Builder. */
  ImageBuilder: "image-builder",
  /** An AMI with the version installed, pinned per stack and architecture. */
  Ami: "ami",
} as const;
export type ImageSource = (typeof ImageSource)[keyof typeof ImageSource];

/** mastodon:image.pullThroughCache */
export interface StackPullThroughCacheArgs {
  /**
   * The ARN of the Secrets Manager secret named ecr-pullthroughcache/<name> holding a GitHub user
   * name and access token; may be a secret resource's output.
   */
  credentialArn: pulumi.Input<string>;
}

/** mastodon:image.amiIds: image source ami, an AMI per architecture the fleets run. */
export interface StackAmiIdsArgs {
  /** The AMI for the Graviton fleets (c7g, c6g, ...), Mastodon's version installed (@default none). */
  arm64?: string;
  /** The AMI for the Intel and AMD fleets (c7i, c7a, ...), Mastodon's version installed (@default none). */
  x86_64?: string;
}

/** mastodon:image */
export interface StackImageArgs {
  /** Where Mastodon comes from: the release images, an AMI baked in the account, or the operator's AMI (@default "official"). */
  source?: ImageSource;
  /** Where the release images are pulled from (@default "ghcr.io/mastodon"). */
  registry?: string;
  /** The Debian 12 image serial the hosts boot, pinned (@default the package's pinned serial). */
  debianSerial?: string;
  /** Pull the release images through an ECR pull-through cache (@default none). */
  pullThroughCache?: StackPullThroughCacheArgs;
  /** Image source ami: the AMI per architecture (@default none). */
  amiIds?: StackAmiIdsArgs;
  /** The AMI's root device (Debian's is /dev/xvda, Ubuntu's /dev/sda1) (@default "/dev/xvda"). */
  rootDeviceName?: string;
}
