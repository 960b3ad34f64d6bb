/**
 * The connection budget (src/budget/budget.ts) as a rule: refused when the fleets at maximum size
 * would hold more than the database allows, and the compendium's max_connections and work_mem lines.
 */
import { BUDGET_RULES } from "../vocabulary/defaults";
import { type Budget, clientConnectionsPerHost } from "./budget";
import { rdsDefaultMaxConnections } from "../database/postgres";
import { type PathSegment, type Problem, configKey } from "../config/problems";
import type { DatabaseInstance } from "../config/stackConfig";
import { type Rule, error, warning } from "../config/rules/rule";

function largestRows(budget: Budget): string {
  if (budget.pgbouncer) {
    return [...budget.pgbouncer]
      .sort((a, b) => b.serverConnections - a.serverConnections)
      .slice(0, 3)
      .map((p) => `${p.fleet} ${p.maxSize} hosts x pool ${p.poolSize} = ${p.serverConnections}`)
      .join(", ");
  }
  return [...budget.rows]
    .sort((a, b) => b.connections - a.connections)
    .slice(0, 3)
    .map((r) => `${r.fleet}/${r.service} ${r.maxSize} hosts x ${r.processes} x ${r.pool} = ${r.connections}`)
    .join(", ");
}

function budgetProblems(budget: Budget, instance: DatabaseInstance, base: readonly PathSegment[]): Problem[] {
  const problems: Problem[] = [];
  const { maxConnections } = budget;
  const label = budget.target === "replica" ? "the read replica" : "the database";
  const maxKey = [...base, "maxConnections"];

  if (maxConnections > BUDGET_RULES.maxConnectionsError) {
    problems.push(
      error(
        maxKey,
        maxConnections,
        `exceeds ${BUDGET_RULES.maxConnectionsError}; past that Postgres loses up to 46% of its queries per second to contention (docs/budget.md#the-rules). Put PgBouncer in front (mastodon:database.pooler pgbouncer) and lower max_connections.`,
      ),
    );
  } else if (maxConnections > BUDGET_RULES.maxConnectionsWarn) {
    problems.push(
      warning(
        maxKey,
        maxConnections,
        `is above ${BUDGET_RULES.maxConnectionsWarn}, where operators of large instances stop raising it (docs/budget.md#the-rules); consider mastodon:database.pooler pgbouncer`,
      ),
    );
  }
  const memoryDefault = rdsDefaultMaxConnections(instance.spec);
  if (instance.maxConnectionsOverridden && maxConnections > memoryDefault) {
    problems.push(
      warning(
        maxKey,
        maxConnections,
        `is above what RDS's memory formula gives ${instance.instanceClass} (${memoryDefault}); each connection costs memory the instance may not have`,
      ),
    );
  }
  if (budget.workMemTotalMiB > budget.workMemCeilingMiB) {
    problems.push(
      error(
        [...(instance.maxConnectionsOverridden ? maxKey : ["database", "workMemMiB"])],
        instance.maxConnectionsOverridden ? maxConnections : budget.workMemMiB,
        `gives work_mem ${budget.workMemMiB} MiB x max_connections ${maxConnections} = ${budget.workMemTotalMiB} MiB, more than 2 x the ${instance.spec.memoryGiB} GiB of ${instance.instanceClass} (${budget.workMemCeilingMiB} MiB; docs/budget.md#max_connections-and-work_mem). Lower mastodon:database.workMemMiB or max_connections, or choose a larger instanceClass.`,
      ),
    );
  }
  if (budget.total > budget.limit) {
    const pooled = budget.pooler === "pgbouncer";
    const what = pooled
      ? `PgBouncers open ${budget.fleetConnections} server connections at maximum size`
      : `fleets hold ${budget.fleetConnections} connections at maximum size`;
    // Web and streaming launch their replacements first (src/fleet/replacement.ts).
    const surge = budget.surgeConnections
      ? ` and ${budget.surgeConnections} more while replacements launch first`
      : "";
    const fixes = pooled
      ? "lower fleets' maxSize or pgbouncerPoolSize (mastodon:fleets.<name>.pgbouncerPoolSize)"
      : "lower fleets' maxSize, processes or threads, or pool them (mastodon:database.pooler pgbouncer)";
    problems.push(
      error(
        ["fleets"],
        undefined,
        `${what}${surge} (+ ${budget.headroom} headroom = ${budget.total}) but ${label} (${instance.instanceClass}, max_connections ${maxConnections}) allows ${budget.limit}: 90% of ${budget.usable} usable (${maxConnections} - 3 superuser - 2 rds_superuser reserved). Largest: ${largestRows(budget)}. Either ${fixes}, or give ${label} more: a larger ${configKey([...base, "instanceClass"])} or ${configKey(maxKey)}.`,
      ),
    );
  }
  return problems;
}

/** The connection budget against the primary and, when there is one, the read replica. */
export const connectionBudget: Rule = (config, budgets) => {
  const { database } = config;
  const problems = budgetProblems(budgets.primary, database.primary, ["database"]);
  if (budgets.replica && database.replica) {
    problems.push(...budgetProblems(budgets.replica, database.replica, ["database", "replica"]));
  }
  if (database.pooler === "pgbouncer") {
    for (const fleet of config.fleets) {
      const perHost = clientConnectionsPerHost(fleet);
      if (fleet.pgbouncerPoolSize !== undefined && fleet.pgbouncerPoolSize > perHost) {
        // Cite the key the operator wrote: the fleet's own, or the stack-wide default it inherited.
        problems.push(
          warning(
            fleet.configured.has("pgbouncerPoolSize")
              ? ["fleets", fleet.name, "pgbouncerPoolSize"]
              : ["database", "pgbouncer", "defaultPoolSize"],
            fleet.pgbouncerPoolSize,
            `is more than the ${perHost} client connections one host opens; the budget counts ${perHost}`,
          ),
        );
      }
    }
  }
  return problems;
};
