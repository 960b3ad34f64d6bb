/** mastodon:existingSecrets as every other module reads it: the values given, nothing else. */
import type { ParsedStackConfig } from "../config/schema";

/**
 * The old instance's secrets, each one absent when the stack generates it. A value given to
 * MastodonStack as an Output is that Output here (src/stack/stackInputs.ts puts it back once the
 * config is checked): read them as pulumi.Input<string>.
 */
export interface ExistingSecrets {
  readonly secretKeyBase?: string;
  readonly activeRecordEncryption?: {
    readonly deterministicKey?: string;
    readonly keyDerivationSalt?: string;
    readonly primaryKey?: string;
  };
  readonly vapid?: { readonly privateKey?: string; readonly publicKey?: string };
}

/** The keys the schema knows (its objects let no other through, src/migration/schema.ts). */
export function resolveExistingSecrets(
  parsed: NonNullable<ParsedStackConfig["existingSecrets"]>,
): ExistingSecrets {
  const { secretKeyBase, activeRecordEncryption: ar, vapid } = parsed;
  return {
    ...(secretKeyBase !== undefined && { secretKeyBase }),
    ...(ar && {
      activeRecordEncryption: {
        ...(ar.deterministicKey !== undefined && { deterministicKey: ar.deterministicKey }),
        ...(ar.keyDerivationSalt !== undefined && { keyDerivationSalt: ar.keyDerivationSalt }),
        ...(ar.primaryKey !== undefined && { primaryKey: ar.primaryKey }),
      },
    }),
    ...(vapid && {
      vapid: {
        ...(vapid.privateKey !== undefined && { privateKey: vapid.privateKey }),
        ...(vapid.publicKey !== undefined && { publicKey: vapid.publicKey }),
      },
    }),
  };
}
