/**
 * npm run plan -- [--stack <name>] [--out <dir>] [--stacks-dir <dir>]
 *
 * Renders a stack offline: exit 0 with a summary and out/<stack>/{resources,budget}.json, or exit 1
 * with every config problem listed and nothing written.
 */
import * as path from "path";
import { parseArgs } from "util";
import { ConfigError } from "../core/config";
import { NameRefusedError, ProgramError } from "../plan/mocks";
import { planStack } from "../plan/plan";
import { PlanError } from "../plan/stackFile";
import program from "../index";

const ROOT = path.join(__dirname, "..");

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        stack: { type: "string", default: "dev" },
        out: { type: "string" },
        "stacks-dir": { type: "string", default: path.join(ROOT, "stacks") },
      },
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail(`${(e as Error).message}\nusage: npm run plan -- [--stack <name>] [--out <dir>]`);
  }
  const stack = args.stack;
  try {
    const result = await planStack({
      stack,
      stacksDir: args["stacks-dir"],
      outDir: args.out ?? path.join(ROOT, "out", stack),
      program,
    });
    // Measured from process start: what an operator waits for, module loading included.
    process.stdout.write(`${result.summary} in ${(process.uptime() * 1000).toFixed(0)} ms\n`);
  } catch (e) {
    if (
      e instanceof ConfigError ||
      e instanceof PlanError ||
      e instanceof NameRefusedError ||
      e instanceof ProgramError
    )
      fail(e.message);
    throw e;
  }
}

process.on("unhandledRejection", (e) => fail(`plan failed: ${e instanceof Error ? e.stack : String(e)}`));
void main();
