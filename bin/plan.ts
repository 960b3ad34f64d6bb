/**
 * npm run plan -- [--stack <name>] [--out <dir>] [--stacks-dir <dir>] [--verbose] [--help]
 *
 * Renders a stack offline: exit 0 with the operator's summary and everything under out/<stack>/,
 * or exit 1 with every config problem listed and nothing written. --help: usage, exit 0.
 *
 * This entry answers --help and a usage error itself, from Node's own modules: the plan (planRun.ts)
 * loads the program, Pulumi's SDKs and the fake cloud, seconds of loading that asking for the usage
 * should not wait for. It loads planRun.ts only once the arguments ask for a plan.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "util";
import type * as PlanRun from "./planRun";

const ROOT = path.join(__dirname, "..");

/**
 * Where the operator ran npm: npm runs a script in the package's root and says where it was invoked
 * from in INIT_CWD (npm docs, "scripts": "Current Working Directory"). Run without npm, the process's
 * own working directory.
 */
const HERE = process.env["INIT_CWD"] || process.cwd();

/** The stack files in stacks/ (Pulumi.<name>.yaml): the shipped ones and any the operator added. */
const stacksHere = (): string[] =>
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

  --stack <name>       the stack file to render (default dev; in stacks/: ${stacksHere().join(", ")})
  --out <dir>          where to write (default out/<stack> in the package)
  --stacks-dir <dir>   where the stack files are (default the package's stacks/)
  --verbose            also print the resources by component (resources.txt)
  --help               this text

A relative --out or --stacks-dir is taken from the directory you ran npm in, as the paths printed are.`;

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
        "stacks-dir": { type: "string" },
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
  const stacksDir = args["stacks-dir"];
  // Loaded here, not imported above: a top-level import would load the program for --help too.
  // TypeScript refuses import() of a relative path in this CommonJS module under node16 resolution
  // (TS2834), so require() it is, typed by the type-only import above.
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- deferred load, see above
  const { runPlan } = require("./planRun") as typeof PlanRun;
  const refused = await runPlan({
    stack,
    stacksDir: stacksDir === undefined ? path.join(ROOT, "stacks") : path.resolve(HERE, stacksDir),
    outDir: args.out === undefined ? path.join(ROOT, "out", stack) : path.resolve(HERE, args.out),
    verbose: args.verbose,
    cwd: HERE,
  });
  if (refused !== undefined) fail(refused);
}

process.on("unhandledRejection", (e) => fail(`plan failed: ${e instanceof Error ? e.stack : String(e)}`));
void main();
