/** Autoscaling only where it can act: between two sizes, on a fleet whose hosts are interchangeable. */
import type { StackConfig } from "../../config/stackConfig";
import { type Rule, error } from "../../config/rules/rule";

/** A duration as the operator would write it, for one they did not (a default). */
const asDuration = (seconds: number) => (seconds % 60 === 0 ? `${seconds / 60}m` : `${seconds}s`);

/** A duration as the operator wrote it ("2m", not 120), or as they would have written a default. */
const writtenDuration = (config: StackConfig, key: string, seconds: number): unknown =>
  config.written.get(key) ?? asDuration(seconds);

export const scalingFleets: Rule = (config) =>
  config.fleets.flatMap((fleet) => {
    const problems = [];
    const key = (k: string) => ["fleets", fleet.name, k] as const;
    const latencyTarget =
      fleet.queueLatencyTarget === undefined
        ? undefined
        : writtenDuration(config, `fleets.${fleet.name}.queueLatencyTarget`, fleet.queueLatencyTarget);
    for (const [k, value] of [
      ["cpuTarget", fleet.cpuTarget],
      ["queueLatencyTarget", latencyTarget],
    ] as const) {
      if (value === undefined) continue;
      if (fleet.servesScheduler) {
        problems.push(
          error(
            key(k),
            value,
            "is refused: this fleet serves the scheduler queue, whose one process must never be scaled (two schedulers run every periodic job twice). Remove it, or move the other queues to a fleet of their own and scale that",
          ),
        );
      } else if (fleet.maxSize <= fleet.minSize) {
        problems.push(
          error(
            key(k),
            value,
            `has nothing to act on: minSize and maxSize are both ${fleet.minSize}. Raise maxSize (the budget counts it) or remove ${k}`,
          ),
        );
      }
    }
    const target = fleet.queueLatencyTarget;
    if (target !== undefined && !fleet.servesScheduler) {
      if (!fleet.sidekiq) {
        problems.push(
          error(
            key("queueLatencyTarget"),
            latencyTarget,
            "is refused: this fleet runs no Sidekiq, so no queue's latency moves with its size. Use cpuTarget for web or streaming",
          ),
        );
      } else {
        // Scaling must act before the alarm fires, or the alarm pages for what scaling would fix.
        const alarmed = fleet.sidekiq.queues.filter((q) => config.alarms.queueLatency[q] <= target);
        for (const queue of alarmed) {
          const threshold = config.alarms.queueLatency[queue];
          const written = writtenDuration(config, `alarms.queueLatency.${queue}`, threshold);
          problems.push(
            error(
              key("queueLatencyTarget"),
              latencyTarget,
              `is not below the ${queue} queue's latency alarm (alarms.queueLatency.${queue}, ${String(written)}): the alarm would fire before scaling acts. Lower the target (e.g. "${asDuration(Math.max(1, Math.floor(threshold / 2)))}") or raise the alarm`,
            ),
          );
        }
      }
    }
    return problems;
  });
