/**
 * The tags through which a deployment tells the policy pack (policy/) what its resources are for.
 * A policy sees resource properties only, never our config: the budget and the scheduler rule read
 * these tags, so they hold for any program that carries them, ours or a platform team's.
 * docs/policy.md lists them for programs that do not use our components.
 */
import type { SidekiqQueue } from "../vocabulary/defaults";

export const POLICY_TAGS = {
  /** The deployment a fleet or database belongs to: the budget pairs groups with databases by it. */
  stack: "mastodon:stack",
  /** Marks an Auto Scaling group, launch template or instance as a Mastodon fleet. */
  fleet: "mastodon:fleet",
  /** On a fleet's group: what one host opens against Postgres (after PgBouncer, when pooled). */
  postgresConnections: "mastodon:postgres-connections",
  /** On a Sidekiq fleet's group: its queues, space-separated (AWS tag values allow no comma everywhere). */
  sidekiqQueues: "mastodon:sidekiq-queues",
  /** On a database: the connections kept free for migrations and consoles. */
  adminHeadroom: "mastodon:admin-headroom",
} as const;

/** What the policy pack reads of one fleet (src/budget/budget.ts postgresConnectionsPerHost gives the first). */
export interface FleetPolicyFacts {
  readonly postgresConnectionsPerHost: number;
  readonly sidekiqQueues?: readonly SidekiqQueue[];
}

/** The budget's and the scheduler rule's tags of one fleet's group (beside its stack and fleet tags). */
export function fleetPolicyTags(fleet: FleetPolicyFacts): Record<string, string> {
  return {
    [POLICY_TAGS.postgresConnections]: String(fleet.postgresConnectionsPerHost),
    ...(fleet.sidekiqQueues && { [POLICY_TAGS.sidekiqQueues]: fleet.sidekiqQueues.join(" ") }),
  };
}

/** The budget's tag of a database (beside its stack tag). */
export function databasePolicyTags(adminHeadroom: number): Record<string, string> {
  return { [POLICY_TAGS.adminHeadroom]: String(adminHeadroom) };
}
