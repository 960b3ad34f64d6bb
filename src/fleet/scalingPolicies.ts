/**
 * A fleet's target-tracking scaling policies (Pulumi resources, the Fleet's children): on the
 * group's average CPU, and on the largest latency of the fleet's queues; and the warmup after which
 * a new host counts in the figures they track.
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { METRICS, METRICS_NAMESPACE, METRICS_PERIOD_SECONDS } from "../monitoring/metrics";
import type { FleetGroupArgs } from "./fleetGroup";

/**
 * A new host counts in the group's figures this long after it is InService. The launch lifecycle
 * hook keeps it out of InService until its units serve (readiness.ts), so what is left is the
 * metrics' own lag: two of the collector's one-minute periods.
 */
export const INSTANCE_WARMUP_SECONDS = 2 * METRICS_PERIOD_SECONDS;

/**
 * The policies of `fleet` (those of its targets that are set) on its group `groupName`, named from
 * the Fleet's `name`, children of `component`. `parameterPath` is the metrics' Stack dimension.
 */
export function scalingPolicies(
  name: string,
  fleet: FleetGroupArgs,
  groupName: pulumi.Input<string>,
  parameterPath: string,
  component: pulumi.Resource,
): void {
  const parent = { parent: component };
  if (fleet.cpuTarget !== undefined) {
    new aws.autoscaling.Policy(
      `${name}-cpu`,
      {
        autoscalingGroupName: groupName,
        policyType: "TargetTrackingScaling",
        targetTrackingConfiguration: {
          predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
          targetValue: fleet.cpuTarget,
        },
      },
      parent,
    );
  }
  if (fleet.queueLatencyTarget !== undefined) {
    // The largest latency of this fleet's queues, as the scheduler's host publishes it each minute
    // (src/monitoring/metrics.ts). Latency falls as hosts are added, which target tracking needs; scale
    // in follows it down slowly (target tracking removes capacity gradually, Amazon EC2 Auto
    // Scaling User Guide, "Target tracking scaling policies"). A host taken away stops as Sidekiq
    // does on SIGTERM: it fetches no more jobs, finishes what it can in its shutdown timeout, and
    // pushes the rest back onto their queues (units.ts, SIDEKIQ_STOP_TIMEOUT_SECONDS).
    new aws.autoscaling.Policy(
      `${name}-queue-latency`,
      {
        autoscalingGroupName: groupName,
        policyType: "TargetTrackingScaling",
        estimatedInstanceWarmup: INSTANCE_WARMUP_SECONDS,
        targetTrackingConfiguration: {
          customizedMetricSpecification: {
            namespace: METRICS_NAMESPACE,
            metricName: METRICS.fleetQueueLatency.name,
            metricDimensions: [
              { name: "Stack", value: parameterPath },
              { name: "Fleet", value: fleet.name },
            ],
            statistic: "Maximum",
            unit: METRICS.fleetQueueLatency.unit,
          },
          targetValue: fleet.queueLatencyTarget,
        },
      },
      parent,
    );
  }
}
