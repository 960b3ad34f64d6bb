/** Shared test helpers: stack files as the program sees them, and a small valid config to mutate. */
import { type SpawnSyncReturns, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { gunzipSync } from "zlib";
import { ConfigError, type Problem, type StackConfigInput, parseStackConfig } from "../src/config";
import { DEFAULTS } from "../src/vocabulary/defaults";
import { adminPasswordParameterName } from "../src/database/databaseRole";
import type * as pulumi from "@pulumi/pulumi";
import type * as Mocks from "../src/testing/mocks";
import type { MockRun, RecordedResource } from "../src/testing/mocks";
import type program from "../index";
import { readStackFile } from "../src/config/stackFile";
import { fleetArtifacts } from "../src/cli/fleetArtifacts";
import type { MastodonStackArgs } from "../src/stack/mastodonStack";
import { sharedRun } from "./sharedRuns";
import type { Plain } from "../src/config/args";

export const ROOT = path.join(__dirname, "..");
/** The Pulumi project, read from Pulumi.yaml as `pulumi up` reads it: the shipped stacks run under it. */
export const PROJECT = (parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string })
  .name;
export const STACKS = ["dev", "small", "staging", "production"] as const;

/** The `mastodon:` namespace of a shipped stack file, keys without the prefix. */
export function stackConfig(stack: string): Record<string, unknown> {
  const doc = parse(fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.config))
    if (k.startsWith("mastodon:")) out[k.slice("mastodon:".length)] = v;
  return out;
}

/** A minimal valid staging-like config; tests clone and break one thing at a time. */
export function baseConfig(): StackConfigInput {
  // Written as MastodonStack's args: returning it as the schema's input also checks, at compile
  // time, that every value the args interface allows is one the schema's input type allows.
  return baseArgs();
}

/** baseConfig as MastodonStack's args (the interface other Pulumi languages see). */
export function baseArgs(): Plain<MastodonStackArgs> {
  return {
    environment: "staging",
    domain: "test.example",
    dns: { zoneId: "Z0123456789TEST", zoneName: "test.example" },
    version: "v4.6.5",
    database: { instanceClass: "db.t4g.medium" },
    fleets: {
      web: { instanceType: "c7g.large", minSize: 1, maxSize: 2, web: {} },
      streaming: { instanceType: "c7g.medium", maxSize: 2, streaming: {} },
      workers: {
        instanceType: "c7g.large",
        maxSize: 2,
        sidekiq: {
          queues: ["default", "ingress", "push", "pull", "mailers", "fasp"],
          processes: 2,
          threads: 10,
        },
      },
      scheduler: { instanceType: "c7g.medium", maxSize: 1, sidekiq: { queues: ["scheduler"], threads: 5 } },
    },
  };
}

/** A deep copy with `mutate` applied: tests never share state. */
export function withConfig(mutate: (c: any) => void): Record<string, unknown> {
  const c = structuredClone(baseConfig()) as any;
  mutate(c);
  return c;
}

const runs = new Map<string, Promise<MockRun>>();

/**
 * Runs the real program under mocks on a shipped stack, optionally with some `mastodon:` keys
 * replaced. Runs are deterministic, so one test file reuses a run it already made.
 */
/**
 * The fake cloud and the program, loaded when a helper first runs them: a test file of pure logic
 * that uses only the config helpers does not load Pulumi's SDK (most of a test file's start-up).
 * import() of a relative path is refused in this CommonJS project (TS2834, as bin/plan.ts says), so
 * require() it is, typed by the type-only imports.
 */
function programUnderMocks(): { runUnderMocks: typeof Mocks.runUnderMocks; program: typeof program } {
  /* eslint-disable @typescript-eslint/no-require-imports -- deferred load, see above */
  const { runUnderMocks } = require("../src/testing/mocks") as typeof Mocks;
  const theProgram = require("../index") as typeof program;
  /* eslint-enable @typescript-eslint/no-require-imports */
  return { runUnderMocks, program: theProgram };
}

export function runStack(stack: string, override: Record<string, unknown> = {}): Promise<MockRun> {
  const key = `${stack}:${JSON.stringify(override)}`;
  // A shipped stack as it is: shared with the other test files of this jest run (sharedRuns.ts).
  const made = () =>
    Object.keys(override).length === 0
      ? sharedRun(`stack-${stack}`, () => runStackOnce(stack, override))
      : runStackOnce(stack, override);
  if (!runs.has(key)) runs.set(key, made());
  return runs.get(key) as Promise<MockRun>;
}

async function runStackOnce(stack: string, override: Record<string, unknown>): Promise<MockRun> {
  const file = readStackFile(path.join(ROOT, "stacks"), stack);
  const config = { ...file.config };
  for (const [k, v] of Object.entries(override))
    config[`mastodon:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
  // An operator sets the SMTP password with --secret, which makes the whole mastodon:mail secret.
  const mailSecret = (override["mail"] as { smtp?: { password?: string } } | undefined)?.smtp?.password;
  const secretKeys = [...file.secretKeys, ...(mailSecret ? ["mastodon:mail"] : [])];
  const { runUnderMocks, program } = programUnderMocks();
  return runUnderMocks(program, { project: PROJECT, stack, config, secretKeys });
}

/**
 * A fresh stacks directory holding the shipped stack files and `extra` (file name -> text). stacks/
 * also holds whatever stacks the user adds (`pulumi stack init blue` puts Pulumi.blue.yaml there, as
 * Pulumi.yaml's stackConfigDir says), so a test that lists a stacks directory lists this one.
 */
export function shippedStacksDir(extra: Readonly<Record<string, string>> = {}): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-stacks-"));
  for (const stack of STACKS) {
    const file = `Pulumi.${stack}.yaml`;
    fs.copyFileSync(path.join(ROOT, "stacks", file), path.join(dir, file));
  }
  for (const [name, text] of Object.entries(extra)) fs.writeFileSync(path.join(dir, name), text);
  return dir;
}

/** The fixture stacks (not shipped): they turn on what the shipped stacks leave off. */
export const FIXTURES = path.join(ROOT, "test", "fixtures", "stacks");

/** Runs the real program under mocks on a fixture stack of test/fixtures/stacks, as the plan would. */
export async function runFixtureStack(stack: string): Promise<MockRun> {
  const file = readStackFile(FIXTURES, stack);
  const { runUnderMocks, program } = programUnderMocks();
  return runUnderMocks(program, {
    project: PROJECT,
    stack,
    config: file.config,
    secretKeys: file.secretKeys,
  });
}

/** A public access block that closes every way in (Amazon S3 User Guide, "Blocking public access"). */
export const ALL_PUBLIC_ACCESS_BLOCKED = {
  blockPublicAcls: true,
  blockPublicPolicy: true,
  ignorePublicAcls: true,
  restrictPublicBuckets: true,
} as const;

export function find(run: MockRun, type: string, name?: string): RecordedResource {
  const found = run.resources.filter((r) => r.type === type && (name === undefined || r.name === name));
  if (found.length !== 1) throw new Error(`expected one ${type} ${name ?? ""}, found ${found.length}`);
  return found[0] as RecordedResource;
}

export function all(run: MockRun, type: string): RecordedResource[] {
  return run.resources.filter((r) => r.type === type);
}

/** Resolves an Output in a test (mocks resolve everything when preview is off). */
export function resolve<T>(output: pulumi.Output<T>): Promise<T> {
  return new Promise((r) => output.apply((v) => r(v)));
}

/** The id the fake cloud gave a resource (what another resource's reference to it resolves to). */
export function idOf(run: MockRun, type: string, name: string): string {
  const id = find(run, type, name).id;
  if (id === undefined) throw new Error(`${type} ${name} has no id`);
  return id;
}

/** The ARN the fake cloud gave a resource. */
export function arnOf(run: MockRun, type: string, name: string): string {
  const arn = find(run, type, name).arn;
  if (arn === undefined) throw new Error(`${type} ${name} has no ARN`);
  return arn;
}

/** The name the provider settled on (explicit or autonamed), under the type's name property. */
export function nameOf(run: MockRun, type: string, name: string, property = "name"): string {
  const value = find(run, type, name).inputs[property];
  if (typeof value !== "string") throw new Error(`${type} ${name} has no ${property}`);
  return value;
}

/** What the fake cloud answered for a resource (computed attributes such as an endpoint address). */
export function stateOf(run: MockRun, type: string, name: string): Record<string, any> {
  const state = run.answered?.get(find(run, type, name).urn);
  if (!state) throw new Error(`${type} ${name} has no answered state`);
  return state;
}

/** The production stack's app-role setup, as PostgresDatabase derives it (the budget's fleet connections). */
export function productionRoleSetup() {
  return stackRoleSetup("production");
}

/** A shipped stack's app-role setup, as PostgresDatabase derives it (the budget's fleet connections). */
export function stackRoleSetup(stack: string) {
  const { budget } = parseStackConfig(stackConfig(stack));
  return {
    masterUser: DEFAULTS.mastodon.masterUsername,
    appUser: DEFAULTS.mastodon.username,
    databaseName: DEFAULTS.mastodon.databaseName,
    connectionLimit: budget.roleConnectionLimit,
    // The parameter prefix MastodonStack gives the stack: /mastodon/<project>/<stack>/<component name>.
    adminPasswordParameter: adminPasswordParameterName(`/mastodon/${PROJECT}/${stack}/mastodon`),
    appPasswordParameter: `/mastodon/${PROJECT}/${stack}/mastodon/db-password`,
  };
}

/**
 * Every problem parseStackConfig finds in `raw`: the warnings of a config it accepts, or every
 * problem (errors and warnings) of one it refuses. Any other exception is thrown on.
 */
export function configProblems(
  raw: Record<string, unknown>,
  options?: Parameters<typeof parseStackConfig>[2],
): readonly Problem[] {
  try {
    return parseStackConfig(raw, "test", options).warnings;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

/** The errors parseStackConfig refuses `raw` with (none when it accepts it). */
export function configErrors(
  raw: Record<string, unknown>,
  options?: Parameters<typeof parseStackConfig>[2],
): Problem[] {
  return configProblems(raw, options).filter((p) => p.severity === "error");
}

/** Problems as key and message only, the two a refusal is read by. */
export function keysAndMessages(problems: readonly Problem[]): { key: string; message: string }[] {
  return problems.map(({ key, message }) => ({ key, message }));
}

/** A launch template's user-data as the instance reads it: base64, then gunzip. */
export function decodeUserData(launchTemplate: RecordedResource): string {
  return gunzipSync(Buffer.from(String(launchTemplate.inputs["userData"]), "base64")).toString("utf8");
}

/** The decoded user-data of a fleet's launch template (`mastodon-<fleet>-template`). */
export function userDataOf(run: MockRun, fleet: string): string {
  return decodeUserData(find(run, "aws:ec2/launchTemplate:LaunchTemplate", `mastodon-${fleet}-template`));
}

/** The parts of a cloud-config document the tests read. */
export interface CloudConfig {
  write_files: { path: string; content: string; permissions: string }[];
  runcmd: string[][];
  packages?: string[];
}

/** A `#cloud-config` document (plain text, as a host's user-data decodes to), parsed. */
export function cloudConfig(userData: string): CloudConfig {
  return parse(userData) as CloudConfig;
}

/** The env template a fleet's hosts fill at boot, as KEY -> value (placeholders unfilled). */
export function fleetEnv(run: MockRun, fleet: string): Record<string, string> {
  const artifact = fleetArtifacts(run.resources).find((a) => a.fleet === fleet);
  if (!artifact) throw new Error(`no fleet ${fleet}`);
  const template = Object.entries(artifact.files).find(([p]) => p.endsWith("/env.production.template"))?.[1];
  if (!template) throw new Error(`no env template for ${fleet}`);
  return Object.fromEntries(
    template
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

/**
 * `npm run plan` in a child process, as package.json runs it (inline source maps, no
 * source-map-support on every stack capture), with `env` over this process's environment. How long
 * the plan takes is measured by `npm run bench` (scripts/bench.ts), not asserted by the tests.
 */
export function runPlan(args: string[], env: NodeJS.ProcessEnv = {}): SpawnSyncReturns<string> {
  return spawnSync(
    process.execPath,
    ["-r", "@swc-node/register", path.join(ROOT, "bin", "plan.ts"), ...args],
    {
      cwd: ROOT,
      encoding: "utf8",
      env: { ...process.env, SWC_NODE_SOURCE_MAP_MODE: "inline", ...env },
    },
  );
}

/** ExecStart= lines of a unit, split as systemd splits them (double-quoted words, no escapes: execLine writes none). */
export function execStarts(unit: string): string[][] {
  return unit
    .split("\n")
    .filter((l) => l.startsWith("ExecStart="))
    .map((l) =>
      [...l.slice("ExecStart=".length).matchAll(/"([^"]*)"|(\S+)/g)].map((m) =>
        (m[1] ?? m[2]!).replace(/%%/g, "%").replace(/\$\$/g, "$"),
      ),
    );
}

/** Declares resources under the fake cloud, in a minimal project and stack in us-east-1 (a component or resource alone). */
export function declareUnderMocks(declareResources: () => void): Promise<MockRun> {
  const { runUnderMocks } = programUnderMocks();
  return runUnderMocks(
    () => {
      declareResources();
      return {};
    },
    { project: "p", stack: "s", config: { "aws:region": "us-east-1" }, origin: (r) => `origin of ${r}` },
  );
}
