/** Optional features Mastodon reads from its env: full-text search (OpenSearch) and translation. */
import { z } from "zod";
import { dotenvSecret } from "../config/schema/common";
import { argsType, documented, enumType } from "../config/schema/keyDoc";
import { DeeplPlan, TranslationProvider } from "../vocabulary/configEnums";
import { DEFAULT_SEARCH_ENGINE, SEARCH_ENGINE_VERSIONS, SEARCH_INSTANCES } from "./engines";

export const SEARCH_DEFAULTS = {
  instanceType: "t3.small.search",
  nodes: 1,
  volumeGiB: 20,
} as const;

/**
 * An Amazon OpenSearch Service domain in the data subnets; its presence turns search on
 * (ES_ENABLED). Mastodon's ES_PRESET follows from `nodes` (src/search/engines.ts).
 */
export const searchSchema = argsType(
  z.strictObject({
    instanceType: documented(
      z
        .enum(SEARCH_INSTANCES.map((s) => s.instanceType) as [string, ...string[]], {
          error: `is not a data node type the package knows; use one of ${SEARCH_INSTANCES.map((s) => s.instanceType).join(", ")}`,
        })
        .default(SEARCH_DEFAULTS.instanceType),
      {
        description: `The data node type, one the package knows (src/search/engines.ts): ${SEARCH_INSTANCES.map((s) => s.instanceType).join(", ")}.`,
      },
    ),
    nodes: documented(z.int().min(1).max(30).default(SEARCH_DEFAULTS.nodes), {
      description:
        "Data nodes, 1-30; more than one spreads them over 2 or 3 zones, and Mastodon's ES_PRESET follows from the count.",
    }),
    volumeGiB: documented(z.int().min(10).max(6144).default(SEARCH_DEFAULTS.volumeGiB), {
      description: "Encrypted gp3 EBS volume per node, GiB, from 10 up to the node type's ceiling.",
    }),
    engineVersion: documented(
      enumType(
        z.enum(SEARCH_ENGINE_VERSIONS, {
          error: `is not an engine version the package accepts; use one of ${SEARCH_ENGINE_VERSIONS.join(", ")} (Mastodon is tested with Elasticsearch 7)`,
        }),
        "SearchEngine",
        "src/vocabulary/configEnums",
      ).default(DEFAULT_SEARCH_ENGINE),
      {
        description: `The engine and its version, one of ${SEARCH_ENGINE_VERSIONS.join(", ")}; Mastodon is tested with Elasticsearch 7.`,
      },
    ),
  }),
  {
    name: "StackSearchArgs",
    folder: "search",
    description: "mastodon:search: an Amazon OpenSearch Service domain; its presence turns search on.",
  },
);

/**
 * Translation of posts: DeepL (DEEPL_API_KEY, DEEPL_PLAN) or a LibreTranslate server
 * (LIBRE_TRANSLATE_ENDPOINT, LIBRE_TRANSLATE_API_KEY). The key is a secret: stored in SSM and filled
 * in at boot, never in user-data.
 */
export const translationSchema = argsType(
  z.strictObject({
    provider: documented(
      enumType(
        z.enum(TranslationProvider, { error: "must be deepl or libretranslate" }),
        "TranslationProvider",
        "src/vocabulary/configEnums",
      ),
      {
        description:
          "Which service translates posts, deepl or libretranslate; its presence turns translation on.",
      },
    ),
    apiKey: documented(dotenvSecret.optional(), {
      description:
        "The provider's API key, a secret (pulumi config set --secret --path mastodon:translation.apiKey ...): required for DeepL (DEEPL_API_KEY), optional for LibreTranslate (LIBRE_TRANSLATE_API_KEY); kept as an SSM SecureString and filled in at boot, never in user-data.",
      default: "none",
    }),
    deeplPlan: documented(
      enumType(z.enum(DeeplPlan), "DeeplPlan", "src/vocabulary/configEnums").default("free"),
      {
        description: "DeepL's API plan (DEEPL_PLAN): free (the free API, api-free.deepl.com) or pro.",
      },
    ),
    endpoint: documented(
      z
        .url({ protocol: /^https$/, error: "must be an https:// URL such as https://translate.example.org" })
        .optional(),
      {
        description:
          "The LibreTranslate server's https base URL (LIBRE_TRANSLATE_ENDPOINT), such as https://translate.example.org: required for libretranslate, refused with deepl.",
        default: "none",
      },
    ),
  }),
  { name: "StackTranslationArgs", folder: "translation", description: "mastodon:translation" },
);
