/**
 * The stack config written out as TypeScript interfaces: the shape MastodonStack takes as args, the
 * same keys as the `mastodon:` namespace (src/config/schema/). Each part's keys live in its folder
 * (src/network/args.ts, src/database/args.ts, ... src/fleet/args.ts); here are the enums several
 * parts share. Pulumi's component analyzer (in @pulumi/pulumi) builds the cross-language schema
 * from these, so they use only what it reads: interfaces, `as const` string enums with a type of
 * the same name, arrays, string-keyed maps, and doc comments (its descriptions keep the comment
 * text, not JSDoc tags, so each default is written `(@default ...)` inside the text).
 * provider/componentSchema.test.ts checks them against the zod schema key by key, so the two cannot
 * drift; the zod schema stays the one that validates.
 */

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
