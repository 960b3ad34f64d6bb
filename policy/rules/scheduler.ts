/**
 * The scheduler singleton: sidekiq-scheduler enqueues scheduled jobs from every process that listens
 * to `scheduler`, so a deployment runs exactly one (scaling-mastodon-compendium.txt: one scheduler
 * per cluster; src/fleet/rules/queues.ts refuses it in config). Over resources: at most one group
 * or instance of a deployment lists `scheduler` in its mastodon:sidekiq-queues tag, and that
 * group's maxSize is 1.
 */
import { POLICY_TAGS } from "../../src/aws/policyTags";
import { GROUP, INSTANCE } from "./budget";
import { type StackResource, type Violation, label, tagsOf } from "./resources";

const SCHEDULER_QUEUE = "scheduler";

export function schedulerViolations(resources: readonly StackResource[]): Violation[] {
  const violations: Violation[] = [];
  const serving = new Map<string, StackResource[]>();
  for (const r of resources) {
    if (r.type !== GROUP && r.type !== INSTANCE) continue;
    const tags = tagsOf(r.props);
    const queues = tags[POLICY_TAGS.sidekiqQueues]?.split(/\s+/) ?? [];
    if (!queues.includes(SCHEDULER_QUEUE)) continue;
    const stack = tags[POLICY_TAGS.stack] ?? "";
    serving.set(stack, [...(serving.get(stack) ?? []), r]);
    const maxSize = r.type === GROUP ? Number(r.props["maxSize"]) : 1;
    if (maxSize !== 1)
      violations.push({
        urn: r.urn,
        message: `${label(r)} serves the scheduler queue with maxSize ${maxSize}: a second host would run every scheduled job twice. Fix: set its maxSize (and minSize) to 1, or move the scheduler queue to a group of its own with maxSize 1`,
      });
  }
  // Each server is told which others serve it too: which one keeps it is the operator's choice.
  for (const [stack, group] of serving) {
    if (group.length < 2) continue;
    for (const r of group) {
      const others = group.filter((o) => o !== r).map((o) => o.name);
      violations.push({
        urn: r.urn,
        message: `${label(r)} serves the scheduler queue, and so ${others.length > 1 ? "do" : "does"} ${others.join(", ")}${stack ? ` (deployment ${stack})` : ""}: only one may. Fix: drop "scheduler" from the queues of all but one of them`,
      });
    }
  }
  return violations;
}
