/**
 * One step of a host's boot (pure): a command with the longest it may take, written as systemd
 * reads an ExecStart= line, and what a run of steps may take in all. The boot unit (bootUnits.ts)
 * and every unit that runs a bounded command (logs, the database's lifecycle, the Redis volume)
 * share it.
 */

/** One step of the boot: a command (absolute path first) and the longest it may take. */
export interface BootStep {
  readonly argv: readonly string[];
  readonly boundSeconds: number;
  /** A wait that ends at the latest when the host has been up this long, then boundSeconds. @default none */
  readonly untilUptimeSeconds?: number;
  /**
   * What the step adds to the launch hook's heartbeat timeout, when for part of its bound it records
   * lifecycle heartbeats itself (RecordLifecycleActionHeartbeat restarts the timeout): at most
   * boundSeconds (readiness.ts, lifecycleHeartbeatSeconds). @default boundSeconds
   */
  readonly hookSeconds?: number;
}

/**
 * A command line as systemd reads ExecStart= (systemd.service(5), "Command lines"): `%` is a
 * specifier and `$` a variable, so both are doubled; an argument with spaces is double-quoted.
 * Quotes and backslashes, which systemd would unescape, are refused.
 */
export function execLine(argv: readonly string[]): string {
  if (!argv[0]?.startsWith("/"))
    throw new Error(`ExecStart needs an absolute path, not ${JSON.stringify(argv[0])}`);
  return argv
    .map((arg) => {
      if (arg === "" || /["'\\\n\r;]/.test(arg))
        throw new Error(`ExecStart argument ${JSON.stringify(arg)} cannot be written`);
      const escaped = arg.replace(/%/g, "%%").replace(/\$/g, "$$$$");
      return /\s/.test(arg) ? `"${escaped}"` : escaped;
    })
    .join(" ");
}

/** The boot unit's TimeoutStartSec: every step at its bound. */
/**
 * The steps one after another, each at its bound; a step that waits until an uptime ends no later
 * than that uptime (the boot unit starts after the host does) plus its bound.
 */
export function bootTimeoutSeconds(steps: readonly BootStep[]): number {
  return steps.reduce((sum, s) => Math.max(sum, s.untilUptimeSeconds ?? 0) + s.boundSeconds, 0);
}

/** As bootTimeoutSeconds, each step counting what it adds to the launch hook's heartbeat timeout. */
export function hookTimeoutSeconds(steps: readonly BootStep[]): number {
  return bootTimeoutSeconds(steps.map((s) => ({ ...s, boundSeconds: s.hookSeconds ?? s.boundSeconds })));
}
