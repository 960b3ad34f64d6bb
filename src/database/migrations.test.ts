/**
 * The migrations document's shell, run the way SSM runs it: its `{{ parameters }}` substituted as
 * text, then /bin/sh, with stand-in `podman` and `sudo` executables that record their arguments and
 * the environment they were started with. Shellcheck reads the same lines.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MIGRATION_PARAMETER_PATTERNS, renderMigrationsDocument } from "./migrations";
import { MASTODON_PATHS } from "../fleet/host/units";
import { requireProgram } from "../../test/real/servers";

const doc = JSON.parse(renderMigrationsDocument({ databaseHost: "db.example", databasePort: 5432 }));
const lines: string[] = doc.mainSteps[0].inputs.runCommand;
const DIRECT = [
  "RAILS_ENV=production",
  "DB_HOST=db.example",
  "DB_PORT=5432",
  "DB_SSLMODE=verify-full",
  "PREPARED_STATEMENTS=true",
];
const SKIP = "SKIP_POST_DEPLOYMENT_MIGRATIONS=true";

/** SSM's substitution: each `{{ name }}` replaced by the parameter's value, as text. */
function substitute(params: Record<string, string>): string {
  return ["#!/bin/sh", ...lines].join("\n").replace(/\{\{ (\w+) \}\}/g, (_, name: string) => {
    const value = params[name] ?? doc.parameters[name]?.default;
    if (value === undefined) throw new Error(`no value for ${name}`);
    return value;
  });
}

interface Call {
  readonly program: string;
  readonly args: string[];
  readonly env: string[];
}

/**
 * Runs the substituted script with stand-ins first on PATH and the live directory pointed at a
 * temporary one; `hostVersion` is what `tootctl version` answers through the stand-in sudo.
 */
function run(params: Record<string, string>, hostVersion = "4.6.5") {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-migrations-"));
  try {
    const bin = path.join(dir, "bin");
    const live = path.join(dir, "live");
    fs.mkdirSync(bin);
    fs.mkdirSync(live);
    const log = path.join(dir, "calls");
    const stand = (name: string) =>
      [
        "#!/bin/sh",
        `case "$*" in *"tootctl version"*) echo 'Some warning on stdout'; echo '${hostVersion}'; exit 0;; esac`,
        `{ echo "program ${name}"; for a in "$@"; do printf 'arg %s\\n' "$a"; done; env | sed 's/^/env /'; echo end; } >> '${log}'`,
      ].join("\n");
    for (const name of ["podman", "sudo"])
      fs.writeFileSync(path.join(bin, name), stand(name), { mode: 0o755 });
    const script = substitute(params).replaceAll(MASTODON_PATHS.live, live);
    const r = spawnSync("/bin/sh", ["-c", script], {
      encoding: "utf8",
      env: { PATH: `${bin}:/usr/bin:/bin` },
    });
    const calls: Call[] = [];
    const text = fs.existsSync(log) ? fs.readFileSync(log, "utf8") : "";
    for (const block of text.split("end\n").filter(Boolean)) {
      const rows = block.trim().split("\n");
      calls.push({
        program: rows[0]!.replace("program ", ""),
        args: rows.filter((l) => l.startsWith("arg ")).map((l) => l.slice(4)),
        env: rows.filter((l) => l.startsWith("env ")).map((l) => l.slice(4)),
      });
    }
    return { status: r.status, stderr: r.stderr, calls };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const IMAGE = "ghcr.io/mastodon/mastodon:v4.6.5";

describe("official image: a one-off container of the new image", () => {
  test("pre: SKIP_POST_DEPLOYMENT_MIGRATIONS=true in the container's environment only, the new image, straight to PostgreSQL", () => {
    const { status, calls } = run({ phase: "pre", image: IMAGE, version: "v4.6.5" });
    expect(status).toBe(0);
    expect(calls).toHaveLength(1);
    const [podman] = calls;
    expect(podman!.program).toBe("podman");
    const args = podman!.args;
    expect(args.slice(0, 2)).toEqual(["run", "--rm"]);
    // The image, then the command: the new version migrates.
    expect(args.slice(-5)).toEqual([IMAGE, "bundle", "exec", "rails", "db:migrate"]);
    const envArgs = args.flatMap((a, i) => (args[i - 1] === "-e" ? [a] : []));
    expect(envArgs).toEqual([...DIRECT, SKIP]);
    // The host's env file where the image's Rails reads it, RDS's CA where its libpq does.
    expect(args.some((a) => a.endsWith(":/opt/mastodon/.env.production:ro"))).toBe(true);
    expect(args).toContain(`${MASTODON_PATHS.rdsCaBundle}:/opt/mastodon/.postgresql/root.crt:ro`);
    // Not in podman's own environment (nor, so, in any file it reads).
    expect(podman!.env.filter((e) => e.startsWith("SKIP_POST"))).toEqual([]);
  });

  test("post: the same container without the skip flag", () => {
    const { status, calls } = run({ phase: "post", image: IMAGE, version: "v4.6.5" });
    expect(status).toBe(0);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args.join(" ")).not.toContain("SKIP_POST_DEPLOYMENT_MIGRATIONS");
    expect(calls[0]!.args.at(-5)).toBe(IMAGE);
  });
});

describe("the host's own installation (image source ami)", () => {
  test("pre: checks the host runs the version, then migrates with the flag in sudo's env arguments", () => {
    const { status, calls } = run({ phase: "pre", image: "", version: "v4.6.5" });
    expect(status).toBe(0);
    expect(calls).toHaveLength(1);
    const [sudo] = calls;
    expect(sudo!.args).toEqual([
      "-u",
      "mastodon",
      "env",
      ...DIRECT,
      SKIP,
      MASTODON_PATHS.bundle,
      "exec",
      "rails",
      "db:migrate",
    ]);
    expect(sudo!.env.filter((e) => e.startsWith("SKIP_POST"))).toEqual([]);
  });

  test("post: no flag", () => {
    const { status, calls } = run({ phase: "post", version: "v4.6.5" });
    expect(status).toBe(0);
    expect(calls[0]!.args).toEqual([
      "-u",
      "mastodon",
      "env",
      ...DIRECT,
      MASTODON_PATHS.bundle,
      "exec",
      "rails",
      "db:migrate",
    ]);
  });

  test("a host still on the old version refuses to migrate, saying why", () => {
    const { status, stderr, calls } = run({ phase: "pre", version: "v4.6.5" }, "4.6.4");
    expect(status).toBe(1);
    expect(stderr).toContain("this host runs Mastodon '4.6.4', not v4.6.5");
    expect(calls).toEqual([]);
  });

  test("build metadata after the version is accepted (Mastodon::Version.to_s appends +metadata)", () => {
    expect(run({ phase: "pre", version: "v4.6.5" }, "4.6.5+aws").status).toBe(0);
  });

  test("without a version (the first-deploy runbook's call) it migrates as before", () => {
    const { status, calls } = run({ phase: "post" }, "anything");
    expect(status).toBe(0);
    expect(calls).toHaveLength(1);
  });
});

test("the parameters: phase pre or post, image and version optional and shell-safe", () => {
  expect(doc.parameters.phase.allowedValues).toEqual(["pre", "post"]);
  expect(doc.parameters.image.default).toBe("");
  expect(doc.parameters.version.default).toBe("");
  const image = new RegExp(MIGRATION_PARAMETER_PATTERNS.image);
  const version = new RegExp(MIGRATION_PARAMETER_PATTERNS.version);
  for (const ok of [
    "",
    IMAGE,
    "123456789012.dkr.ecr.eu-west-3.amazonaws.com/ghcr/mastodon/mastodon:v4.6.5",
  ]) {
    expect(image.test(ok)).toBe(true);
  }
  for (const bad of ['x" ; id ; "', "ghcr.io/m/m:$(id)", "a b", "`id`"]) expect(image.test(bad)).toBe(false);
  for (const ok of ["", "v4.6.5"]) expect(version.test(ok)).toBe(true);
  for (const bad of ["latest", "v4.6.5;id", "$(id)", "v4.6.5 x"]) expect(version.test(bad)).toBe(false);
});

test.each([
  [
    "placeholders as variables",
    (s: string) =>
      s
        .replace("{{ phase }}", "$SSM_PHASE")
        .replace("{{ image }}", "$SSM_IMAGE")
        .replace("{{ version }}", "$SSM_VERSION"),
  ],
  [
    "pre with an image, as SSM substitutes it",
    () => substitute({ phase: "pre", image: IMAGE, version: "v4.6.5" }),
  ],
  [
    "post on the host, as SSM substitutes it",
    () => substitute({ phase: "post", image: "", version: "v4.6.5" }),
  ],
])("shellcheck finds nothing in the document's shell (%s)", (_, make) => {
  const shellcheck = requireProgram("/usr/bin/shellcheck");
  const script = make(["#!/bin/sh", ...lines].join("\n"));
  const r = spawnSync(shellcheck, ["-"], { input: script, encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});
