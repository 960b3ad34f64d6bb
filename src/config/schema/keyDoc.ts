/**
 * What each config key says of itself, written once beside its zod check: its description and, when
 * zod's own default does not say it, what an absent key means. bin/generateArgs.ts reads these
 * (zod's metadata registry) to write the args interfaces Pulumi's component analyzer reads
 * (src/<part>/args.ts, src/stack/mastodonStackArgs.ts) and docs/config.md's table, so a key's type,
 * default, `@default` text and description have this one source (awsx generates its args from one
 * schema the same way).
 */
import { z } from "zod";

/** The folders whose args.ts the generator writes; `stack` is src/stack/mastodonStackArgs.ts. */
export type ArgsFolder =
  | "stack"
  | "network"
  | "database"
  | "redis"
  | "edge"
  | "media"
  | "mail"
  | "images"
  | "migration"
  | "search"
  | "translation"
  | "waf"
  | "fleet"
  | "monitoring";

/** A key's own words. */
export interface KeyDoc {
  /** What the key is, one or more sentences. */
  readonly description: string;
  /**
   * What an absent key means, when zod's `.default()` does not say it: a computed default ("minSize",
   * "true in production, false elsewhere") or an absent feature ("none: search off"). A key with a
   * zod default leaves it out and the generator prints that value.
   */
  readonly default?: string;
}

/** An object key: the interface it becomes and where that is written. */
export interface ArgsTypeDoc {
  readonly name: string;
  readonly folder: ArgsFolder;
  /** The interface's own comment. */
  readonly description: string;
}

/**
 * A key whose values are an `as const` enum object written by hand (with its docs) in `module`, a
 * path from the repository's root without `.ts`: the args import its type from there.
 */
export interface EnumTypeDoc {
  readonly name: string;
  readonly module: string;
}

/** The metadata keys this file writes (zod's registry holds them beside `description`). */
export interface KeyMeta {
  readonly description?: string;
  readonly defaultText?: string;
  readonly argsType?: ArgsTypeDoc;
  readonly enumType?: EnumTypeDoc;
  /** A record over an enum's keys (alarms.queueLatency): each key's description and default. */
  readonly keys?: RecordKeysDoc;
}

/** A record over an enum's keys, written out as an interface with a property per key. */
export interface RecordKeysDoc {
  readonly descriptions: Readonly<Record<string, string>>;
  readonly defaults?: Readonly<Record<string, string | number>>;
}

/** `schema` with its key's description (and default text). */
export function documented<T extends z.ZodType>(schema: T, doc: KeyDoc): T {
  const meta: KeyMeta = {
    description: doc.description,
    ...(doc.default ? { defaultText: doc.default } : {}),
  };
  return schema.meta(meta as Record<string, unknown>) as T;
}

/** An object schema (or a record over an enum's keys) named as the interface the analyzer reads. */
export function argsType<T extends z.ZodType>(schema: T, doc: ArgsTypeDoc, keys?: RecordKeysDoc): T {
  const meta: KeyMeta = { argsType: doc, ...(keys ? { keys } : {}) };
  return schema.meta(meta as Record<string, unknown>) as T;
}

/** An enum-valued check typed, in the args, as the hand-written enum `name` of `module`. */
export function enumType<T extends z.ZodType>(schema: T, name: string, module: string): T {
  const meta: KeyMeta = { enumType: { name, module } };
  return schema.meta(meta as Record<string, unknown>) as T;
}

/**
 * The key metadata of one schema: its own and, as zod's registry gives it, the metadata of the schema
 * it was made from by .meta() (`documented(argsType(...))`); not that of a schema it wraps.
 */
export function keyMeta(schema: z.core.$ZodType): KeyMeta {
  return (z.globalRegistry.get(schema as z.ZodType) ?? {}) as KeyMeta;
}

/** A key's schema without its wrappers (optional, default, prefault, a transform's pipe), every layer's metadata merged (the outer layer's first). */
export function unwrapKey(schema: z.core.$ZodType): {
  inner: z.core.$ZodType;
  optional: boolean;
  defaultValue?: unknown;
  meta: KeyMeta;
} {
  let optional = false;
  let defaultValue: unknown;
  let meta: KeyMeta = {};
  let cur = schema;
  for (;;) {
    meta = { ...keyMeta(cur), ...meta };
    const def = cur._zod.def as unknown as {
      type: string;
      innerType?: z.core.$ZodType;
      in?: z.core.$ZodType;
      defaultValue?: unknown;
    };
    if (def.type === "optional") optional = true;
    if (def.type === "default" || def.type === "prefault") {
      optional = true;
      defaultValue ??= def.defaultValue;
    }
    if (def.innerType) cur = def.innerType;
    else if (def.type === "pipe" && def.in) cur = def.in;
    else return { inner: cur, optional, defaultValue, meta };
  }
}
