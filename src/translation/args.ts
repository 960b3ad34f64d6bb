/**
 * mastodon:translation written out for Pulumi's component analyzer: MastodonStack's `translation`
 * arg, the translation provider. Only what the analyzer reads (interfaces, `as const` enums, doc
 * comments with `(@default ...)`); src/config/args.ts says why.
 */
/** Translation of posts. */
export const TranslationProvider = { Deepl: "deepl", Libretranslate: "libretranslate" } as const;
export type TranslationProvider = (typeof TranslationProvider)[keyof typeof TranslationProvider];

/** DeepL's API plan. */
export const DeeplPlan = { Free: "free", Pro: "pro" } as const;
export type DeeplPlan = (typeof DeeplPlan)[keyof typeof DeeplPlan];

/** mastodon:translation */
export interface StackTranslationArgs {
  provider: TranslationProvider;
  /** The provider's API key, a secret: required for DeepL (@default none). */
  apiKey?: string;
  /** (@default "free") */
  deeplPlan?: DeeplPlan;
  /** The LibreTranslate server's https base URL (@default none). */
  endpoint?: string;
}
