/**
 * A warm pool fleet's host booted whole (issue 24; the harness: test/boot/harness.ts; the boot:
 * src/fleet/host/warmPoolUnits.ts): production's Sidekiq host of the default queue, whose fleet
 * keeps a Stopped warm pool, after the scheduler's host prepared the database (as
 * wholeHostProduction.real.test.ts boots them). The stand-in group holds a lifecycle action pending
 * only where AWS does (test/boot/standin_lifecycle.py): on the way into the pool
 * (Warmed:Pending:Wait), out of it (Pending:Wait), at a launch straight into the group; a
 * completion without one is refused, as AWS refuses it.
 *
 * (a) launched into the pool: prepared (host files, images pulled), one CONTINUE, no secret read, no
 *     Mastodon unit enabled or started, no database connection;
 * (b) stopped, then started out of the pool: a second CONTINUE, the secrets read after the start,
 *     ready as any host, the preparation not run again, the watch and the drain running;
 * (c) rebooted after serving: serves again, no lifecycle call (mastodon-pool's ConditionPathExists);
 * (d) the same fleet launched straight into service (the pool empty): one CONTINUE, ready.
 *
 * Boot-to-ready of (d) and of (b)'s start is measured and printed, never asserted. Skipped with the
 * reason printed where no host can boot here.
 */
import { type HostBoot, type Recorded } from "../boot/harness";
import { LIFECYCLE_HOOK_NAME, READINESS_PATHS } from "../../src/fleet/host/readiness";
import { POOL_UNIT, PREPARE_UNIT } from "../../src/fleet/host/warmPoolUnits";
import {
  BOOT_MS,
  READY_MS,
  type Outcome,
  bootToOutcome,
  completions,
  expectReady,
  journal,
  nextToOutcome,
  readinessUnits,
  userData,
  bootSuite,
} from "../boot/scenarios";
import { throughPgBouncer } from "../boot/pgbouncer";
import { POOL_TARGET, startFromPool, warmVersusCold } from "../boot/warm";

const { bootTest, boots } = bootSuite("warm pool");

const fleets = async () => ({
  scheduler: await userData("production", "sidekiq-scheduler"),
  sidekiq: await userData("production", "sidekiq-default"),
});

const since = (boot: HostBoot, after: number) => boot.requests().filter((r) => r.n > after);
const secretReads = (requests: readonly Recorded[]) =>
  requests.filter((r) => r.service === "ssm" && r.action === "GetParameters");
const state = (boot: HostBoot, unit: string, property = "ActiveState") =>
  boot.exec(["systemctl", "show", "-P", property, unit]).stdout.trim();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The units the host enables at its boot (mastodon-boot's `systemctl enable` line). */
const enabledAtBoot = (boot: HostBoot) =>
  (
    /^ExecStart=\/usr\/bin\/systemctl enable (mastodon-pgbouncer.*)$/m.exec(
      boot.inputs.units["mastodon-boot.service"] ?? "",
    )?.[1] ?? ""
  ).split(" ");

let host: HostBoot | undefined;
/** Where the pooled host's requests begin (its first boot), and its two lifecycle calls. */
let pooled: { after: number; into?: Outcome; out?: Outcome } | undefined;
let warmSeconds: number | undefined;

bootTest(
  "a warm pool host launched into the pool prepares, completes the hook once, reads no secret and starts nothing",
  async () => {
    const f = await fleets();
    const scheduler = await bootToOutcome(boots, "production/sidekiq-scheduler", f.scheduler, {
      serves: [f.sidekiq],
    });
    expectReady(scheduler.boot, scheduler.completion);
    host = scheduler.boot;
    const into = await nextToOutcome(
      host,
      "production/sidekiq-default into the pool",
      f.sidekiq,
      POOL_TARGET,
    );
    pooled = { after: into.after, into };
    const boot = host;
    expect(into.completion).toEqual(
      expect.objectContaining({
        LifecycleHookName: LIFECYCLE_HOOK_NAME,
        AutoScalingGroupName: boot.group,
        InstanceId: boot.instanceId,
        LifecycleActionResult: "CONTINUE",
        wait: "Warmed:Pending:Wait",
        status: 200,
      }),
    );
    // The pool program goes on reading the target; it completes nothing more.
    await sleep(15000);
    const requests = since(boot, into.after);
    expect(completions(requests)).toHaveLength(1);
    expect(requests.filter((r) => r["error"] || (r.status ?? 200) >= 400)).toEqual([]);
    expect(secretReads(requests)).toEqual([]);
    expect(boot.read("/home/mastodon/live/.env.production")).toBeUndefined();
    // Prepared: the images pulled and laid out, the preparation done, the pool waiting.
    expect(`${PREPARE_UNIT} ${state(boot, PREPARE_UNIT)}`).toBe(`${PREPARE_UNIT} active`);
    expect(state(boot, "mastodon-images.service")).toBe("active");
    const images = boot.exec(["podman", "images", "--format", "{{.Repository}}:{{.Tag}}"]).stdout;
    for (const ref of boot.inputs.images.rails) expect(images).toContain(ref);
    expect(state(boot, POOL_UNIT)).toBe("activating");
    expect(journal(boot, "-u", POOL_UNIT)).toContain(`mastodon-pool: target lifecycle state: ${POOL_TARGET}`);
    // Nothing of Mastodon enabled or started, no database connection.
    expect(state(boot, "mastodon-boot.service")).toBe("inactive");
    expect(state(boot, "mastodon.target")).toBe("inactive");
    for (const unit of enabledAtBoot(boot)) {
      expect(`${unit} ${boot.exec(["systemctl", "is-enabled", unit]).stdout.trim()}`).toBe(
        `${unit} disabled`,
      );
      expect(`${unit} ${state(boot, unit)}`).toBe(`${unit} inactive`);
    }
    expect(boot.psql("postgres", "SELECT count(*) FROM pg_stat_activity WHERE client_addr IS NOT NULL")).toBe(
      "0",
    );
  },
  BOOT_MS,
);

bootTest(
  "the pooled host started out of the pool completes the hook again, reads its secrets then, and is ready without preparing again",
  async () => {
    if (!host || !pooled?.into) throw new Error("the host did not enter the pool");
    const boot = host;
    const out = await startFromPool(boot, "production/sidekiq-default out of the pool");
    pooled.out = out;
    warmSeconds = out.seconds;
    expect(out.completion).toEqual(expect.objectContaining({ wait: "Pending:Wait", status: 200 }));
    expectReady(boot, out.completion, out.after, pooled.after);
    // Two actions over the instance's life, each completed once.
    expect(
      completions(since(boot, pooled.after)).map((r) => [r["wait"], r["LifecycleActionResult"]]),
    ).toEqual([
      ["Warmed:Pending:Wait", "CONTINUE"],
      ["Pending:Wait", "CONTINUE"],
    ]);
    // Nothing refused over the instance's life: no ABANDON either while the group stopped it.
    expect(since(boot, pooled.after).filter((r) => r["error"] || (r.status ?? 200) >= 400)).toEqual([]);
    // The secrets after the start, none before it.
    const before = boot.requests().filter((r) => r.n > pooled!.after && r.n <= out.after);
    expect(secretReads(before)).toEqual([]);
    expect(secretReads(since(boot, out.after)).length).toBeGreaterThan(0);
    // The preparation is not run again: no host file, no CA bundle, no agent package fetched; the unit not started.
    expect(
      since(boot, out.after).filter((r) => r.service === "s3" || r.service === "rds-truststore"),
    ).toEqual([]);
    expect(state(boot, PREPARE_UNIT)).toBe("inactive");
    expect(state(boot, PREPARE_UNIT, "ActiveEnterTimestampMonotonic")).toBe("0");
    expect(journal(boot, "-u", POOL_UNIT)).toContain("mastodon-pool: target lifecycle state: InService");
    for (const u of ["mastodon-watch.service", "mastodon-drain.service"])
      expect(`${u} ${state(boot, u)}`).toBe(`${u} active`);
    // PgBouncer serves the database the scheduler's host prepared, as the app's role.
    expect(throughPgBouncer(boot, "SELECT 1")).toEqual({ status: 0, out: "1" });
  },
  BOOT_MS,
);

bootTest(
  "the host rebooted after serving serves again without a lifecycle call, and a completion then is refused as AWS refuses it",
  async () => {
    if (!host || !pooled?.out?.completion) throw new Error("the host was not started out of the pool");
    const boot = host;
    await boot.halt();
    const before = boot.requests().length;
    await boot.boot();
    const units = readinessUnits(boot);
    const until = Date.now() + READY_MS;
    let inactive = units;
    while (Date.now() < until && inactive.length > 0) {
      await sleep(2000);
      inactive = units.filter((u) => state(boot, u) !== "active");
    }
    console.log(
      `production/sidekiq-default rebooted: ready after ${((Date.now() - boot.startedAt) / 1000).toFixed(1)} s`,
    );
    expect(inactive).toEqual([]);
    // Long enough for the pool program's read and a boot's readiness, had either run.
    await sleep(30000);
    expect(since(boot, before).filter((r) => r.service === "autoscaling")).toEqual([]);
    expect(state(boot, POOL_UNIT, "ConditionResult")).toBe("no");
    expect(state(boot, "mastodon-boot.service")).toBe("inactive");
    expect(boot.read(`${READINESS_PATHS.state}/completed`)?.trim()).toBe("CONTINUE");
    for (const u of ["mastodon-watch.service", "mastodon-drain.service"])
      expect(`${u} ${state(boot, u)}`).toBe(`${u} active`);
    // No action pending: AWS's answer to a completion, through the host's own CLI and credentials.
    const r = boot.exec([
      "aws",
      "autoscaling",
      "complete-lifecycle-action",
      "--region",
      boot.inputs.region,
      "--lifecycle-hook-name",
      LIFECYCLE_HOOK_NAME,
      "--auto-scaling-group-name",
      boot.group,
      "--instance-id",
      boot.instanceId,
      "--lifecycle-action-result",
      "CONTINUE",
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(
      `An error occurred (ValidationError) when calling the CompleteLifecycleAction operation: No active Lifecycle Action found with instance ID ${boot.instanceId}`,
    );
  },
  BOOT_MS,
);

bootTest(
  "the same fleet launched straight into service (the pool empty) completes the hook once and is ready",
  async () => {
    if (!host) throw new Error("the scheduler's host did not boot");
    const boot = host;
    const cold = await nextToOutcome(
      boot,
      "production/sidekiq-default launched cold",
      (await fleets()).sidekiq,
    );
    expect(cold.completion).toEqual(expect.objectContaining({ wait: "Pending:Wait", status: 200 }));
    expectReady(boot, cold.completion, cold.after);
    const pool = journal(boot, "-u", POOL_UNIT);
    expect(pool).toContain("mastodon-pool: target lifecycle state: InService");
    expect(pool.filter((l) => l.includes("launched into the warm pool"))).toEqual([]);
    for (const u of ["mastodon-watch.service", "mastodon-drain.service"])
      expect(`${u} ${state(boot, u)}`).toBe(`${u} active`);
    if (cold.seconds !== undefined && warmSeconds !== undefined)
      console.log(`production/sidekiq-default boot-to-ready: ${warmVersusCold(cold.seconds, warmSeconds)}`);
  },
  BOOT_MS,
);
