/**
 * The rendered units measured by systemd itself: `systemd-analyze security --offline=true` scores
 * each unit file's sandbox (0 = fully sandboxed, 10 = fully exposed), and the daemons beside
 * Mastodon (PgBouncer, the self-managed Redis) must be no more exposed than any Mastodon unit.
 * `systemd-analyze verify` accepts them all without a warning.
 *
 * Measured with systemd 252 (Debian bookworm): mastodon-web 1.7, mastodon-streaming@ 1.5,
 * mastodon-sidekiq-*@ 1.7; mastodon-pgbouncer 1.1 (7.9 before it was sandboxed), redis-mastodon 1.1
 * (5.7 before); Debian's own pgbouncer.service 9.2.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../config";
import { renderPgbouncerUnit } from "../../database/pgbouncer";
import { SELF_MANAGED_PATHS, renderSelfManagedRedisUnit } from "../../redis/redisServer";
import { renderFleetUnits } from "./units";
import { STACKS, stackConfig } from "../../../test/helpers";
import { requireProgram } from "../../../test/real/servers";
import { exposure, systemdRoot } from "../../../test/real/systemd";
import { METRICS_UNITS, hostMetricsConfig, renderMetricsUnits } from "../../monitoring/metrics";

/** A root with stand-ins for the executables these units name. */
const systemdRootForUnits = () =>
  systemdRoot("mastodon-security-", [
    "home/mastodon/.rbenv/shims/bundle",
    "usr/bin/node",
    "usr/sbin/pgbouncer",
    "usr/bin/redis-server",
    "usr/bin/python3",
    "bin/kill",
  ]);

const REDIS_UNIT = path.basename(SELF_MANAGED_PATHS.unit);

let root: string;
let unitDir: string;
/** Every distinct Mastodon service unit any shipped stack renders, by name. */
const mastodonUnits = new Map<string, string>();

beforeAll(() => {
  requireProgram("/usr/bin/systemd-analyze");
  root = systemdRootForUnits();
  unitDir = path.join(root, "etc/systemd/system");
  fs.mkdirSync(unitDir, { recursive: true });
  for (const stack of STACKS) {
    const { config } = parseStackConfig(stackConfig(stack));
    const ctx = { pooled: config.database.pooler === "pgbouncer" };
    for (const f of config.fleets)
      for (const u of renderFleetUnits(f, ctx))
        if (u.name.endsWith(".service")) mastodonUnits.set(u.name, u.content);
  }
  for (const [name, content] of mastodonUnits) fs.writeFileSync(path.join(unitDir, name), content);
  const pgbouncer = renderPgbouncerUnit();
  fs.writeFileSync(path.join(unitDir, pgbouncer.name), pgbouncer.content);
  fs.writeFileSync(
    path.join(unitDir, REDIS_UNIT),
    renderSelfManagedRedisUnit(SELF_MANAGED_PATHS.conf, SELF_MANAGED_PATHS.dataDir),
  );
  // The metrics collector as production's scheduler host runs it (queues and PgBouncer: the most it reads).
  const production = parseStackConfig(stackConfig("production")).config;
  const scheduler = production.fleets.find((f) => f.servesScheduler)!;
  const stack = { stack: "/mastodon/production", region: "us-east-1", fleets: production.fleets };
  for (const u of renderMetricsUnits(hostMetricsConfig(scheduler, stack, { pooled: true })))
    fs.writeFileSync(path.join(unitDir, u.name), u.content);
});
afterAll(() => {
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

const mastodonExposures = () =>
  [...mastodonUnits.keys()].map((name) => [name, exposure(path.join(unitDir, name))] as const);

test("the Mastodon units are as sandboxed as measured: web 1.7, streaming 1.5, sidekiq 1.7", () => {
  const byKind = new Map<string, Set<number>>();
  for (const [name, e] of mastodonExposures()) {
    const kind = name.startsWith("mastodon-sidekiq-")
      ? "sidekiq"
      : name.replace(/^mastodon-|@?\.service$/g, "");
    byKind.set(kind, new Set([...(byKind.get(kind) ?? []), e]));
  }
  expect(Object.fromEntries([...byKind].map(([k, v]) => [k, [...v]]))).toEqual({
    web: [1.7],
    streaming: [1.5],
    sidekiq: [1.7],
  });
});

test.each([
  ["mastodon-pgbouncer.service", 1.1],
  [REDIS_UNIT, 1.1],
  [METRICS_UNITS.service, 1.1],
])("%s is no more exposed than any Mastodon unit (measured %s)", (name, measured) => {
  const own = exposure(path.join(unitDir, name));
  const least = Math.min(...mastodonExposures().map(([, e]) => e));
  expect(own).toBeLessThanOrEqual(least);
  expect(own).toBe(measured);
});

test("the measure has teeth: Debian's unsandboxed pgbouncer.service scores far worse", () => {
  const debian = "/usr/lib/systemd/system/pgbouncer.service";
  requireProgram(debian);
  fs.copyFileSync(debian, path.join(root, "debian-pgbouncer.service"));
  expect(exposure(path.join(root, "debian-pgbouncer.service"))).toBeGreaterThan(5);
});

test("systemd-analyze verify accepts PgBouncer's, Redis's and every Mastodon unit without a warning", () => {
  const instances = [
    "mastodon-pgbouncer.service",
    REDIS_UNIT,
    METRICS_UNITS.service,
    METRICS_UNITS.timer,
    ...[...mastodonUnits.keys()].map((n) => n.replace("@.service", "@10.service")),
  ];
  const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, ...instances], {
    cwd: unitDir,
    encoding: "utf8",
  });
  expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: "" });
});
