/**
 * The programs hosts run (core/host/files/), checked as the files they are: every shell script by
 * shellcheck, every Python program by Python's own compiler, each carried into cloud-init byte for
 * byte, taking its per-stack values as arguments rather than by having its text edited. The SSM
 * migrations document's shell lines get shellcheck too.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../config";
import { BOOT_PATHS } from "./boot";
import { HOST_FILES, HOST_FILES_CHECKSUMS } from "../fleet/host/hostFiles";
import { officialImages } from "../fleet/host/containers";
import { IMAGE_BUILD_SCRIPT } from "../images/imageRecipe";
import {
  CLOUDWATCH_AGENT_INSTALLER,
  type HostRuntime,
  SSM_AGENT_INSTALLER,
  renderFleetHost,
} from "../fleet/host/fleetHost";
import { LOGS_AGENT_UNIT, LOGS_PATHS, fleetLogGroupName } from "../monitoring/logs";
import { renderMigrationsDocument } from "../database/migrations";
import {
  INSTALL_CLOUDWATCH_AGENT,
  INSTALL_SSM_AGENT,
  MASTODON_METRICS,
  MASTODON_METRICS_CLOUDWATCH,
  MASTODON_METRICS_SOURCES,
  MASTODON_DATABASE,
  MASTODON_RESTORE,
  MASTODON_DRILL,
  MASTODON_DRAIN,
  MASTODON_LIFECYCLE,
  MASTODON_POOL,
  MASTODON_IMAGE_ROOT,
  MASTODON_REDIS_VOLUME,
  MASTODON_SEARCH_USER,
  PROGRAM_FOLDERS,
  PROGRAM_MODULES,
  programPath,
  programText,
  type Program,
  REDIS_HOST_SETUP,
  RENDER_SECRETS,
  SHELL_LIBRARIES,
} from "./programs";
import { BOOT_UNIT, DRAIN_UNIT, MASTODON_READY, READINESS_PATHS, WATCH_UNIT } from "../fleet/host/readiness";
import { POOL_PATHS } from "../fleet/host/warmPoolUnits";
import { SELF_MANAGED_PATHS, renderSelfManagedUserData } from "../redis/redisServer";
import { requireProgram } from "../../test/real/servers";
import { ROOT, cloudConfig, stackConfig } from "../../test/helpers";

/** Every file in a files/ folder under src/, as `<folder>/<name>` from the package root. */
const programFiles = (fs.readdirSync(path.join(ROOT, "src"), { recursive: true }) as string[])
  .map((f) => path.posix.join("src", f.split(path.sep).join("/")))
  .filter((f) => path.posix.basename(path.posix.dirname(f)) === "files")
  .sort();
const files = programFiles.map((f) => path.posix.basename(f) as Program).sort();
const withExt = (ext: string) => files.filter((f) => f.endsWith(ext));

test("each part's files/ folder holds the programs the renderers name, where PROGRAM_FOLDERS says, and nothing else", () => {
  expect(programFiles).toEqual(
    Object.entries(PROGRAM_FOLDERS)
      .map(([name, folder]) => `${folder}/${name}`)
      .sort(),
  );
  expect(files).toEqual(
    [
      MASTODON_READY,
      MASTODON_DRAIN,
      MASTODON_LIFECYCLE,
      MASTODON_POOL,
      REDIS_HOST_SETUP,
      RENDER_SECRETS,
      IMAGE_BUILD_SCRIPT,
      INSTALL_SSM_AGENT,
      INSTALL_CLOUDWATCH_AGENT,
      MASTODON_METRICS,
      MASTODON_METRICS_SOURCES,
      MASTODON_METRICS_CLOUDWATCH,
      MASTODON_DATABASE,
      MASTODON_RESTORE,
      MASTODON_DRILL,
      MASTODON_IMAGE_ROOT,
      MASTODON_REDIS_VOLUME,
      MASTODON_SEARCH_USER,
    ].sort(),
  );
  // A program is run, so executable; a module is imported by a program beside it, never run;
  // likewise a shell library is sourced.
  for (const f of files)
    expect([f, (fs.statSync(programPath(f)).mode & 0o111) !== 0]).toEqual([
      f,
      !PROGRAM_MODULES.includes(f) && !SHELL_LIBRARIES.includes(f),
    ]);
});

test.each(PROGRAM_MODULES)("%s is imported by a program in its folder, which runs from there", (mod) => {
  const python = requireProgram("/usr/bin/python3");
  const folder = path.join(ROOT, PROGRAM_FOLDERS[mod]);
  const name = mod.replace(/\.py$/, "");
  const importers = files.filter(
    (f) =>
      PROGRAM_FOLDERS[f] === PROGRAM_FOLDERS[mod] &&
      !PROGRAM_MODULES.includes(f) &&
      new RegExp(`^(from ${name} import|import ${name}\\b)`, "m").test(programText(f)),
  );
  expect(importers).not.toEqual([]);
  // Without arguments each prints its usage (exit 2), so its imports resolved; and leaves no __pycache__.
  for (const program of importers) {
    const r = spawnSync(python, [programPath(program)], { encoding: "utf8", cwd: os.tmpdir() });
    expect([program, r.status, r.stderr]).toEqual([program, 2, expect.stringMatching(/^\S/)]);
  }
  expect(fs.readdirSync(folder).filter((f) => f === "__pycache__")).toEqual([]);
});

test.each(SHELL_LIBRARIES)(
  "%s is sourced from their own directory by programs in its folder, never run",
  (lib) => {
    const text = programText(lib);
    // A library: no interpreter line, its shell told to shellcheck.
    expect(text.split("\n")[0]).toBe("# shellcheck shell=bash");
    const line = `# shellcheck source-path=SCRIPTDIR source=${lib}\nsource "$(dirname "\${BASH_SOURCE[0]}")/${lib}"\n`;
    const users = files.filter(
      (f) => PROGRAM_FOLDERS[f] === PROGRAM_FOLDERS[lib] && programText(f).includes(line),
    );
    expect(users.sort()).toEqual([MASTODON_DRAIN, MASTODON_POOL, MASTODON_READY].sort());
    // Laid out as on a host (no .sh, beside the library), each runs from there: no argument is its
    // usage (exit 2). Without the library beside it, it stops before doing anything.
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-lib-"));
    try {
      for (const f of users)
        fs.writeFileSync(path.join(dir, f.replace(/\.sh$/, "")), programText(f), { mode: 0o755 });
      fs.writeFileSync(path.join(dir, lib), text, { mode: 0o644 });
      for (const f of users) {
        const r = spawnSync(path.join(dir, f.replace(/\.sh$/, "")), [], {
          encoding: "utf8",
          cwd: os.tmpdir(),
        });
        expect([f, r.status, r.stderr]).toEqual([f, 2, expect.stringMatching(/^usage: mastodon-/)]);
      }
      fs.rmSync(path.join(dir, lib));
      for (const f of users) {
        const r = spawnSync(path.join(dir, f.replace(/\.sh$/, "")), [], {
          encoding: "utf8",
          cwd: os.tmpdir(),
        });
        expect([f, r.status, r.stderr]).toEqual([f, 1, expect.stringContaining(`${lib}: No such file`)]);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  },
);

test.each(withExt(".sh"))("shellcheck finds nothing in %s", (file) => {
  const shellcheck = requireProgram("/usr/bin/shellcheck");
  // -x: it follows a program's `source` of a library (SHELL_LIBRARIES) and checks them together.
  const r = spawnSync(shellcheck, ["-x", programPath(file)], {
    encoding: "utf8",
  });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});

test.each(withExt(".py"))("python3 compiles %s", (file) => {
  const python = requireProgram("/usr/bin/python3");
  // Compiled to a temporary file: no __pycache__ beside the source.
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-pyc-")), "out.pyc");
  try {
    const r = spawnSync(
      python,
      [
        "-c",
        "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
        programPath(file),
        out,
      ],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  } finally {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
  }
});

test.each(withExt(".py"))("pyflakes finds nothing in %s", (file) => {
  const pyflakes = requireProgram("/usr/bin/pyflakes3");
  const r = spawnSync(pyflakes, [programPath(file)], { encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});

test("shellcheck and python3 have teeth: a broken script and a broken program are refused", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-teeth-"));
  try {
    fs.writeFileSync(path.join(dir, "bad.sh"), '#!/bin/bash\nrm -rf $1/*\nif [ "$x" = 1 ] then echo; fi\n');
    fs.writeFileSync(path.join(dir, "bad.py"), "def f(:\n    pass\n");
    expect(spawnSync("/usr/bin/shellcheck", [path.join(dir, "bad.sh")]).status).not.toBe(0);
    const r = spawnSync("/usr/bin/python3", ["-m", "py_compile", path.join(dir, "bad.py")], {
      encoding: "utf8",
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("SyntaxError");
    fs.writeFileSync(path.join(dir, "unused.py"), "import os\n");
    expect(spawnSync("/usr/bin/pyflakes3", [path.join(dir, "unused.py")]).status).not.toBe(0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The dev stack's one host as it renders, natively or on stock Debian with the release images. */
function devHost(runtime?: HostRuntime) {
  const fleet = parseStackConfig(stackConfig("dev")).config.fleets[0]!;
  return renderFleetHost({
    fleet,
    env: { SIDEKIQ_REDIS_URL: "redis://:{{ssm:/mastodon/dev/redis-password}}@redis:6379/0" },
    parameterPath: "/mastodon/dev",
    region: "us-east-1",
    logGroupName: fleetLogGroupName("/mastodon/dev", fleet.name),
    metrics: { stack: "/mastodon/dev", region: "us-east-1", fleets: [fleet] },
    hostFiles: { bucket: "mastodon-host-files-bucket-0123abc" },
    ...(runtime && { runtime }),
  });
}

test("a fleet host gets the readiness program byte for byte, and the secret renderer from the host files", () => {
  const host = devHost();
  const doc = cloudConfig(host.userData);
  // The renderer runs after the host files are fetched and checked: it is one of them.
  const renderer = HOST_FILES.find((f) => f.path === BOOT_PATHS.renderer)!;
  expect([renderer.content, renderer.mode]).toEqual([
    fs.readFileSync(programPath(RENDER_SECRETS), "utf8"),
    "0755",
  ]);
  expect(doc.write_files.find((f) => f.path === BOOT_PATHS.renderer)).toBeUndefined();
  expect(doc.write_files.find((f) => f.path === HOST_FILES_CHECKSUMS)!.content).toContain(
    `${renderer.sha256}  ${BOOT_PATHS.renderer}\n`,
  );
  const ready = doc.write_files.find((f) => f.path === READINESS_PATHS.program)!;
  expect(ready.content).toBe(fs.readFileSync(programPath(MASTODON_READY), "utf8"));
  expect(ready.permissions).toBe("0755");
  // The library it sources from its own directory, beside it (and beside mastodon-pool, on a warm
  // pool host), byte for byte and not executable; the drain (this host runs Sidekiq) beside them, a
  // host file: fetched and checked before the boot enables it.
  const written = (p: string) => doc.write_files.find((f) => f.path === p);
  expect([written(READINESS_PATHS.library)?.content, written(READINESS_PATHS.library)?.permissions]).toEqual([
    programText(MASTODON_LIFECYCLE),
    "0644",
  ]);
  const drain = HOST_FILES.find((f) => f.path === READINESS_PATHS.drain)!;
  expect([drain.content, drain.mode]).toEqual([programText(MASTODON_DRAIN), "0755"]);
  expect(written(READINESS_PATHS.drain)).toBeUndefined();
  expect(written(HOST_FILES_CHECKSUMS)!.content).toContain(`${drain.sha256}  ${READINESS_PATHS.drain}\n`);
  expect(
    new Set(
      [READINESS_PATHS.program, READINESS_PATHS.drain, POOL_PATHS.program].map((p) => path.posix.dirname(p)),
    ),
  ).toEqual(new Set([path.posix.dirname(READINESS_PATHS.library)]));
  expect(path.posix.basename(READINESS_PATHS.library)).toBe(MASTODON_LIFECYCLE);
  // The watch runs mastodon-ready --watch, the drain mastodon-drain, both on the readiness config.
  const exec = (unit: string) =>
    host.units.find((u) => u.name === unit)!.content.match(/^ExecStart=.*$/m)?.[0];
  expect(exec(WATCH_UNIT)).toBe(`ExecStart=${READINESS_PATHS.program} --watch ${READINESS_PATHS.config}`);
  expect(exec(DRAIN_UNIT)).toBe(`ExecStart=${READINESS_PATHS.drain} ${READINESS_PATHS.config}`);
  // Both run as steps of the boot unit (src/fleet/host/readiness.ts), readiness last but for the watch.
  const boot = host.units.find((u) => u.name === BOOT_UNIT)!.content;
  expect(boot).toContain(`\nExecStart=${BOOT_PATHS.renderer} ${BOOT_PATHS.manifest}\n`);
  expect(boot).toContain(`\nExecStart=${READINESS_PATHS.program} ${READINESS_PATHS.config}\n`);
});

test("a stock Debian host (official images) gets the SSM agent installer byte for byte, run first", () => {
  const host = devHost({ kind: "containers", images: officialImages({ version: "v4.6.5" }) });
  const doc = cloudConfig(host.userData);
  const installer = doc.write_files.find((f) => f.path === SSM_AGENT_INSTALLER)!;
  expect(installer.content).toBe(fs.readFileSync(programPath(INSTALL_SSM_AGENT), "utf8"));
  expect(installer.permissions).toBe("0755");
  const boot = host.units.find((u) => u.name === BOOT_UNIT)!.content;
  expect(boot.split("\n").find((l) => l.startsWith("ExecStart="))).toBe(`ExecStart=${SSM_AGENT_INSTALLER}`);
  // The CloudWatch agent's comes from the host-files bucket (hostFiles.ts), byte for byte, 0755,
  // fetched before anything starts; the user-data holds its digest, not its text.
  const cloudwatch = HOST_FILES.find((f) => f.path === CLOUDWATCH_AGENT_INSTALLER)!;
  expect([cloudwatch.content, cloudwatch.mode]).toEqual([programText(INSTALL_CLOUDWATCH_AGENT), "0755"]);
  expect(doc.write_files.find((f) => f.path === CLOUDWATCH_AGENT_INSTALLER)).toBeUndefined();
  expect(doc.write_files.find((f) => f.path === HOST_FILES_CHECKSUMS)!.content).toContain(
    `${cloudwatch.sha256}  ${CLOUDWATCH_AGENT_INSTALLER}\n`,
  );
  // It runs in the logs agent's unit, beside the services, before the agent is started.
  const agent = host.units.find((u) => u.name === LOGS_AGENT_UNIT)!.content;
  const execs = agent.split("\n").filter((l) => l.startsWith("ExecStart="));
  expect(execs.map((l) => l.split(" ")[0])).toEqual([
    "ExecStart=/usr/bin/install",
    `ExecStart=${CLOUDWATCH_AGENT_INSTALLER}`,
    `ExecStart=${LOGS_PATHS.agentCtl}`,
  ]);
});

describe("the self-managed Redis host's setup script", () => {
  const input = {
    volumeId: "vol-0123456789abcdef0",
    passwordParameter: "/mastodon/p/m/redis-persistent-password",
    region: "eu-west-3",
    port: 6379,
    maxmemoryBytes: 2 ** 31,
  };
  const doc = cloudConfig(renderSelfManagedUserData(input));

  test("is the file byte for byte, and its stack values are its arguments", () => {
    const script = doc.write_files.find((f) => f.path === SELF_MANAGED_PATHS.bootScript)!;
    expect(script.content).toBe(programText(REDIS_HOST_SETUP));
    expect(script.content).not.toContain(input.volumeId);
    expect(script.content).not.toContain(input.passwordParameter);
    expect(doc.runcmd[0]).toEqual([
      SELF_MANAGED_PATHS.bootScript,
      "--volume-id",
      input.volumeId,
      "--region",
      input.region,
      "--password-parameter",
      input.passwordParameter,
      "--data-dir",
      SELF_MANAGED_PATHS.dataDir,
      "--secrets",
      SELF_MANAGED_PATHS.secrets,
    ]);
  });

  test.each([
    ["no argument", []],
    ["an unknown option", ["--volume", "vol-1"]],
    ["an option without its value", ["--volume-id"]],
    ["a volume ID that is not one", ["--volume-id", "vol-1; reboot", "--region", "r"]],
    [
      "a missing value",
      ["--volume-id", "vol-1", "--region", "r", "--password-parameter", "/p", "--data-dir", "/d"],
    ],
  ])("refuses %s before touching anything", (_what, args) => {
    const r = spawnSync("/bin/bash", [programPath(REDIS_HOST_SETUP), ...args], {
      encoding: "utf8",
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/^usage: /);
  });
});

test("shellcheck finds nothing in the migrations document's shell lines", () => {
  const shellcheck = requireProgram("/usr/bin/shellcheck");
  const doc = JSON.parse(renderMigrationsDocument({ databaseHost: "db.example", databasePort: 5432 }));
  const lines: string[] = doc.mainSteps[0].inputs.runCommand;
  // SSM substitutes {{ phase }} before the shell sees the script; a variable stands for it here
  // (a constant would draw shellcheck's "constant expression").
  const script = ["#!/bin/sh", ...lines].join("\n").replace("{{ phase }}", "$PHASE");
  const r = spawnSync(shellcheck, ["-"], { input: script, encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});
