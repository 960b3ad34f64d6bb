/**
 * npm run drill -- --stack <name>
 *
 * The restore drill (docs/drill.md): on the stack's scheduler host, its drill document
 * (src/database/drill.ts) checks the database it restored, read-only, as the RDS master: Mastodon's
 * schema version, the rows of the main tables, and one media object fetched through the media host;
 * then this prints every check (src/database/drillCommand.ts). Exit 0: every check passed; 1: one
 * failed, or the drill could not run (which is said).
 *
 * The operations are real here: Pulumi's Automation API (LocalWorkspace.selectStack on this
 * project's directory, the stack's outputs and aws:region) and the `aws` CLI (Auto Scaling
 * describe-auto-scaling-groups, Systems Manager send-command and get-command-invocation), in the
 * stack's region with the caller's credentials.
 */
import * as path from "path";
import { parseArgs } from "util";
import { LocalWorkspace, type OutputMap } from "@pulumi/pulumi/automation";
import { awsJson, commandInvocation, schedulerInstance } from "./upgradeAws";
import { DrillFailed, type DrillOperations, runDrill } from "../src/database/drillCommand";

const ROOT = path.join(__dirname, "..");
const USAGE = "usage: npm run drill -- --stack <name>";

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const say = (line: string) => process.stdout.write(`${line}\n`);

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

interface DrillTarget {
  readonly region: string;
  readonly document: string;
  readonly schedulerGroup: string;
}

function output(outputs: OutputMap, key: string, stack: string): unknown {
  const value = outputs[key]?.value;
  if (value === undefined || value === "") {
    throw new DrillFailed(
      `stack ${stack} has no output ${key}: run pulumi up once with this version of the package (index.ts exports it)`,
    );
  }
  return value;
}

async function readTarget(stackName: string): Promise<DrillTarget> {
  const stack = await LocalWorkspace.selectStack({ stackName, workDir: ROOT });
  const [outputs, config] = await Promise.all([stack.outputs(), stack.getAllConfig()]);
  const region = config["aws:region"]?.value;
  if (!region)
    throw new DrillFailed(`stack ${stackName} sets no aws:region: pulumi config set aws:region <region>`);
  const fleet = String(output(outputs, "schedulerFleet", stackName));
  const groups = output(outputs, "fleetGroups", stackName) as Record<string, string>;
  const schedulerGroup = groups[fleet];
  if (!schedulerGroup)
    throw new DrillFailed(`output fleetGroups has no group for the scheduler's fleet ${fleet}`);
  return { region, document: String(output(outputs, "drillDocument", stackName)), schedulerGroup };
}

function realOperations(stack: string, target: DrillTarget): DrillOperations {
  return {
    async send() {
      const instance = await schedulerInstance(target);
      const commandId = (await awsJson(target.region, [
        "ssm",
        "send-command",
        "--document-name",
        target.document,
        "--instance-ids",
        instance,
        "--comment",
        `npm run drill: stack ${stack}`.slice(0, 100),
        "--query",
        "Command.CommandId",
      ])) as string;
      return { commandId, instance };
    },
    async invocation(commandId, instance) {
      const found = await commandInvocation(target.region, commandId, instance);
      return (
        found && {
          status: found.Status,
          stdout: found.StandardOutputContent ?? "",
          stderr: found.StandardErrorContent ?? "",
        }
      );
    },
    sleep,
    now: Date.now,
  };
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({ options: { stack: { type: "string" }, help: { type: "boolean" } } }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  if (args.help) {
    say(USAGE);
    return;
  }
  if (!args.stack) fail(`--stack is required\n${USAGE}`);
  try {
    const target = await readTarget(args.stack);
    const { passed } = await runDrill(args.stack, realOperations(args.stack, target), say);
    if (!passed) process.exit(1);
  } catch (e) {
    fail(`drill failed: ${(e as Error).message}`);
  }
}

if (require.main === module) {
  process.on("unhandledRejection", (e) => fail(`drill failed: ${e instanceof Error ? e.stack : String(e)}`));
  void main();
}
