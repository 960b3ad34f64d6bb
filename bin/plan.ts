/**
 * npm run plan -- [--stack <name>] [--out <dir>] [--stacks-dir <dir>] [--verbose] [--help]
 *
 * Renders a stack offline: exit 0 with the operator's summary and everything under out/<stack>/,
 * or exit 1 with every config problem listed and nothing written. --help: usage, exit 0.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import { ConfigError } from "../src/config";
import { NameRefusedError, ProgramError } from "../src/testing/mocks";
import { planStack } from "../src/cli/plan";
import { PlanError } from "../src/config/planError";
import program from "../index";

const ROOT = path.join(__dirname, "..");

/** The stack files shipped in stacks/ (Pulumi.<name>.yaml). */
const shipped = (): string[] =>
  fs
    .readdirSync(path.join(ROOT, "stacks"))
    .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
    .filter((name): name is string => name !== undefined);

const usage = () => `usage: npm run plan -- [--stack <name>] [--out <dir>] [--stacks-dir <dir>] [--verbose]

Renders a stack offline: the real Pulumi program under mocks, with stacks/Pulumi.<name>.yaml, no AWS
account and no Pulumi CLI. Prints what an operator reads (data tier, edge, fleets, memory per host,
the Postgres connection budget, the monthly cost, warnings) and writes under the output directory
resources.json, resources.txt (every resource by component), budget.json, cost.json, the topology and
each fleet's user-data, units and .env.production. Invalid config: every problem listed, nothing
written, exit 1.

  --stack <name>       the stack file to render (default dev; shipped: ${shipped().join(", ")})
  --out <dir>          where to write (default out/<stack>)
  --stacks-dir <dir>   where the stack files are (default stacks/)
  --verbose            also print the resources by component (resources.txt)
  --help               this text`;

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
        verbose: { type: "boolean", default: false },
        help: { type: "boolean", short: "h", default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n${usage()}`);
  }
  if (args.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const stack = args.stack;
  try {
    const result = await planStack({
      stack,
      stacksDir: args["stacks-dir"],
      outDir: args.out ?? path.join(ROOT, "out", stack),
      program,
    });
    if (args.verbose) process.stdout.write(`${result.listing}\n`);
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
