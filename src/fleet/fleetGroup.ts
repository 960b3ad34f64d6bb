/**
 * FleetGroupArgs: what of one fleet its Auto Scaling group reads (pure types). Fleet's args carry it
 * (src/fleet/fleet.ts, FleetArgs.fleet); the component analyzer gives it to other languages as a
 * named type, and the group's lifecycle hooks, scaling policies and budget read it.
 */
import type { SidekiqQueue, WarmPoolState } from "../vocabulary/configEnums";
import type { HealthyPercentages } from "./replacement";

/** A fleet's warm pool as its group declares it (src/fleet/warmPool.ts). */
export interface FleetWarmPoolArgs {
  /** Prepared instances the pool keeps: its MinSize and MaxGroupPreparedCapacity. */
  size: number;
  /** The state pooled instances wait in (@default Stopped). */
  state?: WarmPoolState;
}

/**
 * One fleet as its Auto Scaling group reads it: sizes, instance types and scaling targets as
 * resolved from config (src/config/resolve.ts), and the two facts the policy pack reads from the
 * group's tags (src/aws/policyTags.ts). What the hosts run is in userData.
 */
export interface FleetGroupArgs {
  /** The fleet's name (its mastodon:fleets key): tags, log group, the FleetQueueLatency dimension. */
  name: string;
  /** A c-family instance type, e.g. c7g.large. */
  instanceType: string;
  /** The fewest hosts the group runs. */
  minSize: number;
  /** The hosts it runs when deployed; autoscaling moves it between minSize and maxSize. */
  desiredSize: number;
  /** The connection budget counts this size. */
  maxSize: number;
  /** Run above minSize on Spot, the minimum on demand (@default false). */
  spot?: boolean;
  /** With spot: further types the Spot capacity may run on, alike in architecture and vCPUs (@default none). */
  spotInstanceTypes?: string[];
  /** Target tracking on average CPU, percent (@default none). */
  cpuTarget?: number;
  /** Target tracking on the largest latency of the fleet's queues, seconds (@default none). */
  queueLatencyTarget?: number;
  /** Encrypted gp3 root volume, GiB (@default 30). */
  rootVolumeGiB?: number;
  /** The Sidekiq queues its hosts serve (@default none). */
  sidekiqQueues?: SidekiqQueue[];
  /** What one host opens against PostgreSQL, after PgBouncer when pooled: the budget the policy pack checks. */
  postgresConnectionsPerHost: number;
  /**
   * Instances kept prepared beside the group, an absolute size (its MinSize and
   * MaxGroupPreparedCapacity; src/fleet/warmPool.ts). Refused with spot: AWS refuses a warm pool on a
   * group with a mixed instances policy (@default none).
   */
  warmPool?: FleetWarmPoolArgs;
  /** How hosts are replaced: the budget's surge (src/fleet/replacement.ts). (@default by its role) */
  instanceMaintenancePolicy?: HealthyPercentages;
}
