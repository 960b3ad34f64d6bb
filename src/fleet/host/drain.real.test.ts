/**
 * The drain (mastodon-drain, src/fleet/host/files/mastodon-drain.sh) against real Sidekiq
 * (Debian's 6.4) running a job that holds until the test releases it: while the group keeps the
 * instance InService nothing happens; once its target lifecycle state turns Terminated the drain
 * quiets Sidekiq (its process title says "stopping"), waits while the job runs, and only when it
 * has finished stops mastodon.target and completes the termination hook with CONTINUE. A job that
 * outlasts drain_timeout does not hold the termination: the drain stops and completes anyway.
 *
 * Stand-ins: the instance metadata service (an HTTP server answering IMDSv2), systemctl and the AWS
 * CLI (scripts that record their arguments). Nothing is timed: each step waits for what the previous
 * one must have caused.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DRAIN, READINESS_PATHS, renderReadinessConfig } from "./readiness";
import { MASTODON_DRAIN, MASTODON_READY, programPath } from "../../host/programs";
import {
  type RedisServer,
  freePort,
  requireProgram,
  startRedis,
  stopProcess,
  tempDir,
  waitFor,
} from "../../../test/real/servers";
import { type LifecycleState, instanceMetadata } from "../../../test/real/imdsStandIn";

jest.setTimeout(180000);

const DRAIN_PROGRAM = programPath(MASTODON_DRAIN);
const INSTANCE = "i-0123456789abcdef0";
const GROUP = "mastodon-sidekiq-default-group-0123abc";

const JOBS_RB = `
require "sidekiq"
class Hold
  include Sidekiq::Worker
  sidekiq_options retry: false
  def perform(path)
    sleep 0.1 until File.exist?(path)
  end
end
`;

let dir: string;
let redis: RedisServer;
const children: ChildProcess[] = [];

beforeAll(async () => {
  requireProgram("/usr/bin/sidekiq");
  dir = tempDir("mastodon-drain-");
  fs.writeFileSync(path.join(dir, "jobs.rb"), JOBS_RB);
  const port = await freePort();
  redis = await startRedis(
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    port,
  );
});

afterAll(async () => {
  for (const c of children) await stopProcess(c, "SIGKILL");
  await redis?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** The title of each process whose command line starts with "sidekiq" and carries `tag`. */
function sidekiqTitles(tag: string): string[] {
  const titles: string[] = [];
  for (const entry of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const title = fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ").trim();
      if (title.startsWith("sidekiq ") && title.includes(` ${tag} `)) titles.push(title);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return titles;
}

/** A Sidekiq with its own tag (so no other test's Sidekiq is touched) running one held job. */
async function holdingSidekiq(tag: string, release: string): Promise<ChildProcess> {
  const env = { PATH: "/usr/bin:/bin", HOME: dir, REDIS_URL: `redis://127.0.0.1:${redis.port}/0` };
  execFileSync(
    "ruby",
    ["-r", path.join(dir, "jobs.rb"), "-e", `Hold.perform_async(${JSON.stringify(release)})`],
    {
      env,
      cwd: dir,
      stdio: "pipe",
    },
  );
  const sidekiq = spawn(
    "/usr/bin/sidekiq",
    ["-r", path.join(dir, "jobs.rb"), "-g", tag, "-c", "2", "-t", "5"],
    {
      env,
      cwd: dir,
      stdio: "ignore",
    },
  );
  children.push(sidekiq);
  await waitFor(
    () => sidekiqTitles(tag).some((t) => t.includes("[1 of 2 busy]")),
    "Sidekiq running the held job",
  );
  return sidekiq;
}

/** IMDSv2 as a group member sees it; its target lifecycle state is `state.value`. */
const metadata = (state: LifecycleState) => instanceMetadata(state, { id: INSTANCE, group: GROUP });

/** Starts `mastodon-drain` with stand-ins for systemctl and the AWS CLI; returns what they log. */
function startDrain(tag: string, imdsUrl: string, timeoutSeconds: number) {
  const run = tempDir("mastodon-drain-run-");
  const bin = path.join(run, "bin");
  fs.mkdirSync(bin);
  for (const name of ["systemctl", "aws"])
    fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "$*" >>"${path.join(run, name)}.log"\n`, {
      mode: 0o755,
    });
  const config = path.join(run, "readiness.conf");
  fs.writeFileSync(
    config,
    renderReadinessConfig({
      region: "us-east-1",
      checks: { units: ["mastodon.target"], urls: [] },
      stateDir: path.join(run, "state"),
      drain: { tag, timeoutSeconds, intervalSeconds: 0.2 },
    }),
  );
  let stderr = "";
  const child = spawn("/bin/bash", [DRAIN_PROGRAM, config], {
    env: { PATH: `${bin}:/usr/bin:/bin`, MASTODON_IMDS_URL: imdsUrl },
    stdio: ["ignore", "ignore", "pipe"],
  });
  children.push(child);
  child.stderr?.on("data", (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
  const log = (name: string) =>
    fs.existsSync(path.join(run, `${name}.log`))
      ? fs
          .readFileSync(path.join(run, `${name}.log`), "utf8")
          .split("\n")
          .filter(Boolean)
      : [];
  return { exited, log, stderr: () => stderr };
}

test("the readiness config carries the drain's hook, bound, pause and Sidekiq's tag", () => {
  const text = renderReadinessConfig({
    region: "us-east-1",
    checks: { units: ["mastodon.target"], urls: [] },
    drain: { tag: "mastodon" },
  });
  expect(text).toContain(
    `\ndrain_hook ${DRAIN.hookName}\ndrain_timeout ${DRAIN.timeoutSeconds}\ndrain_interval ${DRAIN.intervalSeconds}\ndrain_tag mastodon\n`,
  );
  expect(READINESS_PATHS.drain).toBe("/usr/local/sbin/mastodon-drain");
  // mastodon-ready reads the same file and accepts the drain's keys (it refuses a key neither
  // program knows): its watch, on a boot that did not complete, reads the config and stops there.
  const dir = tempDir("mastodon-drain-conf-");
  try {
    const config = path.join(dir, "readiness.conf");
    fs.writeFileSync(
      config,
      renderReadinessConfig({
        region: "us-east-1",
        checks: { units: ["mastodon.target"], urls: [] },
        stateDir: path.join(dir, "state"),
        drain: { tag: "mastodon" },
      }),
    );
    const r = spawnSync("/bin/bash", [programPath(MASTODON_READY), "--watch", config], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin" },
      timeout: 10000,
    });
    expect([r.status, r.stderr]).toEqual([
      0,
      "mastodon-ready: the boot did not complete with CONTINUE; nothing to watch\n",
    ]);
    fs.appendFileSync(config, "drain_bogus 1\n");
    const bogus = spawnSync("/bin/bash", [programPath(MASTODON_READY), "--watch", config], {
      encoding: "utf8",
    });
    expect([bogus.status, bogus.stderr]).toEqual([2, `mastodon-ready: ${config}: unknown key drain_bogus\n`]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test.each([
  ["no argument", [], /^usage: mastodon-drain CONFIG\n$/],
  [
    "an option (the drain was once mastodon-ready --drain)",
    ["--drain", "c"],
    /^usage: mastodon-drain CONFIG\n$/,
  ],
  [
    "a config without the drain's keys",
    "region us-east-1\nhook h\nunit a.service\n",
    /drain_hook and drain_tag are required/,
  ],
  ["a config without a region", "drain_hook h\ndrain_tag t\n", /region is required/],
  [
    "a drain_timeout that is no number",
    "region r\ndrain_hook h\ndrain_tag t\ndrain_timeout 5m\n",
    /must be numbers/,
  ],
])("mastodon-drain refuses %s (exit 2) before calling anything", (_what, input, message) => {
  const dir = tempDir("mastodon-drain-usage-");
  try {
    let args = input as string[];
    if (typeof input === "string") {
      args = [path.join(dir, "readiness.conf")];
      fs.writeFileSync(args[0]!, input);
    }
    // No metadata service, no aws: a call would fail, not pass.
    const r = spawnSync("/bin/bash", [DRAIN_PROGRAM, ...args], {
      encoding: "utf8",
      env: { PATH: "/usr/bin:/bin", MASTODON_IMDS_URL: "http://127.0.0.1:9" },
      timeout: 10000,
    });
    expect([r.status, r.stderr]).toEqual([2, expect.stringMatching(message)]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("terminated with a job running: quiet, wait for the job, then stop and complete the hook", async () => {
  const tag = `drain${process.pid}a`;
  const release = path.join(dir, "release-a");
  await holdingSidekiq(tag, release);
  const state = { value: "InService", reads: 0 };
  const imds = await metadata(state);
  const drain = startDrain(tag, imds.url, 120);
  try {
    // In service: the drain only reads the state.
    await waitFor(() => state.reads >= 3, "the drain reading the lifecycle state");
    expect(sidekiqTitles(tag).some((t) => t.includes("stopping"))).toBe(false);
    expect([drain.log("systemctl"), drain.log("aws")]).toEqual([[], []]);

    // The group terminates the instance: Sidekiq is quieted, its job still runs, nothing stops yet.
    state.value = "Terminated";
    await waitFor(() => sidekiqTitles(tag).some((t) => t.includes("stopping")), "Sidekiq quieted (TSTP)");
    expect(sidekiqTitles(tag).filter((t) => t.includes("[1 of 2 busy]"))).toHaveLength(1);
    expect([drain.log("systemctl"), drain.log("aws")]).toEqual([[], []]);

    // The job finishes: only now the services stop and the hook is completed, once.
    fs.writeFileSync(release, "");
    expect(await drain.exited).toBe(0);
    expect(sidekiqTitles(tag).every((t) => t.includes("[0 of 2 busy]"))).toBe(true);
    expect(drain.log("systemctl")).toEqual(["stop mastodon.target"]);
    expect(drain.log("aws")).toEqual([
      `autoscaling complete-lifecycle-action --region us-east-1 --lifecycle-hook-name ${DRAIN.hookName} --auto-scaling-group-name ${GROUP} --instance-id ${INSTANCE} --lifecycle-action-result CONTINUE`,
    ]);
    expect(drain.stderr()).toContain("no job running");
    // Its log lines carry its own name.
    expect(drain.stderr()).toMatch(
      new RegExp(`^mastodon-drain: ${INSTANCE} is being terminated: quieting`, "m"),
    );
  } finally {
    imds.server.close();
  }
});

test("a job outlasting drain_timeout does not hold the termination: stop and complete anyway", async () => {
  const tag = `drain${process.pid}b`;
  const release = path.join(dir, "release-b");
  await holdingSidekiq(tag, release);
  const state = { value: "Terminated", reads: 0 };
  const imds = await metadata(state);
  const drain = startDrain(tag, imds.url, 1);
  try {
    expect(await drain.exited).toBe(0);
    // Still running when the drain gave up waiting: Sidekiq's own shutdown pushes it back.
    expect(sidekiqTitles(tag).some((t) => t.includes("[1 of 2 busy]"))).toBe(true);
    expect(drain.stderr()).toMatch(/1 jobs still running after 1s; stopping/);
    expect(drain.log("systemctl")).toEqual(["stop mastodon.target"]);
    expect(drain.log("aws")[0]).toContain("--lifecycle-action-result CONTINUE");
  } finally {
    fs.writeFileSync(release, "");
    imds.server.close();
  }
});
