/**
 * The stack config, namespace `mastodon:`, as a zod schema. Shape and per-field checks live here;
 * rules that look across fields (queue coverage, the scheduler singleton, the connection budget)
 * live in rules.ts. Every optional key documents its default; the defaults themselves come from
 * ../defaults.ts so there is one place to change them.
 */
import { z } from "zod";
import { checkReleaseTag } from "../../vocabulary/release";
import { hostname } from "./common";
import { cacheRedisSchema, databaseSchema, onHostRedisSchema, persistentRedisSchema } from "./data";
import {
  alarmsSchema,
  dnsSchema,
  logsSchema,
  imageSchema,
  loadBalancerSchema,
  mailSchema,
  mediaSchema,
  networkSchema,
} from "./edge";
import { fleetName, fleetSchema } from "../../fleet/schema";
import { ownerSchema, retentionSchema } from "./operations";
import { searchSchema, translationSchema } from "../../search/schema";
import { wafSchema } from "../../waf/schema";
import { existingSecretsSchema } from "../../migration/schema";

export * from "./data";
export * from "./edge";
export * from "../../fleet/schema";
export * from "./operations";
export * from "../../search/schema";
export * from "../../waf/schema";

export const stackConfigSchema = z.strictObject({
  /** dev, staging or production: production turns on Multi-AZ, deletion protection and the stricter checks. */
  environment: z.enum(["dev", "staging", "production"]),
  /**
   * The Mastodon release this stack runs, a 4.6 release tag such as v4.6.5: the images (or the
   * AMI) every host boots. Each stack pins its own, so staging and production move independently.
   */
  version: z.string().superRefine((tag, ctx) => {
    // The same rule npm run upgrade applies to its --version (src/vocabulary/release.ts).
    const checked = checkReleaseTag(tag);
    if ("problem" in checked) ctx.addIssue({ code: "custom", message: checked.problem });
  }),
  /** LOCAL_DOMAIN: the domain in users' handles. */
  domain: hostname,
  /** WEB_DOMAIN: where the web interface is served, when it differs from domain. @default domain */
  webDomain: hostname.optional(),
  network: networkSchema.prefault({}),
  database: databaseSchema,
  redis: z
    .strictObject({
      cache: cacheRedisSchema.prefault({}),
      persistent: persistentRedisSchema.prefault({}),
      /** Both Redis on the one app host instead of ElastiCache (docs/design.md, "Redis on the host"). @default none */
      onHost: onHostRedisSchema.optional(),
    })
    .prefault({}),
  media: mediaSchema.prefault({}),
  loadBalancer: loadBalancerSchema.prefault({}),
  /** Alias records, certificate validation and DKIM records go in this zone when set. */
  dns: dnsSchema.optional(),
  mail: mailSchema.prefault({}),
  alarms: alarmsSchema.prefault({}),
  logs: logsSchema.prefault({}),
  /**
   * The owner account, created once after the schema by the scheduler's host; its first password
   * goes to an SSM SecureString (the stack output ownerPassword says how to read it). @default none
   */
  owner: ownerSchema.optional(),
  /** What the scheduler's host removes of cached remote content, daily. */
  retention: retentionSchema.prefault({}),
  /** Full-text search: an OpenSearch domain (ES_*). @default none: search off */
  search: searchSchema.optional(),
  /** Translation of posts (DEEPL_* or LIBRE_TRANSLATE_*). @default none: translation off */
  translation: translationSchema.optional(),
  /** An AWS WAF web ACL on the ALB (src/waf/rules.ts). @default none: no WAF */
  waf: wafSchema.optional(),
  /**
   * The secrets of the instance this stack takes over, kept in place of generated ones, each a
   * Pulumi secret (src/migration/schema.ts). @default none: every secret generated
   */
  existingSecrets: existingSecretsSchema.optional(),
  image: imageSchema.prefault({}),
  fleets: z.record(fleetName, fleetSchema).refine((fleets) => Object.keys(fleets).length > 0, {
    error:
      "defines no fleet; add at least one, e.g. `pulumi config set --path mastodon:fleets.app.instanceType c7g.large`",
  }),
});

/** The config as parsed by zod (defaults applied, environment-dependent ones still open). */
export type ParsedStackConfig = z.infer<typeof stackConfigSchema>;
export type ParsedFleet = z.infer<typeof fleetSchema>;
