/**
 * The Postgres connection budget over any program's resources (docs/budget.md, docs/policy.md):
 * for each RDS instance tagged with a deployment (mastodon:stack), the groups and instances of that
 * deployment may open at most (maxSize + the hosts a replacement runs beyond it, from the group's
 * instance maintenance policy: src/fleet/replacement.ts) x mastodon:postgres-connections each, and with the admin
 * headroom that must fit in 90% of max_connections less the superuser slots, the sizing core's
 * connectionLimit. The same arithmetic as src/budget/budget.ts, from resource properties alone.
 */
import { POLICY_TAGS } from "../../src/aws/policyTags";
import { DEFAULTS } from "../../src/vocabulary/defaults";
import { rdsClassSpec } from "../../src/vocabulary/catalog";
import { connectionLimit, rdsDefaultMaxConnections, usableConnections } from "../../src/database/postgres";
import { type HealthyPercentages, surgeHosts } from "../../src/fleet/replacement";
import { type StackResource, type Violation, known, label, referenced, tagsOf } from "./resources";

export const GROUP = "aws:autoscaling/group:Group";
export const INSTANCE = "aws:ec2/instance:Instance";
export const DB_INSTANCE = "aws:rds/instance:Instance";
export const DB_PARAMETER_GROUP = "aws:rds/parameterGroup:ParameterGroup";

/** A group (or a lone instance) of a deployment with what it may open against Postgres. */
export interface BudgetShare {
  readonly resource: StackResource;
  readonly stack: string | undefined;
  /** maxSize of a group plus its surgeHosts; 1 for an instance. */
  readonly hosts: number;
  /** Hosts beyond maxSize while the group replaces hosts. */
  readonly surgeHosts: number;
  readonly perHost: number;
}

/** What the budget of one database came to: the policy's own figures, for messages and tests. */
export interface DatabaseBudget {
  readonly database: StackResource;
  readonly maxConnections: number;
  readonly limit: number;
  readonly headroom: number;
  readonly shares: readonly BudgetShare[];
  /** Sum of hosts x perHost over the shares, plus headroom. */
  readonly total: number;
}

const NON_NEGATIVE_INT = /^(0|[1-9][0-9]*)$/;

/** A pair of healthy percentages as a group's property holds it; a refresh's max defaults to 100. */
function percentagesOf(value: unknown, maxDefault?: number): HealthyPercentages | undefined {
  const p = (value ?? {}) as Record<string, unknown>;
  const min = p["minHealthyPercentage"];
  const max = p["maxHealthyPercentage"] ?? maxDefault;
  return typeof min === "number" && typeof max === "number" && min !== -1 && max !== -1
    ? { minHealthyPercentage: min, maxHealthyPercentage: max }
    : undefined;
}

/** Hosts beyond maxSize while a group replaces hosts: its policy's, or its refreshes' when they override it. */
function surgeOf(r: StackResource): number {
  if (r.type !== GROUP) return 0;
  const maxSize = Number(r.props["maxSize"]);
  const policy = percentagesOf(r.props["instanceMaintenancePolicy"]);
  const capacityRebalance = r.props["capacityRebalance"] === true;
  const refresh = percentagesOf((r.props["instanceRefresh"] as { preferences?: unknown })?.preferences, 100);
  return Math.max(
    surgeHosts({ maxSize, ...(policy && { policy }), capacityRebalance }),
    refresh ? surgeHosts({ maxSize, policy: refresh }) : 0,
  );
}

function hostsOf(r: StackResource): number {
  return r.type === GROUP ? Number(r.props["maxSize"]) + surgeOf(r) : 1;
}

/** Every group or instance that carries a budget tag or the fleet tag, with problems in its tags. */
export function budgetShares(resources: readonly StackResource[]): {
  shares: BudgetShare[];
  violations: Violation[];
} {
  const shares: BudgetShare[] = [];
  const violations: Violation[] = [];
  for (const r of resources) {
    if (r.type !== GROUP && r.type !== INSTANCE) continue;
    const tags = tagsOf(r.props);
    const value = tags[POLICY_TAGS.postgresConnections];
    if (value === undefined) {
      if (tags[POLICY_TAGS.fleet] !== undefined)
        violations.push({
          urn: r.urn,
          message: `${label(r)} is a Mastodon fleet (tag ${POLICY_TAGS.fleet}) but does not say what it opens against Postgres: tag it ${POLICY_TAGS.postgresConnections}=<connections one host opens> (its processes' pools, or its PgBouncer's default_pool_size) and ${POLICY_TAGS.stack}=<the deployment> as on its database`,
        });
      continue;
    }
    if (!NON_NEGATIVE_INT.test(value)) {
      violations.push({
        urn: r.urn,
        message: `${label(r)}: tag ${POLICY_TAGS.postgresConnections}="${value}" is not a whole number of connections; set it to what one host opens against Postgres`,
      });
      continue;
    }
    shares.push({
      resource: r,
      stack: tags[POLICY_TAGS.stack],
      hosts: hostsOf(r),
      surgeHosts: surgeOf(r),
      perHost: Number(value),
    });
  }
  return { shares, violations };
}

/**
 * max_connections of a database: its parameter group's value when the group is in the program,
 * else RDS's default for the class (LEAST(DBInstanceClassMemory/9531392, 5000), Amazon RDS User
 * Guide, "Maximum number of database connections"). A string when it cannot be told.
 */
export function maxConnectionsOf(
  db: StackResource,
  parameterGroups: readonly StackResource[],
): number | string {
  const instanceClass = String(db.props["instanceClass"]);
  const groupName = known(() => db.props["parameterGroupName"]);
  const group = referenced(db, "parameterGroupName", parameterGroups, ["name", "id"]);
  if (group) {
    const parameters = (group.props["parameters"] ?? []) as { name?: unknown; value?: unknown }[];
    const value = parameters.find((p) => p.name === "max_connections")?.value;
    if (value !== undefined) {
      const text = String(value);
      return NON_NEGATIVE_INT.test(text)
        ? Number(text)
        : `its parameter group ${label(group)} sets max_connections to "${text}", which the policy does not evaluate; set a number`;
    }
  } else if (typeof groupName === "string" && groupName !== "" && !groupName.startsWith("default.")) {
    return `its parameter group "${groupName}" is not declared in this program, so its max_connections is unknown here; declare the parameter group in the program`;
  }
  const spec = rdsClassSpec(instanceClass);
  return spec
    ? rdsDefaultMaxConnections(spec)
    : `its class ${instanceClass} is not in the package's RDS catalog, so RDS's default max_connections is unknown here; set max_connections in a parameter group declared in the program`;
}

/** The budgets of every database that carries a deployment tag, and every problem found. */
export function connectionBudgets(resources: readonly StackResource[]): {
  budgets: DatabaseBudget[];
  violations: Violation[];
} {
  const { shares, violations } = budgetShares(resources);
  const parameterGroups = resources.filter((r) => r.type === DB_PARAMETER_GROUP);
  const budgets: DatabaseBudget[] = [];
  for (const db of resources) {
    if (db.type !== DB_INSTANCE) continue;
    const tags = tagsOf(db.props);
    const stack = tags[POLICY_TAGS.stack];
    if (stack === undefined) continue;
    const maxConnections = maxConnectionsOf(db, parameterGroups);
    if (typeof maxConnections === "string") {
      violations.push({
        urn: db.urn,
        message: `${label(db)}: the connection budget cannot be checked: ${maxConnections}`,
      });
      continue;
    }
    const headroomTag = tags[POLICY_TAGS.adminHeadroom];
    if (headroomTag !== undefined && !NON_NEGATIVE_INT.test(headroomTag)) {
      violations.push({
        urn: db.urn,
        message: `${label(db)}: tag ${POLICY_TAGS.adminHeadroom}="${headroomTag}" is not a whole number; set the connections kept for migrations and consoles (default ${DEFAULTS.database.adminHeadroom})`,
      });
      continue;
    }
    const headroom = headroomTag === undefined ? DEFAULTS.database.adminHeadroom : Number(headroomTag);
    const mine = shares.filter((s) => s.stack === stack);
    const total = mine.reduce((sum, s) => sum + s.hosts * s.perHost, 0) + headroom;
    const limit = connectionLimit(maxConnections);
    budgets.push({ database: db, maxConnections, limit, headroom, shares: mine, total });
    if (total > limit) {
      const lines = mine.map(
        (s) =>
          `${s.resource.name} ${s.surgeHosts ? `(${s.hosts - s.surgeHosts} + ${s.surgeHosts} replacing)` : s.hosts} x ${s.perHost} = ${s.hosts * s.perHost}`,
      );
      violations.push({
        urn: db.urn,
        message:
          `${label(db)} (${stack}): the fleets may open ${total - headroom} connections plus ${headroom} of headroom = ${total}, ` +
          `over ${limit} (90% of max_connections ${maxConnections} less its ${maxConnections - usableConnections(maxConnections)} superuser slots) by ${total - limit}. ` +
          `Shares ((maxSize + hosts a replacement adds) x ${POLICY_TAGS.postgresConnections}): ${lines.join(", ") || "none"}. ` +
          `Fix: lower the groups' maxSize or their pools (PgBouncer's default_pool_size), or give the database a larger class or max_connections.`,
      });
    }
  }
  return { budgets, violations };
}
