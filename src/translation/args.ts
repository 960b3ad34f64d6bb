/**
 * mastodon:translation written out for Pulumi's component analyzer: MastodonStack's `translation`
 * arg, the translation provider. Only what the analyzer reads (interfaces, `as const` enums, doc
 * comments with `(@default ...)`); src/config/args.ts says why.
 */
import type * as pulumi from "@pulumi/pulumi";

/** Translation of posts. */
export const TranslationProvider = {
  /** DeepL's API (DEEPL_API_KEY, DEEPL_PLAN). */
  Deepl: "deepl",
  /** A LibreTranslate server (LIBRE_TRANSLATE_ENDPOINT). */
  Libretranslate: "libretranslate",
} as const;
export type TranslationProvider = (typeof TranslationProvider)[keyof typeof TranslationProvider];

/** DeepL's API plan. */
export const DeeplPlan = { Free: "free", Pro: "pro" } as const;
export type DeeplPlan = (typeof DeeplPlan)[keyof typeof DeeplPlan];

/** mastodon:translation */
export interface StackTranslationArgs {
  /** Which service translates posts; its presence turns translation on. */
  provider: TranslationProvider;
  /**
   * The provider's API key, a secret (pass a secret value): required for DeepL, optional for
   * LibreTranslate; kept as an SSM SecureString and filled in at boot (@default none).
   */
  apiKey?: pulumi.Input<string>;
  /** DeepL's API plan (DEEPL_PLAN): the free API (api-free.deepl.com) or pro (@default "free"). */
  deeplPlan?: DeeplPlan;
  /** The LibreTranslate server's https base URL (@default none). */
  endpoint?: string;
}
