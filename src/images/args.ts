/**
 * mastodon:image written out for Pulumi's component analyzer: MastodonStack's `image` arg, where
 * Mastodon's images come from. Only what the analyzer reads (interfaces, `as const` enums, doc
 * comments with `(@default ...)`); src/config/args.ts says why.
 */
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
  /** Secrets Manager secret named ecr-pullthroughcache/<name> with a GitHub username and token. */
  credentialArn: string;
}

/** mastodon:image.amiIds: image source ami, an AMI per architecture the fleets run. */
export interface StackAmiIdsArgs {
  /** (@default none) */
  arm64?: string;
  /** (@default none) */
  x86_64?: string;
}

/** mastodon:image */
export interface StackImageArgs {
  /** (@default "official") */
  source?: ImageSource;
  /** Where the release images are pulled from (@default "ghcr.io/mastodon"). */
  registry?: string;
  /** The Debian 12 image serial the hosts boot, pinned (@default the package's pinned serial). */
  debianSerial?: string;
  /** Pull the release images through an ECR pull-through cache (@default none). */
  pullThroughCache?: StackPullThroughCacheArgs;
  /** Image source ami: the AMI per architecture (@default none). */
  amiIds?: StackAmiIdsArgs;
  /** (@default "/dev/xvda") */
  rootDeviceName?: string;
}
