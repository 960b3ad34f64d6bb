/**
 * npm run bench -- [--stack production] [--runs 7] [--warmup 1] [--max-ratio <x>] [--boot-runs 1]
 *
 * How long `npm run plan` takes, as a whole process from start to exit, against the floor: a process
 * that only loads @pulumi/pulumi, @pulumi/aws and @pulumi/random as the program does, started the
 * same way. Both commands come from the "plan" script in package.json (its environment, node and
 * node flags), so they cannot drift from what users run. The two run in turn (plan, floor, floor,
 * plan, ...) so that a machine getting slower or faster weighs on both alike; printed: min, median
 * and max of each, and the ratio plan/floor of the medians and of the minimums.
 *
 * It reports and does not judge: exit 0 whatever the times. Only with --max-ratio does it exit 1,
 * when the median ratio is above that. Exit 2 when a command fails or the arguments are unusable.
 * Absolute times depend on the machine and its load; the ratio is the figure to compare.
 *
 * Then the metrics collector's cost per run at a small and a large Sidekiq backlog
 * (scripts/collectorBench.ts), with the ratio of the two.
 *
 * Then the whole-host boot (scripts/bootBench.ts): small's host booted to its lifecycle CONTINUE
 * against the same root booted with an empty user-data to cloud-init's final stage, --boot-runs
 * each (0 leaves it out), with the ratio; then a warm pool fleet's host (production's
 * sidekiq-default) started out of its pool against the same host launched cold, each to its
 * lifecycle CONTINUE, --boot-runs each, with the ratio warm/cold (issue 24's goal: at most a third).
 * Skipped, with the reason, where no host can boot here.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "util";
import { bootBench } from "./bootBench";
import { collectorBench } from "./collectorBench";

const ROOT = path.join(__dirname, "..");

interface Command {
  label: string;
  env: Record<string, string>;
  argv: string[];
}

function fail(message: string): never {
  process.stderr.write(`bench: ${message}\n`);
  process.exit(2);
}

/** Node flags that take the next word as their value. */
const FLAGS_WITH_VALUE = new Set(["-r", "--require", "--import", "--loader", "--experimental-loader", "-C"]);

/** The "plan" script of package.json, split into its environment, node flags and script. */
function planScript(): { env: Record<string, string>; nodeFlags: string[]; script: string } {
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as {
    scripts: Record<string, string>;
  };
  const words = (pkg.scripts["plan"] ?? "").trim().split(/\s+/);
  const env: Record<string, string> = {};
  while (words.length > 0 && /^[A-Za-z_][A-Za-z0-9_]*=/.test(words[0]!)) {
    const [name, ...value] = words.shift()!.split("=");
    env[name!] = value.join("=");
  }
  if (words.shift() !== "node")
    fail(`package.json's "plan" script does not run node: ${pkg.scripts["plan"]}`);
  const nodeFlags: string[] = [];
  while (words.length > 0 && words[0]!.startsWith("-")) {
    const flag = words.shift()!;
    nodeFlags.push(flag);
    if (FLAGS_WITH_VALUE.has(flag) && words.length > 0) nodeFlags.push(words.shift()!);
  }
  const script = words.shift();
  if (script === undefined || words.length > 0)
    fail(
      `cannot read package.json's "plan" script as [VAR=value ...] node [flags] <script>: ${pkg.scripts["plan"]}`,
    );
  return { env, nodeFlags, script };
}

/**
 * The floor's program, written under out/ (ignored by git) so that it resolves the packages from
 * node_modules and is compiled by the same register hook as bin/plan.ts. The imports are the
 * program's own (`import * as`), and used, so that the compiler keeps them.
 */
const FLOOR = `// Written by scripts/bench.ts: the floor, what every plan pays before it does anything.
import * as pulumi from "@pulumi/pulumi";
import * as aws from "@pulumi/aws";
import * as random from "@pulumi/random";

export const loaded = [pulumi, aws, random].length;
`;

/** Runs a command to its exit; resolves with its wall time in milliseconds. */
function timeRun(command: Command): Promise<number> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command.argv;
    const started = performance.now();
    const child = spawn(file!, args, {
      cwd: ROOT,
      env: { ...process.env, ...command.env },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("exit", (code, signal) => {
      const ms = performance.now() - started;
      if (code === 0) resolve(ms);
      else
        reject(new Error(`${command.label} exited ${signal ?? code}: ${command.argv.join(" ")}\n${stderr}`));
    });
  });
}

function stats(values: number[]): { min: number; median: number; max: number } {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
  return { min: sorted[0]!, median, max: sorted[sorted.length - 1]! };
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(3)} s`;

function positiveInteger(value: string, name: string, min: number): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min || n > 100) fail(`--${name} must be an integer from ${min} to 100`);
  return n;
}

async function main(): Promise<void> {
  let options;
  try {
    options = parseArgs({
      options: {
        stack: { type: "string", default: "production" },
        runs: { type: "string", default: "7" },
        warmup: { type: "string", default: "1" },
        "max-ratio": { type: "string" },
        "boot-runs": { type: "string", default: "1" },
      },
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail(
      `${(e as Error).message}\nusage: npm run bench -- [--stack <name>] [--runs N] [--warmup N] [--max-ratio X] [--boot-runs N]`,
    );
  }
  const runs = positiveInteger(options.runs, "runs", 1);
  const warmup = positiveInteger(options.warmup, "warmup", 0);
  const bootRuns = positiveInteger(options["boot-runs"], "boot-runs", 0);
  const maxRatio = options["max-ratio"] === undefined ? undefined : Number(options["max-ratio"]);
  if (maxRatio !== undefined && !(maxRatio > 0)) fail("--max-ratio must be a positive number");

  const { env, nodeFlags, script } = planScript();
  const benchDir = path.join(ROOT, "out", "bench");
  fs.mkdirSync(benchDir, { recursive: true });
  const floorFile = path.join(benchDir, "floor.ts");
  fs.writeFileSync(floorFile, FLOOR);
  const outDir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-bench-"));

  const plan: Command = {
    label: `plan (${options.stack})`,
    env,
    argv: [process.execPath, ...nodeFlags, script, "--stack", options.stack, "--out", outDir],
  };
  const floor: Command = {
    label: "floor (3 packages)",
    env,
    argv: [process.execPath, ...nodeFlags, path.relative(ROOT, floorFile)],
  };
  const envWords = Object.entries(env).map(([k, v]) => `${k}=${v}`);
  const load = os.loadavg()[0]!.toFixed(2);
  console.log(
    `bench: ${[...envWords, "node", ...nodeFlags].join(" ")}; ${runs} runs each after ${warmup} warm-up, interleaved; ${os.cpus().length} CPUs, load ${load}`,
  );
  console.log(`  plan:  ${plan.argv.slice(1 + nodeFlags.length).join(" ")}`);
  console.log(`  floor: ${floor.argv.slice(1 + nodeFlags.length).join(" ")}`);

  const times = { plan: [] as number[], floor: [] as number[] };
  let failure: Error | undefined;
  try {
    for (let i = 0; i < warmup + runs; i++) {
      // plan, floor, floor, plan, ...: neither always goes first.
      const order = i % 2 === 0 ? (["plan", "floor"] as const) : (["floor", "plan"] as const);
      for (const which of order) {
        const ms = await timeRun(which === "plan" ? plan : floor);
        if (i >= warmup) times[which].push(ms);
      }
    }
  } catch (e) {
    failure = e as Error;
  }
  fs.rmSync(outDir, { recursive: true, force: true });
  if (failure) fail(failure.message);

  const p = stats(times.plan);
  const f = stats(times.floor);
  const width = Math.max(plan.label.length, floor.label.length);
  console.log(`  ${"".padEnd(width)}  ${"min".padStart(9)}  ${"median".padStart(9)}  ${"max".padStart(9)}`);
  for (const [label, s] of [
    [plan.label, p],
    [floor.label, f],
  ] as const)
    console.log(
      `  ${label.padEnd(width)}  ${seconds(s.min).padStart(9)}  ${seconds(s.median).padStart(9)}  ${seconds(s.max).padStart(9)}`,
    );
  const ratio = p.median / f.median;
  console.log(
    `plan/floor: median ${ratio.toFixed(2)}, min ${(p.min / f.min).toFixed(2)} (the plan's own work: median ${seconds(p.median - f.median)})`,
  );
  if (maxRatio !== undefined && ratio > maxRatio) {
    console.log(`bench: median ratio ${ratio.toFixed(2)} is above --max-ratio ${maxRatio}`);
    process.exitCode = 1;
  }
  try {
    await collectorBench(runs, stats);
    if (bootRuns > 0) await bootBench(bootRuns, stats);
  } catch (e) {
    fail((e as Error).message);
  }
}

void main();
