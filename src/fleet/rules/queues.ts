/**
 * Sidekiq's queues: every one served, the scheduler in exactly one process, threads per process.
 */
import { SIDEKIQ_QUEUES, SIDEKIQ_THREAD_RULES } from "../../vocabulary/defaults";
import type { Problem } from "../../config/problems";
import { type Rule, error, warning } from "../../config/rules/rule";

/** Every Mastodon 4.6 queue must be served by some fleet; web and streaming too. */
export const everyServiceServed: Rule = (config) => {
  const problems: Problem[] = [];
  const served = new Set(config.fleets.flatMap((f) => f.sidekiq?.queues ?? []));
  const sidekiqFleet = config.fleets.find((f) => f.sidekiq);
  const unserved = SIDEKIQ_QUEUES.filter((queue) => !served.has(queue));
  if (unserved.length) {
    const [first] = unserved;
    const example = sidekiqFleet
      ? `, e.g. pulumi config set --path 'mastodon:fleets.${sidekiqFleet.name}.sidekiq.queues[${sidekiqFleet.sidekiq?.queues.length}]' ${first}`
      : "";
    problems.push(
      error(
        ["fleets"],
        undefined,
        `no fleet serves the Sidekiq queue(s) ${unserved.map((q) => `"${q}"`).join(", ")}; jobs on them would pile up unprocessed. Add each to some fleet's sidekiq.queues${example}`,
      ),
    );
  }
  for (const service of ["web", "streaming"] as const) {
    if (!config.fleets.some((f) => f[service])) {
      problems.push(
        error(
          ["fleets"],
          undefined,
          `no fleet runs ${service}; add a ${service} section to a fleet (e.g. fleets.<name>.${service}: {})`,
        ),
      );
    }
  }
  return problems;
};

/**
 * sidekiq-scheduler schedules from every process that listens to `scheduler`, so exactly one
 * process in the cluster may serve it, at maximum size too (compendium: one scheduler per cluster).
 */
export const schedulerSingleton: Rule = (config) => {
  const serving = config.fleets.filter((f) => f.servesScheduler);
  const processes = serving.reduce((n, f) => n + f.maxSize * (f.sidekiq?.processes ?? 0), 0);
  if (processes <= 1) return [];
  const why =
    `would run ${processes} scheduler processes at maximum size; sidekiq-scheduler enqueues scheduled jobs from every ` +
    `process that listens to "scheduler", so the cluster must run exactly one (docs/design.md#processes-threads-and-units).`;
  const problems: Problem[] = [];
  serving.forEach((fleet, index) => {
    if (index > 0) {
      problems.push(
        error(
          ["fleets", fleet.name, "sidekiq", "queues"],
          fleet.sidekiq?.queues,
          `${why} Fleet ${serving[0]?.name} already serves it; remove "scheduler" here.`,
        ),
      );
      return;
    }
    if (fleet.maxSize > 1) {
      problems.push(
        error(
          ["fleets", fleet.name, "maxSize"],
          fleet.maxSize,
          `${why} Set maxSize 1 on the fleet that serves it (a fleet of its own is best).`,
        ),
      );
    }
    if ((fleet.sidekiq?.processes ?? 0) > 1) {
      problems.push(
        error(
          ["fleets", fleet.name, "sidekiq", "processes"],
          fleet.sidekiq?.processes,
          `${why} Set sidekiq.processes 1, or move "scheduler" to a fleet of its own.`,
        ),
      );
    }
  });
  return problems;
};

/** Over 25 threads per Sidekiq process is a warning (over 50 is refused by the schema). */
export const sidekiqThreads: Rule = (config) =>
  config.fleets.flatMap((fleet) =>
    fleet.sidekiq && fleet.sidekiq.threads > SIDEKIQ_THREAD_RULES.warnAbove
      ? [
          warning(
            ["fleets", fleet.name, "sidekiq", "threads"],
            fleet.sidekiq.threads,
            `is above ${SIDEKIQ_THREAD_RULES.warnAbove} threads per Sidekiq process, the ceiling large instances keep to; prefer more processes with fewer threads (4 x 15 beat 1 x 60 on a busy instance: docs/design.md#processes-threads-and-units)`,
          ),
        ]
      : [],
  );
