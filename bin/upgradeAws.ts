/**
 * The AWS CLI calls npm run upgrade makes (bin/upgrade.ts), in the stack's region with the caller's
 * credentials: the scheduler's one in-service instance, the migrations document run there and waited
 * for, the record of what ran (SSM keeps each command's parameters), and each group's latest
 * instance refresh.
 */
import { execFile } from "child_process";
import type { RefreshStatus } from "../src/upgrade/refreshes";
import type { MigrationRun, Phase } from "../src/upgrade/upgrade";

const MINUTE = 60_000;
/** The migrations document's own limit is 2 h (src/database/migrations.ts); a little more here. */
const MIGRATION_TIMEOUT_MS = 130 * MINUTE;

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const say = (line: string) => process.stdout.write(`${line}\n`);

/** Where the calls go: the stack's region, its migrations document, the scheduler's group. */
export interface AwsTarget {
  readonly region: string;
  readonly document: string;
  readonly schedulerGroup: string;
}

/** `aws <args> --region <region> --output json`, parsed. */
export function awsJson(region: string, args: string[]): Promise<unknown> {
  return new Promise((resolve, reject) => {
    execFile(
      "aws",
      [...args, "--region", region, "--output", "json"],
      { maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`aws ${args.slice(0, 2).join(" ")}: ${(stderr || error.message).trim()}`));
          return;
        }
        try {
          resolve(stdout.trim() ? JSON.parse(stdout) : null);
        } catch (e) {
          reject(e);
        }
      },
    );
  });
}

/** The one in-service instance of the scheduler's group: where the post-deployment migrations run. */
export async function schedulerInstance(w: Pick<AwsTarget, "region" | "schedulerGroup">): Promise<string> {
  const ids = (await awsJson(w.region, [
    "autoscaling",
    "describe-auto-scaling-groups",
    "--auto-scaling-group-names",
    w.schedulerGroup,
    "--query",
    "AutoScalingGroups[0].Instances[?LifecycleState=='InService'].InstanceId",
  ])) as string[] | null;
  if (!ids || ids.length !== 1) {
    throw new Error(
      `the scheduler's group ${w.schedulerGroup} has ${ids?.length ?? 0} in-service instances, not 1`,
    );
  }
  return ids[0] as string;
}

const TERMINAL_COMMAND = new Set(["Success", "Cancelled", "TimedOut", "Failed"]);

/** The document's search phase, beside the migration runs. */
export type DocumentRun =
  MigrationRun | { readonly phase: "search"; readonly version: string; readonly image?: string };

export async function runMigrations(w: AwsTarget, run: DocumentRun): Promise<void> {
  const instance = await schedulerInstance(w);
  const parameters = { phase: [run.phase], version: [run.version], image: [run.image ?? ""] };
  const commandId = (await awsJson(w.region, [
    "ssm",
    "send-command",
    "--document-name",
    w.document,
    "--instance-ids",
    instance,
    "--parameters",
    JSON.stringify(parameters),
    "--comment",
    run.phase === "search"
      ? `npm run upgrade: tootctl search deploy, ${run.version}`
      : `npm run upgrade: ${run.phase}-deployment migrations, ${run.version}`,
    "--query",
    "Command.CommandId",
  ])) as string;
  say(`  SSM command ${commandId} on ${instance}`);
  const deadline = Date.now() + MIGRATION_TIMEOUT_MS;
  for (;;) {
    await sleep(15_000);
    const invocation = await commandInvocation(w.region, commandId, instance);
    if (!invocation) {
      if (Date.now() < deadline) continue;
      throw new Error(`SSM command ${commandId} has no invocation on ${instance} after 130 min`);
    }
    if (TERMINAL_COMMAND.has(invocation.Status)) {
      if (invocation.Status === "Success") return;
      const tail = (invocation.StandardErrorContent || invocation.StandardOutputContent || "")
        .trim()
        .split("\n")
        .slice(-15)
        .join("\n");
      throw new Error(`SSM command ${commandId} ended ${invocation.Status}${tail ? `:\n${tail}` : ""}`);
    }
    if (Date.now() >= deadline)
      throw new Error(`SSM command ${commandId} still ${invocation.Status} after 130 min`);
  }
}

/** An SSM command's invocation on one instance (GetCommandInvocation). */
export interface CommandInvocation {
  readonly Status: string;
  readonly StandardOutputContent?: string;
  readonly StandardErrorContent?: string;
}

/** The invocation, or undefined just after send-command, before SSM has it (InvocationDoesNotExist). */
export async function commandInvocation(
  region: string,
  commandId: string,
  instance: string,
): Promise<CommandInvocation | undefined> {
  try {
    return (await awsJson(region, [
      "ssm",
      "get-command-invocation",
      "--command-id",
      commandId,
      "--instance-id",
      instance,
    ])) as CommandInvocation;
  } catch (e) {
    if (/InvocationDoesNotExist/.test(String(e))) return undefined;
    throw e;
  }
}

export async function migrationsRan(w: AwsTarget, phase: Phase, version: string): Promise<boolean> {
  const runs = (await awsJson(w.region, [
    "ssm",
    "list-commands",
    "--filters",
    `key=DocumentName,value=${w.document}`,
    "key=Status,value=Success",
    "--query",
    "Commands[].Parameters",
  ])) as Record<string, string[]>[] | null;
  return (runs ?? []).some((p) => p["phase"]?.[0] === phase && p["version"]?.[0] === version);
}

export async function describeRefresh(w: AwsTarget, group: string): Promise<RefreshStatus | undefined> {
  const latest = (await awsJson(w.region, [
    "autoscaling",
    "describe-instance-refreshes",
    "--auto-scaling-group-name",
    group,
    "--max-records",
    "1",
    "--query",
    "InstanceRefreshes[0]",
  ])) as { Status: string; StatusReason?: string; PercentageComplete?: number } | null;
  if (!latest) return undefined;
  return {
    status: latest.Status,
    ...(latest.StatusReason && { reason: latest.StatusReason }),
    ...(latest.PercentageComplete !== undefined && { percentComplete: latest.PercentageComplete }),
  };
}
