/**
 * The stack config, namespace `mastodon:`, as a zod schema. Shape and per-field checks live here;
 * rules that look across fields (queue coverage, the scheduler singleton, the connection budget)
 * live in rules.ts. Every optional key documents its default; the defaults themselves come from
 * ../defaults.ts so there is one place to change them.
 */
import { z } from "zod";
import { checkReleaseTag } from "../../vocabulary/release";
import { hostname } from "./common";
import { argsType, documented, enumType } from "./keyDoc";
import { Environment } from "../../vocabulary/configEnums";
import { cacheRedisSchema, databaseSchema, onHostRedisSchema, persistentRedisSchema } from "./data";
import {
  alarmsSchema,
  dnsSchema,
  logsSchema,
  loadBalancerSchema,
  mailSchema,
  mediaSchema,
  networkSchema,
} from "./edge";
import { fleetName, fleetSchema } from "../../fleet/schema";
import { ownerSchema, retentionSchema } from "./operations";
import { searchSchema, translationSchema } from "../../search/schema";
import { wafSchema } from "../../waf/schema";
import { imageSchema } from "../../images/schema";
import { existingSecretsSchema } from "../../migration/schema";

export * from "./data";
export * from "./edge";
export * from "../../fleet/schema";
export * from "./operations";
export * from "../../search/schema";
export * from "../../waf/schema";
export * from "../../images/schema";

export const stackConfigSchema = argsType(
  z.strictObject({
    environment: documented(enumType(z.enum(Environment), "Environment", "src/vocabulary/configEnums"), {
      description:
        "dev, staging or production: production turns on Multi-AZ, deletion protection and the stricter checks.",
    }),
    version: documented(
      z.string().superRefine((tag, ctx) => {
        // The same rule npm run upgrade applies to its --version (src/vocabulary/release.ts).
        const checked = checkReleaseTag(tag);
        if ("problem" in checked) ctx.addIssue({ code: "custom", message: checked.problem });
      }),
      {
        description:
          "The Mastodon release this stack runs, a 4.6 release tag such as v4.6.5 (never latest): the images (or the AMI) every host boots. Each stack pins its own, so staging and production move independently.",
      },
    ),
    domain: documented(hostname, {
      description: "LOCAL_DOMAIN: the domain in users' handles, a lower-case DNS name.",
    }),
    webDomain: documented(hostname.optional(), {
      description: "WEB_DOMAIN: where the web interface is served, when it differs from domain.",
      default: "domain",
    }),
    network: documented(networkSchema.prefault({}), { description: "The VPC." }),
    database: documented(databaseSchema, { description: "RDS PostgreSQL." }),
    redis: documented(
      argsType(
        z.strictObject({
          cache: documented(cacheRedisSchema.prefault({}), {
            description: "The volatile cache (allkeys-lru): Rails' cache.",
          }),
          persistent: documented(persistentRedisSchema.prefault({}), {
            description: "The persistent store (noeviction): Sidekiq's jobs and the home feeds.",
          }),
          onHost: documented(onHostRedisSchema.optional(), {
            description:
              'Both Redis on the one app host instead of ElastiCache (docs/design.md, "Redis on the host").',
            default: "none",
          }),
        }),
        { name: "StackRedisArgs", folder: "redis", description: "mastodon:redis" },
      ).prefault({}),
      { description: "The two Redis." },
    ),
    media: documented(mediaSchema.prefault({}), { description: "Media on S3 behind CloudFront." }),
    loadBalancer: documented(loadBalancerSchema.prefault({}), { description: "The ALB." }),
    dns: documented(dnsSchema.optional(), {
      description: "Alias records, certificate validation and DKIM records go in this zone when set.",
      default: "none",
    }),
    mail: documented(mailSchema.prefault({}), {
      description: "How Mastodon sends mail: SES, or an SMTP relay.",
    }),
    alarms: documented(alarmsSchema.prefault({}), {
      description: "The alarms' thresholds and where they notify.",
    }),
    logs: documented(logsSchema.prefault({}), { description: "How long the fleets' logs are kept." }),
    owner: documented(ownerSchema.optional(), {
      description:
        "The owner account, created once after the schema by the scheduler's host; its first password goes to an SSM SecureString (the stack output ownerPassword says how to read it).",
      default: "none",
    }),
    retention: documented(retentionSchema.prefault({}), {
      description: "What the scheduler's host removes of cached remote content, daily.",
    }),
    search: documented(searchSchema.optional(), {
      description: "Full-text search: an Amazon OpenSearch Service domain (ES_*).",
      default: "none: search off",
    }),
    translation: documented(translationSchema.optional(), {
      description: "Translation of posts (DEEPL_* or LIBRE_TRANSLATE_*).",
      default: "none: translation off",
    }),
    waf: documented(wafSchema.optional(), {
      description:
        "An AWS WAF web ACL on the ALB: managed rules, rate limits per client IP, a block list (src/waf/rules.ts).",
      default: "none: no WAF",
    }),
    existingSecrets: documented(existingSecretsSchema.optional(), {
      description:
        "The secrets of the instance this stack takes over, each a Pulumi secret, kept in place of generated ones (src/migration/schema.ts).",
      default: "none: every secret generated",
    }),
    image: documented(imageSchema.prefault({}), {
      description:
        "Where Mastodon comes from: release images, an AMI baked in the account, or the operator's AMI.",
    }),
    fleets: documented(
      z.record(fleetName, fleetSchema).refine((fleets) => Object.keys(fleets).length > 0, {
        error:
          "defines no fleet; add at least one, e.g. `pulumi config set --path mastodon:fleets.app.instanceType c7g.large`",
      }),
      { description: "The fleets by name (2-32 characters of a-z, 0-9 and -); at least one." },
    ),
  }),
  {
    name: "MastodonStackArgs",
    folder: "stack",
    description:
      "The arguments of a whole Mastodon deployment: the keys of the `mastodon:` stack config (docs/config.md), so a platform engineer can pass an object built in code, from any Pulumi language.",
  },
);

/** The config as parsed by zod (defaults applied, environment-dependent ones still open). */
export type ParsedStackConfig = z.infer<typeof stackConfigSchema>;
export type ParsedFleet = z.infer<typeof fleetSchema>;
