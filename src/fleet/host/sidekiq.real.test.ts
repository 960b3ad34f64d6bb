/**
 * A combined fleet's queue arguments in real Sidekiq (Debian's ruby-sidekiq) against a real
 * redis-server: with the rendered weights (Mastodon's config/sidekiq.yml) a scheduler job runs while
 * a default backlog is still queued; with the old unweighted arguments Sidekiq takes the queues in
 * strict order and the scheduler job waits until the whole backlog has drained.
 *
 * Nothing here is timed: the scheduler job records, as it runs, how many default jobs are still
 * queued and how many have run. One thread (-c 1) fetches one job at a time; with weights 8 and 1
 * each fetch picks scheduler first with probability 1/9, so it stays behind all BACKLOG default
 * jobs with probability (8/9)^BACKLOG, below 1e-10.
 */
import { type ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import type Redis from "ioredis";
import * as path from "path";
import { parseStackConfig } from "../../config";
import { renderSidekiqUnits } from "./units";
import { stackConfig } from "../../../test/helpers";
import {
  type RedisServer,
  freePort,
  redisClient,
  requireProgram,
  startRedis,
  stopProcess,
  tempDir,
  waitFor,
} from "../../../test/real/servers";

const SIDEKIQ = "/usr/bin/sidekiq";
const BACKLOG = 200;

const JOBS_RB = `
require "sidekiq"

class SlowDefaultJob
  include Sidekiq::Worker
  sidekiq_options retry: false

  def perform
    sleep 0.01
    Sidekiq.redis { |r| r.incr("test:default_done") }
  end
end

# Records what the default queue looked like when this job got its turn.
class SchedulerJob
  include Sidekiq::Worker
  sidekiq_options retry: false

  def perform
    Sidekiq.redis do |r|
      r.set("test:backlog_when_scheduler_ran", r.llen("queue:default"))
      r.set("test:default_done_when_scheduler_ran", r.get("test:default_done").to_i)
    end
  end
end
`;

const ENQUEUE_RB = `
Sidekiq::Client.push_bulk("class" => SlowDefaultJob, "queue" => "default", "args" => Array.new(${BACKLOG}) { [] })
Sidekiq::Client.push("class" => SchedulerJob, "queue" => "scheduler", "args" => [])
`;

/** The -q arguments of the rendered unit's ExecStart, as systemd would pass them to sidekiq. */
function renderedQueueArgs(content: string): string[] {
  const exec = content.split("\n").find((l) => l.startsWith("ExecStart="))!;
  const argv = exec.slice("ExecStart=".length).split(/\s+/);
  const args = argv.slice(argv.indexOf("sidekiq") + 1);
  const queueArgs: string[] = [];
  for (let i = 0; i < args.length; i++) if (args[i] === "-q") queueArgs.push("-q", args[++i]!);
  return queueArgs;
}

const dev = parseStackConfig(stackConfig("dev")).config.fleets[0]!;
const unit = renderSidekiqUnits(dev, { pooled: false })[0]!;
const weighted = renderedQueueArgs(unit.content);
// The rendering before weights: the same queues, in the same order, each without its weight.
const strict = weighted.map((a) => a.replace(/,\d+$/, ""));

let dir: string;
let redisServer: RedisServer;
let redis: Redis;
const children: ChildProcess[] = [];

beforeAll(async () => {
  requireProgram(SIDEKIQ);
  dir = tempDir("mastodon-sidekiq-");
  fs.writeFileSync(path.join(dir, "jobs.rb"), JOBS_RB);
  const port = await freePort();
  redisServer = await startRedis(
    ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
    port,
  );
  redis = redisClient(port);
  await redis.connect();
  // Right after start redis-server may still answer LOADING.
  await waitFor(async () => (await redis.ping().catch(() => "")) === "PONG", "redis-server PONG");
}, 30000);

afterAll(async () => {
  for (const child of children) await stopProcess(child, "SIGKILL");
  redis?.disconnect();
  await redisServer?.stop();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/**
 * Enqueues the backlog and the scheduler job, runs one single-threaded sidekiq with `queueArgs`
 * until the scheduler job has run, and returns what that job saw.
 */
async function runWith(queueArgs: string[]): Promise<{ backlog: number; defaultDone: number; log: string }> {
  await redis.flushall();
  const env = { PATH: "/usr/bin:/bin", REDIS_URL: `redis://127.0.0.1:${redisServer.port}/0`, HOME: dir };
  execFileSync("ruby", ["-r", path.join(dir, "jobs.rb"), "-e", ENQUEUE_RB], {
    env,
    cwd: dir,
    timeout: 30000,
    stdio: "pipe",
  });
  expect(await redis.llen("queue:default")).toBe(BACKLOG);
  expect(await redis.llen("queue:scheduler")).toBe(1);

  const sidekiq = spawn(SIDEKIQ, ["-r", path.join(dir, "jobs.rb"), "-c", "1", "-t", "5", ...queueArgs], {
    env,
    cwd: dir,
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(sidekiq);
  let log = "";
  sidekiq.stdout?.on("data", (d) => (log += d));
  sidekiq.stderr?.on("data", (d) => (log += d));
  try {
    await waitFor(
      async () => {
        if (sidekiq.exitCode !== null) throw new Error(`sidekiq exited: ${log}`);
        return (await redis.exists("test:backlog_when_scheduler_ran")) === 1;
      },
      "the scheduler job",
      60000,
    );
  } finally {
    // Sidekiq finishes its one running job (-t 5) and exits; SIGKILL if it has not after 15 s.
    const killer = setTimeout(() => sidekiq.kill("SIGKILL"), 15000);
    await stopProcess(sidekiq, "SIGTERM");
    clearTimeout(killer);
  }
  return {
    backlog: Number(await redis.get("test:backlog_when_scheduler_ran")),
    defaultDone: Number(await redis.get("test:default_done_when_scheduler_ran")),
    log,
  };
}

test("the rendered unit weights every queue of the combined fleet; stripped of weights it is the old strict line", () => {
  expect(weighted).toEqual([
    "-q",
    "default,8",
    "-q",
    "ingress,4",
    "-q",
    "push,6",
    "-q",
    "pull,1",
    "-q",
    "mailers,2",
    "-q",
    "scheduler,1",
    "-q",
    "fasp,1",
  ]);
  expect(strict.join(" ")).toBe("-q default -q ingress -q push -q pull -q mailers -q scheduler -q fasp");
});

test(`rendered (weighted) arguments: the scheduler job runs while the default backlog of ${BACKLOG} is still queued`, async () => {
  const { backlog, defaultDone, log } = await runWith(weighted);
  expect({ backlog: backlog > 0, defaultDone: defaultDone < BACKLOG, log: log.includes("ERROR") }).toEqual({
    backlog: true,
    defaultDone: true,
    log: false,
  });
}, 90000);

test("old (unweighted, strict) arguments: the scheduler job waits until every default job has run", async () => {
  const { backlog, defaultDone } = await runWith(strict);
  expect({ backlog, defaultDone }).toEqual({ backlog: 0, defaultDone: BACKLOG });
}, 90000);
