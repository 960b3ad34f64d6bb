/**
 * mastodon-pool (src/fleet/host/files/mastodon-pool.sh), a warm pool host's wait between its
 * preparation and its service, run with the real mastodon-ready against stand-ins: the instance
 * metadata service (IMDSv2, its target lifecycle state set by the test as the group would), and
 * systemctl and the AWS CLI (scripts that record their arguments; systemctl says every unit is
 * active). Nothing is timed: each step waits for what the previous one must have caused.
 */
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { programPath } from "../../host/programs";
import { LIFECYCLE_HOOK_NAME, renderReadinessConfig } from "./readiness";
import { PREPARE_UNIT } from "./warmPoolUnits";
import { requireProgram, stopProcess, tempDir, waitFor } from "../../../test/real/servers";
import { type LifecycleState, instanceMetadata } from "../../../test/real/imdsStandIn";

jest.setTimeout(120000);

const INSTANCE = "i-0fedcba9876543210";
const GROUP = "mastodon-sidekiq-default-group-0123abc";
const COMPLETE = `autoscaling complete-lifecycle-action --region us-east-1 --lifecycle-hook-name ${LIFECYCLE_HOOK_NAME} --auto-scaling-group-name ${GROUP} --instance-id ${INSTANCE} --lifecycle-action-result CONTINUE`;

const children: ChildProcess[] = [];
afterAll(async () => {
  for (const c of children) await stopProcess(c, "SIGKILL");
});

/**
 * Starts mastodon-pool in a fresh directory; `completed`: the pool's state already holds a result;
 * `prepared`: what systemctl says of the preparation's unit.
 */
async function startPool(state: LifecycleState, completed?: string, prepared = "active") {
  requireProgram("/usr/bin/curl");
  const imds = await instanceMetadata(state, { id: INSTANCE, group: GROUP });
  const run = tempDir("mastodon-pool-");
  const bin = path.join(run, "bin");
  fs.mkdirSync(bin);
  const log = (name: string) => path.join(run, `${name}.log`);
  fs.writeFileSync(path.join(bin, "aws"), `#!/bin/sh\necho "$*" >>"${log("aws")}"\n`, { mode: 0o755 });
  fs.writeFileSync(
    path.join(bin, "systemctl"),
    `#!/bin/sh\necho "$*" >>"${log("systemctl")}"\n[ "$1" = is-active ] && echo ${prepared}\nexit 0\n`,
    { mode: 0o755 },
  );
  const stateDir = path.join(run, "pool");
  if (completed) {
    fs.mkdirSync(stateDir);
    fs.writeFileSync(path.join(stateDir, "completed"), `${completed}\n`);
  }
  const config = path.join(run, "readiness-pool.conf");
  fs.writeFileSync(
    config,
    renderReadinessConfig({
      region: "us-east-1",
      checks: { units: [PREPARE_UNIT], urls: [] },
      stateDir,
      intervalSeconds: 0.2,
      waitSeconds: 1,
    }),
  );
  let stderr = "";
  const child = spawn("/bin/bash", [programPath("mastodon-pool.sh"), config], {
    env: {
      PATH: `${bin}:/usr/bin:/bin`,
      MASTODON_IMDS_URL: imds.url,
      MASTODON_READY_PROGRAM: programPath("mastodon-ready.sh"),
    },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  child.stderr?.on("data", (d) => (stderr += d));
  let code: number | null | undefined;
  const exited = new Promise<number | null>((resolve) =>
    child.on("exit", (c) => {
      code = c;
      resolve(c);
    }),
  );
  const lines = (name: string) =>
    fs.existsSync(log(name)) ? fs.readFileSync(log(name), "utf8").split("\n").filter(Boolean) : [];
  const stop = () => {
    imds.server.close();
    fs.rmSync(run, { recursive: true, force: true });
  };
  return { exited, running: () => code === undefined, lines, stderr: () => stderr, stateDir, stop };
}

test("launched into the pool: completes the launch action once, waits, and exits when started InService", async () => {
  const state = { value: "Warmed:Stopped", reads: 0 };
  const pool = await startPool(state);
  try {
    await waitFor(() => pool.lines("aws").length > 0, "the completion into the pool");
    // It keeps reading the state, and completes nothing more while the instance is pooled.
    const reads = state.reads;
    await waitFor(() => state.reads >= reads + 3, "three more reads of the lifecycle state");
    expect(pool.running()).toBe(true);
    expect(pool.lines("aws")).toEqual([COMPLETE]);
    expect(fs.readFileSync(path.join(pool.stateDir, "completed"), "utf8")).toBe("CONTINUE\n");
    // Only the preparation's unit was checked: nothing serves yet.
    expect(pool.lines("systemctl")).toEqual([`is-active ${PREPARE_UNIT}`]);

    // The group starts it out of the pool: the program ends, and the unit starts the boot.
    state.value = "InService";
    expect(await pool.exited).toBe(0);
    expect(pool.lines("aws")).toEqual([COMPLETE]);
    // Each program's lines carry its own name (the log of mastodon-lifecycle.sh they share).
    expect(pool.stderr()).toContain("mastodon-pool: target lifecycle state: InService");
    expect(pool.stderr()).toMatch(/^mastodon-ready: completed lifecycle hook /m);
  } finally {
    pool.stop();
  }
});

test("launched straight into the group: exits at once, completing nothing (the boot will)", async () => {
  const pool = await startPool({ value: "InService", reads: 0 });
  try {
    expect(await pool.exited).toBe(0);
    expect([pool.lines("aws"), pool.lines("systemctl")]).toEqual([[], []]);
  } finally {
    pool.stop();
  }
});

test("restarted in a Running pool after its completion: no second completion", async () => {
  const state = { value: "Warmed:Running", reads: 0 };
  const pool = await startPool(state, "CONTINUE");
  try {
    await waitFor(() => state.reads >= 3, "three reads of the lifecycle state");
    expect(pool.running()).toBe(true);
    state.value = "InService";
    expect(await pool.exited).toBe(0);
    expect(pool.lines("aws")).toEqual([]);
  } finally {
    pool.stop();
  }
});

test("terminated out of the pool, or no answer: it never serves, it waits", async () => {
  const state = { value: "Terminated", reads: 0 };
  const pool = await startPool(state);
  try {
    await waitFor(() => state.reads >= 3, "three reads of the lifecycle state");
    state.value = "";
    const reads = state.reads;
    await waitFor(() => state.reads >= reads + 2, "two reads with no state");
    expect(pool.running()).toBe(true);
    expect([pool.lines("aws"), pool.lines("systemctl")]).toEqual([[], []]);
  } finally {
    pool.stop();
  }
});

test("a preparation that does not pass: ABANDON once, and the host never serves, even told InService", async () => {
  const state = { value: "Warmed:Stopped", reads: 0 };
  const pool = await startPool(state, undefined, "failed");
  try {
    await waitFor(() => pool.lines("aws").length > 0, "the completion into the pool");
    state.value = "InService";
    const reads = state.reads;
    await waitFor(() => state.reads >= reads + 3, "three reads of InService");
    // Still waiting for the group to terminate it: no exit 0 (the unit would start the boot), no
    // failure (its OnFailure= would send a second completion, which AWS refuses).
    expect(pool.running()).toBe(true);
    expect(pool.lines("aws")).toEqual([COMPLETE.replace(/CONTINUE$/, "ABANDON")]);
    expect(pool.stderr()).toContain(`not ready after 1s: ${PREPARE_UNIT} is failed`);
  } finally {
    pool.stop();
  }
});
