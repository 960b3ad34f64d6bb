/**
 * npm run upgrade -- --stack <name> --version <tag> [--dry-run]
 * npm run upgrade -- --stack <name> --search-deploy
 *
 * --search-deploy: `tootctl search deploy` on the scheduler's in-service host (the migrations
 * document's search phase, with the release the stack runs), waited for until it ends: for search
 * turned on over existing data, or an upgrade whose release notes ask for it (a new database gets
 * its indices at the scheduler's first boot, src/database/database.ts).
 *
 * Moves one stack to a Mastodon release in Mastodon's order (src/upgrade/upgrade.ts): the version
 * set, the scheduler's fleet rolled alone first (its new host runs the pre-deployment migrations on
 * the new version at boot, while the other fleets serve the old one), then `pulumi up` and every
 * fleet's instance refresh, then the post-deployment migrations. Stops at the first failure and says
 * which step failed and what state the stack is in; run it again once the cause is fixed.
 *
 * The operations are real here: Pulumi's Automation API (LocalWorkspace.selectStack on this
 * project's directory, setConfig, up, outputs) and the `aws` CLI (Systems Manager send-command and
 * get-command-invocation, Auto Scaling describe-instance-refreshes), in the stack's `aws:region`
 * with the caller's credentials. Exit 0: done or nothing to do; 1: refused or failed.
 */
import * as path from "path";
import { parseArgs } from "util";
import { LocalWorkspace, type OutputMap, type Stack } from "@pulumi/pulumi/automation";
import { waitForRefreshes } from "../src/upgrade/refreshes";
import { type AwsTarget, describeRefresh, migrationsRan, runMigrations } from "./upgradeAws";
import {
  type ImageSource,
  type Scope,
  type StackState,
  imageSourceOf,
  officialImage,
  UpgradeFailed,
  type UpgradeOperations,
  UpgradeRefused,
  runUpgrade,
} from "../src/upgrade/upgrade";

const ROOT = path.join(__dirname, "..");
const USAGE =
  "usage: npm run upgrade -- --stack <name> --version <tag, e.g. v4.6.5> [--dry-run]\n       npm run upgrade -- --stack <name> --search-deploy";
const MINUTE = 60_000;
const REFRESH_TIMEOUT_MS = 6 * 60 * MINUTE;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const say = (line: string) => process.stdout.write(`${line}\n`);

function fail(message: string): never {
  process.stderr.write(`${message}\n`);
  process.exit(1);
}

interface Wiring extends AwsTarget {
  readonly state: StackState;
  readonly groups: readonly string[];
  readonly schedulerUrns: readonly string[];
}

function outputString(outputs: OutputMap, key: string, stack: string): string {
  const value = outputs[key]?.value;
  if (typeof value !== "string" || value === "") {
    throw new Error(
      `stack ${stack} has no output ${key}: run pulumi up once with this version of the package (index.ts exports it)`,
    );
  }
  return value;
}

/**
 * What `pulumi up` targets to roll the scheduler's fleet alone: its launch template and group, by
 * URN (--target-dependents from the group would not reach its template, and from the template it
 * would reach the other fleets' groups, which wait on the scheduler's). Image source image-builder:
 * also the image build and everything under it, by Pulumi's `**` wildcard on its children's URNs
 * (each is the component's URN up to its name, then `$` and the child's type and name): a build
 * left out would hand the template the old version's AMI, as the state holds it.
 */
export function schedulerTargets(outputs: OutputMap, stack: string, source: ImageSource): string[] {
  const urns = [
    outputString(outputs, "schedulerTemplateUrn", stack),
    outputString(outputs, "schedulerGroupUrn", stack),
  ];
  if (source !== "image-builder") return urns;
  const build = outputString(outputs, "imageBuildUrn", stack);
  // urn:pulumi:<stack>::<project>::<qualified type>::<name>: the qualified type ends at the third "::".
  const parts = build.split("::");
  if (parts.length < 4) throw new Error(`output imageBuildUrn is not a URN: ${build}`);
  return [...urns, build, `${parts.slice(0, 3).join("::")}$**`];
}

async function readWiring(stack: Stack): Promise<Wiring> {
  const [outputs, config] = await Promise.all([stack.outputs(), stack.getAllConfig()]);
  const region = config["aws:region"]?.value;
  if (!region) throw new Error(`stack ${stack.name} sets no aws:region`);
  const imageText = config["mastodon:image"]?.value;
  const image = imageText ? (JSON.parse(imageText) as Record<string, unknown>) : undefined;
  const fleetGroups = outputs["fleetGroups"]?.value as Record<string, string> | undefined;
  if (!fleetGroups || Object.keys(fleetGroups).length === 0) {
    throw new Error(
      `stack ${stack.name} has no output fleetGroups: run pulumi up once with this version of the package (index.ts exports it)`,
    );
  }
  const schedulerFleet = outputString(outputs, "schedulerFleet", stack.name);
  const schedulerGroup = fleetGroups[schedulerFleet];
  if (!schedulerGroup)
    throw new Error(`output fleetGroups has no group for the scheduler's fleet ${schedulerFleet}`);
  const deployed = outputs["mastodonVersion"]?.value;
  const configured = config["mastodon:version"]?.value;
  const source = imageSourceOf(image);
  return {
    state: {
      ...(typeof deployed === "string" && deployed && { deployedVersion: deployed }),
      ...(configured && { configuredVersion: configured }),
      source,
      // Where the stack's hosts pull from, as the stack resolved it (image.registry, or the
      // pull-through cache's path): the post-deployment migrations pull the new release there too.
      imageRegistry: outputString(outputs, "imageRegistry", stack.name),
    },
    region,
    document: outputString(outputs, "migrationsDocument", stack.name),
    schedulerGroup,
    groups: Object.values(fleetGroups),
    schedulerUrns: schedulerTargets(outputs, stack.name, source),
  };
}

function realOperations(stackName: string): UpgradeOperations {
  let stack: Stack | undefined;
  let wiring: Wiring | undefined;
  const wired = () => {
    if (!wiring) throw new Error("the stack was not read");
    return wiring;
  };
  const onOutput = (out: string) => process.stdout.write(out);
  return {
    async readState() {
      stack = await LocalWorkspace.selectStack({ stackName, workDir: ROOT });
      wiring = await readWiring(stack);
      return wiring.state;
    },
    migrationsRan: (phase, version) => migrationsRan(wired(), phase, version),
    migrate: (run) => runMigrations(wired(), run),
    async setVersion(version) {
      await stack!.setConfig("mastodon:version", { value: version });
    },
    async deploy(scope: Scope) {
      const w = wired();
      const result = await stack!.up({
        onOutput,
        ...(scope === "scheduler" && { target: [...w.schedulerUrns] }),
      });
      if (result.summary.result !== "succeeded") throw new Error(`pulumi up ended ${result.summary.result}`);
    },
    waitForRefreshes(scope: Scope) {
      const w = wired();
      return waitForRefreshes(scope === "all" ? w.groups : [w.schedulerGroup], {
        describe: (group) => describeRefresh(w, group),
        sleep,
        now: Date.now,
        pollMs: 30_000,
        timeoutMs: REFRESH_TIMEOUT_MS,
        log: (line) => say(`  ${line}`),
      });
    },
  };
}

async function searchDeploy(stackName: string): Promise<void> {
  const stack = await LocalWorkspace.selectStack({ stackName, workDir: ROOT });
  const w = await readWiring(stack);
  const version = w.state.deployedVersion;
  if (!version) fail(`stack ${stackName} reports no mastodonVersion: run pulumi up first`);
  say(
    `stack ${stackName}: tootctl search deploy on the scheduler's host (${version}); this waits for the import`,
  );
  try {
    await runMigrations(w, {
      phase: "search",
      version,
      ...(w.state.source === "official" && { image: officialImage(version, w.state.imageRegistry) }),
    });
  } catch (e) {
    fail(
      `search deploy failed: ${(e as Error).message}\nRun the same command again: the indices already up to date are left as they are.`,
    );
  }
  say("the search indices are deployed");
}

async function main(): Promise<void> {
  let args;
  try {
    args = parseArgs({
      options: {
        stack: { type: "string" },
        version: { type: "string" },
        "dry-run": { type: "boolean", default: false },
        "search-deploy": { type: "boolean", default: false },
      },
      allowPositionals: false,
    }).values;
  } catch (e) {
    fail(`${(e as Error).message}\n${USAGE}`);
  }
  if (args.stack && args["search-deploy"] && !args.version) return searchDeploy(args.stack);
  if (!args.stack || !args.version) fail(`--stack and --version are both required\n${USAGE}`);
  try {
    await runUpgrade(
      { stack: args.stack, version: args.version, dryRun: args["dry-run"] },
      realOperations(args.stack),
      say,
    );
  } catch (e) {
    if (e instanceof UpgradeRefused) fail(`upgrade refused: ${e.message}`);
    if (e instanceof UpgradeFailed) fail(`upgrade stopped: ${e.message}`);
    throw e;
  }
}

if (require.main === module) {
  process.on("unhandledRejection", (e) =>
    fail(`upgrade failed: ${e instanceof Error ? e.stack : String(e)}`),
  );
  void main();
}
