/** Optional features Mastodon reads from its env: full-text search (OpenSearch) and translation. */
import { z } from "zod";
import { dotenvSecret } from "../config/schema/common";
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
export const searchSchema = z.strictObject({
  /** Data node type (src/search/engines.ts lists them). @default "t3.small.search" */
  instanceType: z
    .enum(SEARCH_INSTANCES.map((s) => s.instanceType) as [string, ...string[]], {
      error: `is not a data node type the package knows; use one of ${SEARCH_INSTANCES.map((s) => s.instanceType).join(", ")}`,
    })
    .default(SEARCH_DEFAULTS.instanceType),
  /** Data nodes; more than one spreads them over 2 or 3 zones. @default 1 */
  nodes: z.int().min(1).max(30).default(SEARCH_DEFAULTS.nodes),
  /** Encrypted gp3 EBS volume per node, GiB. @default 20 */
  volumeGiB: z.int().min(10).max(6144).default(SEARCH_DEFAULTS.volumeGiB),
  /** @default "Elasticsearch_7.10" (what Mastodon is tested with) */
  engineVersion: z
    .enum(SEARCH_ENGINE_VERSIONS, {
      error: `is not an engine version the package accepts; use one of ${SEARCH_ENGINE_VERSIONS.join(", ")} (Mastodon is tested with Elasticsearch 7)`,
    })
    .default(DEFAULT_SEARCH_ENGINE),
});

/**
 * Translation of posts: DeepL (DEEPL_API_KEY, DEEPL_PLAN) or a LibreTranslate server
 * (LIBRE_TRANSLATE_ENDPOINT, LIBRE_TRANSLATE_API_KEY). The key is a secret: stored in SSM and filled
 * in at boot, never in user-data.
 */
export const translationSchema = z.strictObject({
  provider: z.enum(["deepl", "libretranslate"], { error: "must be deepl or libretranslate" }),
  /**
   * The provider's API key (required for DeepL, optional for LibreTranslate). Set it with
   * `pulumi config set --secret --path mastodon:translation.apiKey ...`. @default none
   */
  apiKey: dotenvSecret.optional(),
  /** DeepL's plan: the free API (api-free.deepl.com) or pro. @default "free" */
  deeplPlan: z.enum(["free", "pro"]).default("free"),
  /** The LibreTranslate server's base URL (https). @default none */
  endpoint: z
    .url({ protocol: /^https$/, error: "must be an https:// URL such as https://translate.example.org" })
    .optional(),
});
