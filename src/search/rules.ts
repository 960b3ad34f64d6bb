/**
 * Optional features across keys: the search domain against the network it lives in, translation's
 * provider against its settings, and a Spot fleet's further instance types against the one it is
 * sized for.
 */
import { ec2InstanceSpec } from "../vocabulary/catalog";
import type { Problem } from "../config/problems";
import { type Rule, error, warning } from "../config/rules/rule";

/** The domain must fit the data subnets it is placed in, and its volume the node type. */
export const searchDataTier: Rule = (config) => {
  const search = config.search;
  if (!search) return [];
  const problems: Problem[] = [];
  const { zones } = search;
  switch (zones.kind) {
    case "single":
    case "zone-aware":
      break;
    case "uneven": {
      const fits = zones.vpcZones === 3 ? "a multiple of 2 or 3" : "even";
      const more =
        zones.vpcZones === 2 && zones.nodes % 3 === 0
          ? ` or mastodon:network.availabilityZones 3 to spread ${zones.nodes} nodes over 3 zones`
          : "";
      problems.push(
        error(
          ["search", "nodes"],
          zones.nodes,
          `cannot be spread evenly over the data subnets of mastodon:network.availabilityZones ${zones.vpcZones}: a zone-aware OpenSearch domain takes an even number of data nodes over 2 zones and a multiple of 3 over 3 (Amazon OpenSearch Service Developer Guide, "Configuring a multi-AZ domain"). Use ${fits} nodes (e.g. ${zones.nodes + 1}), 1 node${more}`,
        ),
      );
      break;
    }
    default: {
      const unknown: never = zones;
      throw new Error(`unknown search zone layout ${JSON.stringify(unknown)}`);
    }
  }
  if (search.volumeGiB > search.instance.maxVolumeGiB) {
    problems.push(
      error(
        ["search", "volumeGiB"],
        search.volumeGiB,
        `exceeds ${search.instance.maxVolumeGiB} GiB, the largest gp3 volume a ${search.instanceType} node takes (Amazon OpenSearch Service Developer Guide, "EBS volume size quotas"). Lower it, add nodes, or pick a larger search.instanceType`,
      ),
    );
  }
  if (config.environment === "production" && search.nodes === 1) {
    problems.push(
      warning(
        ["search", "nodes"],
        1,
        "is a single node in production: a node failure takes search down until AWS replaces it and its indices are restored or rebuilt (tootctl search deploy). Use 2 or more nodes across zones",
      ),
    );
  }
  return problems;
};

/** DeepL needs its key; LibreTranslate its endpoint; neither takes the other's setting. */
export const translationSettings: Rule = (config) => {
  const translation = config.translation;
  if (!translation) return [];
  const problems: Problem[] = [];
  switch (translation.provider) {
    case "deepl":
      if (translation.apiKey === undefined)
        problems.push(
          error(
            ["translation", "apiKey"],
            undefined,
            "is required with translation.provider deepl (DEEPL_API_KEY): pulumi config set --secret --path mastodon:translation.apiKey <key>",
          ),
        );
      if (translation.endpoint !== undefined)
        problems.push(
          error(
            ["translation", "endpoint"],
            translation.endpoint,
            "is for translation.provider libretranslate; DeepL's endpoint follows translation.deeplPlan. Remove it",
          ),
        );
      break;
    case "libretranslate":
      if (translation.endpoint === undefined)
        problems.push(
          error(
            ["translation", "endpoint"],
            undefined,
            "is required with translation.provider libretranslate (LIBRE_TRANSLATE_ENDPOINT), e.g. https://translate.example.org",
          ),
        );
      break;
    default: {
      const unknown: never = translation.provider;
      throw new Error(`unknown translation provider ${String(unknown)}`);
    }
  }
  return problems;
};

/**
 * A Spot fleet's further types run the same units with the same process counts, DB pools and
 * PgBouncer pool as instanceType: each must boot the same image (architecture), offer the vCPUs the
 * processes were counted for, and at least the memory they were fitted into. So instanceType is the
 * smallest, and the budget and sizing computed for it hold on every type.
 */
export const spotInstanceTypes: Rule = (config) =>
  config.fleets.flatMap((fleet) => {
    const types = fleet.spotInstanceTypes ?? [];
    if (types.length === 0) return [];
    if (!fleet.spot)
      return [
        error(
          ["fleets", fleet.name, "spotInstanceTypes"],
          types,
          "needs spot: true on this fleet: the further types are for its Spot capacity. Set spot: true, or remove spotInstanceTypes",
        ),
      ];
    const base = fleet.instance;
    return types.flatMap((type, i) => {
      const spec = ec2InstanceSpec(type);
      if (!spec) return [];
      const path = ["fleets", fleet.name, "spotInstanceTypes", i];
      const why =
        type === fleet.instanceType
          ? `is the fleet's instanceType already; list only other types`
          : spec.architecture !== base.architecture
            ? `is ${spec.architecture}, but instanceType ${fleet.instanceType} is ${base.architecture}: one launch template boots one image`
            : spec.vcpu !== base.vcpu
              ? `has ${spec.vcpu} vCPUs, but the fleet's processes are sized for instanceType ${fleet.instanceType}'s ${base.vcpu}`
              : spec.memoryGiB < base.memoryGiB
                ? `has ${spec.memoryGiB} GiB, less than instanceType ${fleet.instanceType}'s ${base.memoryGiB} GiB the processes are fitted into; make the smallest type the instanceType`
                : undefined;
      return why
        ? [
            error(
              path,
              type,
              `${why}. Use c-family types with ${base.vcpu} vCPUs on ${base.architecture} and at least ${base.memoryGiB} GiB`,
            ),
          ]
        : [];
    });
  });
