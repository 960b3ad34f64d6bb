/** Spot capacity only where losing a host with two minutes' notice is harmless. */
import { type Rule, error } from "../../config/rules/rule";

/** Spot may take a Sidekiq host away with two minutes' notice: never the scheduler, web or streaming. */
export const spotFleets: Rule = (config) =>
  config.fleets.flatMap((fleet) => {
    if (!fleet.spot) return [];
    const why = fleet.servesScheduler
      ? "serves the scheduler queue, whose single process must not be reclaimed"
      : fleet.web || fleet.streaming
        ? "runs web or streaming, which serve users behind the ALB"
        : undefined;
    return why
      ? [
          error(
            ["fleets", fleet.name, "spot"],
            true,
            `is refused: this fleet ${why}. Spot is for Sidekiq fleets without the scheduler; remove spot here.`,
          ),
        ]
      : [];
  });
