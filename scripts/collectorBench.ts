/**
 * The metrics collector's cost per run against the size of the backlog (part of `npm run bench`):
 * src/monitoring/files/mastodon-metrics.py, as its unit runs it (--dry-run: no AWS call), against a real
 * redis-server holding 10 jobs in one database and 100,000 in another, runs interleaved. Printed:
 * the whole process's time and the Redis pipeline's (the collector's own figure), min, median and
 * max, and the ratio of the large backlog's median to the small one's: the reads are O(1) per
 * queue, so the ratio should stay near 1. It reports and does not judge.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
// The real-program tests' own way to start redis-server (a free port, ready once it answers PONG).
import { freePort, startRedis } from "../test/real/servers";
import { MASTODON_METRICS, programPath } from "../src/host/programs";

const PROGRAM = programPath(MASTODON_METRICS);
const PASSWORD = "BenchPassword0123456789";
const BACKLOGS = [10, 100_000] as const;
const QUEUES = ["default", "ingress", "push", "pull", "mailers", "scheduler", "fasp"];

/** One RESP command, as redis-cli --pipe reads them. */
const resp = (...args: string[]) =>
  `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join("")}`;

/** `jobs` jobs in queue:default of database `db`, oldest first, shaped as Sidekiq writes them. */
function fill(port: number, db: number, jobs: number): void {
  const now = Date.now() / 1000;
  const lines = [resp("SELECT", String(db))];
  for (let n = 0; n < jobs; n++) {
    const job = JSON.stringify({
      class: "Work",
      args: [n],
      jid: `j${n}`,
      queue: "default",
      enqueued_at: now - jobs + n,
    });
    lines.push(resp("LPUSH", "queue:default", job));
  }
  execFileSync("redis-cli", ["-p", String(port), "-a", PASSWORD, "--no-auth-warning", "--pipe"], {
    input: lines.join(""),
    stdio: ["pipe", "ignore", "inherit"],
  });
}

/** One collector run: the process's wall time and the pipeline time it reports, in milliseconds. */
function runOnce(config: string, url: string): Promise<{ process: number; redis: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn("/usr/bin/python3", [PROGRAM, config, "--dry-run"], {
      env: { PATH: "/usr/bin:/bin", SIDEKIQ_REDIS_URL: url },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (code) => {
      const elapsed = performance.now() - started;
      if (code !== 0) return reject(new Error(`collector exited ${code}: ${stderr}`));
      const report = JSON.parse(stdout) as { redis: { milliseconds: number } };
      resolve({ process: elapsed, redis: report.redis.milliseconds });
    });
  });
}

export interface Stats {
  readonly min: number;
  readonly median: number;
  readonly max: number;
}

/** Runs the collector bench; prints its table. `stats` is the bench's own. */
export async function collectorBench(runs: number, stats: (values: number[]) => Stats): Promise<void> {
  if (!fs.existsSync("/usr/bin/redis-server") || !fs.existsSync("/usr/bin/python3")) {
    console.log("collector: skipped (needs redis-server and python3: scripts/ensure-deps.sh --debian)");
    return;
  }
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-bench-collector-"));
  const port = await freePort();
  const redis = await startRedis(
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--requirepass",
      PASSWORD,
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    port,
    PASSWORD,
  );
  try {
    BACKLOGS.forEach((jobs, db) => fill(port, db, jobs));
    const config = path.join(dir, "metrics.json");
    fs.writeFileSync(
      config,
      JSON.stringify({
        stack: "/mastodon/bench",
        region: "us-east-1",
        namespace: "Mastodon",
        fleet: "scheduler",
        queues: QUEUES,
        fleetQueues: { scheduler: ["scheduler"] },
        pgbouncer: null,
        streamingPorts: [],
        redis: [],
      }),
    );
    const url = (db: number) => `redis://:${PASSWORD}@127.0.0.1:${port}/${db}`;
    const times = BACKLOGS.map(() => ({ process: [] as number[], redis: [] as number[] }));
    for (let i = 0; i < runs + 1; i++) {
      // Interleaved, and the first round a warm-up.
      for (const db of i % 2 === 0 ? [0, 1] : [1, 0]) {
        const t = await runOnce(config, url(db));
        if (i > 0) {
          times[db]!.process.push(t.process);
          times[db]!.redis.push(t.redis);
        }
      }
    }
    const ms = (x: number) => `${x.toFixed(1)} ms`;
    console.log(
      `collector (mastodon-metrics --dry-run, ${QUEUES.length} queues): ${runs} runs each, interleaved`,
    );
    for (const [n, jobs] of BACKLOGS.entries()) {
      for (const what of ["process", "redis"] as const) {
        const s = stats(times[n]![what]);
        console.log(
          `  ${`${jobs} jobs, ${what}`.padEnd(22)}  ${ms(s.min).padStart(9)}  ${ms(s.median).padStart(9)}  ${ms(s.max).padStart(9)}`,
        );
      }
    }
    const ratio = (what: "process" | "redis") =>
      stats(times[1]![what]).median / stats(times[0]![what]).median;
    console.log(
      `collector ${BACKLOGS[1]}/${BACKLOGS[0]} jobs: median ratio ${ratio("process").toFixed(2)} (process), ${ratio("redis").toFixed(2)} (Redis pipeline)`,
    );
  } finally {
    await redis.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
