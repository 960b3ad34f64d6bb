/**
 * The whole-host boot, measured (scripts/bench.ts runs it after its other sections; issue 19):
 * small's `all` host from the container's start to its launch lifecycle CONTINUE, against the floor
 * measured in the same run: the same cached root booted with an empty user-data (`#cloud-config`
 * and nothing else) to the end of cloud-init's final stage (its boot-finished file), which every
 * host pays before the package's own boot does anything. Both boot under the same harness
 * (test/boot/harness.ts: a fresh copy, its namespace and stand-ins), in turn (host, floor, floor,
 * host, ...), so that a machine getting slower or faster weighs on both alike. Reported, never
 * judged; skipped with the reason where no host can boot here (not root, no nspawn, ...).
 *
 * Then a warm pool fleet's host (issue 24: production's sidekiq-default, alone against the
 * stand-ins: nothing in its boot reaches the database, which PgBouncer connects to only when asked):
 * a cold launch from the container's start to its CONTINUE, against a warm start, a fresh host
 * launched into the pool (Warmed:Stopped), completed, stopped and started (InService) on the same
 * disk, from that start to its second CONTINUE (test/boot/warm.ts), in turn; the ratio warm/cold
 * (the issue's goal: at most a third). Neither sees EC2's part before the container's start.
 */
import * as fs from "fs";
import * as path from "path";
import { HostBoot, bootSupport, cleanStale } from "../test/boot/harness";
import { READY_MS, type Outcome, bootToOutcome, outcome, userData } from "../test/boot/scenarios";
import { bootIntoPool, startFromPool } from "../test/boot/warm";

interface Stats {
  min: number;
  median: number;
  max: number;
}

const EMPTY_USER_DATA = "#cloud-config\n";
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** Seconds from the container's start to cloud-init's final stage (boot-finished written). */
async function toCloudInitFinal(boot: HostBoot): Promise<number> {
  // The instance's own directory (not /var/lib/cloud/instance, a symlink absolute inside the copy).
  const finished = `/var/lib/cloud/instances/${boot.instanceId}/boot-finished`;
  const until = Date.now() + READY_MS;
  while (Date.now() < until) {
    if (boot.read(finished) !== undefined) break;
    if (!boot.running) throw new Error("the floor's host stopped before cloud-init's final stage");
    await sleep(100);
  }
  const file = path.join(boot.work, "merged", finished);
  if (!fs.existsSync(file)) throw new Error("cloud-init's final stage did not end within 10 minutes");
  return fs.statSync(file).mtimeMs / 1000 - boot.startedAt / 1000;
}

/** One boot of small's host (to CONTINUE) or of the floor (to cloud-init's final stage), torn down after. */
async function once(which: "host" | "floor", hostUserData: string): Promise<number> {
  const boot = await HostBoot.prepare({
    label: `bench ${which}`,
    userData: which === "host" ? hostUserData : EMPTY_USER_DATA,
  });
  try {
    await boot.boot();
    if (which === "floor") return await toCloudInitFinal(boot);
    const o = await outcome(boot, "bench small/all");
    if (o.completion?.["LifecycleActionResult"] !== "CONTINUE" || o.seconds === undefined)
      throw new Error(`small/all did not reach CONTINUE:\n${boot.diagnostics()}`);
    return o.seconds;
  } finally {
    await boot.tearDown();
  }
}

/** The outcome's seconds, or why it is not a CONTINUE the stand-in group accepted. */
function continued(o: Outcome, what: string): number {
  if (
    o.completion?.["LifecycleActionResult"] !== "CONTINUE" ||
    o.completion.status !== 200 ||
    o.seconds === undefined
  )
    throw new Error(`${what}: no accepted CONTINUE:\n${o.boot.diagnostics()}`);
  return o.seconds;
}

/** One cold launch, or one warm start (into the pool, stopped, started), of the warm pool fleet's host. */
async function warmOnce(which: "cold" | "warm", ud: string): Promise<number> {
  const boots: HostBoot[] = [];
  try {
    if (which === "cold") return continued(await bootToOutcome(boots, "bench cold", ud), "the cold launch");
    const into = await bootIntoPool(boots, "bench warm", ud);
    continued(into, "the launch into the pool");
    return continued(await startFromPool(into.boot, "bench warm start"), "the start out of the pool");
  } finally {
    for (const b of boots) await b.tearDown();
  }
}

const WARM = { stack: "production", fleet: "sidekiq-default" } as const;

/** Warm start against cold launch of a warm pool fleet's host, `runs` each, interleaved. */
async function warmBench(runs: number, stats: (values: number[]) => Stats): Promise<void> {
  const ud = await userData(WARM.stack, WARM.fleet);
  const name = `${WARM.stack}/${WARM.fleet}`;
  console.log(
    `boot: ${name} (a warm pool fleet) launched cold to its CONTINUE, and started out of the pool (launched into it, stopped, started) from that start to its CONTINUE; ${runs} runs each, interleaved`,
  );
  const times = { cold: [] as number[], warm: [] as number[] };
  const log = console.log;
  for (let i = 0; i < runs; i++) {
    for (const which of i % 2 === 0 ? (["cold", "warm"] as const) : (["warm", "cold"] as const)) {
      console.log = () => undefined;
      try {
        times[which].push(await warmOnce(which, ud));
      } finally {
        console.log = log;
      }
    }
  }
  const s = (x: number) => `${x.toFixed(1)} s`;
  for (const [label, values] of [
    ["cold launch to CONTINUE", times.cold],
    ["warm start to CONTINUE", times.warm],
  ] as const) {
    const st = stats(values);
    console.log(
      `  ${label.padEnd(24)}  ${s(st.min).padStart(9)}  ${s(st.median).padStart(9)}  ${s(st.max).padStart(9)}`,
    );
  }
  console.log(`  each run: cold ${times.cold.map(s).join(", ")}; warm ${times.warm.map(s).join(", ")}`);
  const c = stats(times.cold);
  const w = stats(times.warm);
  console.log(
    `boot warm/cold ${name}: median ${(w.median / c.median).toFixed(2)}, min ${(w.min / c.min).toFixed(2)} (goal <= 0.33; EC2's instance start or launch and the kernel's boot come before the container's start and are in neither)`,
  );
}

export async function bootBench(runs: number, stats: (values: number[]) => Stats): Promise<void> {
  const unsupported = bootSupport();
  if (unsupported) {
    console.log(`boot: skipped (no whole-host boot on this machine: ${unsupported})`);
    return;
  }
  const removed = cleanStale();
  if (removed.length > 0) console.log(`boot: removed what earlier runs left: ${removed.join(", ")}`);
  const hostUserData = await userData("small", "all");
  console.log(
    `boot: small/all to its lifecycle CONTINUE, and the floor (the same root, an empty #cloud-config) to cloud-init's final stage; ${runs} runs each, interleaved (the first run may build the cached root: minutes)`,
  );
  const times = { host: [] as number[], floor: [] as number[] };
  // The console lines outcome() prints for each boot are noise here.
  const log = console.log;
  for (let i = 0; i < runs; i++) {
    for (const which of i % 2 === 0 ? (["host", "floor"] as const) : (["floor", "host"] as const)) {
      console.log = () => undefined;
      try {
        times[which].push(await once(which, hostUserData));
      } finally {
        console.log = log;
      }
    }
  }
  const s = (x: number) => `${x.toFixed(1)} s`;
  const rows = [
    ["small/all to CONTINUE", stats(times.host)],
    ["floor: cloud-init final", stats(times.floor)],
  ] as const;
  for (const [label, st] of rows)
    console.log(
      `  ${label.padEnd(24)}  ${s(st.min).padStart(9)}  ${s(st.median).padStart(9)}  ${s(st.max).padStart(9)}`,
    );
  console.log(
    `  each run: small/all ${times.host.map(s).join(", ")}; floor ${times.floor.map(s).join(", ")}`,
  );
  const h = stats(times.host);
  const f = stats(times.floor);
  console.log(
    `boot small/all / floor: median ${(h.median / f.median).toFixed(2)}, min ${(h.min / f.min).toFixed(2)} (the package's own boot: median ${s(h.median - f.median)})`,
  );
  await warmBench(runs, stats);
}
