/**
 * `npm run drill -- --stack <name>` (bin/drill.ts), as pure logic: send the stack's drill document
 * (drill.ts) to the scheduler's one in-service host, wait for it to end, read the program's JSON
 * report from its output and print it readably (docs/drill.md). What touches AWS is a
 * `DrillOperations` the caller passes in (the CLI's `aws` calls, or stand-ins in tests). Nothing
 * here writes anything: the drill only reads the database and fetches one media object.
 */
import { z } from "zod";
import { DRILL_TIMEOUT_SECONDS } from "./drill";

/** One check of the report: its name, whether it passed, what was found, and its figures. */
export interface DrillCheck {
  readonly name: string;
  readonly ok: boolean;
  readonly detail: string;
  readonly [figure: string]: unknown;
}

/** What mastodon-drill.py prints: every check, and whether all passed. */
export interface DrillReport {
  readonly ok: boolean;
  /** host:port/database the checks ran against. */
  readonly database: string;
  readonly checks: readonly DrillCheck[];
}

const reportSchema = z.object({
  ok: z.boolean(),
  database: z.string(),
  checks: z.array(z.looseObject({ name: z.string(), ok: z.boolean(), detail: z.string() })).min(1),
});

/** The report in a command's output, or undefined when there is none (the program never printed it). */
export function parseDrillReport(stdout: string): DrillReport | undefined {
  let value: unknown;
  try {
    value = JSON.parse(stdout);
  } catch {
    return undefined;
  }
  const parsed = reportSchema.safeParse(value);
  if (!parsed.success) return undefined;
  // A report says it passed only when every one of its checks did.
  return { ...parsed.data, ok: parsed.data.ok && parsed.data.checks.every((c) => c.ok) };
}

/** The report as the operator reads it: one line per check, its URL under it, a verdict. */
export function formatDrillReport(report: DrillReport): string[] {
  const width = Math.max(...report.checks.map((c) => c.name.length));
  const lines = [`database ${report.database}`];
  for (const check of report.checks) {
    lines.push(`  ${check.ok ? "PASS" : "FAIL"}  ${check.name.padEnd(width)}  ${check.detail}`);
    if (typeof check["url"] === "string") lines.push(`        ${" ".repeat(width)}  ${check["url"]}`);
  }
  const passed = report.checks.filter((c) => c.ok).length;
  lines.push(
    report.ok
      ? `all ${passed} checks passed`
      : `${passed} of ${report.checks.length} checks passed: the drill FAILED (each FAIL line says what is wrong; fix it and run the drill again)`,
  );
  return lines;
}

/** One run of the document on the host, as GetCommandInvocation reports it. */
export interface DrillInvocation {
  /** Pending, InProgress, Delayed, Success, Cancelled, TimedOut, Failed or Cancelling. */
  readonly status: string;
  readonly stdout: string;
  readonly stderr: string;
}

/** Everything that reaches AWS. Each throws on failure. */
export interface DrillOperations {
  /** Sends the drill document to the scheduler's one in-service host: the command and the host. */
  send(): Promise<{ readonly commandId: string; readonly instance: string }>;
  /** The invocation so far, or undefined while SSM has none yet (just after send-command). */
  invocation(commandId: string, instance: string): Promise<DrillInvocation | undefined>;
  sleep(ms: number): Promise<void>;
  now(): number;
}

/** A drill that could not report: no host, no document, no report in the output, no end in time. */
export class DrillFailed extends Error {
  override readonly name = "DrillFailed";
}

/** GetCommandInvocation's statuses after which nothing changes (AWS Systems Manager API Reference). */
const TERMINAL = new Set(["Success", "Cancelled", "TimedOut", "Failed"]);

export interface DrillWait {
  readonly pollMs: number;
  /** How long to wait for the end: the document's own bound and a margin for delivery. */
  readonly timeoutMs: number;
}

export const DRILL_WAIT: DrillWait = { pollMs: 10_000, timeoutMs: (DRILL_TIMEOUT_SECONDS + 300) * 1000 };

export interface DrillResult {
  readonly report: DrillReport;
  /** Every check passed and the command ended Success. */
  readonly passed: boolean;
}

const tail = (text: string) => text.trim().split("\n").slice(-15).join("\n");

/**
 * Runs the drill on `stack` and waits for its report. Logs the command and the report's lines.
 * Resolves with the report (passed or not); throws DrillFailed when there is no report to read.
 */
export async function runDrill(
  stack: string,
  ops: DrillOperations,
  log: (line: string) => void = () => {},
  wait: DrillWait = DRILL_WAIT,
): Promise<DrillResult> {
  const { commandId, instance } = await ops.send();
  log(`stack ${stack}: restore drill on the scheduler's host ${instance} (SSM command ${commandId})`);
  const deadline = ops.now() + wait.timeoutMs;
  let invocation: DrillInvocation | undefined;
  for (;;) {
    await ops.sleep(wait.pollMs);
    invocation = await ops.invocation(commandId, instance);
    if (invocation && TERMINAL.has(invocation.status)) break;
    if (ops.now() >= deadline) {
      throw new DrillFailed(
        `SSM command ${commandId} is still ${invocation?.status ?? "not delivered"} after ${Math.round(wait.timeoutMs / 60000)} min: aws ssm get-command-invocation --command-id ${commandId} --instance-id ${instance} says where it stands`,
      );
    }
  }
  const report = parseDrillReport(invocation.stdout);
  if (!report) {
    const output = tail(invocation.stderr || invocation.stdout);
    throw new DrillFailed(
      `SSM command ${commandId} on ${instance} ended ${invocation.status} with no report${output ? `:\n${output}` : ""}`,
    );
  }
  for (const line of formatDrillReport(report)) log(line);
  const passed = report.ok && invocation.status === "Success";
  if (report.ok && !passed) log(`but SSM command ${commandId} ended ${invocation.status}`);
  return { report, passed };
}
