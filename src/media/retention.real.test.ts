/**
 * The retention timer on the scheduler's host (src/media/retention.ts), as the programs that
 * consume it read it: systemd-analyze verifies the service and its timer and computes the timer's
 * next elapse, and scores the one-offs' sandbox; a booted host runs the service
 * (test/real/wholeHost.real.test.ts). One host: only the scheduler's fleet, whose group holds one
 * instance, has the timer.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../config";
import { DEFAULTS } from "../vocabulary/defaults";
import { DATABASE_PATHS, SEARCH_DEPLOY_UNIT } from "../database/database";
import { RETENTION_UNITS, renderRetentionUnits } from "./retention";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import { runStack, stackConfig } from "../../test/helpers";
import { requireProgram, tempDir } from "../../test/real/servers";
import { exposure, systemdRoot } from "../../test/real/systemd";

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
  const root = systemdRoot("mastodon-retention-", ["usr/local/bin/bundle"]);
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

test("each ExecStart hands tootctl exactly the configured days, as the mastodon user, straight to PostgreSQL", async () => {
  const { config, host } = await schedulerHost();
  const unit = host.units[RETENTION_UNITS.service]!;
  const values = (key: string) => [...unit.matchAll(new RegExp(`^${key}=(.*)$`, "gm"))].map((m) => m[1]!);
  // The release image's tree (small runs the official images): run by a booted host in
  // test/real/wholeHost.real.test.ts, where the stand-in tootctl reports what it was given.
  expect(values("ExecStart")).toEqual([
    `/usr/local/bin/bundle exec bin/tootctl media remove --days ${config.retention.mediaDays} --concurrency 5`,
    `/usr/local/bin/bundle exec bin/tootctl preview_cards remove --days ${config.retention.previewCardsDays} --concurrency 5`,
  ]);
  expect(config.retention).toEqual({
    mediaDays: DEFAULTS.retention.mediaDays,
    previewCardsDays: DEFAULTS.retention.previewCardsDays,
  });
  expect(values("User")).toEqual(["mastodon"]);
  expect(values("Type")).toEqual(["oneshot"]);
  // PostgreSQL itself, where the prepare step's program connects too (the same database.conf).
  const dbHost = /^db_host (\S+)$/m.exec(host.files[DATABASE_PATHS.config]!)![1];
  expect(values("Environment")).toEqual(
    expect.arrayContaining([`"DB_HOST=${dbHost}"`, '"DB_PORT=5432"', '"DB_SSLMODE=verify-full"']),
  );
  expect(values("Restart")).toEqual([]);
});

test("the one-offs are as sandboxed as the services: at most 2.0 by systemd-analyze security, in every image source", async () => {
  requireProgram("/usr/bin/systemd-analyze");
  const dir = tempDir("mastodon-oneoff-security-");
  try {
    const scores: string[] = [];
    for (const stack of ["small", "production"]) {
      const hosts = fleetArtifacts((await runStack(stack)).resources);
      for (const h of hosts)
        for (const name of [RETENTION_UNITS.service, SEARCH_DEPLOY_UNIT].filter((u) => u in h.units)) {
          const file = path.join(dir, `${stack}-${name}`);
          fs.writeFileSync(file, h.units[name]!);
          scores.push(`${stack} ${name} ${exposure(file)}`);
        }
    }
    // small runs the release images; production too; the machine image's are checked below.
    expect(scores).toEqual([
      "small mastodon-retention.service 1.5",
      "production mastodon-retention.service 1.5",
      "production mastodon-search-deploy.service 1.5",
    ]);
    const native = renderRetentionUnits(
      { mediaDays: 7, previewCardsDays: 180 },
      { kind: "installation" },
      {
        host: "db.example",
        port: 5432,
      },
    )[0]!;
    const file = path.join(dir, "native-retention.service");
    fs.writeFileSync(file, native.content);
    expect(exposure(file)).toBeLessThanOrEqual(2.0);
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
