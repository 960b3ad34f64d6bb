/** mastodon:image: where Mastodon comes from (README, "Images"). */
import { z } from "zod";
import { DEFAULTS } from "../vocabulary/defaults";
import { ImageSource } from "../vocabulary/configEnums";
import { argsType, documented, enumType } from "../config/schema/keyDoc";

const amiId = z.string().regex(/^ami-[0-9a-f]{8,17}$/, { error: "must look like ami-0123456789abcdef0" });

export const imageSchema = argsType(
  z.strictObject({
    source: documented(
      enumType(z.enum(ImageSource), "ImageSource", "src/vocabulary/configEnums").default(
        DEFAULTS.image.source,
      ),
      {
        description:
          "Where Mastodon comes from: official, Mastodon's release images pinned to mastodon:version, run by systemd units on a pinned stock Debian 12 AMI (nothing to build); image-builder, an AMI per architecture baked in the account by EC2 Image Builder from that version on the same Debian AMI, run by the native units (no container runtime, the fastest boot); ami, an AMI with that version installed, pinned per stack and architecture.",
      },
    ),
    registry: documented(
      z
        .string()
        .regex(/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+$/, {
          error: "must be an image registry path such as ghcr.io/mastodon",
        })
        .default(DEFAULTS.image.registry),
      {
        description:
          "Source official and image-builder: where the release images are pulled from: Mastodon's registry, or an ECR pull-through cache's prefix (<account>.dkr.ecr.<region>.amazonaws.com/<prefix>).",
      },
    ),
    debianSerial: documented(
      z
        .string()
        .regex(/^[0-9]{8}-[0-9]{3,5}$/, {
          error: "must be a Debian cloud image serial such as 20250331-1966",
        })
        .default(DEFAULTS.image.debianSerial),
      {
        description:
          "Source official and image-builder: the Debian 12 release the hosts boot (image-builder: bake on), by its serial (the AMI named debian-12-<arch>-<serial>, published by Debian's own AWS account): pinned, never latest.",
      },
    ),
    pullThroughCache: documented(
      argsType(
        z.strictObject({
          credentialArn: documented(
            z
              .string()
              .regex(
                /^arn:aws:secretsmanager:[a-z0-9-]+:[0-9]{12}:secret:ecr-pullthroughcache\/[A-Za-z0-9/_+=.@-]+$/,
                {
                  error:
                    "must be the ARN of a Secrets Manager secret named ecr-pullthroughcache/<name> holding a GitHub username and access token",
                },
              ),
            {
              description:
                "The ARN of the Secrets Manager secret named ecr-pullthroughcache/<name> holding a GitHub user name and access token; may be a secret resource's output.",
            },
          ),
        }),
        {
          name: "StackPullThroughCacheArgs",
          folder: "images",
          description: "mastodon:image.pullThroughCache",
        },
      ).optional(),
      {
        description:
          "Source official: pull the release images through an ECR pull-through cache of ghcr.io in the stack's account and region, so boots do not depend on ghcr.io's availability or rate limits. The package creates the cache rule and lets the fleets pull from it; GitHub's registry needs credentials, in a Secrets Manager secret whose name starts with ecr-pullthroughcache/ (Amazon ECR User Guide, pull through cache rules).",
        default: "none: pull from image.registry",
      },
    ),
    amiIds: documented(
      argsType(
        z.strictObject({
          arm64: documented(amiId.optional(), {
            description: "The AMI for the Graviton fleets (c7g, c6g, ...), Mastodon's version installed.",
            default: "none",
          }),
          x86_64: documented(amiId.optional(), {
            description:
              "The AMI for the Intel and AMD fleets (c7i, c7a, ...), Mastodon's version installed.",
            default: "none",
          }),
        }),
        {
          name: "StackAmiIdsArgs",
          folder: "images",
          description: "mastodon:image.amiIds: image source ami, an AMI per architecture the fleets run.",
        },
      ).optional(),
      { description: "Source ami: the AMI for each architecture the fleets run.", default: "none" },
    ),
    rootDeviceName: documented(
      z
        .string()
        .regex(/^\/dev\/[a-z0-9]+$/, { error: "must be a device such as /dev/xvda" })
        .default(DEFAULTS.fleet.rootDeviceName),
      { description: "The AMI's root device (Debian's is /dev/xvda, Ubuntu's /dev/sda1)." },
    ),
  }),
  { name: "StackImageArgs", folder: "images", description: "mastodon:image" },
);
