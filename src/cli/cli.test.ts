/**
 * `npm run plan` as an operator runs it: from a folder of their own (npm sets INIT_CWD there and runs
 * the script in the package's root), --help without loading the program, and each warning once.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/** The package's root (test/helpers.ts says the same, but loads the program with it). */
const ROOT = path.join(__dirname, "..", "..");
const HOOK = path.join(ROOT, "test", "fixtures", "loadedModules.cjs");
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-cli-"));

/**
 * bin/plan.ts in the package's root, as npm runs it, with INIT_CWD where npm was invoked (Node's
 * own cwd otherwise), and the files it loaded (test/fixtures/loadedModules.cjs).
 */
function plan(args: string[], initCwd?: string) {
  const loadedFile = path.join(tmp(), "loaded.txt");
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SWC_NODE_SOURCE_MAP_MODE: "inline",
    LOADED_MODULES_FILE: loadedFile,
    AWS_ACCESS_KEY_ID: "",
    AWS_SECRET_ACCESS_KEY: "",
  };
  delete env["INIT_CWD"];
  if (initCwd) env["INIT_CWD"] = initCwd;
  const r = spawnSync(
    process.execPath,
    ["-r", "@swc-node/register", "-r", HOOK, path.join(ROOT, "bin", "plan.ts"), ...args],
    { cwd: ROOT, encoding: "utf8", env },
  );
  const loaded = fs.existsSync(loadedFile) ? fs.readFileSync(loadedFile, "utf8").split("\n") : [];
  return { ...r, loaded };
}

const PULUMI_SDK = `${path.sep}node_modules${path.sep}@pulumi${path.sep}pulumi${path.sep}`;
const loadsPulumi = (loaded: readonly string[]) => loaded.some((f) => f.includes(PULUMI_SDK));

const production = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.production.yaml"), "utf8");

/** A folder of the operator's with a stacks/ of its own; npm was run in `sub`. */
function operatorFolder(stacks: Record<string, string>): string {
  const sub = path.join(tmp(), "sub");
  fs.mkdirSync(path.join(sub, "stacks"), { recursive: true });
  for (const [name, text] of Object.entries(stacks))
    fs.writeFileSync(path.join(sub, "stacks", `Pulumi.${name}.yaml`), text);
  return sub;
}

describe("paths are taken from where npm was run (INIT_CWD), not from the package's root", () => {
  const sub = operatorFolder({});
  const outName = `plan-out-${process.pid}`;
  const r = plan(["--stack", "dev", "--out", outName], sub);
  // Written into the package's root by a plan that resolved --out against its own cwd: remove it.
  afterAll(() => fs.rmSync(path.join(ROOT, outName), { recursive: true, force: true }));

  test("a relative --out lands under the folder npm was run in", () => {
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(fs.existsSync(path.join(sub, outName, "budget.json"))).toBe(true);
    expect(fs.existsSync(path.join(sub, outName, "fleets"))).toBe(true);
    expect(fs.existsSync(path.join(ROOT, outName))).toBe(false);
  });

  test("the summary prints paths relative to that folder", () => {
    const stackFile = path.relative(sub, path.join(ROOT, "stacks", "Pulumi.dev.yaml"));
    expect(r.stdout).toContain(`mastodon-aws plan: stack dev (${stackFile})`);
    expect(r.stdout).toContain(`(by component in ${path.join(outName, "resources.txt")};`);
    expect(r.stdout).toContain(`wrote ${path.join(outName, "resources.json")}, `);
    expect(r.stdout).toContain(`under ${path.join(outName, "fleets")}/`);
  });

  test("a plan loads the program and Pulumi's SDK (what --help must not)", () => {
    expect(loadsPulumi(r.loaded)).toBe(true);
  });
});

describe("a relative --stacks-dir", () => {
  // dev with a misspelt key: refused, so nothing is rendered, but only once the file was found.
  const dev = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
  const sub = operatorFolder({ mine: `${dev}  mastodon:enviroment: dev\n` });
  const r = plan(["--stack", "mine", "--stacks-dir", "stacks", "--out", path.join(tmp(), "x")], sub);

  test("is read from the folder npm was run in", () => {
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('invalid config of stack "mine"');
    expect(r.stderr).toContain("mastodon:enviroment");
  });
});

describe("--help and usage errors answer without loading the program", () => {
  // Spawned as the file is collected (not timed by jest's per-test timeout), as every plan here.
  const help = plan(["--help"]);
  const bad = plan(["--stak", "dev"]);

  test("--help prints the usage and loads no Pulumi SDK", () => {
    expect(help.status).toBe(0);
    expect(help.stdout).toMatch(/^usage: npm run plan -- /);
    expect(help.loaded.length).toBeGreaterThan(0);
    expect(loadsPulumi(help.loaded)).toBe(false);
    expect(help.loaded.some((f) => f.endsWith(path.join("bin", "planRun.ts")))).toBe(false);
  });

  test("an unknown option exits 1 with the usage and loads no Pulumi SDK", () => {
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("Unknown option '--stak'");
    expect(bad.stderr).toContain("usage: npm run plan -- ");
    expect(bad.loaded.length).toBeGreaterThan(0);
    expect(loadsPulumi(bad.loaded)).toBe(false);
  });
});

describe("each warning once", () => {
  // Push and pull at 2 x 3 threads: each host opens 6 client connections, fewer than the
  // stack-wide PgBouncer pool of 8 both fleets inherit, so the budget rule warns through each fleet
  // in the same words.
  const pooled = operatorFolder({ pooled: production.replaceAll("threads: 20", "threads: 3") });
  const rendered = plan([
    "--stack",
    "pooled",
    "--stacks-dir",
    path.join(pooled, "stacks"),
    "--out",
    path.join(pooled, "out"),
  ]);
  // The same fleets, and a default of 45 over their 40 client connections: past the budget.
  const over = operatorFolder({ over: production.replace("defaultPoolSize: 8", "defaultPoolSize: 45") });
  const refused = plan([
    "--stack",
    "over",
    "--stacks-dir",
    path.join(over, "stacks"),
    "--out",
    path.join(over, "out"),
  ]);
  const occurrences = (text: string, line: string) =>
    text.split("\n").filter((l) => l.trim() === line).length;

  test("in the summary's warnings", () => {
    expect(rendered.stderr).toBe("");
    expect(rendered.status).toBe(0);
    expect(rendered.stdout).toContain("Warnings:");
    const line =
      "mastodon:database.pgbouncer.defaultPoolSize: 8 is more than the 6 client connections one host opens; the budget counts 6";
    expect(occurrences(rendered.stdout, line)).toBe(1);
  });

  test("in a refused config's list", () => {
    expect(refused.status).toBe(1);
    const line =
      "mastodon:database.pgbouncer.defaultPoolSize: 45 is more than the 40 client connections one host opens; the budget counts 40";
    expect(occurrences(refused.stderr, line)).toBe(1);
    expect(refused.stderr).toContain("and 1 warning(s):");
    expect(fs.existsSync(path.join(over, "out"))).toBe(false);
  });
});
