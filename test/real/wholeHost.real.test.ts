/**
 * Whole hosts booted for real (issue 19): a fleet's rendered user-data, unchanged, as the NoCloud
 * seed of the cached Debian 12 root, booted by systemd under systemd-nspawn with real cloud-init,
 * real podman pulls, the real AWS CLI and its credential chain, against the stand-ins in the boot's
 * own network namespace (test/boot/harness.ts). Every request the host makes is recorded in order,
 * and the tests assert what it asked for and in which order, and what it ended in: the launch
 * lifecycle action completed once, with CONTINUE or ABANDON.
 *
 * Boot time is measured and printed, never asserted. On a machine that cannot boot a host here
 * (not root, no nspawn, no network namespaces) every test is skipped with the reason printed.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { fleetArtifacts } from "../../src/cli/fleetArtifacts";
import { HOST_FILES } from "../../src/fleet/host/hostFiles";
import { onHostRedisPaths } from "../../src/redis/onHostRedisUnits";
import { REDIS_VOLUME_PATHS, nvmeDevicePath } from "../../src/redis/redisVolume";
import { STACKS, cloudConfig, runStack } from "../helpers";
import { type BootOptions, HostBoot } from "../boot/harness";
import {
  BOOT_MS,
  READY_MS,
  bootToOutcome as bootWith,
  completions,
  expectMetrics,
  expectReady,
  journal,
  nextToOutcome,
  readinessUnits,
  userData,
  bootSuite,
} from "../boot/scenarios";

const BOOT_DIR = path.join(__dirname, "..", "boot");

test("the stand-ins' programs pass pyflakes3, shellcheck and perl -c", () => {
  const py = spawnSync("pyflakes3", [path.join(BOOT_DIR, "aws-standin.py")], { encoding: "utf8" });
  expect(py.stdout + py.stderr).toBe("");
  expect(py.status).toBe(0);
  const sh = spawnSync(
    "shellcheck",
    [path.join(BOOT_DIR, "build-root.sh"), path.join(BOOT_DIR, "release-image", "rails")],
    { encoding: "utf8" },
  );
  expect(sh.stdout + sh.stderr).toBe("");
  expect(sh.status).toBe(0);
  for (const f of ["bundle", "node", "httpd", "sidekiq"]) {
    const pl = spawnSync("perl", ["-c", path.join(BOOT_DIR, "release-image", f)], { encoding: "utf8" });
    expect(`${f}: ${pl.stderr.trim()}`).toBe(`${f}: ${path.join(BOOT_DIR, "release-image", f)} syntax OK`);
  }
});

/**
 * The root has no apt sources (IMAGE_CHANGES): a package some fleet's user-data names that the
 * root lacks fails cloud-init's package step at boot. Every shipped stack's fleets together.
 */
test("the boot root installs every package the shipped stacks' user-data names", async () => {
  const script = fs.readFileSync(path.join(BOOT_DIR, "build-root.sh"), "utf8");
  const installed = /^user_data=\(([^)]*)\)/m.exec(script)![1]!.split(/\s+/).filter(Boolean);
  const named = new Set<string>();
  for (const stack of STACKS)
    for (const a of fleetArtifacts((await runStack(stack)).resources))
      for (const p of cloudConfig(a.userData).packages ?? []) named.add(p);
  expect([...named].filter((p) => !installed.includes(p))).toEqual([]);
}, 120000);

const { bootTest, boots } = bootSuite("small and dev");

const bootToOutcome = (label: string, ud: string, options: Partial<BootOptions> = {}) =>
  bootWith(boots, label, ud, options);

let small: HostBoot | undefined;

bootTest(
  "small's one fleet boots to CONTINUE: metadata first, the secrets before the lifecycle call, each host file by its digest",
  async () => {
    const { boot, completion } = await bootToOutcome("small/all", await userData("small", "all"));
    small = boot;
    expectReady(boot, completion);
    // The scheduler's host prepared the real database: the app role, Mastodon's schema, the seeds.
    expect(boot.psql("postgres", "SELECT rolname FROM pg_roles WHERE rolname = 'mastodon'")).toBe("mastodon");
    expect(
      boot.psql(boot.inputs.database!.name, "SELECT count(*) FROM oauth_applications WHERE superapp"),
    ).toBe("1");
    await expectMetrics(boot, ["RedisMemoryPercent", "StreamingConnections"]);
    // Puma ran from the release image's tree under systemd's sandbox (src/images/imageRoot.ts): as
    // the image's user, its home and directory, the unit's PORT over the image's 9, the image's own
    // variable unchanged through the environment file, the tree read-only but tmp/, the env file
    // readable.
    expect(journal(boot).filter((l) => l.startsWith("stand-in bundle: probe"))).toEqual([
      "stand-in bundle: probe uid=991 home=/opt/mastodon cwd=/opt/mastodon port=3000 " +
        'image-env=[a \\"b\\" \\\\c $d `e`] root-writable=no tmp-writable=yes env-file-readable=yes',
    ]);
    // The daily retention, run now: tootctl in the same tree and sandbox, as uid 991, straight to
    // PostgreSQL with libpq's CA in place (src/fleet/host/oneOff.ts).
    expect(boot.exec(["systemctl", "start", "mastodon-retention.service"]).status).toBe(0);
    const tootctl = journal(boot).filter((l) => l.startsWith("stand-in bundle: tootctl "));
    expect(tootctl).toEqual([
      expect.stringMatching(
        /^stand-in bundle: tootctl media remove --days 7 --concurrency 5 as uid 991 \[DB_HOST=\S+\.rds\.amazonaws\.com DB_PORT=5432 DB_SSLMODE=verify-full ca=readable\]$/,
      ),
      expect.stringMatching(
        /^stand-in bundle: tootctl preview_cards remove --days 180 --concurrency 5 as uid 991 /,
      ),
    ]);
  },
  BOOT_MS,
);

bootTest(
  "small's host rebooted comes back with every unit active, no second lifecycle call and no Unhealthy",
  async () => {
    if (!small) throw new Error("the first boot of small did not happen");
    const boot = small;
    await boot.halt();
    const before = boot.requests().length;
    await boot.boot();
    const units = readinessUnits(boot);
    const until = Date.now() + READY_MS;
    let inactive = units;
    while (Date.now() < until) {
      inactive = units.filter((u) => boot.exec(["systemctl", "is-active", u]).stdout.trim() !== "active");
      if (inactive.length === 0) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    console.log(`small/all rebooted: ready after ${((Date.now() - boot.startedAt) / 1000).toFixed(1)} s`);
    expect(inactive).toEqual([]);
    // A minute on (the watch's interval): no second lifecycle call, no health mark, nothing failed.
    await new Promise((r) => setTimeout(r, 70000));
    const after = boot.requests().slice(before);
    expect(completions(boot.requests())).toHaveLength(1);
    expect(after.filter((r) => r.action === "SetInstanceHealth")).toEqual([]);
    expect(boot.exec(["systemctl", "--failed", "--plain", "--no-legend"]).stdout.trim()).toBe("");
  },
  BOOT_MS,
);

/**
 * Once a defect: mastodon.target had Wants=multi-user.target (src/fleet/host/units.ts, renderTarget),
 * which gives it an implicit After=multi-user.target; the watch and the drain are After=mastodon.target
 * and WantedBy=multi-user.target (src/fleet/host/readiness.ts, readinessLoopUnit), so multi-user.target
 * was After= them: an ordering cycle. At every boot after the first, systemd deleted their start jobs
 * to break it ("Job mastodon-watch.service/start deleted to break ordering cycle"): a rebooted host
 * ran neither, was never marked Unhealthy and never drained.
 */
bootTest(
  "small's host rebooted runs its watch and its drain again",
  async () => {
    if (!small) throw new Error("the first boot of small did not happen");
    for (const u of ["mastodon-watch.service", "mastodon-drain.service"])
      expect(`${u} ${small.exec(["systemctl", "is-active", u]).stdout.trim()}`).toBe(`${u} active`);
  },
  BOOT_MS,
);

/** The persistent Redis's password on the booted host (its rendered include), and redis-cli with it. */
function persistentRedis(boot: HostBoot, ...args: string[]): string {
  const password = /^requirepass (\S+)$/m.exec(boot.read(onHostRedisPaths("persistent").auth) ?? "")?.[1];
  if (!password) throw new Error("no rendered password include for the persistent Redis");
  const r = boot.exec(["redis-cli", "-p", "6381", "--no-auth-warning", "-a", password, ...args]);
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

/** The on-host persistent Redis's queue the replacement must find (issue 20). */
const MARKER = ["queue:marker", "job-1", "job-2", "job-3"] as const;

/**
 * small's persistent Redis keeps its data on an EBS volume of its own (src/redis/redisVolume.ts):
 * the first boot read it (free), attached it to its own instance and read it again until attached,
 * every call signed and accepted; the reboot found the device and asked EC2 nothing; the Redis's
 * directory is that volume's filesystem, and its AOF is there.
 */
bootTest(
  "small's persistent Redis runs on its own volume: attached by its instance at the first boot only, mounted, its AOF there",
  async () => {
    if (!small) throw new Error("the first boot of small did not happen");
    const boot = small;
    const ec2 = boot.requests().filter((r) => r.service === "ec2");
    expect(ec2.map((r) => [r.action, r.status])).toEqual([
      ["DescribeVolumes", 200],
      ["AttachVolume", 200],
      ["DescribeVolumes", 200],
      ["DescribeVolumes", 200],
    ]);
    expect(ec2[1]).toMatchObject({
      VolumeId: boot.inputs.volumeId,
      InstanceId: boot.instanceId,
      Device: "/dev/sdf",
    });
    const dataDir = onHostRedisPaths("persistent").dataDir;
    const mount = boot.exec(["findmnt", "-n", "-o", "SOURCE,FSTYPE", "--mountpoint", dataDir]).stdout.trim();
    expect(mount).toBe(`${nvmeDevicePath(boot.inputs.volumeId!)} ext4`);
    expect(boot.exec(["ls", dataDir]).stdout.split("\n")).toContain("appendonlydir");
    expect(journal(boot, "-u", REDIS_VOLUME_PATHS.unit).join("\n")).toContain(
      "is blank: making an ext4 filesystem",
    );
    persistentRedis(boot, "RPUSH", ...MARKER);
  },
  BOOT_MS,
);

/**
 * Scale-in: the group moves the instance to Terminating:Wait and IMDS's target lifecycle state says
 * Terminated. The drain quiets Sidekiq (TSTP: it takes no new job), waits for its running job (the
 * stand-in finishes it 6 s after TSTP), stops mastodon.target, then completes the termination hook
 * with CONTINUE, once. On small's host after its reboot: the drain started again at boot.
 */
bootTest(
  "small's host told Terminated quiets Sidekiq, waits for its job, stops mastodon.target and completes mastodon-drain once",
  async () => {
    if (!small) throw new Error("the first boot of small did not happen");
    const boot = small;
    const before = boot.requests().length;
    const toldAt = Date.now() / 1000;
    boot.setLifecycleState("Terminated");
    const drained = await boot.waitForRequest(
      (r) => r.n > before && r.service === "autoscaling" && r.action === "CompleteLifecycleAction",
      READY_MS,
    );
    console.log(
      `small/all drained: ${drained ? `hook completed ${(drained.t - toldAt).toFixed(1)} s after Terminated` : "no lifecycle call"}`,
    );
    expect(drained).toEqual(
      expect.objectContaining({
        LifecycleHookName: "mastodon-drain",
        AutoScalingGroupName: boot.group,
        InstanceId: boot.instanceId,
        LifecycleActionResult: "CONTINUE",
        status: 200,
      }),
    );
    // The drain's own order, as its log and Sidekiq's show it in the host's journal. The container's
    // lines reach the journal through conmon, which may lag the hook's call: read again, bounded.
    const PATTERNS = [
      /is being terminated: quieting Sidekiq \(mastodon\)/,
      /^stand-in sidekiq: TSTP, quiet; 1 job still running$/,
      /^stand-in sidekiq: the last job finished$/,
      /no job running$/,
      /^stand-in sidekiq: TERM with 0 job running, exiting$/,
      /completed lifecycle hook mastodon-drain of /,
    ];
    let steps: number[] = [];
    for (let attempt = 0; attempt < 30; attempt++) {
      const lines = journal(boot);
      steps = PATTERNS.map((pattern) => lines.findIndex((l) => pattern.test(l)));
      if (steps.every((i) => i >= 0)) break;
      await new Promise((r) => setTimeout(r, 2000));
    }
    expect(steps.every((i) => i >= 0)).toBe(true);
    expect([...steps].sort((x, y) => x - y)).toEqual(steps);
    expect(boot.exec(["systemctl", "is-active", "mastodon.target"]).stdout.trim()).toBe("inactive");
    // Once: the drain has done its work and completes nothing more.
    await new Promise((r) => setTimeout(r, 15000));
    const after = boot.requests().slice(before);
    expect(completions(after)).toHaveLength(1);
    expect(after.filter((r) => (r.status ?? 200) >= 400 || r["error"])).toEqual([]);
  },
  BOOT_MS,
);

/**
 * The drained host is replaced (issue 20: small keeps its queues across a host replacement). Its
 * drain stopped Sidekiq, then the persistent Redis, which wrote its AOF out on the way; the next
 * instance boots while EC2 still shows the volume on the old one, waits, attaches it once it is
 * free, keeps its filesystem, and its Redis finds the queue the old one held.
 */
bootTest(
  "small's replacement attaches the drained host's volume once it is free and finds its queue",
  async () => {
    if (!small) throw new Error("the first boot of small did not happen");
    const boot = small;
    // The drain's order: Sidekiq gone, then the persistent Redis's last shutdown, which fsyncs its
    // AOF and saves a final RDB (journal entries in order, each with its unit; earlier boots' too).
    const entries = boot
      .exec(["journalctl", "--no-pager", "-o", "json", "--output-fields=MESSAGE,_SYSTEMD_UNIT"], 120000)
      .stdout.split("\n")
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { MESSAGE?: unknown; _SYSTEMD_UNIT?: string })
      .map((e) => ({ unit: e._SYSTEMD_UNIT ?? "", message: typeof e.MESSAGE === "string" ? e.MESSAGE : "" }));
    const lastWhere = (match: (e: (typeof entries)[number]) => boolean) =>
      entries.reduce((found, e, i) => (match(e) ? i : found), -1);
    const last = (unit: string, pattern: RegExp) =>
      lastWhere((e) => e.unit === unit && pattern.test(e.message));
    const sidekiqGone = lastWhere((e) =>
      /^stand-in sidekiq: TERM with 0 job running, exiting/.test(e.message),
    );
    const persistentUnit = onHostRedisPaths("persistent").unit;
    const fsynced = last(persistentUnit, /Calling fsync\(\) on the AOF file/);
    const saved = last(persistentUnit, /DB saved on disk/);
    const exited = last(persistentUnit, /Redis is now ready to exit/);
    expect(sidekiqGone).toBeGreaterThanOrEqual(0);
    expect(fsynced).toBeGreaterThan(sidekiqGone);
    expect(saved).toBeGreaterThan(sidekiqGone);
    expect(exited).toBeGreaterThan(Math.max(fsynced, saved));
    const old = boot.instanceId;
    const { completion, after } = await nextToOutcome(boot, "small/all replaced");
    expectReady(boot, completion, after);
    const ec2 = boot.requests().filter((r) => r.n > after && r.service === "ec2");
    // Read while the old instance held it, then attached by the new one, once.
    expect(ec2[0]).toMatchObject({ action: "DescribeVolumes", answered: [old, "attached"], status: 200 });
    expect(ec2.filter((r) => r.action === "AttachVolume")).toEqual([
      expect.objectContaining({ InstanceId: boot.instanceId, VolumeId: boot.inputs.volumeId, status: 200 }),
    ]);
    const volumeLog = journal(boot, "-u", REDIS_VOLUME_PATHS.unit).join("\n");
    expect(volumeLog).toContain("waiting until it is free");
    expect(volumeLog).toContain("holds an ext4 filesystem: keeping its data");
    expect(volumeLog).not.toContain("making an ext4 filesystem");
    expect(persistentRedis(boot, "LRANGE", MARKER[0], "0", "-1").split("\n")).toEqual(MARKER.slice(1));
  },
  BOOT_MS,
);

bootTest(
  "dev's one fleet boots to CONTINUE against TLS Redis at the ElastiCache names",
  async () => {
    const { boot, completion } = await bootToOutcome("dev/app", await userData("dev", "app"));
    expectReady(boot, completion);
    expect(boot.inputs.redis.length).toBeGreaterThan(0);
    expect(boot.psql("postgres", "SELECT rolname FROM pg_roles WHERE rolname = 'mastodon'")).toBe("mastodon");
    await expectMetrics(boot, ["StreamingConnections"]);
  },
  BOOT_MS,
);

bootTest(
  "a boot step that fails (a host file missing from the bucket) ends in ABANDON, exactly once",
  async () => {
    const ud = await userData("small", "all");
    const missing = HOST_FILES.find((f) => f.path.endsWith("/mastodon-metrics"))!;
    const { boot, completion } = await bootToOutcome("small/all missing a host file", ud, {
      missingObjects: [missing.key],
    });
    expect(completion).toEqual(
      expect.objectContaining({ LifecycleActionResult: "ABANDON", InstanceId: boot.instanceId, status: 200 }),
    );
    // The fetch failed (404) and the boot stopped there: no secret was read, nothing more completed.
    const requests = boot.requests();
    expect(requests).toContainEqual(
      expect.objectContaining({ service: "s3", key: missing.key, status: 404 }),
    );
    expect(requests.filter((r) => r.service === "ssm" && r.action === "GetParameters")).toEqual([]);
    await new Promise((r) => setTimeout(r, 15000));
    expect(completions(boot.requests())).toHaveLength(1);
    expect(boot.exec(["systemctl", "is-failed", "mastodon-boot.service"]).stdout.trim()).toBe("failed");
  },
  BOOT_MS,
);
