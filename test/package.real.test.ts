/**
 * The package as a consumer gets it: `npm pack` (which builds dist/ through the `prepare` script, so
 * nothing here reads a stale build), the tarball installed into a scratch Pulumi project next to
 * the @pulumi packages it names as peers, then a component rendered there under the fake cloud by
 * (a) a plain JavaScript program run with `node` and (b) a TypeScript program run by Pulumi's own
 * Node.js runner (ts-node, type-checked against the shipped .d.ts). Both must declare exactly what
 * the sources declare in this process. And the package as it would be published: its license,
 * changelog and the docs its declarations cite in the tarball, `npm publish --dry-run` accepting
 * it, the component provider answering from the installed copy as the Pulumi CLI starts it, and
 * the README's install commands naming what npm and the tarball hold. And examples/typescript run
 * from the installed package, compiled to JavaScript and run with `node` in the consumer's project
 * through a stand-in for the SDK `pulumi package add` generates.
 *
 * Slow (a build, an install, ts-node's type-check): generous timeouts, nothing timed. The install
 * takes tarballs from the local npm cache and asks the registry only for what it lacks
 * (--prefer-offline).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import { parse } from "yaml";
import { MastodonStack } from "../src/stack/mastodonStack";
import { connectionLimit } from "../src/database/postgres";
import type { Budget } from "../src/budget/budget";
import { type MockRun, type RecordedResource, runUnderMocks } from "../src/testing/mocks";
import { ROOT, baseArgs, baseConfig } from "./helpers";
import { PROGRAM_FOLDERS } from "../src/host/programs";
import { MastodonProvider } from "../provider/mastodonProvider";
import { COMPONENTS } from "../provider/components";

// The SDK `pulumi package add` generates (@pulumi/mastodon) stands for the components it constructs,
// for running examples/typescript from the sources in this process (as provider/examples.real.test.ts).
jest.mock("@pulumi/mastodon", () => jest.requireActual("../provider/components"), { virtual: true });

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

function sh(cmd: string, args: string[], cwd: string, timeout?: number): string {
  const r = spawnSync(cmd, args, {
    cwd,
    encoding: "utf8",
    env: npmEnv(),
    maxBuffer: 256 * 1024 * 1024,
    ...(timeout ? { timeout, killSignal: "SIGKILL" as const } : {}),
  });
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
let packed: { filename: string; files: { path: string }[] };
let manifest: Record<string, unknown>;
/** What the sources declare for the consumers' component, in this process. */
let expected: MockRun;

beforeAll(async () => {
  scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-aws-package-"));
  const [result] = JSON.parse(
    sh("npm", ["pack", "--json", "--pack-destination", scratch], ROOT),
  ) as (typeof packed)[];
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
        !/^(dist|data|docs|src\/([a-z]+\/)+files)\//.test(f) &&
        !["package.json", "README.md", "LICENSE", "CHANGELOG.md"].includes(f),
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

// ---- The examples, run from the installed package ----

const EXAMPLE = path.join(ROOT, "examples", "typescript");
/** The hosted zone Route 53 answers the example's lookup with. */
const ZONE_ID = "Z0123456789EXAMPLE";
/** What the README's `pulumi config set --secret smtpPassword <password>` sets. */
const SMTP_PASSWORD = "correct horse battery";
const GET_ZONE = "aws:route53/getZone:getZone";

/**
 * examples/typescript's stack as its README sets it up (`pulumi stack init`, `pulumi config set
 * [--secret]`), in its Pulumi.yaml's project: runUnderMocks's options, with the config keys
 * Pulumi.yaml declares (secret or not) to check them against.
 */
function exampleStack() {
  const project = parse(fs.readFileSync(path.join(EXAMPLE, "Pulumi.yaml"), "utf8")) as {
    name: string;
    config: Record<string, { secret?: boolean }>;
  };
  const readme = fs.readFileSync(path.join(EXAMPLE, "README.md"), "utf8");
  const [, stack] = /^pulumi stack init (\S+)$/m.exec(readme) ?? [];
  const config: Record<string, string> = {};
  const secretKeys: string[] = [];
  for (const [, secret, key, value] of readme.matchAll(/^pulumi config set (--secret )?(\S+) (\S+)/gm)) {
    const qualified = (key as string).includes(":") ? (key as string) : `${project.name}:${key}`;
    config[qualified] = value === "<password>" ? SMTP_PASSWORD : (value as string);
    if (secret) secretKeys.push(qualified);
  }
  const declared = (secret: boolean) =>
    Object.entries(project.config)
      .filter(([, c]) => Boolean(c.secret) === secret)
      .map(([k]) => `${project.name}:${k}`)
      .sort();
  return {
    options: { project: project.name, stack: stack as string, config, secretKeys },
    zoneName: config[`${project.name}:zoneName`] as string,
    declared: { plain: declared(false), secret: declared(true) },
  };
}

/** Route 53 answering a hosted zone lookup by name, in the fake cloud the current run installed. */
function answerZoneLookups(zones: Record<string, string>) {
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    mocks: { call(args: pulumi.runtime.MockCallArgs): unknown };
  };
  const call = monitor.mocks.call.bind(monitor.mocks);
  monitor.mocks.call = (args) => {
    if (args.token !== GET_ZONE) return call(args);
    const zoneId = zones[args.inputs["name"] as string];
    if (!zoneId) throw new Error(`no hosted zone named ${args.inputs["name"]} in the account`);
    return { id: zoneId, zoneId, name: args.inputs["name"] };
  };
}

describe("the examples, run from the installed package", () => {
  // Only the TypeScript example runs here. The Python and YAML programs need the Pulumi CLI and its
  // language hosts to run at all (pulumi-language-python with the `pulumi` Python SDK,
  // pulumi-language-yaml, and `pulumi package add` to generate the Python SDK from the installed
  // provider), and this machine has none of them: no `pulumi` or pulumi-language-* on PATH and
  // `python3 -c "import pulumi"` fails with ModuleNotFoundError. provider/examples.real.test.ts checks
  // them instead: the YAML program's resource type, properties and outputs against the provider's
  // schema (the schema the installed provider serves, as "the component provider answers from the
  // installed package" above asserts), and the Python program compiled and run through pyflakes.
  test(
    "TypeScript: compiled to JavaScript, run with node through the SDK's stand-in, under the package's mocks",
    async () => {
      const { options, zoneName, declared } = exampleStack();
      // The README sets every key Pulumi.yaml declares, the secret one with --secret.
      expect(
        Object.keys(options.config)
          .filter((k) => !k.startsWith("aws:"))
          .filter((k) => !options.secretKeys.includes(k))
          .sort(),
      ).toEqual(declared.plain);
      expect([...options.secretKeys].sort()).toEqual(declared.secret);
      expect(options.secretKeys).toEqual([`${options.project}:smtpPassword`]);

      // @pulumi/mastodon, as `pulumi package add ./node_modules/mastodon-aws/dist/provider` would
      // leave it in node_modules: the installed provider's components (test/fixtures/consumer/mastodon-sdk.js).
      const sdk = path.join(consumer, "node_modules", "@pulumi", "mastodon");
      fs.mkdirSync(sdk, { recursive: true });
      fs.copyFileSync(path.join(FIXTURE, "mastodon-sdk.js"), path.join(sdk, "index.js"));
      fs.writeFileSync(
        path.join(sdk, "package.json"),
        JSON.stringify({ name: "@pulumi/mastodon", version: manifest["version"], main: "index.js" }),
      );

      // The example compiled as Pulumi's runner would (CommonJS), by the repository's TypeScript.
      const compiled = ts.transpileModule(fs.readFileSync(path.join(EXAMPLE, "index.ts"), "utf8"), {
        compilerOptions: {
          module: ts.ModuleKind.CommonJS,
          target: ts.ScriptTarget.ES2022,
          esModuleInterop: true,
        },
        fileName: "index.ts",
        reportDiagnostics: true,
      });
      expect(
        (compiled.diagnostics ?? []).map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")),
      ).toEqual([]);
      const dir = path.join(consumer, "example");
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "index.js"), compiled.outputText);
      fs.writeFileSync(
        path.join(dir, "options.json"),
        JSON.stringify({ ...options, zones: { [zoneName]: ZONE_ID } }),
      );

      const stdout = sh(
        "node",
        ["run-example.js", path.join("example", "index.js"), path.join("example", "options.json")],
        consumer,
      );
      const out = JSON.parse(stdout) as MockRun & {
        lookups: Record<string, unknown>[];
        sdk: { resolved: string; classes: string[]; mastodonStackIsPackages: boolean };
      };

      // The program's @pulumi/mastodon was the stand-in: every component the provider serves, the
      // installed package's own classes.
      expect(out.sdk.resolved).toBe(path.join(sdk, "index.js"));
      expect([...out.sdk.classes].sort()).toEqual(COMPONENTS.map((c) => c.name).sort());
      expect(out.sdk.mastodonStackIsPackages).toBe(true);

      // The MastodonStack with the example's fleets, each sized as the example asks.
      const of = (type: string) => out.resources.filter((r) => r.type === type);
      expect(of("mastodon:index:MastodonStack")).toEqual([
        expect.objectContaining({ name: "social", parent: null }),
      ]);
      const fleets = of("mastodon:index:Fleet");
      expect(fleets.map((f) => f.name).sort()).toEqual(["social-scheduler", "social-web", "social-workers"]);
      for (const fleet of fleets) expect(fleet.parent).toBe("social");
      const groups = Object.fromEntries(of("aws:autoscaling/group:Group").map((g) => [g.parent, g.inputs]));
      expect(groups).toEqual({
        "social-web": expect.objectContaining({ minSize: 2, maxSize: 4 }),
        "social-workers": expect.objectContaining({ maxSize: 3 }),
        "social-scheduler": expect.objectContaining({ maxSize: 1 }),
      });

      // Route 53 was asked once, for the config's zone, and its zone ID reached every DNS record.
      expect(out.lookups).toEqual([expect.objectContaining({ name: zoneName })]);
      const records = of("aws:route53/record:Record");
      expect(records.length).toBeGreaterThanOrEqual(2);
      for (const record of records) expect(record.inputs["zoneId"]).toBe(ZONE_ID);

      // The SMTP password stayed a secret: recorded as such, never in clear.
      const password = of("aws:ssm/parameter:Parameter").filter((p) =>
        /\/smtp-password$/.test(String(p.inputs["name"])),
      );
      expect(password.map((p) => p.inputs["value"])).toEqual(["[secret]"]);
      expect(stdout).not.toContain(SMTP_PASSWORD);

      // The exported budget fits its limit, and `connections` says so.
      const budget = out.outputs["budget"] as Budget;
      expect(budget.total).toBeGreaterThan(0);
      expect(budget.total).toBeLessThanOrEqual(budget.limit);
      expect(out.outputs["connections"]).toBe(`${budget.total} of ${budget.limit}`);

      // And all of it exactly what the sources declare for the example in this process.
      const sources = plain(
        await runUnderMocks(() => {
          answerZoneLookups({ [zoneName]: ZONE_ID });
          return jest.requireActual(path.join(EXAMPLE, "index.ts")) as Record<string, unknown>;
        }, options),
      );
      expect(out.resources).toEqual(sources.resources);
      expect(out.outputs).toEqual(sources.outputs);
    },
    SLOW,
  );
});

// ---- Ready to publish and to pin ----

/** The installed copy of the package in the consumer's project. */
const installed = () => path.join(consumer, "node_modules", "mastodon-aws");
const read = (file: string) => fs.readFileSync(path.join(ROOT, file), "utf8");

describe("ready to publish", () => {
  test("the tarball holds the license package.json names, the changelog and every docs page", () => {
    const files = packed.files.map((f) => f.path);
    expect(files).toEqual(expect.arrayContaining(["LICENSE", "CHANGELOG.md"]));
    expect(manifest["license"]).toBe("Apache-2.0");
    const license = fs.readFileSync(path.join(installed(), "LICENSE"), "utf8");
    expect(license).toMatch(/^\s*Apache License\s+Version 2\.0, January 2004\s/);
    expect(license).toContain("TERMS AND CONDITIONS FOR USE, REPRODUCTION, AND DISTRIBUTION");
    for (const f of filesUnder(path.join(ROOT, "docs"))) expect(files).toContain(`docs/${f}`);
  });

  test("every docs/ page a shipped .d.ts comment cites is in the tarball", () => {
    const files = new Set(packed.files.map((f) => f.path));
    const cited = [...files]
      .filter((f) => f.endsWith(".d.ts"))
      .flatMap((f) =>
        [...fs.readFileSync(path.join(installed(), f), "utf8").matchAll(/\bdocs\/[\w./-]*\w/g)].map(
          (m) => `${f} -> ${m[0]}`,
        ),
      );
    // The comments cite the pages from the package root (docs/design.md, "The two Redis").
    expect(cited.length).toBeGreaterThan(10);
    expect(cited.filter((c) => !files.has(c.split(" -> ")[1] as string))).toEqual([]);
  });

  test("npm publish --dry-run accepts it: offline, with a throwaway npm config and cache", () => {
    const npmrc = path.join(scratch, "publish.npmrc");
    fs.writeFileSync(npmrc, "");
    // --offline: the registry is never asked (with it, npm would look the version up first);
    // --ignore-scripts: `npm pack` above has just built dist/ through prepare, publish would again.
    const out = JSON.parse(
      sh(
        "npm",
        [
          "publish",
          "--dry-run",
          "--json",
          "--offline",
          "--ignore-scripts",
          "--userconfig",
          npmrc,
          "--cache",
          path.join(scratch, "publish-cache"),
        ],
        ROOT,
      ),
    ) as Record<string, { id: string; files: { path: string }[] }>;
    const result = out["mastodon-aws"] ?? (out as unknown as { id: string; files: { path: string }[] });
    expect(result.id).toBe(`mastodon-aws@${manifest["version"] as string}`);
    const paths = (r: { files: { path: string }[] }) => r.files.map((f) => f.path).sort();
    expect(paths(result)).toEqual(paths(packed));
  });

  test(
    "the component provider answers from the installed package as the Pulumi CLI starts it",
    async () => {
      const dir = path.join(installed(), "dist", "provider");
      expect(fs.readFileSync(path.join(dir, "PulumiPlugin.yaml"), "utf8")).toMatch(/^runtime: nodejs$/m);
      const plugin = JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as Record<
        string,
        unknown
      >;
      expect(plugin).toMatchObject({ name: "mastodon", version: manifest["version"], main: "serve.js" });
      // None of its own: it must share the project's @pulumi/pulumi with the components.
      expect(plugin["dependencies"]).toBeUndefined();
      // `pulumi package add <dir>` first installs the plugin's dependencies in its directory (the
      // Node.js language host's InstallDependencies: npm install there), then runs it.
      sh("npm", ["install", "--offline", "--no-audit", "--no-fund"], dir);
      const served = JSON.parse(sh("node", ["provider.js", dir], consumer, 120_000)) as {
        version: string;
        schema: string;
      };
      expect(served.version).toBe(manifest["version"]);
      // The schema a clone's provider builds from the sources, secrets marked.
      const sources = await new MastodonProvider(path.join(ROOT, "provider")).getSchema();
      expect(JSON.parse(served.schema)).toEqual(JSON.parse(sources));
    },
    SLOW,
  );
});

describe("ready to pin", () => {
  const version = () => manifest["version"] as string;

  test("the install commands in README.md and docs/development.md are the ones that work today", () => {
    expect(path.basename(packed.filename)).toBe(`mastodon-aws-${version()}.tgz`);
    const peers = PEERS.join(" ");
    for (const doc of ["README.md", "docs/development.md"]) {
      const text = read(doc);
      expect(text).toMatch(/not on the npm registry\s+yet\s+\(`npm install mastodon-aws` answers 404\)/);
      expect(text).toMatch(/`<owner>\/<repo>` is a\s+\*\*placeholder\*\*/);
      expect(text).toContain(`npm install github:<owner>/<repo>#<tag> ${peers}`);
      expect(text).toContain("npm pack");
      // npm pack names the tarball <name>-<version>.tgz (asserted above).
      expect(text).toContain(`npm install ./mastodon-aws-<version>.tgz ${peers}`);
      expect(text).toContain(`npm install mastodon-aws@<version> ${peers}`);
      // No bare registry install left that would 404.
      expect(text).not.toMatch(/npm install mastodon-aws(?!@<version>)\s+@pulumi/);
    }
  });

  test("README's pulumi package add names the provider's directory in an installed project", () => {
    const [, dir] = /pulumi package add (\S+)/.exec(read("README.md")) ?? [];
    expect(dir).toBe("./node_modules/mastodon-aws/dist/provider");
    expect(fs.existsSync(path.join(consumer, dir as string, "PulumiPlugin.yaml"))).toBe(true);
  });

  test("the changelog has the package's version and an Unreleased section; the provider the same version", () => {
    const changelog = read("CHANGELOG.md");
    expect(changelog).toMatch(/^## Unreleased$/m);
    expect(changelog).toMatch(
      new RegExp(`^## ${version().replace(/\./g, "\\.")} - \\d{4}-\\d{2}-\\d{2}$`, "m"),
    );
    expect(changelog).toMatch(/^## Versioning$/m);
    const provider = JSON.parse(read("provider/package.json")) as { version: string };
    expect(provider.version).toBe(version());
  });
});
