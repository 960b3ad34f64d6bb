/**
 * MastodonStack's args as the config's zod schema reads them. The args themselves are generated
 * from the schema (bin/generateArgs.ts writes src/<part>/args.ts and src/stack/mastodonStackArgs.ts).
 */
import type * as pulumi from "@pulumi/pulumi";

/**
 * `T` with every pulumi.Input given as its plain value: MastodonStackArgs as the config's zod
 * schema reads them (src/stack/stackInputs.ts sets the leaves given as Outputs aside first).
 */
export type Plain<T> =
  T extends pulumi.OutputInstance<infer U>
    ? U
    : T extends Promise<infer U>
      ? U
      : T extends (infer E)[]
        ? Plain<E>[]
        : T extends object
          ? { [K in keyof T]: Plain<T[K]> }
          : T;
