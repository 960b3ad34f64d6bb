/**
 * The retention timer on the scheduler's host (core/host/retention.ts), as the programs that
 * consume it read it: systemd-analyze verifies the service and its timer and computes the timer's
 * next elapse; the service's ExecStart lines run through the real core/host/files/mastodon-database.sh
 * with a stand-in podman that records the command each would run in the release image, so the
 * tootctl arguments are what tootctl receives. One host: only the scheduler's fleet, whose group
 * holds one instance, has the timer.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../core/config";
import { DEFAULTS } from "../../core/defaults";
import { DATABASE_PATHS } from "../../core/host/database";
import { PROGRAMS_DIR } from "../../core/host/programs";
import { RETENTION_UNITS } from "../../core/host/retention";
import { fleetArtifacts } from "../../plan/fleetArtifacts";
import { runStack, stackConfig } from "../helpers";
import { requireProgram, tempDir } from "./servers";
import { systemdRoot } from "./systemd";

jest.setTimeout(120000);

const STACK = "small";

async function schedulerHost() {
  const { config } = parseStackConfig(stackConfig(STACK), STACK);
  const scheduler = config.fleets.find((f) => f.servesScheduler)!;
  const hosts = fleetArtifacts((await runStack(STACK)).resources);
  return { config, scheduler, hosts, host: hosts.find((h) => h.fleet === scheduler.name)! };
}

test("systemd-analyze verifies the service and the timer, and the timer elapses daily at 04:00 UTC", async () => {
  requireProgram("/usr/bin/systemd-analyze");
  const { host } = await schedulerHost();
  const root = systemdRoot("mastodon-retention-", ["usr/local/sbin/mastodon-database"]);
  try {
    const unitDir = path.join(root, "etc/systemd/system");
    fs.mkdirSync(unitDir, { recursive: true });
    for (const name of Object.values(RETENTION_UNITS))
      fs.writeFileSync(path.join(unitDir, name), host.units[name]!);
    const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, ...Object.values(RETENTION_UNITS)], {
      cwd: unitDir,
      encoding: "utf8",
    });
    expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: "" });
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
  const onCalendar = /^OnCalendar=(.*)$/m.exec(host.units[RETENTION_UNITS.timer]!)![1]!;
  const cal = spawnSync("systemd-analyze", ["calendar", "--iterations=2", onCalendar], {
    encoding: "utf8",
    env: { ...process.env, TZ: "UTC" },
  });
  expect(cal.status).toBe(0);
  const elapses = [...cal.stdout.matchAll(/(?:Next elapse|Iter\. #2): \w+ (\S+) (\S+) UTC/g)].map((m) =>
    m.slice(1),
  );
  expect(elapses).toHaveLength(2);
  expect(elapses.map(([, time]) => time)).toEqual(["04:00:00", "04:00:00"]);
  const [first, second] = elapses.map(([day]) => Date.parse(`${day}T00:00:00Z`));
  expect(second! - first!).toBe(86400000);
});

test("each ExecStart, run by the real program, hands tootctl exactly the configured days in the release image", async () => {
  requireProgram("/bin/bash");
  const { config, host } = await schedulerHost();
  const dir = tempDir("mastodon-retention-run-");
  try {
    const log = path.join(dir, "podman.log");
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    // podman: records its arguments, one line per call.
    fs.writeFileSync(path.join(bin, "podman"), `#!/bin/sh\nprintf '%s\\n' "$*" >> ${log}\n`, { mode: 0o755 });
    const conf = path.join(dir, "database.conf");
    fs.writeFileSync(conf, host.files[DATABASE_PATHS.config]!);
    const lines = [...host.units[RETENTION_UNITS.service]!.matchAll(/^ExecStart=(.*)$/gm)].map((m) =>
      m[1]!.split(" "),
    );
    expect(lines).toHaveLength(2);
    for (const [program, ...args] of lines) {
      expect(program).toBe(DATABASE_PATHS.program);
      expect(args.slice(0, 2)).toEqual(["run", DATABASE_PATHS.config]);
      const r = spawnSync(
        "bash",
        [path.join(PROGRAMS_DIR, "mastodon-database.sh"), "run", conf, ...args.slice(2)],
        {
          encoding: "utf8",
          env: { ...process.env, PATH: `${bin}:/usr/bin:/bin` },
        },
      );
      expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    }
    const calls = fs.readFileSync(log, "utf8").trim().split("\n");
    const image = /^image (\S+)$/m.exec(host.files[DATABASE_PATHS.config]!)![1];
    const tootctl = calls.map((c) => c.slice(c.indexOf(`${image} `) + image!.length + 1));
    expect(tootctl).toEqual([
      `bundle exec bin/tootctl media remove --days ${config.retention.mediaDays} --concurrency 5`,
      `bundle exec bin/tootctl preview_cards remove --days ${config.retention.previewCardsDays} --concurrency 5`,
    ]);
    expect(config.retention).toEqual({
      mediaDays: DEFAULTS.retention.mediaDays,
      previewCardsDays: DEFAULTS.retention.previewCardsDays,
    });
    for (const call of calls) {
      // Straight to PostgreSQL, never a registry: the image the boot pulled.
      expect(call).toContain("--pull=never");
      expect(call).toMatch(/-e DB_PORT=5432 /);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("one host: the timer is on the scheduler's fleet alone, and that fleet's group holds one instance", async () => {
  for (const stack of ["dev", "small", "staging", "production"]) {
    const { config } = parseStackConfig(stackConfig(stack), stack);
    const hosts = fleetArtifacts((await runStack(stack)).resources);
    const withTimer = hosts.filter((h) => RETENTION_UNITS.timer in h.units).map((h) => h.fleet);
    const scheduler = config.fleets.find((f) => f.servesScheduler)!;
    expect(withTimer).toEqual([scheduler.name]);
    expect(scheduler.maxSize).toBe(1);
  }
});
