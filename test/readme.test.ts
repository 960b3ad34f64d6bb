/**
 * The documentation against the code: every relative link in README.md and docs/*.md reaches a file
 * (and a heading, when it names one). docs/config.md's key table is generated from the schema
 * (test/generatedArgs.test.ts keeps it current).
 */
import * as fs from "fs";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const DOCS = path.join(ROOT, "docs");

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
