/**
 * Memory fit per host (docs/design.md, "Memory fit"): each fleet's processes, the host agents and
 * any on-host Redis must fit the instance's RAM with room for the OS, by the one table in
 * src/fleet/memory.ts. Refused by the key of the fleet's largest service, saying what fits.
 */
import {
  type HostContext,
  type MemoryPlan,
  hostContextOf,
  memoryPlan,
  mostThatFit,
  smallestThatFits,
} from "../memory";
import type { Fleet } from "../../config/stackConfig";
import type { Problem } from "../../config/problems";
import { type Rule, error, warning } from "../../config/rules/rule";
import { MEMORY_FIGURES } from "../memory";

type Service = "web" | "sidekiq" | "streaming";

const NOUN: Readonly<Record<Service, string>> = {
  web: "Puma workers",
  sidekiq: "Sidekiq processes",
  streaming: "streaming processes",
};

function breakdown(plan: MemoryPlan): string {
  return plan.lines
    .map((l) => (l.count === 1 ? `${l.item} ${l.mib}` : `${l.item} ${l.count} x ${l.mibEach}`))
    .join(", ");
}

function whatFits(fleet: Fleet, ctx: HostContext, services: readonly Service[]): string {
  // A service that cannot keep even one process is not offered: it would have to leave the fleet.
  const most = services
    .map((s) => [s, mostThatFit(fleet, ctx, s)] as const)
    .filter(([, n]) => n > 0)
    .map(([s, n]) => `${n} ${NOUN[s]} (fleets.${fleet.name}.${s}.processes)`);
  const larger = smallestThatFits(fleet, ctx);
  const redis = ctx.onHostRedis
    ? ", or lower mastodon:redis.onHost.persistentMaxmemoryMiB / cacheMaxmemoryMiB"
    : "";
  return (
    (most.length
      ? `With the rest unchanged, at most ${most.join(" or ")} fit on ${fleet.instanceType}`
      : `Nothing less of one service makes room on ${fleet.instanceType}`) +
    (larger
      ? `; or use ${larger.instanceType} (${larger.memoryGiB} GiB)`
      : `; no ${fleet.instance.family} size holds it: split the services into fleets`) +
    redis +
    "."
  );
}

/**
 * The scheduler's host also runs one-off Rails processes beside its services: the daily retention's
 * tootctl (src/media/retention.ts) and `npm run upgrade`'s post-deployment migrations. One at a time,
 * each about a booted Rails app without workers (Puma master's figure). The boot's own migrations run
 * before the services start, so they need no room beside them.
 */
export const ONE_OFF_RAILS_MIB = MEMORY_FIGURES.pumaMaster.mib;

export const memoryFit: Rule = (config) => {
  const ctx = hostContextOf(config);
  const problems: Problem[] = [];
  for (const fleet of config.fleets) {
    const plan = memoryPlan(fleet, ctx);
    if (plan.fits && fleet.servesScheduler && plan.neededMiB + ONE_OFF_RAILS_MIB > plan.availableMiB) {
      problems.push(
        warning(
          ["fleets", fleet.name, "instanceType"],
          fleet.instanceType,
          `leaves ${plan.availableMiB - plan.neededMiB} MiB beside this host's processes, and the scheduler's host runs a ` +
            `one-off Rails process of about ${ONE_OFF_RAILS_MIB} MiB beside them (the daily retention's tootctl, ` +
            `upgrades' post-deployment migrations): during it the kernel may kill a Mastodon process (systemd restarts it). ` +
            "For room: a size with more memory, fewer processes, or smaller on-host Redis.",
        ),
      );
    }
    if (plan.fits) continue;
    const services = (["web", "sidekiq", "streaming"] as const).filter((s) => fleet[s]);
    const key = services[0];
    if (!key) continue;
    problems.push(
      error(
        ["fleets", fleet.name, key, "processes"],
        fleet[key]?.processes,
        `does not fit ${fleet.instanceType}: one host needs ${plan.neededMiB} MiB (${breakdown(plan)}) and has ` +
          `${plan.availableMiB} MiB (${plan.ramMiB} MiB less ${plan.osMiB} for the OS; figures in ` +
          `docs/design.md#memory-fit). ${whatFits(fleet, ctx, services)}`,
      ),
    );
  }
  return problems;
};
