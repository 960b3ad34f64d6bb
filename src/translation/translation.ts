import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { ssmPlaceholder } from "../host/boot";
import type { DeeplPlan, TranslationProvider } from "../vocabulary/configEnums";
import { type Env, translationEnv } from "../host/env";
import { providedType, withFormerType } from "../aws/typeToken";

export interface TranslationArgs {
  /** Which service translates posts: DeepL's API or a LibreTranslate server. */
  provider: TranslationProvider;
  /** The provider's API key, a secret: DeepL requires it, LibreTranslate may (@default none). */
  apiKey?: pulumi.Input<string>;
  /** DeepL's API plan (DEEPL_PLAN): the free API or pro. (@default "free") */
  deeplPlan?: DeeplPlan;
  /** LibreTranslate's base URL (https). (@default none (required for libretranslate)) */
  endpoint?: string;
  /** Where the key is stored, e.g. /mastodon/production/mastodon. */
  parameterPrefix: string;
}

/**
 * Translation of posts: the provider's API key kept as an SSM SecureString and filled into
 * .env.production at boot like every other secret (never in user-data), and `env` with DEEPL_* or
 * LIBRE_TRANSLATE_* (src/host/env.ts).
 */
export class Translation extends pulumi.ComponentResource {
  /** DEEPL_* or LIBRE_TRANSLATE_* for .env.production, the key as the boot-time placeholder of its parameter. */
  public readonly env: Env;
  /** With a key: the SSM SecureString parameter holding it, <parameterPrefix>/translation-api-key. */
  public readonly apiKeyParameterName?: string;

  constructor(name: string, args: TranslationArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("Translation"), name, {}, withFormerType("mastodon:translation:Translation", opts));
    const parent = { parent: this };
    let placeholder: string | undefined;
    if (args.apiKey !== undefined) {
      const envName = args.provider === "deepl" ? "DEEPL_API_KEY" : "LIBRE_TRANSLATE_API_KEY";
      this.apiKeyParameterName = `${args.parameterPrefix}/translation-api-key`;
      new aws.ssm.Parameter(
        `${name}-api-key`,
        {
          name: this.apiKeyParameterName,
          type: "SecureString",
          value: pulumi.secret(args.apiKey),
          description: `Mastodon ${envName}`,
        },
        parent,
      );
      placeholder = ssmPlaceholder(this.apiKeyParameterName);
    }
    switch (args.provider) {
      case "deepl":
        if (!placeholder) throw new Error(`${name}: DeepL needs an API key`);
        this.env = translationEnv({ provider: "deepl", apiKey: placeholder, plan: args.deeplPlan ?? "free" });
        break;
      case "libretranslate":
        if (!args.endpoint) throw new Error(`${name}: LibreTranslate needs its endpoint`);
        this.env = translationEnv({
          provider: "libretranslate",
          endpoint: args.endpoint,
          ...(placeholder && { apiKey: placeholder }),
        });
        break;
      default: {
        const unknown: never = args.provider;
        throw new Error(`unknown translation provider ${String(unknown)}`);
      }
    }
    this.registerOutputs({ apiKeyParameterName: this.apiKeyParameterName });
  }
}
