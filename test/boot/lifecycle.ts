/**
 * What the Auto Scaling group does to the booted instance, as the stand-ins learn it: the target
 * lifecycle state IMDS answers (a file aws-standin.py reads at each request) and the events its
 * lifecycle actions follow (standin_lifecycle.py): each boot of an instance with the target it
 * booted into, and each change of that target. From them the stand-in makes the launch hook's
 * action pending at a launch into the group or the warm pool, and again at a start out of the pool,
 * the termination hook's at Terminated; CompleteLifecycleAction consumes one, and without one AWS's
 * ValidationError answers ("No active Lifecycle Action found with instance ID i-...").
 */
import * as fs from "fs";
import * as path from "path";
import { DRAIN, LIFECYCLE_HOOK_NAME } from "../../src/fleet/host/readiness";

const stateFile = (work: string) => path.join(work, "lifecycle-state");
const eventsFile = (work: string) => path.join(work, "lifecycle-events.jsonl");

/** aws-standin.py's `lifecycle` config: the group's hooks and where the events are. */
export function lifecycleConfig(work: string): { events: string; launchHook: string; terminateHook: string } {
  fs.writeFileSync(eventsFile(work), "");
  return { events: eventsFile(work), launchHook: LIFECYCLE_HOOK_NAME, terminateHook: DRAIN.hookName };
}

/** The target lifecycle state IMDS answers now. */
export function lifecycleTarget(work: string): string {
  return fs.existsSync(stateFile(work)) ? fs.readFileSync(stateFile(work), "utf8").trim() : "InService";
}

function event(work: string, kind: "boot" | "target", instance: string, target: string): void {
  fs.appendFileSync(eventsFile(work), `${JSON.stringify({ event: kind, instance, target })}\n`);
}

/** The group sets the instance's target lifecycle state (what IMDS answers from now on). */
export function setTarget(work: string, instance: string, target: string): void {
  fs.writeFileSync(stateFile(work), `${target}\n`);
  event(work, "target", instance, target);
}

/** The instance boots (a launch, a start out of the pool, or a reboot) into the current target. */
export function booted(work: string, instance: string): void {
  event(work, "boot", instance, lifecycleTarget(work));
}
