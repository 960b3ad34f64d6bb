/**
 * A first run that says what it does: `npm run plan --help`, the summary an operator reads with the
 * resource listing in a file (`--verbose` prints it), scripts/ensure-deps.sh saying what it installs
 * and why, and no engine warning from `npm ci` on the Node.js versions package.json names.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as semver from "semver";
import { ROOT, STACKS } from "./helpers";

function plan(...args: string[]) {
  return spawnSync(
    process.execPath,
    ["-r", "@swc-node/register", path.join(ROOT, "bin", "plan.ts"), ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, SWC_NODE_SOURCE_MAP_MODE: "inline" },
    },
  );
}

const tmp = (prefix: string) => fs.mkdtempSync(path.join(os.tmpdir(), prefix));

describe("npm run plan -- --help", () => {
  const r = plan("--help");
  test("exits 0 with the usage, every option and the shipped stacks, and renders nothing", () => {
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^usage: npm run plan -- /);
    for (const option of ["--stack", "--out", "--stacks-dir", "--verbose", "--help"])
      expect(r.stdout).toContain(`  ${option}`);
    // The shipped ones by name: stacks/ may also hold the user's own (`pulumi stack init`).
    for (const stack of STACKS) expect(r.stdout).toContain(stack);
    expect(r.stdout).not.toContain("mastodon-aws plan:");
  });

  test("an unknown option exits 1 with the usage on stderr", () => {
    const bad = plan("--stak", "dev");
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain("Unknown option '--stak'");
    expect(bad.stderr).toContain("usage: npm run plan -- ");
  });
});

describe("the plan's summary and its resource listing", () => {
  const out = tmp("mastodon-first-run-");
  const quiet = plan("--stack", "staging", "--out", path.join(out, "quiet"));
  const verbose = plan("--stack", "staging", "--out", path.join(out, "verbose"), "--verbose");
  const resources = () =>
    JSON.parse(fs.readFileSync(path.join(out, "quiet", "resources.json"), "utf8")) as {
      name: string;
      type: string;
      custom: boolean;
    }[];

  test("prints the operator's sections and one line for the resources, not the listing", () => {
    expect(quiet.status).toBe(0);
    const all = resources();
    expect(quiet.stdout).toContain(
      `Resources: ${all.length} declared, ${all.filter((r) => r.custom).length} cloud resources (by component in `,
    );
    for (const section of ["Fleets (per host):", "Postgres connection budget", "Monthly cost estimate"])
      expect(quiet.stdout).toContain(section);
    // The listing's per-type lines are in the file only.
    expect(quiet.stdout).not.toMatch(/^\s+\d+ x aws:/m);
  });

  test("writes the listing to resources.txt: every component of resources.json, every cloud resource counted", () => {
    const listing = fs.readFileSync(path.join(out, "quiet", "resources.txt"), "utf8");
    const all = resources();
    for (const c of all.filter((r) => !r.custom)) expect(listing).toContain(`${c.name} (${c.type})`);
    const counted = [...listing.matchAll(/^\s+(\d+) x \S+$/gm)].reduce((n, m) => n + Number(m[1]), 0);
    expect(counted).toBe(all.filter((r) => r.custom).length);
  });

  test("--verbose prints the same listing before the summary's last line", () => {
    expect(verbose.status).toBe(0);
    const listing = fs.readFileSync(path.join(out, "verbose", "resources.txt"), "utf8");
    expect(verbose.stdout).toContain(listing);
    expect(quiet.stdout).not.toContain(listing.split("\n")[1]);
  });
});

describe("scripts/ensure-deps.sh", () => {
  /** A copy of the script and the lock, with `npm` on PATH replaced by one that logs its arguments. */
  function sandbox(installed: Record<string, unknown> | undefined) {
    const dir = tmp("mastodon-ensure-deps-");
    fs.mkdirSync(path.join(dir, "scripts"));
    for (const f of ["ensure-deps.sh", "deps-differ.cjs"])
      fs.copyFileSync(path.join(ROOT, "scripts", f), path.join(dir, "scripts", f));
    fs.copyFileSync(path.join(ROOT, "package-lock.json"), path.join(dir, "package-lock.json"));
    if (installed) {
      fs.mkdirSync(path.join(dir, "node_modules"));
      fs.writeFileSync(path.join(dir, "node_modules", ".package-lock.json"), JSON.stringify(installed));
    }
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    // Stands in for npm: the test checks the decision and the message, not npm ci itself.
    fs.writeFileSync(path.join(bin, "npm"), `#!/bin/sh\necho "$@" >> "${dir}/npm-calls"\n`, { mode: 0o755 });
    const r = spawnSync("bash", [path.join(dir, "scripts", "ensure-deps.sh")], {
      encoding: "utf8",
      env: { ...process.env, PATH: `${bin}:${process.env["PATH"]}` },
    });
    const calls = fs.existsSync(path.join(dir, "npm-calls"))
      ? fs.readFileSync(path.join(dir, "npm-calls"), "utf8")
      : "";
    return { ...r, calls };
  }
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string; link?: boolean }>;
  };
  const installedAsLocked = () => ({
    packages: Object.fromEntries(Object.entries(lock.packages).filter(([k]) => k !== "")),
  });

  test("on a fresh checkout: says it is installing, why, and runs npm ci", () => {
    const r = sandbox(undefined);
    expect(r.status).toBe(0);
    const pinned = Object.entries(lock.packages).filter(([k, e]) => k !== "" && !e.link).length;
    expect(r.stderr).toContain(
      `ensure-deps: node_modules/ is missing: package-lock.json pins ${pinned} packages.`,
    );
    expect(r.stderr).toContain("installing them with npm ci");
    expect(r.calls).toBe("ci --no-audit --no-fund\n");
  });

  test("with node_modules as locked: silent, installs nothing (whatever the files' mtimes)", () => {
    const r = sandbox(installedAsLocked());
    expect(r.status).toBe(0);
    expect(r.stderr).toBe("");
    expect(r.calls).toBe("");
  });

  test("with a package at another version: names it and reinstalls", () => {
    const installed = installedAsLocked();
    const zod = installed.packages["node_modules/zod"] as { version: string };
    installed.packages["node_modules/zod"] = { ...zod, version: "0.0.1" };
    const r = sandbox(installed);
    expect(r.stderr).toContain(
      `node_modules/ differs from package-lock.json in 1 package(s): zod ${zod.version} (installed: 0.0.1).`,
    );
    expect(r.calls).toBe("ci --no-audit --no-fund\n");
  });
});

describe("engines", () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    engines: { node: string };
  };
  const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "package-lock.json"), "utf8")) as {
    packages: Record<string, { engines?: { node?: string } | string[] }>;
  };
  // The oldest release of each line package.json accepts, e.g. 20.19.0, 22.13.0 and 24.0.0.
  const oldest = pkg.engines.node
    .split("||")
    .map((range) => (semver.minVersion(range.trim()) as semver.SemVer).version);

  test("the README names the oldest Node.js release package.json accepts", () => {
    const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8");
    const [first] = oldest;
    expect(readme).toContain(`Node.js ${semver.major(first as string)}.${semver.minor(first as string)}`);
  });

  test.each(oldest)(
    "npm ci on Node.js %s: every locked package accepts it (no EBADENGINE warning)",
    (version) => {
      const refusing = Object.entries(lock.packages)
        .map(([key, entry]) => [key, Array.isArray(entry.engines) ? undefined : entry.engines?.node] as const)
        .filter(([, range]) => range !== undefined && !semver.satisfies(version, range as string))
        .map(([key, range]) => `${key} (node ${range})`);
      expect(refusing).toEqual([]);
    },
  );
});
