/**
 * Which image each fleet boots, by source (docs/images.md): the pinned Debian AMI for the official
 * images, the AMIs ImageBuild bakes, or the operator's, checked against AWS; and how Mastodon runs
 * on it. Plain functions: the only resources are the ImageBuild and the lookups, on `parent`.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { HostRuntime } from "../fleet/host/fleetHost";
import { CACHE_UPSTREAM, type DebianLookup, imageLookup, pullThroughRegistry } from "./amis";
import { type DeploymentScope, scopedName } from "../aws/naming/scope";
import { officialImages } from "../fleet/host/containers";
import { ecrPullThroughPolicy } from "../aws/policies";
import type { Architecture } from "../vocabulary/catalog";
import { ImageBuild } from "./imageBuild";
import type { Network } from "../network/network";

/**
 * How Mastodon runs on the hosts, by image source: the release images in podman, or the AMI's
 * install (the operator's, or the one EC2 Image Builder baked from the release images).
 */
/** `registry`: where the release images come from (image.registry, or the pull-through cache's path). */
export function hostRuntime(config: StackConfig, registry: string): HostRuntime {
  const { image } = config;
  switch (image.source) {
    case "official":
      return { kind: "containers", images: officialImages({ version: config.version, registry }) };
    case "image-builder":
    case "ami":
      return { kind: "native" };
    default: {
      const unknown: never = image.source;
      throw new Error(`unknown image source ${String(unknown)}`);
    }
  }
}

/**
 * The pinned Debian 12 AMI's id, by its exact name from Debian's account. Deprecated images are
 * included: a public AMI is deprecated two years after its creation by default, and DescribeImages
 * then leaves it out unless asked (Amazon EC2 User Guide, "Deprecate an Amazon EC2 AMI"), but it
 * still launches; a pinned serial must keep resolving until the config moves it.
 */
export function debianAmiId(
  lookup: DebianLookup,
  architecture: Architecture,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  return aws.ec2.getAmiOutput(
    {
      owners: [lookup.owner],
      includeDeprecated: true,
      filters: [
        { name: "name", values: [lookup.name] },
        { name: "architecture", values: [architecture] },
      ],
    },
    { parent },
  ).id;
}

/**
 * The AMI for an architecture, looked up once: the pinned Debian 12 AMI (by its exact name, from
 * Debian's account) for the official images, the AMI EC2 Image Builder baked (`built`, the
 * ImageBuild's AMIs), or the operator's AMI as configured. Never an alias that moves ("latest").
 */
export function imageResolver(
  config: StackConfig,
  parent: pulumi.Resource,
  built?: Partial<Record<Architecture, pulumi.Output<string>>>,
): (architecture: Architecture) => pulumi.Output<string> {
  const lookups = new Map<Architecture, pulumi.Output<string>>();
  const find = (architecture: Architecture): pulumi.Output<string> => {
    const lookup = imageLookup(config, architecture);
    switch (lookup.kind) {
      case "debian":
        return debianAmiId(lookup, architecture, parent);
      case "built": {
        const ami = built?.[architecture];
        if (!ami) throw new Error(`no ${architecture} AMI built by EC2 Image Builder`);
        return ami;
      }
      case "ami":
        return pulumi.output(lookup.amiId);
      default: {
        const unknown: never = lookup;
        throw new Error(`unknown image lookup ${JSON.stringify(unknown)}`);
      }
    }
  };
  return (architecture) => {
    if (!lookups.has(architecture)) lookups.set(architecture, find(architecture));
    return lookups.get(architecture) as pulumi.Output<string>;
  };
}

/**
 * The operator's AMIs as AWS describes them, each checked against the architecture it is
 * configured for: a wrong one fails `pulumi preview` with the key to fix, where AWS itself would
 * only refuse later, at an instance launch. Resolves to architecture -> AMI id.
 */
export function checkedImages(
  config: StackConfig,
  imageFor: (architecture: Architecture) => pulumi.Output<string>,
  parent: pulumi.Resource,
): pulumi.Output<Partial<Record<Architecture, string>>> {
  const architectures = [...new Set(config.fleets.map((f) => f.instance.architecture))].sort();
  const checks = architectures.map((architecture) => {
    const lookup = imageLookup(config, architecture);
    if (lookup.kind !== "ami") return imageFor(architecture).apply((id) => [architecture, id] as const);
    return (
      aws.ec2
        // A pinned id resolves however old its AMI (deprecated images included, as for Debian's).
        .getAmiOutput(
          { includeDeprecated: true, filters: [{ name: "image-id", values: [lookup.amiId] }] },
          { parent },
        )
        .apply((ami) => {
          // An error diagnostic fails the update (and the offline plan) with the key to fix.
          if (ami.architecture && ami.architecture !== architecture) {
            void pulumi.log.error(
              `mastodon:image.amiIds.${architecture}: ${lookup.amiId} is an ${ami.architecture} AMI; the fleets it is for run ${architecture} instances`,
              parent,
            );
          }
          return [architecture, ami.id] as const;
        })
    );
  });
  return pulumi.all(checks).apply((pairs) => Object.fromEntries(pairs));
}

export interface StackImages {
  /** The AMI a fleet of an architecture boots. */
  readonly imageFor: (architecture: Architecture) => pulumi.Output<string>;
  /** Architecture -> the AMI its fleets boot, the operator's checked against AWS. */
  readonly images: pulumi.Output<Partial<Record<Architecture, string>>>;
  /** Image source image-builder: the build. */
  readonly imageBuild?: ImageBuild;
  /** Image source official: the Rails release image (one-off commands, the migrations' default). */
  readonly releaseImage?: pulumi.Output<string>;
  /** Where the release images are pulled from: image.registry, or the pull-through cache's path. */
  readonly registry: pulumi.Output<string>;
  /** With a pull-through cache: what the fleets' role may do with it (a policy document, JSON). */
  readonly pullPolicy?: pulumi.Output<string>;
}

/** The images of a stack, declared under `parent` (named from the scope's name). */
export function stackImages(
  scope: DeploymentScope,
  config: StackConfig,
  network: Network,
  tags: Record<string, string>,
  parent: pulumi.Resource,
): StackImages {
  const imageBuild =
    config.image.source === "image-builder"
      ? new ImageBuild(
          `${scope.name}-image`,
          {
            version: config.version,
            registry: config.image.registry,
            // One build per architecture the fleets run, each on its pinned Debian AMI.
            parentImages: Object.fromEntries(
              [...new Set(config.fleets.map((f) => f.instance.architecture))].map((architecture) => {
                const lookup = imageLookup(config, architecture);
                if (lookup.kind !== "built") throw new Error("image-builder builds on the pinned Debian AMI");
                return [architecture, debianAmiId(lookup.base, architecture, parent)];
              }),
            ),
            rootDeviceName: config.image.rootDeviceName,
            vpcId: network.vpcId,
            subnetId: network.fleetSubnetIds[0] as pulumi.Output<string>,
            tags,
          },
          { parent },
        )
      : undefined;
  const imageFor = imageResolver(config, parent, imageBuild?.amis);
  const cache = config.image.pullThroughCache && pullThroughCache(scope, config, parent);
  const registry = cache?.registry ?? pulumi.output(config.image.registry);
  const releaseImage = registry.apply((r) => {
    const runtime = hostRuntime(config, r);
    return runtime.kind === "containers" ? runtime.images.rails : undefined;
  });
  return {
    imageFor,
    images: checkedImages(config, imageFor, parent),
    ...(imageBuild && { imageBuild }),
    ...(config.image.source === "official" && { releaseImage: releaseImage as pulumi.Output<string> }),
    registry,
    ...(cache && { pullPolicy: cache.policy }),
  };
}

/**
 * An ECR pull-through cache of ghcr.io in the stack's account and Region, with the credential the
 * operator keeps in Secrets Manager: the release images' path there, and the fleets' pull policy.
 */
function pullThroughCache(
  scope: DeploymentScope,
  config: StackConfig,
  parent: pulumi.Resource,
): { registry: pulumi.Output<string>; policy: pulumi.Output<string> } {
  const credentialArn = config.image.pullThroughCache?.credentialArn as string;
  // Unique per account and Region: project and stack keep two deployments' rules apart.
  const prefix = scopedName(
    scope,
    "aws:ecr/pullThroughCacheRule:PullThroughCacheRule",
    scope.name,
    [],
    "ecrRepositoryPrefix",
  );
  const rule = new aws.ecr.PullThroughCacheRule(
    `${scope.name}-ghcr`,
    { ecrRepositoryPrefix: prefix, upstreamRegistryUrl: CACHE_UPSTREAM, credentialArn },
    { parent },
  );
  const region = aws.getRegionOutput({}, { parent }).region;
  return {
    registry: pulumi
      .all([rule.registryId, region, rule.ecrRepositoryPrefix])
      .apply(([account, r, p]) => pullThroughRegistry(account, r, p)),
    policy: pulumi
      .all([region, rule.registryId, rule.ecrRepositoryPrefix])
      .apply(([r, account, p]) => JSON.stringify(ecrPullThroughPolicy(r, account, p))),
  };
}
