/**
 * Runs of the program shared by every test file of one jest run. Jest gives each test file its own
 * module registry, so a run one file made is rebuilt by the next: the shipped stacks were run under
 * mocks by some forty files. A run is plain data (resources with their plain inputs, resolved
 * outputs, the fake cloud's answers, warnings) and deterministic, so the first file that needs it
 * writes it to the run's directory (test/globalSetup.ts makes it; test/globalTeardown.ts removes it)
 * and the others read it. Outside jest's global setup (a single file run with its own config) each
 * file runs the program itself, as before.
 */
import * as fs from "fs";
import * as path from "path";
import type { MockRun } from "../src/testing/mocks";

/** The environment variable test/globalSetup.ts sets to the run's directory. */
export const SHARED_RUNS_ENV = "MASTODON_TEST_SHARED_RUNS";

interface StoredRun {
  readonly resources: MockRun["resources"];
  readonly outputs: MockRun["outputs"];
  readonly answered?: [string, Readonly<Record<string, unknown>>][];
  readonly warnings?: readonly string[];
}

function store(run: MockRun): StoredRun {
  return {
    resources: run.resources,
    outputs: run.outputs,
    ...(run.answered ? { answered: [...run.answered] } : {}),
    ...(run.warnings ? { warnings: run.warnings } : {}),
  };
}

function revive(stored: StoredRun): MockRun {
  return {
    resources: stored.resources,
    outputs: stored.outputs,
    ...(stored.answered ? { answered: new Map(stored.answered) } : {}),
    ...(stored.warnings ? { warnings: stored.warnings } : {}),
  };
}

/** The run stored under `key` by any file of this jest run, else `make()`'s, stored for the others. */
export async function sharedRun(key: string, make: () => Promise<MockRun>): Promise<MockRun> {
  const dir = process.env[SHARED_RUNS_ENV];
  if (!dir) return make();
  const file = path.join(dir, `${key.replace(/[^A-Za-z0-9_.-]/g, "_")}.json`);
  if (fs.existsSync(file)) return revive(JSON.parse(fs.readFileSync(file, "utf8")) as StoredRun);
  const run = await make();
  // Written whole, then renamed: a file read by another worker is never half-written.
  const partial = `${file}.${process.pid}`;
  fs.writeFileSync(partial, JSON.stringify(store(run)));
  fs.renameSync(partial, file);
  return run;
}
