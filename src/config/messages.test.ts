/**
 * Issue #22: an error cites only what the user can open, the project's docs or a public URL. Every
 * string the config validation can show (the literals of src/config/ and of the schema and rule
 * modules it imports from the parts) is read for citations: a file it names must exist in the
 * repository, a docs/*.md heading it names (`#anchor` or `, "Heading"`) must exist, and it names
 * none of the seeds, the operators' write-ups that docs/design.md ("Sources") lists and that code
 * comments cite but that no user has.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { ROOT, configProblems, withConfig } from "../../test/helpers";

const SKIP_DIRS = new Set(["node_modules", ".git", "out", "dist", "bin-out", "coverage"]);

function walk(dir: string, out: string[] = []): string[] {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) {
      if (!SKIP_DIRS.has(entry.name)) walk(path.join(dir, entry.name), out);
    } else out.push(path.join(dir, entry.name));
  }
  return out;
}

const REPO_FILES = walk(ROOT);
const BASENAMES = new Set(REPO_FILES.map((f) => path.basename(f)));

/** GitHub's heading anchors: lower-case, punctuation dropped, spaces to hyphens, repeats numbered. */
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

function slug(heading: string): string {
  return heading
    .trim()
    .toLowerCase()
    .replace(/`/g, "")
    .replace(/[^\p{L}\p{N}\s_-]/gu, "")
    .replace(/\s/g, "-");
}

/** The seeds by file name (docs/design.md, "Sources") and by the names code comments give them. */
const SEEDS: string[] = (() => {
  const design = fs.readFileSync(path.join(ROOT, "docs", "design.md"), "utf8");
  const sources = design.slice(design.indexOf("\n## Sources"));
  const files = [...sources.matchAll(/^\|\s*([\w.-]+\.txt)\s*\|/gm)].map((m) => m[1] as string);
  return [...files, "compendium", "eigenmagic", "tooting", "xkcd", "hachyderm"];
})();

/** What `text` cites that a user cannot open; empty when every citation opens. */
function unopenableCitations(text: string): string[] {
  const bad: string[] = [];
  const prose = text.replace(/https?:\/\/[^\s)"'`]+/g, "<url>");
  for (const seed of SEEDS) {
    const escaped = seed.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
    if (new RegExp(`\\b${escaped}\\b`, "i").test(prose)) bad.push(`names the seed ${seed}`);
  }
  for (const m of prose.matchAll(/(^|[^\w/.-])(\.\.?\/[\w./-]*)/g))
    bad.push(`cites the relative path ${m[2]}, which opens from nowhere a user stands`);
  // A file by name: a repository path (data/..., docs/...) or a name some repository file has.
  // Absolute paths are where a host keeps things, not citations.
  const fileLike = /(^|[^\w/.-])((?:[\w.-]+\/)*[\w.-]+\.(?:txt|md|tsv|csv|rb|ya?ml|json|sh|py|ts))\b/g;
  for (const m of prose.matchAll(fileLike)) {
    const name = m[2] as string;
    const exists = name.includes("/") ? fs.existsSync(path.join(ROOT, name)) : BASENAMES.has(name);
    if (!exists) bad.push(`cites ${name}, which is not in the repository`);
  }
  for (const m of prose.matchAll(/\bdocs\/([\w.-]+\.md)(?:#([\w-]+)|, "([^"]+)")?/g)) {
    const file = path.join(ROOT, "docs", m[1] as string);
    if (!fs.existsSync(file)) continue; // reported above
    const anchor = m[2] ?? (m[3] === undefined ? undefined : slug(m[3]));
    if (anchor !== undefined && !anchorsOf(file).has(anchor))
      bad.push(`cites docs/${m[1]}#${anchor}, a heading docs/${m[1]} does not have`);
  }
  return bad;
}

/** The text a literal or a `+` chain of literals shows; substitutions read as "…". */
function literalText(node: ts.Node): string | undefined {
  if (ts.isStringLiteral(node) || ts.isNoSubstitutionTemplateLiteral(node)) return node.text;
  if (ts.isTemplateExpression(node))
    return node.head.text + node.templateSpans.map((s) => `…${s.literal.text}`).join("");
  if (ts.isParenthesizedExpression(node)) return literalText(node.expression);
  if (ts.isBinaryExpression(node) && node.operatorToken.kind === ts.SyntaxKind.PlusToken) {
    const left = literalText(node.left) ?? "…";
    const right = literalText(node.right) ?? "…";
    return left === "…" && right === "…" ? undefined : left + right;
  }
  return undefined;
}

function sourceOf(file: string): ts.SourceFile {
  return ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
}

/** Every string a module holds, outside import and export specifiers, with its line. */
function stringsOf(file: string): { line: number; text: string }[] {
  const source = sourceOf(file);
  const out: { line: number; text: string }[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) return;
    const text = literalText(node);
    if (text !== undefined) {
      out.push({ line: source.getLineAndCharacterOfPosition(node.getStart()).line + 1, text });
      return;
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** The relative modules a file imports, resolved to their .ts files. */
function importsOf(file: string): string[] {
  return sourceOf(file)
    .statements.filter(ts.isImportDeclaration)
    .map((s) => (s.moduleSpecifier as ts.StringLiteral).text)
    .filter((spec) => spec.startsWith("."))
    .map((spec) => path.resolve(path.dirname(file), spec))
    .map((base) => [`${base}.ts`, path.join(base, "index.ts")].find((f) => fs.existsSync(f)))
    .filter((f): f is string => f !== undefined);
}

const CONFIG_DIR = path.join(ROOT, "src", "config");
const isSource = (f: string) => f.endsWith(".ts") && !f.endsWith(".test.ts");

/**
 * The modules whose strings a config problem can show: src/config/ itself, and what the rule
 * registry and the schema's root import from the parts (each part's rules and schema, the budget's
 * rule, the release tag's check). Helpers a rule borrows (say, redisServer's engine versions) are
 * not scanned: the rest of their strings are host bytes, not messages.
 */
const MESSAGE_MODULES: string[] = (() => {
  const own = walk(CONFIG_DIR).filter(isSource);
  const roots = [path.join(CONFIG_DIR, "rules", "index.ts"), path.join(CONFIG_DIR, "schema", "index.ts")];
  const parts = roots.flatMap(importsOf).filter((f) => !f.startsWith(CONFIG_DIR + path.sep));
  return [...new Set([...own, ...parts])].sort();
})();

describe("unopenableCitations", () => {
  test.each([
    // The c-family message as it stood before issue #22.
    "is not a c-family instance type; fleets run on compute-optimised c-family instances only (pawoo-running-mastodon-at-scale.txt: t-family ran out of CPU credits), e.g. c7g.large or c7i.xlarge",
    "exceeds 1000; past that Postgres loses up to 46% of its queries per second to contention (compendium).",
    "see ../shared/notes for why",
    "see field-notes.md",
    'figures in docs/design.md, "Memory fyt"',
    "see docs/design.md#memory-fitt",
    "see docs/nothing.md",
  ])("refuses %s", (message) => {
    expect(unopenableCitations(message)).not.toEqual([]);
  });

  test.each([
    "the catalog (data/ec2-c-family-prices-us-east-1.tsv)",
    "lists them (aws-regions.txt)",
    'figures in docs/design.md, "Memory fit"',
    "see docs/design.md#memory-fit and docs/budget.md#max_connections-and-work_mem",
    "see https://docs.joinmastodon.org/admin/scaling/ and https://docs.aws.amazon.com/ec2/x.md",
    "Pawoo-style: one fleet per role",
  ])("accepts %s", (message) => {
    expect(unopenableCitations(message)).toEqual([]);
  });
});

test("the modules a config problem's text comes from are the schema and rule modules", () => {
  const rel = MESSAGE_MODULES.map((f) => path.relative(ROOT, f));
  expect(rel).toEqual(
    expect.arrayContaining([
      "src/config/schema/common.ts",
      "src/config/rules/limits.ts",
      "src/budget/rules.ts",
      "src/fleet/rules/queues.ts",
      "src/fleet/rules/memory.ts",
      "src/fleet/schema.ts",
      "src/search/rules.ts",
      "src/edge/rules.ts",
      "src/redis/rules.ts",
    ]),
  );
});

test("no string of the config validation cites what a user cannot open", () => {
  const bad = MESSAGE_MODULES.flatMap((file) =>
    stringsOf(file).flatMap(({ line, text }) =>
      unopenableCitations(text).map((why) => `${path.relative(ROOT, file)}:${line} ${why}`),
    ),
  );
  expect(bad).toEqual([]);
});

// The problems as parseStackConfig reports them, for every rule whose message cites a source.
const CITING: [string, (c: any) => void][] = [
  ["a non-c-family instance type", (c) => (c.fleets.web.instanceType = "t3.large")],
  ["a c-family size the catalog lacks", (c) => (c.fleets.web.instanceType = "c7g.metal")],
  ["threads over 50", (c) => (c.fleets.workers.sidekiq.threads = 80)],
  ["threads over 25", (c) => (c.fleets.workers.sidekiq.threads = 30)],
  ["scheduler on two hosts", (c) => (c.fleets.scheduler.maxSize = 2)],
  ["max_connections over 512", (c) => (c.database = { instanceClass: "db.r7g.large", maxConnections: 600 })],
  [
    "max_connections over 1000",
    (c) => (c.database = { instanceClass: "db.r7g.xlarge", maxConnections: 1200 }),
  ],
  ["work_mem x max_connections over 2 x RAM", (c) => (c.database.workMemMiB = 64)],
  ["a fleet whose processes do not fit", (c) => (c.fleets.web.web = { processes: 12 })],
];

test.each(CITING)("%s: the problem cites what a user can open", (_name, mutate) => {
  const problems = configProblems(withConfig(mutate));
  // Each still says where its figure comes from, in a form a user can follow.
  expect(problems.some((p) => /\b(docs|data)\/[\w.-]+|https:\/\//.test(p.message))).toBe(true);
  expect(problems.flatMap((p) => unopenableCitations(p.message).map((why) => `${p.key}: ${why}`))).toEqual(
    [],
  );
});

test("the region problem cites the repository's list of Regions", () => {
  const problems = configProblems(
    withConfig(() => undefined),
    { region: "us-gov-west-1" },
  );
  const region = problems.find((p) => p.key === "aws:region");
  expect(region?.message).toContain("data/aws-regions.txt");
  expect(unopenableCitations(region?.message ?? "")).toEqual([]);
});
