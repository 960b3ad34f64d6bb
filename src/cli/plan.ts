/**
 * The offline plan: the real program, run under Pulumi's mocks with a stack file's config, no AWS
 * account and no Pulumi CLI. Validates first and writes nothing when the config is invalid.
 */
import * as fs from "fs";
import * as path from "path";
import type { Budget } from "../budget/budget";
import { costEstimate } from "../report/cost";
import { PROGRAM_STACK_NAME, namespaceConfig, parseStackConfig, type ValidatedConfig } from "../config";
import { fleetArtifacts, writeFleetArtifacts } from "./fleetArtifacts";
import { type RecordedResource, runUnderMocks } from "../testing/mocks";
import { parse } from "yaml";
import { escNotes } from "../config/escEnvironments";
import { assumedSnapshotNotes, assumedSnapshots } from "./assumedSnapshot";
import { PlanError } from "../config/planError";
import { readStackFile } from "../config/stackFile";
import { topologyInput, writeTopology } from "./topology";
import { PACKAGE_ROOT } from "../vocabulary/data";
import {
  budgetSection,
  costSection,
  dataTierSection,
  edgeSection,
  fleetsSection,
  resourcesSection,
  warningsSection,
} from "./summary";

/**
 * The Pulumi project's name as Pulumi.yaml gives it: what `pulumi up` hands this repository's program
 * as pulumi.getProject(), which scopes the deployment's names (src/aws/naming/scope.ts). The plan
 * runs under the same name, so it names what a real deployment names.
 */
export function projectName(file: string): string {
  const name = (parse(fs.readFileSync(file, "utf8")) as { name?: unknown } | null)?.name;
  if (typeof name !== "string" || name === "") throw new PlanError(`${file} has no project name`);
  return name;
}

export const PROJECT = projectName(path.join(PACKAGE_ROOT, "Pulumi.yaml"));

export interface PlanOptions {
  readonly stack: string;
  readonly stacksDir: string;
  /** Where to write; default out/<stack>. */
  readonly outDir: string;
  /** The Pulumi program (index.ts's export). */
  readonly program: () => Record<string, unknown>;
  /** Where the summary's paths are relative to: where the operator ran npm (default the process's cwd). */
  readonly relativeTo?: string;
}

export interface PlanResult {
  readonly validated: ValidatedConfig;
  readonly resources: readonly RecordedResource[];
  readonly outputs: Record<string, unknown>;
  readonly files: readonly string[];
  /** What an operator reads: layout, data tier, edge, fleets, budget, cost, warnings. */
  readonly summary: string;
  /** Every resource by component (resources.txt; `--verbose` prints it too). */
  readonly listing: string;
}

/** resources.json: one entry per declared resource, inputs as declared, secrets as "[secret]". */
function resourcesJson(resources: readonly RecordedResource[]) {
  return resources.map(({ type, name, parent, parentType, custom, provider, inputs, id, arn }) => ({
    type,
    name,
    parent,
    parentType,
    custom,
    ...(provider && { provider }),
    ...(id !== undefined && { id }),
    ...(arn !== undefined && { arn }),
    inputs,
  }));
}

function writeJson(file: string, value: unknown): void {
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * What produced a resource's logical name, for the fake cloud's refusals: a fleet's name is its
 * config key; the rest starts from the component name the program gives MastodonStack (index.ts).
 */
export function nameOrigin(validated: ValidatedConfig, stack: string): (resource: string) => string {
  const fleets = [...validated.config.fleets].sort((a, b) => b.name.length - a.name.length);
  return (resource) => {
    const fleet = fleets.find((f) => resource.includes(`-${f.name}-`) || resource.endsWith(`-${f.name}`));
    const component = `the MastodonStack name in index.ts (stack "${stack}")`;
    return fleet ? `mastodon:fleets.${fleet.name} (shorten the fleet name) and ${component}` : component;
  };
}

/** Throws ConfigError (invalid config, nothing written) or PlanError (no such stack). */
export async function planStack(options: PlanOptions): Promise<PlanResult> {
  const stackFile = readStackFile(options.stacksDir, options.stack, PROJECT);
  // The same validation the program runs, done first so a bad config writes nothing.
  const validated = parseStackConfig(namespaceConfig(stackFile.config), options.stack, {
    region: stackFile.config["aws:region"],
    secretPaths: stackFile.secretPaths,
    allKeys: { keys: Object.keys(stackFile.config), project: PROJECT },
    notes: escNotes(stackFile.esc),
  });

  const { config } = validated;
  const run = await runUnderMocks(options.program, {
    project: PROJECT,
    stack: options.stack,
    config: stackFile.config,
    secretKeys: stackFile.secretKeys,
    origin: nameOrigin(validated, options.stack),
    // restoreFrom's snapshot, which no fake account holds (assumedSnapshot.ts).
    cloud: {
      dbSnapshots: assumedSnapshots(config, {
        project: PROJECT,
        stack: options.stack,
        name: PROGRAM_STACK_NAME,
      }),
    },
  });
  const warnings = [...validated.warnings, ...assumedSnapshotNotes(config)];
  const budget = run.outputs["budget"] as Budget;
  const replicaBudget = run.outputs["replicaBudget"] as Budget | undefined;

  fs.mkdirSync(options.outDir, { recursive: true });
  const files: string[] = [
    path.join(options.outDir, "resources.json"),
    path.join(options.outDir, "budget.json"),
  ];
  writeJson(files[0] as string, resourcesJson(run.resources));
  // The listing by component runs to hundreds of lines at production size: a file, not the summary.
  const listing = `${resourcesSection(run.resources).join("\n")}\n`;
  const listingFile = path.join(options.outDir, "resources.txt");
  fs.writeFileSync(listingFile, listing);
  files.push(listingFile);
  writeJson(files[1] as string, { ...budget, ...(replicaBudget && { replica: replicaBudget }) });
  const artifacts = fleetArtifacts(run.resources);
  const fleetFiles = writeFleetArtifacts(options.outDir, artifacts);
  const region = stackFile.config["aws:region"] ?? "us-east-1";
  const cost = costEstimate(config, region);
  files.push(path.join(options.outDir, "cost.json"));
  writeJson(path.join(options.outDir, "cost.json"), cost);
  files.push(
    ...(await writeTopology(options.outDir, topologyInput(config, budget, replicaBudget, run.resources))),
  );

  const shown = (file: string) => path.relative(options.relativeTo ?? process.cwd(), file);
  const summary = [
    `mastodon-aws plan: stack ${options.stack} (${shown(stackFile.file)})`,
    `environment ${config.environment}, domain ${config.domain}, region ${stackFile.config["aws:region"] ?? "(aws:region unset)"}`,
    "",
    `Resources: ${run.resources.length} declared, ${run.resources.filter((r) => r.custom).length} cloud resources ` +
      `(by component in ${shown(listingFile)}; --verbose prints them)`,
    "",
    ...dataTierSection(config),
    "",
    ...edgeSection(config),
    "",
    ...fleetsSection(config),
    "",
    ...budgetSection(budget),
    ...(replicaBudget ? ["", ...budgetSection(replicaBudget)] : []),
    "",
    ...costSection(cost),
    ...(warnings.length ? ["", ...warningsSection(warnings)] : []),
    "",
    `wrote ${files.map(shown).join(", ")} and ${fleetFiles.length} fleet files ` +
      `(user-data, units, .env.production with {{ssm:...}} placeholders) under ${shown(path.join(options.outDir, "fleets"))}/`,
  ].join("\n");
  return {
    validated,
    resources: run.resources,
    outputs: run.outputs,
    files: [...files, ...fleetFiles],
    summary,
    listing,
  };
}
