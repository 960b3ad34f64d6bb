/**
 * The stack config's zod schema read as the one source of each key (src/config/schema/keyDoc.ts):
 * its type, whether it may be left out, its default, its description. From it, the args interfaces
 * Pulumi's component analyzer reads (src/<part>/args.ts, src/stack/mastodonStackArgs.ts) and the
 * rows of docs/config.md's table. Pure: bin/generateArgs.ts writes what this returns.
 */
import * as path from "path";
import type { z } from "zod";
import { type ArgsFolder, type KeyMeta, keyMeta, unwrapKey as unwrap } from "../src/config/schema/keyDoc";

type Zod = z.core.$ZodType;
interface Def {
  type: string;
  innerType?: Zod;
  in?: Zod;
  shape?: Record<string, Zod>;
  keyType?: Zod;
  valueType?: Zod;
  element?: Zod;
  entries?: Record<string, string | number>;
  options?: Zod[];
  values?: unknown[];
  defaultValue?: unknown;
}
/** A schema's definition, as zod keeps it (the fields this generator reads). */
export const defOf = (s: Zod) => s._zod.def as unknown as Def;

/** A key as the generator sees it, its wrappers (optional, default, pipe) taken off. */
export interface Key {
  readonly path: readonly string[];
  readonly schema: Zod;
  readonly optional: boolean;
  readonly description: string;
  /** What an absent key means, as the args' `(@default ...)` and the table's default column say it. */
  readonly defaultText?: string;
  readonly meta: KeyMeta;
}

/** A default value as written in the args' comments: strings quoted, objects as JSON. */
export function defaultValueText(value: unknown): string {
  return typeof value === "number" || typeof value === "boolean" ? String(value) : JSON.stringify(value);
}

/** The key at `keyPath` (a field of an object), with its description and default checked present. */
export function keyOf(keyPath: readonly string[], schema: Zod, problems: string[]): Key {
  const { inner, optional, defaultValue, meta } = unwrap(schema);
  const where = keyPath.join(".");
  if (!meta.description)
    problems.push(`${where}: no description (documented() in src/config/schema/keyDoc.ts)`);
  const defaultText =
    meta.defaultText ?? (defaultValue === undefined ? undefined : defaultValueText(defaultValue));
  if (optional && defaultText === undefined) problems.push(`${where}: optional, but says no default`);
  // The analyzer reads "@word" after a space as a JSDoc tag and ends the description there.
  if (/(^|\s)@/.test(meta.description ?? ""))
    problems.push(`${where}: "@" after a space ends the description`);
  return { path: keyPath, schema: inner, optional, description: meta.description ?? "", defaultText, meta };
}

/** The values a check accepts, when it is an enum or a union of literals. */
export function acceptedValues(schema: Zod): (string | number)[] | undefined {
  const def = defOf(schema);
  if (def.type === "enum") return Object.values(def.entries ?? {});
  if (def.type === "union") {
    const options = (def.options ?? []).map((o) => defOf(unwrap(o).inner));
    if (options.every((o) => o.type === "literal"))
      return options.flatMap((o) => (o.values ?? []) as string[]);
  }
  return undefined;
}

/** A property of an interface being written. */
interface Property {
  readonly name: string;
  readonly optional: boolean;
  readonly type: string;
  readonly doc: string;
}
interface Interface {
  readonly name: string;
  readonly folder: ArgsFolder;
  readonly description: string;
  readonly properties: Property[];
}

/** The generated args file of a folder, from the repository's root. */
export function argsFile(folder: ArgsFolder): string {
  return folder === "stack" ? "src/stack/mastodonStackArgs.ts" : `src/${folder}/args.ts`;
}

/** A property's comment: its description, and what leaving it out means. */
export function propertyDoc(description: string, defaultText: string | undefined): string {
  if (defaultText === undefined) return description;
  return `${description.replace(/\.$/, "")} (@default ${defaultText}).`;
}

/** Every interface and the imports each file needs, walking the schema from `root`. */
export class ArgsModel {
  readonly interfaces = new Map<string, Interface>();
  /** Per folder: type names it uses, each with the module (from the root, no .ts) defining it. */
  readonly uses = new Map<ArgsFolder, Map<string, string>>();
  readonly problems: string[] = [];
  /** Per enum type: its module and the values zod accepts for it. */
  readonly enums = new Map<string, { module: string; accepted: (string | number)[] }>();

  constructor(
    root: Zod,
    private readonly inputLeaves: readonly (readonly string[])[],
  ) {
    this.objectType([], root, keyMeta(root));
  }

  private use(folder: ArgsFolder, name: string, module: string) {
    const uses = this.uses.get(folder) ?? new Map<string, string>();
    uses.set(name, module);
    this.uses.set(folder, uses);
  }

  private isInput(keyPath: readonly string[]): boolean {
    return this.inputLeaves.some((leaf) => leaf.join(".") === keyPath.join("."));
  }

  /** The TypeScript type of a key's value, inside `folder`'s file. */
  private typeOf(folder: ArgsFolder, keyPath: readonly string[], inner: Zod, meta: KeyMeta): string {
    const def = defOf(inner);
    const where = keyPath.join(".");
    if (meta.enumType) {
      const { name, module } = meta.enumType;
      this.enums.set(name, { module, accepted: acceptedValues(inner) ?? [] });
      this.use(folder, name, module);
      return name;
    }
    if (meta.argsType || def.type === "object") {
      const name = this.objectType(keyPath, inner, meta);
      const target = this.interfaces.get(name)?.folder;
      if (target && target !== folder) this.use(folder, name, argsFile(target).replace(/\.ts$/, ""));
      return name;
    }
    switch (def.type) {
      case "string":
        return this.isInput(keyPath) ? "pulumi.Input<string>" : "string";
      case "number":
        return "number";
      case "boolean":
        return "boolean";
      case "array": {
        const element = unwrap(def.element as Zod);
        return `${this.typeOf(folder, [...keyPath, "[]"], element.inner, element.meta)}[]`;
      }
      case "record": {
        const value = unwrap(def.valueType as Zod);
        return `{ [name: string]: ${this.typeOf(folder, [...keyPath, "<name>"], value.inner, value.meta)} }`;
      }
      case "union":
        // A duration: a string with its unit (a bare number is refused with a message).
        if ((def.options ?? []).some((o) => defOf(unwrap(o).inner).type === "string")) return "string";
        break;
      case "enum":
        // An enum over a catalog (instance types): a string in the args, checked by zod.
        return "string";
    }
    this.problems.push(
      `${where}: a ${def.type} the generator cannot write as a type (argsType or enumType?)`,
    );
    return "unknown";
  }

  /** Writes the interface an object (or a record over an enum's keys) becomes; returns its name. */
  private objectType(keyPath: readonly string[], inner: Zod, meta: KeyMeta): string {
    const doc = meta.argsType;
    if (!doc) {
      this.problems.push(`${keyPath.join(".") || "the root"}: an object without argsType()`);
      return "unknown";
    }
    if (this.interfaces.has(doc.name)) return doc.name;
    const def = defOf(inner);
    const properties: Property[] = [];
    const entry: Interface = { name: doc.name, folder: doc.folder, description: doc.description, properties };
    this.interfaces.set(doc.name, entry);
    if (def.type === "record") {
      const keys = Object.values(defOf(unwrap(def.keyType as Zod).inner).entries ?? {}).map(String);
      const value = unwrap(def.valueType as Zod);
      for (const key of keys) {
        const description = meta.keys?.descriptions[key];
        if (!description)
          this.problems.push(`${[...keyPath, key].join(".")}: no description in argsType's keys`);
        const fallback = meta.keys?.defaults?.[key];
        properties.push({
          name: key,
          optional: true,
          type: this.typeOf(doc.folder, [...keyPath, key], value.inner, value.meta),
          doc: propertyDoc(
            description ?? "",
            fallback === undefined ? undefined : defaultValueText(fallback),
          ),
        });
      }
      return doc.name;
    }
    for (const [name, field] of Object.entries(def.shape ?? {})) {
      const key = keyOf([...keyPath, name], field, this.problems);
      properties.push({
        name,
        optional: key.optional,
        type: this.typeOf(doc.folder, key.path, key.schema, key.meta),
        doc: propertyDoc(key.description, key.defaultText),
      });
    }
    return doc.name;
  }
}

/** A module path from `fromFile`'s folder, as an import writes it. */
export function importPath(fromFile: string, module: string): string {
  const relative = path.posix.relative(path.posix.dirname(fromFile), module);
  return relative.startsWith(".") ? relative : `./${relative}`;
}
