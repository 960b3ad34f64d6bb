/** Values that must agree across tiers: Redis engine versions, the AMI's architecture, SMTP settings. */
import { BUILD_VOLUME_GIB } from "../../images/imageRecipe";
import { isSupportedEngineVersion } from "../../redis/redisServer";
import { DEFAULTS } from "../../vocabulary/defaults";
import type { Problem } from "../problems";
import type { StackConfig } from "../stackConfig";
import { type Rule, error } from "./rule";

export const crossTierConsistency: Rule = (config) => {
  const problems: Problem[] = [];
  for (const role of ["cache", "persistent"] as const) {
    const redis = config.redis[role];
    const selfManaged = "mode" in redis && redis.mode === "self-managed-aof";
    if (!selfManaged && !isSupportedEngineVersion(redis.engine, redis.engineVersion)) {
      problems.push(
        error(
          ["redis", role, "engineVersion"],
          redis.engineVersion,
          `is not an ElastiCache ${redis.engine} version Mastodon 4.6 can use (Redis 7+): use ${redis.engine === "redis" ? "7.0 or 7.1" : "7.2 or 8.x"}`,
        ),
      );
    }
  }
  problems.push(...imageProblems(config));
  if (config.mail.provider === "smtp" && !config.mail.smtp) {
    problems.push(
      error(
        ["mail", "smtp"],
        undefined,
        "is required with mastodon:mail.provider smtp: set server, port, login and (as a secret) password",
      ),
    );
  }
  return problems;
};

/**
 * The image source has what it needs: an operator's AMI for every architecture the fleets run; for
 * an AMI baked by EC2 Image Builder, a build instance that reaches the internet through NAT and
 * fleets whose root volumes hold the baked image; and nothing the source does not read.
 */
/** The pull-through cache serves the fleets' boots of the official images, and sets the registry. */
function cacheProblems(config: StackConfig): Problem[] {
  const { image } = config;
  if (!image.pullThroughCache) return [];
  if (image.source !== "official") {
    return [
      error(
        ["image", "pullThroughCache"],
        image.pullThroughCache,
        `is read only with mastodon:image.source official (the fleets pull the release images at boot); with ${image.source} the hosts pull nothing. Remove it, or set source official`,
      ),
    ];
  }
  return image.registry !== DEFAULTS.image.registry
    ? [
        error(
          ["image", "registry"],
          image.registry,
          `is set by mastodon:image.pullThroughCache (the cache's path in this account's ECR, in front of ${DEFAULTS.image.registry}). Remove image.registry, or the cache`,
        ),
      ]
    : [];
}

function imageProblems(config: StackConfig): Problem[] {
  return [...cacheProblems(config), ...sourceProblems(config)];
}

function sourceProblems(config: StackConfig): Problem[] {
  const { image } = config;
  const architectures = [...new Set(config.fleets.map((f) => f.instance.architecture))].sort();
  switch (image.source) {
    case "official":
      return image.amiIds
        ? [
            error(
              ["image", "amiIds"],
              image.amiIds,
              "is read only with mastodon:image.source ami; the official images run on the pinned Debian AMI. Remove amiIds, or set source ami",
            ),
          ]
        : [];
    case "image-builder":
      return [
        ...(image.amiIds
          ? [
              error(
                ["image", "amiIds"],
                image.amiIds,
                "is read only with mastodon:image.source ami; image-builder bakes its own AMI from mastodon:version. Remove amiIds, or set source ami",
              ),
            ]
          : []),
        // An Image Builder infrastructure configuration cannot give its instance a public IP.
        ...(config.network.egress === "public-subnets"
          ? [
              error(
                ["network", "egress"],
                config.network.egress,
                "cannot carry an EC2 Image Builder build: its instance gets no public IP, so it needs NAT (apt, the image registry, SSM). Use single-nat or nat-per-az, or mastodon:image.source official",
              ),
            ]
          : []),
        ...config.fleets
          .filter((f) => f.rootVolumeGiB < BUILD_VOLUME_GIB)
          .map((f) =>
            error(
              ["fleets", f.name, "rootVolumeGiB"],
              f.rootVolumeGiB,
              `is smaller than the baked AMI's ${BUILD_VOLUME_GIB} GiB root volume (mastodon:image.source image-builder): use at least ${BUILD_VOLUME_GIB}`,
            ),
          ),
      ];
    case "ami":
      return architectures
        .filter((arch) => !image.amiIds?.[arch])
        .map((arch) =>
          error(
            ["image", "amiIds", arch],
            undefined,
            `is required: fleets ${config.fleets
              .filter((f) => f.instance.architecture === arch)
              .map((f) => f.name)
              .join(
                ", ",
              )} run ${arch} instances. Give the ${arch} AMI with Mastodon ${config.version} installed, or move those fleets to another architecture`,
          ),
        );
    default: {
      const unknown: never = image.source;
      throw new Error(`unknown image source ${String(unknown)}`);
    }
  }
}
