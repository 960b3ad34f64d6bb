/**
 * Runs the Pulumi program under `pulumi.runtime.setMocks` and records every resource it declares:
 * type token, name, parent and the inputs as declared, with secret values replaced by "[secret]".
 *
 * The mock monitor hands `newResource` neither the parent nor the secretness of inputs, so the
 * recorder reads both from the raw registration request before the mock monitor handles it.
 */
import * as pulumi from "@pulumi/pulumi";
import { type FakeCloudOptions, type NameRefusal, fakeCloud } from "./fakeCloud";
import { SECRET_PLACEHOLDER } from "../config/stackFile";

export interface RecordedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  /** The parent's name, or null for a top-level resource. */
  readonly parent: string | null;
  readonly parentType: string | null;
  readonly custom: boolean;
  /** The explicit provider's name, when the resource was given one (e.g. a us-east-1 provider). */
  readonly provider: string | null;
  readonly inputs: Record<string, unknown>;
  /** What the cloud answered: the id, and the ARN where the type has one (custom resources only). */
  readonly id?: string;
  readonly arn?: string;
}

/**
 * Names (and inputs, by their type's input rules) the provider or AWS would refuse, all of them,
 * each with the resource, the rule's source and what in the program or config produced it.
 */
export class NameRefusedError extends Error {
  override name = "NameRefusedError";
  constructor(
    readonly refusals: readonly NameRefusal[],
    origin: (resource: string) => string,
  ) {
    super(
      [
        `${refusals.length} name(s) or input(s) the AWS provider or AWS would refuse:`,
        ...refusals.map((r) =>
          r.kind === "input"
            ? `  ${r.type} ${r.resource}: ${r.problems.join("; ")}. It comes from ${origin(r.resource)}. Rule: ${r.source}`
            : `  ${r.type} ${r.resource}: ${r.property} "${r.name}": ${r.problems.join("; ")}. It comes from ${origin(r.resource)}. Rule: ${r.source}`,
        ),
      ].join("\n"),
    );
  }
}

/** Types whose id is a credential (an IAM access key's id is its key ID): never recorded in clear. */
const CREDENTIAL_IDS: ReadonlySet<string> = new Set(["aws:iam/accessKey:AccessKey"]);

/** Error diagnostics the program logged (pulumi.log.error): the engine fails an update on them. */
export class ProgramError extends Error {
  override name = "ProgramError";
  constructor(readonly messages: readonly string[]) {
    super(messages.join("\n"));
  }
}

export interface MockRun {
  readonly resources: RecordedResource[];
  readonly outputs: Record<string, unknown>;
  /**
   * By URN: the attributes the fake cloud answered for each custom resource (endpoints, names,
   * ids), what other resources' references resolved to. Kept apart from `resources`, whose
   * inputs never hold a secret or a credential in clear.
   */
  readonly answered?: ReadonlyMap<string, Readonly<Record<string, unknown>>>;
  /** Warning diagnostics the program logged (pulumi.log.warn), in order. */
  readonly warnings?: readonly string[];
}

// Wire-format markers of the Pulumi RPC protocol (sdk/nodejs/runtime/rpc.ts).
const SIG_KEY = "4dabf18193072939515e22adb298388d";
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE_SIG = "5cf8f73096256a8f31e491e813e4eb8e";
const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** Converts wire values to plain JSON: secrets -> "[secret]", resource refs -> their URN. */
export function plainInputs(value: unknown): unknown {
  if (value === UNKNOWN) return "[unknown]";
  if (Array.isArray(value)) return value.map(plainInputs);
  if (typeof value === "object" && value !== null) {
    const obj = value as Record<string, unknown>;
    if (obj[SIG_KEY] === SECRET_SIG) return SECRET_PLACEHOLDER;
    if (obj[SIG_KEY] === RESOURCE_SIG) return obj["urn"];
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(obj)) out[k] = plainInputs(v);
    return out;
  }
  return value;
}

function urnParts(urn: string): { name: string; type: string } {
  const parts = urn.split("::");
  const qualifiedType = parts[2] ?? "";
  return { name: parts.slice(3).join("::"), type: qualifiedType.split("$").pop() ?? "" };
}

function providerName(reference: string): string | null {
  if (!reference) return null;
  const urn = reference.split("::").slice(0, -1).join("::");
  const name = urnParts(urn).name;
  return name.startsWith("default") ? null : name;
}

function urnOf(stack: string, project: string, parentUrn: string, type: string, name: string): string {
  const qualified = parentUrn ? `${parentUrn.split("::")[2]}$${type}` : type;
  return `urn:pulumi:${stack}::${project}::${qualified}::${name}`;
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getCustom(): boolean;
  getProvider(): string;
  getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
}

/**
 * Runs `program` under mocks with the given config and returns what it declared. Call it as often
 * as you like in one process: each run installs a fresh mock monitor.
 */
export async function runUnderMocks(
  program: () => Record<string, unknown>,
  options: {
    project: string;
    stack: string;
    config: Record<string, string>;
    secretKeys?: string[];
    /** What the fake cloud knows beyond its rules (the operator's AMIs, names other deployments hold). */
    cloud?: FakeCloudOptions;
    /** What produced a resource's name, for refusals: e.g. `mastodon:fleets.web` (the plan's nameOrigin). */
    origin?: (resource: string) => string;
  },
): Promise<MockRun> {
  pulumi.runtime.setAllConfig(options.config, options.secretKeys ?? []);
  const region = options.config["aws:region"] ?? "us-east-1";
  // Who deploys: another deployment sharing the account (cloud.accountNames) holds names of its own.
  const cloud = fakeCloud(region, { ...options.cloud, deployment: `${options.project}/${options.stack}` });
  await pulumi.runtime.setMocks(cloud.mocks, options.project, options.stack, false);

  const resources: RecordedResource[] = [];
  const seen = new Set<string>();
  const duplicates: string[] = [];
  const monitor = pulumi.runtime.getMonitor() as unknown as {
    registerResource(req: RegisterRequest, cb: unknown): unknown;
  };
  const register = monitor.registerResource.bind(monitor);
  monitor.registerResource = (req, cb) => {
    const parentUrn = req.getParent();
    const urn = urnOf(options.stack, options.project, parentUrn, req.getType(), req.getName());
    // The engine refuses duplicate URNs; mocks do not, so the recorder does.
    if (seen.has(urn)) duplicates.push(urn);
    seen.add(urn);
    const parent = parentUrn ? urnParts(parentUrn) : undefined;
    resources.push({
      type: req.getType(),
      name: req.getName(),
      urn,
      parent: parent?.name ?? null,
      parentType: parent?.type ?? null,
      custom: req.getCustom(),
      // Provider references are "<urn>::<id>"; default providers are pulumi:providers:aws::default_*.
      provider: providerName(req.getProvider()),
      inputs: plainInputs(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>,
    });
    return register(req, cb);
  };

  // Pulumi's SDK formats a stack trace for every promise it tracks; nothing here reads them, and
  // they cost a tenth of a run. MASTODON_PLAN_STACK_TRACES=1 keeps them for debugging.
  const stackTraceLimit = Error.stackTraceLimit;
  if (!process.env["MASTODON_PLAN_STACK_TRACES"]) Error.stackTraceLimit = 0;
  // Error diagnostics fail an update in the engine; collect them to fail the run the same way.
  const logErrors: string[] = [];
  const logError = pulumi.log.error;
  (pulumi.log as { error: typeof pulumi.log.error }).error = (message: string) => {
    logErrors.push(message);
    return Promise.resolve();
  };
  // Warnings the engine would show as diagnostics: the plan's summary prints the config's own
  // (their one source, src/config), so they are kept here rather than written to stderr twice.
  const logWarnings: string[] = [];
  const logWarn = pulumi.log.warn;
  (pulumi.log as { warn: typeof pulumi.log.warn }).warn = (message: string) => {
    logWarnings.push(message);
    return Promise.resolve();
  };
  let run: MockRun;
  try {
    run = await record(program, resources, duplicates);
  } finally {
    (pulumi.log as { error: typeof pulumi.log.error }).error = logError;
    (pulumi.log as { warn: typeof pulumi.log.warn }).warn = logWarn;
    Error.stackTraceLimit = stackTraceLimit;
  }
  if (logErrors.length) throw new ProgramError(logErrors);
  if (cloud.refusals.length)
    throw new NameRefusedError(cloud.refusals, options.origin ?? ((r) => `the logical name "${r}"`));
  // What the provider's Check adds to the inputs: the autonamed name, as `pulumi preview` shows it.
  const answered = new Map<string, Readonly<Record<string, unknown>>>();
  for (const r of run.resources) {
    const answer = r.custom ? cloud.answers.get(`${r.type}::${r.name}`) : undefined;
    if (answer) answered.set(r.urn, answer.state);
  }
  return {
    ...run,
    warnings: logWarnings,
    answered,
    resources: run.resources.map((r) => {
      const key = `${r.type}::${r.name}`;
      const checked = cloud.names.get(key);
      const answer = r.custom ? cloud.answers.get(key) : undefined;
      const arn = answer?.state["arn"];
      return {
        ...r,
        ...(checked && r.inputs[checked.property] === undefined
          ? { inputs: { ...r.inputs, [checked.property]: checked.value } }
          : {}),
        ...(answer?.id !== undefined && {
          id: CREDENTIAL_IDS.has(r.type) ? SECRET_PLACEHOLDER : answer.id,
        }),
        ...(typeof arn === "string" && { arn }),
      };
    }),
  };
}

async function record(
  program: () => Record<string, unknown>,
  resources: RecordedResource[],
  duplicates: string[],
): Promise<MockRun> {
  const exported = program();
  const outputs: Record<string, unknown> = {};
  await Promise.all(
    Object.entries(exported).map(async ([key, value]) => {
      const output: pulumi.Output<unknown> = pulumi.output(
        value as pulumi.Input<unknown>,
      ) as pulumi.Output<unknown>;
      // The output's own promise (OutputImpl.promise): it rejects when an apply behind the output
      // throws, as the engine would fail the deployment; an apply callback would never run.
      const resolved = await (output as unknown as { promise(): Promise<unknown> }).promise();
      outputs[key] = (await pulumi.isSecret(output)) ? SECRET_PLACEHOLDER : resolved;
    }),
  );
  // Let every pending registration reach the monitor before the caller reads `resources`.
  await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  if (duplicates.length)
    throw new Error(`duplicate resource URNs (the engine would refuse them): ${duplicates.join(", ")}`);
  return { resources, outputs };
}
