/**
 * The package as a consumer gets it: `npm pack` (which builds dist/ through the `prepare` script, so
 * nothing here reads a stale build), the tarball installed into a scratch Pulumi project next to
 * the @pulumi packages it names as peers, then a component rendered there under the fake cloud by
 * (a) a plain JavaScript program run with `node` and (b) a TypeScript program run by Pulumi's own
 * Node.js runner (ts-node, type-checked against the shipped .d.ts). Both must declare exactly what
 * the sources declare in this process.
 *
 * Slow (a build, an install, ts-node's type-check): generous timeouts, nothing timed. The install
 * takes tarballs from the local npm cache and asks the registry only for what it lacks
 * (--prefer-offline).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MastodonStack } from "../src/stack/mastodonStack";
import { connectionLimit } from "../src/database/postgres";
import type { Budget } from "../src/budget/budget";
import { type MockRun, type RecordedResource, runUnderMocks } from "../src/testing/mocks";
import { ROOT, baseArgs, baseConfig } from "./helpers";
import { PROGRAM_FOLDERS } from "../src/host/programs";

const SLOW = 600_000;
const FIXTURE = path.join(ROOT, "test", "fixtures", "consumer");
const PEERS = ["@pulumi/pulumi", "@pulumi/aws", "@pulumi/random"] as const;
/** What a TypeScript Pulumi project installs besides the package: its peers, ts-node and TypeScript. */
const CONSUMER_DEPS = [...PEERS, "typescript", "ts-node", "@types/node"];

/** The environment for a nested npm: without the npm_* variables of an `npm test` that started jest. */
function npmEnv(): NodeJS.ProcessEnv {
  const keep = new Set(["npm_config_cache", "npm_config_registry", "npm_config_userconfig"]);
  return Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.toLowerCase().startsWith("npm_") || keep.has(k)),
  );
}

function sh(cmd: string, args: string[], cwd: string): string {
  const r = spawnSync(cmd, args, { cwd, encoding: "utf8", env: npmEnv(), maxBuffer: 256 * 1024 * 1024 });
  if (r.status !== 0)
    throw new Error(`${cmd} ${args.join(" ")} (in ${cwd}) exited ${r.status}:\n${r.stderr}`);
  return r.stdout;
}

const versionOf = (pkg: string): string =>
  (
    JSON.parse(fs.readFileSync(path.join(ROOT, "node_modules", pkg, "package.json"), "utf8")) as {
      version: string;
    }
  ).version;

/** Every file under `dir`, relative to it. */
function filesUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)));
}

/** A run as plain JSON (what the consumer programs print), for comparison. */
const plain = (run: Pick<MockRun, "resources" | "outputs">) => JSON.parse(JSON.stringify(run)) as MockRun;

let scratch: string;
let consumer: string;
let packed: { files: { path: string }[] };
let manifest: Record<string, unknown>;
/** What the sources declare for the consumers' component, in this process. */
let expected: MockRun;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-aws-package-"));
  const [result] = JSON.parse(sh("npm", ["pack", "--json", "--pack-destination", scratch], ROOT)) as {
    filename: string;
    files: { path: string }[];
  }[];
  if (!result) throw new Error("npm pack printed no result");
  packed = result;
  const tarball = path.join(scratch, path.basename(result.filename));

  consumer = path.join(scratch, "consumer");
  fs.mkdirSync(consumer);
  for (const f of fs.readdirSync(FIXTURE)) fs.copyFileSync(path.join(FIXTURE, f), path.join(consumer, f));
  fs.writeFileSync(path.join(consumer, "config.json"), JSON.stringify(baseConfig()));
  sh(
    "npm",
    [
      "install",
      "--prefer-offline",
      "--no-audit",
      "--no-fund",
      tarball,
      ...CONSUMER_DEPS.map((d) => `${d}@${versionOf(d)}`),
    ],
    consumer,
  );
  manifest = JSON.parse(
    fs.readFileSync(path.join(consumer, "node_modules", "mastodon-aws", "package.json"), "utf8"),
  ) as Record<string, unknown>;

  expected = plain(
    await runUnderMocks(() => ({ budget: new MastodonStack("blue", baseArgs()).budget }), {
      project: "consumer",
      stack: "test",
      config: { "aws:region": "us-east-1" },
    }),
  );
}, SLOW);

afterAll(() => {
  if (scratch) fs.rmSync(scratch, { recursive: true, force: true });
});

describe("the packed tarball", () => {
  test("holds the compiled package, its data and host programs, and no TypeScript source", () => {
    const files = packed.files.map((f) => f.path);
    const outside = files.filter(
      (f) =>
        !/^(dist|data|src\/([a-z]+\/)+files)\//.test(f) &&
        !["package.json", "README.md", "LICENSE"].includes(f),
    );
    expect(outside).toEqual([]);
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
    // Everything the package reads at run time, from the package root (src/vocabulary/data.ts).
    for (const f of filesUnder(path.join(ROOT, "data"))) expect(files).toContain(`data/${f}`);
    for (const [name, folder] of Object.entries(PROGRAM_FOLDERS))
      expect(files).toContain(`${folder}/${name}`);
    // Every target of the exports map exists in the tarball.
    const targets = Object.values(manifest["exports"] as Record<string, string | Record<string, string>>)
      .flatMap((t) => (typeof t === "string" ? [t] : Object.values(t)))
      .filter((t) => !t.includes("*"))
      .map((t) => t.replace(/^\.\//, ""));
    expect(targets.filter((t) => !files.includes(t))).toEqual([]);
    // The policy pack, runnable from node_modules: compiled, with its PulumiPolicy.yaml and a
    // package.json naming the compiled entry.
    expect(files).toEqual(
      expect.arrayContaining([
        "dist/policy/index.js",
        "dist/policy/PulumiPolicy.yaml",
        "dist/policy/package.json",
      ]),
    );
    expect(files).toEqual(
      expect.arrayContaining(["dist/src/stack/mastodonStack.js", "dist/src/stack/mastodonStack.d.ts"]),
    );
  });

  test("is installable: not private, the Pulumi SDKs as peers", () => {
    expect(manifest["private"]).toBeUndefined();
    const peers = manifest["peerDependencies"] as Record<string, string>;
    for (const p of PEERS) expect(peers[p]).toBe(`^${versionOf(p)}`);
    expect(
      Object.keys((manifest["dependencies"] as Record<string, string>) ?? {}).filter((d) =>
        d.startsWith("@pulumi/"),
      ),
    ).toEqual([]);
  });

  test("the consumer gets one @pulumi/pulumi, its own, shared with the package", () => {
    const copies = filesUnder(path.join(consumer, "node_modules")).filter((f) =>
      f.endsWith(path.join("@pulumi", "pulumi", "package.json")),
    );
    expect(copies).toEqual([path.join("@pulumi", "pulumi", "package.json")]);
  });
});

describe("a consumer's program", () => {
  test(
    "plain JavaScript with node: renders MastodonStack under the fake cloud as the sources do",
    () => {
      const out = JSON.parse(sh("node", ["render.js", "config.json"], consumer)) as MockRun & {
        pulumi: string;
        pulumiOfPackage: string;
      };
      expect(out.pulumiOfPackage).toBe(out.pulumi);
      expect(out.pulumi).toBe(path.join(consumer, "node_modules", "@pulumi", "pulumi", "index.js"));
      // Every resource with its inputs: the data files and host programs (user-data) were found.
      expect(out.resources.length).toBeGreaterThan(100);
      expect(out.resources).toEqual(expected.resources);
      expect(out.outputs).toEqual(expected.outputs);
    },
    SLOW,
  );

  test(
    "TypeScript with Pulumi's runner (ts-node, type-checked): the same resources under the root stack",
    () => {
      const out = JSON.parse(sh("node", ["run-pulumi.js"], consumer)) as MockRun;
      const [stack, ...rest] = out.resources;
      expect(stack).toMatchObject({ type: "pulumi:pulumi:Stack", name: "consumer-test", parent: null });
      // The runner parents the program's top-level resources to the stack; otherwise identical.
      const underStack = (r: RecordedResource) =>
        r.parent === null ? { ...r, parent: "consumer-test", parentType: "pulumi:pulumi:Stack" } : r;
      // URNs name the parent chain, so they differ by the stack; everything else must not.
      const strip = (r: RecordedResource) =>
        Object.fromEntries(Object.entries(r).filter(([k]) => k !== "urn"));
      // Registration order follows the runner's extra awaits, so compare in one order.
      const byKey = (a: RecordedResource, b: RecordedResource) =>
        `${a.type}::${a.name}`.localeCompare(`${b.type}::${b.name}`);
      expect([...rest].sort(byKey).map(strip)).toEqual(
        expected.resources.map(underStack).sort(byKey).map(strip),
      );
      const budget = expected.outputs["budget"] as Budget;
      expect(out.outputs["stack"]).toEqual({
        budget,
        total: budget.total,
        limit: connectionLimit(budget.maxConnections),
      });
    },
    SLOW,
  );
});
