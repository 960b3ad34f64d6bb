/**
 * Waiting for Auto Scaling instance refreshes, over an injected `describe` (the CLI asks
 * `aws autoscaling describe-instance-refreshes`; tests pass stand-ins). AWS's Auto Scaling API
 * reference (DescribeInstanceRefreshes) lists the statuses: Pending, InProgress, Successful, Failed,
 * Cancelling, Cancelled, RollbackInProgress, RollbackFailed, RollbackSuccessful and Baking.
 * `pulumi up` starts a refresh when a group's launch template version changes and returns without
 * waiting for it; only the latest refresh of a group tells where the group stands.
 */

export interface RefreshStatus {
  readonly status: string;
  readonly reason?: string;
  readonly percentComplete?: number;
}

const SUCCEEDED = new Set(["Successful"]);
const ENDED_BADLY = new Set(["Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"]);

/** done: ended well (or the group never had a refresh); failed: ended otherwise; else still going. */
export function refreshVerdict(latest: RefreshStatus | undefined): "done" | "failed" | "running" {
  if (latest === undefined || SUCCEEDED.has(latest.status)) return "done";
  if (ENDED_BADLY.has(latest.status)) return "failed";
  return "running";
}

export interface WaitOptions {
  readonly describe: (group: string) => Promise<RefreshStatus | undefined>;
  readonly sleep: (ms: number) => Promise<void>;
  readonly now: () => number;
  readonly pollMs: number;
  readonly timeoutMs: number;
  readonly log?: (line: string) => void;
}

/**
 * Polls every group until each one's latest refresh has ended. Throws, naming the groups, when a
 * refresh ended in anything but success (after every other group has ended: a half-rolled fleet
 * is not left mid-refresh by the command's exit) or when time runs out.
 */
export async function waitForRefreshes(groups: readonly string[], opts: WaitOptions): Promise<void> {
  const deadline = opts.now() + opts.timeoutMs;
  const pending = new Set(groups);
  const failures: string[] = [];
  const shown = new Map<string, string>();
  for (;;) {
    for (const group of [...pending]) {
      const latest = await opts.describe(group);
      const verdict = refreshVerdict(latest);
      const line = latest
        ? `${group}: ${latest.status}${latest.percentComplete !== undefined ? ` ${latest.percentComplete}%` : ""}`
        : `${group}: no instance refresh`;
      if (shown.get(group) !== line) {
        opts.log?.(line);
        shown.set(group, line);
      }
      if (verdict === "running") continue;
      pending.delete(group);
      if (verdict === "failed") {
        failures.push(`${group} ${latest?.status}${latest?.reason ? ` (${latest.reason})` : ""}`);
      }
    }
    if (pending.size === 0) break;
    if (opts.now() >= deadline) {
      const minutes = Math.round(opts.timeoutMs / 60000);
      throw new Error(
        `after ${minutes} min these groups are still refreshing: ${[...pending].join(", ")}${failures.length ? `; and these ended badly: ${failures.join("; ")}` : ""}`,
      );
    }
    await opts.sleep(opts.pollMs);
  }
  if (failures.length) throw new Error(`instance refresh did not succeed: ${failures.join("; ")}`);
}
