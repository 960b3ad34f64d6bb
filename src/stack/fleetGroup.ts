/**
 * What a fleet's Auto Scaling group reads of the config and the tiers: its sizes and the budget's
 * facts, the security groups of the roles it runs and the ALB target groups its hosts join.
 */
import type * as pulumi from "@pulumi/pulumi";
import { postgresConnectionsPerHost } from "../budget/budget";
import { fleetReplacement } from "../fleet/replacement";
import type { Fleet as FleetConfig } from "../config";
import type { LoadBalancer } from "../edge/loadBalancer";
import type { FleetGroupArgs } from "../fleet/fleetGroup";
import type { Network } from "../network/network";

/** The security groups of the roles a fleet runs. */
export function fleetSecurityGroups(fleet: FleetConfig, network: Network): pulumi.Output<string>[] {
  const groups = network.securityGroups;
  return [
    ...(fleet.web ? [groups.web.id] : []),
    ...(fleet.streaming ? [groups.streaming.id] : []),
    ...(fleet.sidekiq ? [groups.sidekiq.id] : []),
  ];
}

/** The ALB target groups a fleet's hosts join: web's, and one per streaming port. */
export function fleetTargetGroups(fleet: FleetConfig, loadBalancer: LoadBalancer): pulumi.Output<string>[] {
  return [
    ...(fleet.web ? [loadBalancer.webTargetGroup.arn] : []),
    ...(fleet.streaming ? loadBalancer.streamingTargetGroups.map((tg) => tg.arn) : []),
  ];
}

/** A resolved fleet as its Auto Scaling group reads it (the Fleet component's args). */
export function fleetGroup(fleet: FleetConfig): FleetGroupArgs {
  return {
    name: fleet.name,
    instanceType: fleet.instanceType,
    minSize: fleet.minSize,
    desiredSize: fleet.desiredSize,
    maxSize: fleet.maxSize,
    spot: fleet.spot,
    ...(fleet.spotInstanceTypes && { spotInstanceTypes: [...fleet.spotInstanceTypes] }),
    ...(fleet.cpuTarget !== undefined && { cpuTarget: fleet.cpuTarget }),
    ...(fleet.queueLatencyTarget !== undefined && { queueLatencyTarget: fleet.queueLatencyTarget }),
    rootVolumeGiB: fleet.rootVolumeGiB,
    ...(fleet.warmPool && { warmPool: { ...fleet.warmPool } }),
    ...(fleet.sidekiq && { sidekiqQueues: [...fleet.sidekiq.queues] }),
    postgresConnectionsPerHost: postgresConnectionsPerHost(fleet),
    instanceMaintenancePolicy: { ...fleetReplacement(fleet).policy },
  };
}
