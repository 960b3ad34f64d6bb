/**
 * A warm pool host's boot (warmPoolUnits.ts) against the same fleet's cold boot, both rendered by
 * the real program from production's stack: the same steps, split where the moment starts to
 * matter (the secrets), and nothing else changed. The whole host is booted both ways under real
 * systemd in test/real/wholeHostWarm.real.test.ts.
 */
import { parse } from "yaml";
import { fleetArtifacts } from "../../cli/fleetArtifacts";
import { BOOT_PATHS } from "../../host/boot";
import { IMAGES_UNIT } from "../../images/containerImages";
import { execStarts, runStack, stackConfig } from "../../../test/helpers";
import { ABANDON_UNIT, BOOT_UNIT, LIFECYCLE_HOOK_NAME, READINESS_PATHS } from "./readiness";
import { CLOUDWATCH_AGENT_INSTALLER } from "./hostFiles";
import { LOGS_AGENT_UNIT } from "../../monitoring/logs";
import { POOL_PATHS, POOL_UNIT, PREPARE_UNIT, WARM_ABANDON_REASON } from "./warmPoolUnits";

type Artifacts = ReturnType<typeof fleetArtifacts>[number];

let warm: Artifacts;
let cold: Artifacts;
let groups: Record<string, unknown>[];

beforeAll(async () => {
  const fleets = stackConfig("production")["fleets"] as Record<string, Record<string, unknown>>;
  const { warmPool, ...withoutPool } = fleets["sidekiq-default"]!;
  expect(warmPool).toEqual({ size: 2 });
  const shipped = await runStack("production");
  const coldRun = await runStack("production", { fleets: { ...fleets, "sidekiq-default": withoutPool } });
  const of = (run: typeof shipped) =>
    fleetArtifacts(run.resources).find((a) => a.fleet === "sidekiq-default")!;
  warm = of(shipped);
  cold = of(coldRun);
  groups = shipped.resources.filter((r) => r.type === "aws:autoscaling/group:Group").map((r) => r.inputs);
}, 120000);

const systemctl = "/usr/bin/systemctl";

test("GIVEN production THEN the groups of sidekiq-default and sidekiq-ingress keep warm pools, no other", () => {
  const pooled = groups
    .filter((g) => g["warmPool"] !== undefined)
    .map((g) => [
      (g["tags"] as { key: string; value: string }[]).find((t) => t.key === "mastodon:fleet")!.value,
      g["warmPool"],
    ]);
  expect(pooled).toEqual([
    [
      "sidekiq-default",
      expect.objectContaining({ minSize: 2, maxGroupPreparedCapacity: 2, poolState: "Stopped" }),
    ],
    [
      "sidekiq-ingress",
      expect.objectContaining({ minSize: 1, maxGroupPreparedCapacity: 1, poolState: "Stopped" }),
    ],
  ]);
});

test("WHEN the host boots THEN cloud-init starts the preparation, not the boot", () => {
  expect((parse(warm.userData) as { runcmd: string[][] }).runcmd).toEqual([
    ["systemctl", "daemon-reload"],
    ["systemctl", "start", "--no-block", PREPARE_UNIT],
  ]);
});

test("the preparation and the boot run the cold boot's steps, split at the secrets", () => {
  const prepare = execStarts(warm.units[PREPARE_UNIT]!);
  const boot = execStarts(warm.units[BOOT_UNIT]!);
  // The preparation ends by starting the images' pull (not waited for), installing the logs agent
  // (which the serving host's agent unit then finds installed), and starting the wait in the pool.
  expect(prepare.slice(-4)).toEqual([
    [systemctl, "start", "--no-block", IMAGES_UNIT],
    [CLOUDWATCH_AGENT_INSTALLER],
    [systemctl, "enable", POOL_UNIT],
    [systemctl, "start", "--no-block", POOL_UNIT],
  ]);
  expect(execStarts(warm.units[LOGS_AGENT_UNIT]!)).toEqual(execStarts(cold.units[LOGS_AGENT_UNIT]!));
  expect(warm.units[LOGS_AGENT_UNIT]).toContain(CLOUDWATCH_AGENT_INSTALLER);
  expect([...prepare.slice(0, -4), ...boot]).toEqual(execStarts(cold.units[BOOT_UNIT]!));
  // What depends on the moment starts the boot: the secrets as they are when the host is started.
  expect(boot[0]).toEqual([BOOT_PATHS.renderer, BOOT_PATHS.manifest]);
  expect(prepare.some((c) => c[0] === BOOT_PATHS.renderer || c.includes("mastodon.target"))).toBe(false);
});

test("the pool unit waits in the pool, then starts the boot; it never runs again once the host served", () => {
  const pool = warm.units[POOL_UNIT]!;
  expect(execStarts(pool)).toEqual([
    [POOL_PATHS.program, POOL_PATHS.config],
    [systemctl, "start", "--no-block", BOOT_UNIT],
  ]);
  expect(pool).toContain(`\nConditionPathExists=!${READINESS_PATHS.state}/completed\n`);
  expect(pool).toContain(`\nAfter=network-online.target ${PREPARE_UNIT}\n`);
  expect(pool).toContain("\nWantedBy=multi-user.target\n");
  for (const unit of [PREPARE_UNIT, POOL_UNIT, BOOT_UNIT])
    expect(`${unit}: ${/^OnFailure=(.*)$/m.exec(warm.units[unit]!)?.[1]}`).toBe(`${unit}: ${ABANDON_UNIT}`);
  expect(execStarts(warm.units[ABANDON_UNIT]!)[0]![2]).toBe(WARM_ABANDON_REASON);
});

test("the completion into the pool: the same hook, the preparation's checks, a state of its own", () => {
  const conf = (text: string) =>
    text
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => l.split(" ") as [string, string]);
  const pool = conf(warm.files[POOL_PATHS.config]!);
  const ready = new Map(conf(warm.files[READINESS_PATHS.config]!));
  expect(pool.filter(([k]) => k === "unit").map(([, v]) => v)).toEqual([PREPARE_UNIT, IMAGES_UNIT]);
  expect(pool.filter(([k]) => k === "http")).toEqual([]);
  const poolMap = new Map(pool);
  expect(poolMap.get("hook")).toBe(LIFECYCLE_HOOK_NAME);
  expect(poolMap.get("hook")).toBe(ready.get("hook"));
  expect(poolMap.get("state")).toBe(POOL_PATHS.state);
  expect(poolMap.get("state")).not.toBe(ready.get("state"));
  // The images' pull may take its whole bound before the instance enters the pool.
  expect(Number(poolMap.get("timeout"))).toBeGreaterThan(Number(ready.get("timeout")));
});

test("nothing else of the host differs from the cold one", () => {
  const without = (record: Record<string, string>, names: string[]) =>
    Object.fromEntries(Object.entries(record).filter(([k]) => !names.includes(k)));
  const bootUnits = [BOOT_UNIT, ABANDON_UNIT, PREPARE_UNIT, POOL_UNIT];
  expect(without(warm.units, bootUnits)).toEqual(without(cold.units, bootUnits));
  expect(without(warm.files, [POOL_PATHS.program, POOL_PATHS.config])).toEqual(cold.files);
  expect(Object.keys(warm.files)).toEqual(expect.arrayContaining([POOL_PATHS.program, POOL_PATHS.config]));
});
