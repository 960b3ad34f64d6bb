/**
 * A warm pool fleet's host through its pool (issue 24; src/fleet/host/warmPoolUnits.ts), as the
 * group moves it (Amazon EC2 Auto Scaling User Guide, "Use lifecycle hooks with a warm pool in Auto
 * Scaling group"): launched into the pool (target Warmed:Stopped), it prepares and completes the
 * launch hook in Warmed:Pending:Wait; the group stops it (`halt`); a scale-out starts it (target
 * InService, a boot of the same disk), and it completes the hook again in Pending:Wait. Used by
 * test/real/wholeHostWarm.real.test.ts and scripts/bootBench.ts.
 *
 * Boot-to-ready is measured from the container's start (`HostBoot.startedAt`) to the launch
 * lifecycle call, as for a cold host. EC2's own part is not in it: a cold launch's RunInstances to
 * a running instance and its kernel's boot, a warm start's StartInstances to a running instance and
 * the same kernel boot, and the group's own steps before (choosing the instance) and after (InService
 * once the action is completed).
 */
import type { BootOptions, HostBoot } from "./harness";
import { type Outcome, bootToOutcome, outcome } from "./scenarios";

/** The pool state production's warm pools keep (DEFAULTS.warmPool.state). */
export const POOL_TARGET = "Warmed:Stopped";

/** A fresh host of a warm pool fleet launched into the pool; its lifecycle call (the one into the pool). */
export const bootIntoPool = (
  boots: HostBoot[],
  label: string,
  ud: string,
  options: Partial<BootOptions> = {},
): Promise<Outcome> => bootToOutcome(boots, label, ud, options, POOL_TARGET);

/**
 * The pooled host stopped by the group and started out of the pool by a scale-out: halted, its
 * target InService, booted again on the same disk; its lifecycle call (the one out of the pool).
 * `after` of the outcome is where this boot's requests begin.
 */
export async function startFromPool(boot: HostBoot, label: string): Promise<Outcome> {
  await boot.halt();
  boot.setLifecycleState("InService");
  const after = boot.requests().length;
  await boot.boot();
  return outcome(boot, label, after);
}

/** A cold launch's and a warm start's boot-to-ready, and what the harness cannot see of either. */
export function warmVersusCold(cold: number, warm: number): string {
  return (
    `warm start ${warm.toFixed(1)} s, cold launch ${cold.toFixed(1)} s: warm/cold ${(warm / cold).toFixed(2)} (goal <= 0.33); ` +
    "not seen here: EC2 starting the stopped instance or launching a new one, and the kernel's boot, before the container's start"
  );
}
