/**
 * The documentation against the code: the config reference table lists exactly the keys the schema
 * accepts, the defaults it states for simple keys are the ones a parse fills in, and every relative
 * link in README.md and docs/*.md reaches a file (and a heading, when it names one).
 */
import * as fs from "fs";
import * as path from "path";
import type { z } from "zod";
import { parseStackConfig, stackConfigSchema } from "../src/config";

const ROOT = path.join(__dirname, "..");
const DOCS = path.join(ROOT, "docs");

type AnySchema = z.core.$ZodType;
interface Def {
  type: string;
  shape?: Record<string, AnySchema>;
  innerType?: AnySchema;
  valueType?: AnySchema;
  element?: AnySchema;
  in?: AnySchema;
}
const defOf = (s: AnySchema) => s._zod.def as unknown as Def;

/** The schema with its optional/default/prefault wrappers and pipes (transforms) taken off. */
function unwrap(schema: AnySchema): AnySchema {
  const def = defOf(schema);
  if (def.innerType) return unwrap(def.innerType);
  if (def.type === "pipe" && def.in) return unwrap(def.in);
  return schema;
}

/** Every leaf key of the schema: objects are walked, a record's entries become `<name>`. */
function leafKeys(schema: AnySchema, prefix: string): string[] {
  const def = defOf(unwrap(schema));
  if (def.type === "object" && def.shape) {
    return Object.entries(def.shape).flatMap(([key, child]) => leafKeys(child, `${prefix}${key}.`));
  }
  if (def.type === "record" && def.valueType) return leafKeys(def.valueType, `${prefix}<name>.`);
  // Scalars, enums, unions and arrays (sidekiq.queues) are set as one value.
  return [prefix.replace(/\.$/, "")];
}

const SCHEMA_KEYS = leafKeys(stackConfigSchema, "");

interface Row {
  readonly keys: string[];
  /** The default cell, split like the keys (one part per key when the row groups keys). */
  readonly defaults: string[];
  readonly line: string;
}

const cells = (line: string) =>
  line
    .trim()
    .replace(/^\||\|$/g, "")
    .split("|")
    .map((c) => c.trim());

/** `a.b` / `c` / `d`: later names without a dot share the first key's parent; `x.y` or `x.z` too. */
function keysOfCell(cell: string): string[] {
  const names = [...cell.matchAll(/`([^`]+)`/g)].map((m) => m[1] as string);
  const [first, ...rest] = names;
  if (!first) return [];
  const parent = first.slice(0, first.lastIndexOf(".") + 1);
  return [first, ...rest.map((n) => (n.includes(".") ? n : `${parent}${n}`))];
}

/** The config reference table: the first table whose header is `key | default | meaning`. */
function configTable(): { file: string; rows: Row[] } | undefined {
  const candidates = [path.join(DOCS, "config.md"), path.join(ROOT, "README.md")];
  for (const file of candidates.filter((f) => fs.existsSync(f))) {
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const start = lines.findIndex((l) => /^\|\s*key\s*\|\s*default\s*\|\s*meaning\s*\|/.test(l));
    if (start < 0) continue;
    const rows: Row[] = [];
    for (const line of lines.slice(start + 2)) {
      if (!line.startsWith("|")) break;
      const [key = "", dflt = ""] = cells(line);
      rows.push({ keys: keysOfCell(key), defaults: dflt.split(" / ").map((d) => d.trim()), line });
    }
    return { file: path.relative(ROOT, file), rows };
  }
  return undefined;
}

const TABLE = configTable();

describe("the config reference table", () => {
  test("exists in docs/config.md or README.md", () => {
    expect(TABLE).toBeDefined();
    expect(TABLE?.rows.length).toBeGreaterThan(20);
  });

  test("the schema walk finds the keys it should (so an empty walk cannot pass)", () => {
    expect(SCHEMA_KEYS).toEqual(
      expect.arrayContaining([
        "environment",
        "network.cidr",
        "database.pgbouncer.defaultPoolSize",
        "database.replica.maxConnections",
        "redis.persistent.volumeGiB",
        "mail.smtp.password",
        "fleets.<name>.sidekiq.queues",
        "fleets.<name>.web.threads",
      ]),
    );
  });

  test("lists every key the schema accepts", () => {
    const listed = new Set(TABLE?.rows.flatMap((r) => r.keys));
    expect(SCHEMA_KEYS.filter((k) => !listed.has(k))).toEqual([]);
  });

  test("lists no key the schema does not accept", () => {
    const known = new Set(SCHEMA_KEYS);
    const unknown = (TABLE?.rows ?? []).flatMap((r) =>
      r.keys.filter((k) => !known.has(k)).map((k) => `${k} (${r.line.replace(/\s+/g, " ").slice(0, 80)})`),
    );
    expect(unknown).toEqual([]);
  });

  test("lists each key once", () => {
    const keys = (TABLE?.rows ?? []).flatMap((r) => r.keys);
    expect(keys.filter((k, i) => keys.indexOf(k) !== i)).toEqual([]);
  });

  test("states the defaults a parse fills in", () => {
    // The smallest config the package accepts: every default left to the schema and resolve.ts.
    const { config } = parseStackConfig({
      environment: "staging",
      domain: "readme.example",
      dns: { zoneId: "Z0123456789TEST", zoneName: "readme.example" },
      version: "v4.6.5",
      database: { instanceClass: "db.t4g.medium" },
      fleets: {
        app: {
          instanceType: "c7g.large",
          web: {},
          streaming: {},
          sidekiq: { queues: ["default", "push", "ingress", "mailers", "pull", "scheduler", "fasp"] },
        },
      },
    });
    const app = config.fleets.find((f) => f.name === "app");
    const filled: Record<string, unknown> = {
      "network.cidr": config.network.cidr,
      "network.availabilityZones": config.network.availabilityZones,
      "network.ipv6": config.network.ipv6,
      "database.engineVersion": config.database.engineVersion,
      "database.allowSingleAz": config.database.allowSingleAz,
      "database.storageGiB": config.database.storageGiB,
      "database.adminHeadroom": config.database.adminHeadroom,
      "database.pooler": config.database.pooler,
      "database.pgbouncer.defaultPoolSize": config.database.pgbouncer.defaultPoolSize,
      "redis.cache.engine": config.redis.cache.engine,
      "redis.cache.engineVersion": config.redis.cache.engineVersion,
      "redis.cache.nodeType": config.redis.cache.nodeType,
      "redis.cache.nodes": config.redis.cache.nodes,
      "redis.persistent.mode": config.redis.persistent.mode,
      "redis.persistent.nodes": config.redis.persistent.nodes,
      "redis.persistent.appendOnly": config.redis.persistent.appendOnly,
      "redis.persistent.instanceType": config.redis.persistent.instanceType,
      "redis.persistent.volumeGiB": config.redis.persistent.volumeGiB,
      "media.versioning": config.media.versioning,
      "media.priceClass": config.media.priceClass,
      "loadBalancer.idleTimeoutSeconds": config.loadBalancer.idleTimeoutSeconds,
      "mail.provider": config.mail.provider,
      "image.rootDeviceName": config.image.rootDeviceName,
      "fleets.<name>.minSize": app?.minSize,
      "fleets.<name>.web.threads": app?.web?.threads,
      "fleets.<name>.streaming.processes": app?.streaming?.processes,
      "fleets.<name>.streaming.dbPool": app?.streaming?.dbPool,
      "fleets.<name>.sidekiq.processes": app?.sidekiq?.processes,
      "fleets.<name>.sidekiq.threads": app?.sidekiq?.threads,
      "fleets.<name>.spot": app?.spot,
      "fleets.<name>.rootVolumeGiB": app?.rootVolumeGiB,
    };
    const stated: Record<string, string | undefined> = {};
    for (const row of TABLE?.rows ?? []) {
      row.keys.forEach((key, i) => {
        // The first literal of the key's part of the default cell: `20`, `"17"`, `valkey`.
        const literal = /`([^`]+)`/.exec(row.defaults[i] ?? "")?.[1];
        stated[key] = literal?.replace(/^"(.*)"$/, "$1");
      });
    }
    const mismatches = Object.entries(filled)
      .filter(([key, value]) => stated[key] !== String(value))
      .map(([key, value]) => `${key}: the table says ${stated[key]}, a parse gives ${String(value)}`);
    expect(mismatches).toEqual([]);
  });
});

/** GitHub's heading anchors: lower-case, punctuation dropped, spaces to hyphens. */
function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

function anchorsOf(file: string): Set<string> {
  const text = fs.readFileSync(file, "utf8").replace(/```[\s\S]*?```/g, "");
  const seen = new Map<string, number>();
  const anchors = new Set<string>();
  for (const m of text.matchAll(/^#{1,6}\s+(.+)$/gm)) {
    const base = slug(m[1] as string);
    const n = seen.get(base) ?? 0;
    seen.set(base, n + 1);
    anchors.add(n === 0 ? base : `${base}-${n}`);
  }
  return anchors;
}

const MARKDOWN = [
  path.join(ROOT, "README.md"),
  ...fs
    .readdirSync(DOCS)
    .filter((f) => f.endsWith(".md"))
    .map((f) => path.join(DOCS, f)),
];

test("every relative link in README.md and docs/*.md reaches a file, and its heading when it names one", () => {
  const broken: string[] = [];
  let checked = 0;
  for (const file of MARKDOWN) {
    // Code blocks and inline code are not links.
    const text = fs
      .readFileSync(file, "utf8")
      .replace(/```[\s\S]*?```/g, "")
      .replace(/`[^`\n]*`/g, "");
    for (const m of text.matchAll(/!?\[[^\]]*\]\(([^)\s]+)(?:\s+"[^"]*")?\)/g)) {
      const target = m[1] as string;
      if (/^[a-z][a-z0-9+.-]*:/i.test(target)) continue; // https:, mailto:
      const [rel = "", anchor] = target.split("#");
      const resolved = rel ? path.resolve(path.dirname(file), rel) : file;
      const where = `${path.relative(ROOT, file)}: ${target}`;
      checked++;
      if (!fs.existsSync(resolved)) broken.push(`${where} (no such file)`);
      else if (anchor && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor))
        broken.push(`${where} (no such heading)`);
    }
  }
  expect(checked).toBeGreaterThan(5);
  expect(broken).toEqual([]);
});
