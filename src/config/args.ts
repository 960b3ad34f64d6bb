/**
 * The stack config written out as TypeScript interfaces: the shape MastodonStack takes as args, the
 * same keys as the `mastodon:` namespace (src/config/schema/). Each part's keys live in its folder
 * (src/network/args.ts, src/database/args.ts, ... src/fleet/args.ts); here are the enums several
 * parts share. Pulumi's component analyzer (in @pulumi/pulumi) builds the cross-language schema
 * from these, so they use only what it reads: interfaces, `as const` string enums with a type of
 * the same name, arrays, string-keyed maps, and doc comments (its descriptions keep the comment
 * text, not JSDoc tags, so each default is written `(@default ...)` inside the text). A value is
 * `plain` in the schema (another language must pass it as it is, not as an Output) unless typed
 * pulumi.Input<T>: only the leaves src/stack/stackInputs.ts lists are, since everything else sizes
 * or names the deployment before any resource exists.
 * provider/componentSchema.test.ts checks them against the zod schema key by key, so the two cannot
 * drift; the zod schema stays the one that validates.
 */
import type * as pulumi from "@pulumi/pulumi";

/** dev, staging or production: production turns on Multi-AZ, deletion protection and the stricter checks. */
export const Environment = { Dev: "dev", Staging: "staging", Production: "production" } as const;
export type Environment = (typeof Environment)[keyof typeof Environment];

/** Mastodon 4.6's Sidekiq queues (src/vocabulary/defaults.ts SIDEKIQ_QUEUES). */
export const SidekiqQueue = {
  Default: "default",
  Push: "push",
  Ingress: "ingress",
  Mailers: "mailers",
  Pull: "pull",
  Scheduler: "scheduler",
  Fasp: "fasp",
} as const;
export type SidekiqQueue = (typeof SidekiqQueue)[keyof typeof SidekiqQueue];

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
