/**
 * The component provider other Pulumi languages run: Pulumi's ComponentProvider, whose analyzer
 * builds the schema from the components' args interfaces, with the credentials marked secret. The
 * analyzer cannot say that a property is secret (@pulumi/pulumi's provider/experimental analyzer
 * emits a property's type, description, `optional` and `plain` only), while Pulumi's package schema
 * can ("Pulumi package schema": a property's `secret`), so the schema is marked here, after the
 * analyzer. SDKs generated from it treat what a caller passes there as a secret where their
 * language supports it; the components keep each credential a secret themselves either way.
 */
import { ComponentProvider } from "@pulumi/pulumi/provider/experimental";
import { COMPONENTS, PROVIDER_NAME } from "./components";

/**
 * The properties that hold credentials, by component or type name (the analyzer names a type after
 * its interface): inputs a caller passes, outputs it reads.
 */
export const SECRET_PROPERTIES: Readonly<Record<string, readonly string[]>> = {
  // MastodonStack's mail.smtp.password and translation.apiKey (README, "Config reference": secrets).
  StackSmtpArgs: ["password"],
  StackTranslationArgs: ["apiKey"],
  // mastodon:existingSecrets, which MastodonSecrets takes too as `existing`: every value but the VAPID public key.
  StackExistingSecretsArgs: ["secretKeyBase"],
  StackActiveRecordEncryptionArgs: ["deterministicKey", "keyDerivationSalt", "primaryKey"],
  StackVapidArgs: ["privateKey"],
  // The tiers: the SMTP relay's password and the translation key in, the generated passwords out.
  MailSmtpArgs: ["password"],
  Translation: ["apiKey"],
  PostgresDatabase: ["password", "adminPassword"],
  RedisStore: ["password"],
};

interface SchemaProperties {
  [key: string]: { secret?: boolean };
}
interface MarkedSchema {
  resources: Record<string, { inputProperties: SchemaProperties; properties: SchemaProperties }>;
  types: Record<string, { properties?: SchemaProperties }>;
}

/** Marks SECRET_PROPERTIES secret in `schema`; a listed property the schema lacks is an error. */
export function markSecrets(schema: MarkedSchema): void {
  for (const [owner, keys] of Object.entries(SECRET_PROPERTIES)) {
    const token = `${PROVIDER_NAME}:index:${owner}`;
    const resource = schema.resources[token];
    const holders = resource
      ? [resource.inputProperties, resource.properties]
      : [schema.types[token]?.properties ?? {}];
    for (const key of keys) {
      const found = holders.filter((h) => h[key]);
      if (found.length === 0) throw new Error(`SECRET_PROPERTIES: ${owner} has no property ${key}`);
      for (const h of found) (h[key] as { secret?: boolean }).secret = true;
    }
  }
}

/** ComponentProvider over the package's components, its schema with the credentials marked secret. */
export class MastodonProvider extends ComponentProvider {
  private marked?: string;

  constructor(dirname: string) {
    super({ name: PROVIDER_NAME, dirname, components: COMPONENTS });
  }

  override async getSchema(): Promise<string> {
    if (!this.marked) {
      const schema = JSON.parse(await super.getSchema()) as MarkedSchema;
      markSecrets(schema);
      this.marked = JSON.stringify(schema);
    }
    return this.marked;
  }
}
