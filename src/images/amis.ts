/**
 * Which machine image a stack's hosts boot, by source: the pinned stock Debian 12 AMI (the official
 * images run on it; Image Builder bakes on it), or the operator's AMI. The release images
 * themselves are containerImages.ts's. Pure.
 */
import type { StackConfig } from "../config/stackConfig";
import { DEFAULTS } from "../vocabulary/defaults";
import type { Architecture } from "../vocabulary/catalog";

/** Debian names its AMIs debian-<release>-<arch>-<serial>, with Debian's names for the architectures. */
export function debianAmiName(architecture: Architecture, serial: string): string {
  const debianArch = architecture === "x86_64" ? "amd64" : "arm64";
  return `debian-12-${debianArch}-${serial}`;
}

/** The pinned Debian 12 AMI of an architecture, as a lookup by owner and exact name. */
export interface DebianLookup {
  readonly kind: "debian";
  readonly owner: string;
  readonly name: string;
}

/**
 * How a host finds its machine image: one answer per architecture, by source ("built": the AMI EC2
 * Image Builder bakes in the stack from the Debian AMI `base`, src/images/imageBuild.ts).
 */
export type ImageLookup =
  | DebianLookup
  | { readonly kind: "built"; readonly base: DebianLookup }
  | { readonly kind: "ami"; readonly amiId: string };

export function imageLookup(config: StackConfig, architecture: Architecture): ImageLookup {
  const { image } = config;
  const debian: DebianLookup = {
    kind: "debian",
    owner: DEFAULTS.image.debianOwner,
    name: debianAmiName(architecture, image.debianSerial),
  };
  switch (image.source) {
    case "official":
      return debian;
    case "image-builder":
      return { kind: "built", base: debian };
    case "ami": {
      const amiId = image.amiIds?.[architecture];
      // The config rules require an AMI for every architecture a fleet runs.
      if (!amiId) throw new Error(`no mastodon:image.amiIds.${architecture}`);
      return { kind: "ami", amiId };
    }
    default: {
      const unknown: never = image.source;
      throw new Error(`unknown image source ${String(unknown)}`);
    }
  }
}

/** The ghcr.io upstream a pull-through cache rule serves (the official images' registry host). */
export const CACHE_UPSTREAM = "ghcr.io";

/**
 * The registry path the official images are pulled from through a pull-through cache: ECR keeps
 * the upstream's repository path under the rule's prefix (ghcr.io/mastodon/mastodon becomes
 * <prefix>/mastodon/mastodon).
 */
export function pullThroughRegistry(accountId: string, region: string, prefix: string): string {
  const upstreamPath = DEFAULTS.image.registry.slice(CACHE_UPSTREAM.length + 1);
  return `${accountId}.dkr.ecr.${region}.amazonaws.com/${prefix}/${upstreamPath}`;
}
