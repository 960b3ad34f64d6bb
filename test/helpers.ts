/** Shared test helpers: stack files as the program sees them, and a small valid config to mutate. */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { ConfigError, type Problem, type StackConfigInput, parseStackConfig } from "../src/config";
import { DEFAULTS } from "../src/vocabulary/defaults";
import { adminPasswordParameterName } from "../src/database/databaseRole";
import * as pulumi from "@pulumi/pulumi";
import { type MockRun, type RecordedResource, runUnderMocks } from "../src/testing/mocks";
import { readStackFile } from "../src/config/stackFile";
import program from "../index";
import type { MastodonStackArgs } from "../src/stack/mastodonStack";

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
export function baseArgs(): MastodonStackArgs {
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
export function runStack(stack: string, override: Record<string, unknown> = {}): Promise<MockRun> {
  const key = `${stack}:${JSON.stringify(override)}`;
  if (!runs.has(key)) runs.set(key, runStackOnce(stack, override));
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
  return runUnderMocks(program, { project: PROJECT, stack, config, secretKeys });
}

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
  const stack = "production";
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

/** The errors parseStackConfig refuses `raw` with (none when it accepts it). */
export function configErrors(raw: Record<string, unknown>): Problem[] {
  try {
    parseStackConfig(raw);
    return [];
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.filter((p) => p.severity === "error");
    throw e;
  }
}
