/**
 * How a fleet's hosts are replaced (an instance refresh, a host its watch or the ALB marks
 * Unhealthy, a Spot rebalance), and how many hosts beyond maxSize that may briefly run: the group's
 * instance maintenance policy, and the surge the connection budget counts (docs/budget.md).
 *
 * Amazon EC2 Auto Scaling User Guide, "Instance maintenance policy overview": the policy "affects
 * Amazon EC2 Auto Scaling events that cause instances to be replaced", health check failures and
 * instance refreshes among them, whose default without one is "Terminate and launch". Its "Core
 * concepts": "The maximum healthy percentage is the percentage of its desired capacity that your
 * Auto Scaling group can increase to when replacing instances"; "Launch before terminating – A new
 * instance must be provisioned first before an existing instance can be terminated." Nothing there
 * bounds that increase by the group's maximum size: maxSize bounds the desired capacity ("Set
 * capacity limits on your Auto Scaling group": "an Auto Scaling group cannot increase its desired
 * capacity higher than the maximum size limit"), and the desired capacity can be maxSize. The same
 * page says of the other launch-first replacement, rebalancing, that Auto Scaling "can exceed your
 * group's size limits by up to 10 percent of its maximum capacity", and with Capacity Rebalancing
 * "by up to 10 percent of the desired capacity". So a fleet that launches first may run hosts beyond
 * maxSize, their pools open beside the old hosts' own, and the budget counts them.
 *
 * Pure: the budget (src/budget/budget.ts) and the groups (src/stack/fleetGroup.ts passes
 * it to src/fleet/fleet.ts) read fleetReplacement; a Fleet component given no policy takes its
 * role's (groupMaintenancePolicy); the policy pack reads surgeHosts from a group's own properties.
 */
import type { Fleet } from "../config/stackConfig";
import { servesScheduler } from "../config/resolve";
import type { SidekiqQueue } from "../vocabulary/defaults";

/** InstanceMaintenancePolicy's two figures, percentages of the desired capacity (Auto Scaling API Reference). */
export interface HealthyPercentages {
  /** 0-100: what stays in service, healthy and warmed up while hosts are replaced. */
  minHealthyPercentage: number;
  /** 100-200: what may be in service or pending while hosts are replaced. */
  maxHealthyPercentage: number;
}

export interface Replacement {
  readonly order: "launch-first" | "terminate-first";
  /** The group's instance maintenance policy, which its instance refreshes repeat. */
  readonly policy: Readonly<HealthyPercentages>;
  /** Hosts beyond maxSize a replacement may run beside the fleet at its maximum size. */
  readonly surgeHosts: number;
}

/**
 * The scheduler's fleet: its one host leaves before the next one boots (min 0, max 100). Mastodon
 * runs one scheduler process in the cluster, and the new host prepares the database at its boot.
 */
export const SCHEDULER_POLICY: Readonly<HealthyPercentages> = Object.freeze({
  minHealthyPercentage: 0,
  maxHealthyPercentage: 100,
});

/**
 * Sidekiq fleets without the scheduler: terminate and launch, a tenth of the fleet at a time (at
 * least one host; AWS's own default for a refresh). The queues wait in Redis while a host is
 * replaced, its drain lets its running jobs finish, and its replacement is provisioned at once; a
 * surge host per queue fleet would cost production more connections than it has spare.
 */
export const QUEUE_POLICY: Readonly<HealthyPercentages> = Object.freeze({
  minHealthyPercentage: 90,
  maxHealthyPercentage: 100,
});

/**
 * The share of a launch-first fleet replaced at once: about a tenth, so a large fleet rolls in about
 * ten rounds of boot and warm-up while the budget counts a tenth more hosts; at least one host.
 */
export const SURGE_SHARE_PERCENT = 10;

/** Hosts Auto Scaling's rebalancing may add beyond the size limits, per the overview quoted above. */
const rebalanceHosts = (maxSize: number) => Math.ceil((maxSize * 10) / 100);

/**
 * Hosts beyond maxSize a group may run while replacing hosts, from its own properties: with a
 * launch-first policy (min 100, or max above 100) what max healthy lets in above a desired capacity
 * of maxSize, rounded up, and at least one ("set both the minimum and maximum healthy percentage to
 * 100 percent ... launch before terminating", "How an instance refresh works"); with none,
 * rebalancing's 10% of maxSize; with Capacity Rebalancing (Spot), at least its 10%.
 */
export function surgeHosts(group: {
  readonly maxSize: number;
  readonly policy?: Readonly<HealthyPercentages>;
  readonly capacityRebalance?: boolean;
}): number {
  const { maxSize, policy } = group;
  const launchFirst =
    policy === undefined
      ? rebalanceHosts(maxSize)
      : policy.minHealthyPercentage === 100 || policy.maxHealthyPercentage > 100
        ? Math.max(1, Math.ceil((maxSize * (policy.maxHealthyPercentage - 100)) / 100))
        : 0;
  return group.capacityRebalance ? Math.max(launchFirst, rebalanceHosts(maxSize)) : launchFirst;
}

/** What decides how a fleet's hosts are replaced. */
export interface ReplacementFacts {
  readonly maxSize: number;
  readonly servesScheduler: boolean;
  /** Runs web or streaming: its hosts serve clients behind the ALB. */
  readonly servesClients: boolean;
  readonly spot: boolean;
}

/** A resolved fleet's replacement: the one the budget counts and the group's wiring sets. */
export function fleetReplacement(
  fleet: Pick<Fleet, "maxSize" | "servesScheduler" | "spot" | "web" | "streaming">,
): Replacement {
  const servesClients = fleet.web !== undefined || fleet.streaming !== undefined;
  return replacement({ ...fleet, servesClients });
}

/**
 * The policy of a Fleet component's group (src/fleet/fleet.ts): the one given (our program's,
 * fleetReplacement's), else the one its role gets, serving clients when it joins target groups.
 */
export function groupMaintenancePolicy(
  group: {
    readonly maxSize: number;
    readonly spot?: boolean;
    readonly sidekiqQueues?: readonly SidekiqQueue[];
    readonly instanceMaintenancePolicy?: HealthyPercentages;
  },
  servesClients: boolean,
): HealthyPercentages {
  if (group.instanceMaintenancePolicy) return group.instanceMaintenancePolicy;
  const { maxSize, spot = false, sidekiqQueues } = group;
  return {
    ...replacement({ maxSize, spot, servesClients, servesScheduler: servesScheduler(sidekiqQueues) }).policy,
  };
}

/**
 * How a fleet's hosts are replaced. The scheduler's fleet terminates first, whatever else it
 * serves (dev's and small's one host). Web and streaming launch first: min 100, and max just high
 * enough for a tenth of maxSize (at least one host) above a desired capacity of maxSize, so at any
 * desired capacity no more than that surge runs beside the fleet: 200 for one host, 150 for two,
 * 110 for ten. Other Sidekiq fleets terminate first (QUEUE_POLICY).
 */
export function replacement(fleet: ReplacementFacts): Replacement {
  const launchFirst = !fleet.servesScheduler && fleet.servesClients;
  const policy = fleet.servesScheduler
    ? SCHEDULER_POLICY
    : launchFirst
      ? launchFirstPolicy(fleet.maxSize)
      : QUEUE_POLICY;
  return {
    order: launchFirst ? "launch-first" : "terminate-first",
    policy,
    surgeHosts: surgeHosts({ maxSize: fleet.maxSize, policy, capacityRebalance: fleet.spot }),
  };
}

function launchFirstPolicy(maxSize: number): HealthyPercentages {
  const surge = Math.max(1, Math.floor((maxSize * SURGE_SHARE_PERCENT) / 100));
  return {
    minHealthyPercentage: 100,
    maxHealthyPercentage: Math.min(200, 100 + Math.floor((100 * surge) / maxSize)),
  };
}
