/**
 * A warm pool only where a scale-out draws on it (src/fleet/warmPool.ts): a fleet with room to grow
 * and a target that grows it, never the scheduler's, never Spot (AWS refuses it there).
 */
import type { Fleet } from "../../config/stackConfig";
import { type Rule, error } from "../../config/rules/rule";

/** Why `fleet` cannot keep a warm pool at all, or undefined. */
function refusal(fleet: Fleet): string | undefined {
  if (fleet.servesScheduler)
    return "is refused: this fleet serves the scheduler queue, whose one host is never scaled out, so nothing would start a pooled instance. Remove warmPool";
  if (fleet.maxSize <= fleet.minSize)
    return `has nothing to serve: minSize and maxSize are both ${fleet.minSize}, so the group never scales out. Raise maxSize (the budget counts it) or remove warmPool`;
  if (fleet.spot)
    return "is refused with spot: AWS refuses a warm pool on a group with a mixed instances policy or Spot Instances (Amazon EC2 Auto Scaling API Reference, PutWarmPool). Remove spot or warmPool";
  if (fleet.cpuTarget === undefined && fleet.queueLatencyTarget === undefined)
    return "has nothing to start its instances: the fleet has no cpuTarget or queueLatencyTarget, so it scales out only by hand. Add a target (queueLatencyTarget for Sidekiq, cpuTarget for web or streaming) or remove warmPool";
  return undefined;
}

export const warmPools: Rule = (config) =>
  config.fleets.flatMap((fleet) => {
    const pool = fleet.warmPool;
    if (!pool) return [];
    const why = refusal(fleet);
    if (why) return [error(["fleets", fleet.name, "warmPool"], { ...pool }, why)];
    const room = fleet.maxSize - fleet.minSize;
    return pool.size > room
      ? [
          error(
            ["fleets", fleet.name, "warmPool", "size"],
            pool.size,
            `is larger than the ${room} host(s) scaling can add (maxSize ${fleet.maxSize} - minSize ${fleet.minSize}): the rest would be prepared and never started. Lower it to at most ${room}`,
          ),
        ]
      : [];
  });
