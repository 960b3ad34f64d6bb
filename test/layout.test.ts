/**
 * The tree's floors (docs/development.md, "Layout"): the linter refuses an upward import, and the
 * source has no import circle and no file over 300 lines. The lint cases run the project's own
 * eslint.config.mjs over code placed where it would be refused, so the rule is held, not restated.
 */
import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { spawnSync } from "child_process";
import { ROOT } from "./helpers";
import { PROGRAM_FOLDERS } from "../src/host/programs";

/**
 * The messages eslint gives each `code` as if it were the file `file` (from the repository root),
 * in one eslint process (its config loads by dynamic import, which jest's module sandbox refuses).
 */
function lintAt(cases: readonly (readonly [string, string])[]): string[][] {
  const program = `
    const { ESLint } = require("eslint");
    const path = require("path");
    const cases = JSON.parse(process.argv[1]);
    (async () => {
      const eslint = new ESLint({ cwd: process.cwd() });
      const out = [];
      for (const [file, code] of cases) {
        const [result] = await eslint.lintText(code, { filePath: path.join(process.cwd(), file) });
        out.push(result.messages.map((m) => m.ruleId + ": " + m.message));
      }
      process.stdout.write(JSON.stringify(out));
    })();`;
  const r = spawnSync(process.execPath, ["-e", program, JSON.stringify(cases)], {
    cwd: ROOT,
    encoding: "utf8",
  });
  if (r.status !== 0) throw new Error(r.stderr);
  return JSON.parse(r.stdout) as string[][];
}

const withUse = (code: string) => `${code}\nexport const used = 1;\n`;
const restricted = (messages: string[]) => messages.filter((m) => /restricted/.test(m));

describe("the linter refuses an import that points up", () => {
  const refused = [
    ["the vocabulary, a part", "src/vocabulary/x.ts", 'import { parseStackConfig } from "../config";'],
    ["the vocabulary, a package", "src/vocabulary/x.ts", 'import { z } from "zod";'],
    [
      "a part, the composition root",
      "src/database/x.ts",
      'import { MastodonStack } from "../stack/mastodonStack";',
    ],
    [
      "a part's host module, the fake cloud",
      "src/fleet/host/x.ts",
      'import { runUnderMocks } from "../../testing/mocks";',
    ],
    ["a part, the CLI", "src/redis/x.ts", 'import { planStack } from "../cli/plan";'],
    ["the config, the composition root", "src/config/x.ts", 'import { wireFleets } from "../stack/wiring";'],
    [
      "the composition root, the fake cloud",
      "src/stack/x.ts",
      'import { FakeCloud } from "../testing/fakeCloud";',
    ],
    ["the fake cloud, the CLI", "src/testing/x.ts", 'import { planStack } from "../cli/plan";'],
    ["src/, the program", "src/stack/x.ts", 'import program from "../../index";'],
    ["src/, the tests' helpers", "src/fleet/host/x.ts", 'import { ROOT } from "../../../test/helpers";'],
    ["a pure module, Pulumi at run time", "src/fleet/host/x.ts", 'import * as aws from "@pulumi/aws";'],
  ] as const;
  const allowed = [
    ["a part, the vocabulary", "src/database/x.ts", 'import { DEFAULTS } from "../vocabulary/defaults";'],
    ["a part, another part", "src/fleet/x.ts", 'import { pgbouncerIni } from "../database/pgbouncer";'],
    [
      "a pure module, Pulumi's types",
      "src/fleet/host/x.ts",
      'import type * as pulumi from "@pulumi/pulumi";',
    ],
    ["a resource module, Pulumi", "src/mail/mail.ts", 'import * as aws from "@pulumi/aws";'],
    ["the CLI, the fake cloud", "src/cli/x.ts", 'import { runUnderMocks } from "../testing/mocks";'],
    ["a test, its helpers", "src/fleet/host/x.test.ts", 'import { ROOT } from "../../../test/helpers";'],
  ] as const;
  const messages = lintAt([...refused, ...allowed].map(([, file, code]) => [file, withUse(code)] as const));

  test.each(refused.map((c, i) => [...c, messages[i]!] as const))("%s", (_what, _file, _code, got) => {
    expect(restricted(got)).toHaveLength(1);
  });
  test.each(allowed.map((c, i) => [...c, messages[refused.length + i]!] as const))(
    "but not %s",
    (_what, _file, _code, got) => {
      expect(restricted(got)).toEqual([]);
    },
  );
});

const SOURCE_DIRS = ["src", "lib", "bin", "provider", "policy", "scripts"];
/** Every TypeScript source of the package and its tools (tests apart), from the repository root. */
const sources = SOURCE_DIRS.flatMap((dir) =>
  (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[])
    .filter((f) => f.endsWith(".ts") && !f.endsWith(".test.ts") && !f.endsWith(".d.ts"))
    .map((f) => path.join(dir, f)),
).concat(["index.ts"]);

/** file -> the files of `sources` it imports (relative specifiers, resolved as node16 resolves them). */
function importGraph(): Map<string, string[]> {
  const known = new Set(sources);
  const graph = new Map<string, string[]>();
  for (const file of sources) {
    const info = ts.preProcessFile(fs.readFileSync(path.join(ROOT, file), "utf8"), true, true);
    const targets = info.importedFiles
      .map((i) => i.fileName)
      .filter((spec) => spec.startsWith("."))
      .map((spec) => path.join(path.dirname(file), spec))
      .map((base) => [`${base}.ts`, path.join(base, "index.ts")].find((c) => known.has(c)))
      .filter((t): t is string => t !== undefined);
    graph.set(file, targets);
  }
  return graph;
}

/** The strongly connected components of more than one file (Tarjan): each is an import circle. */
function circles(graph: Map<string, string[]>): string[][] {
  let next = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string): void => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

test("the circle finder finds a circle it is given, and the tree has none", () => {
  const made = new Map([
    ["a.ts", ["b.ts"]],
    ["b.ts", ["c.ts"]],
    ["c.ts", ["a.ts", "d.ts"]],
    ["d.ts", []],
  ]);
  expect(circles(made)).toEqual([["a.ts", "b.ts", "c.ts"]]);
  const graph = importGraph();
  expect(graph.get("src/stack/mastodonStack.ts")).toContain("src/fleet/fleet.ts");
  expect(circles(graph)).toEqual([]);
});

test("no source file is over 300 lines, the hosts' programs included", () => {
  const programs = Object.entries(PROGRAM_FOLDERS).map(([name, folder]) => path.join(folder, name));
  expect(programs.length).toBeGreaterThan(10);
  const long = [...sources, ...programs]
    .map((file) => [file, fs.readFileSync(path.join(ROOT, file), "utf8").split("\n").length - 1] as const)
    .filter(([, lines]) => lines > 300)
    .map(([file, lines]) => `${file}: ${lines}`);
  expect(long).toEqual([]);
});
