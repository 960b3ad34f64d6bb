/**
 * The lifecycle hooks a fleet's Auto Scaling group declares (pure): the launch hook every host's boot
 * completes (src/fleet/host/readiness.ts), and on a fleet running Sidekiq the termination hook its
 * drain completes. The Fleet declares them with the group (initialLifecycleHooks, src/fleet/fleet.ts).
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { DRAIN, LIFECYCLE_HOOK_NAME } from "./host/readiness";
import type { FleetGroupArgs } from "./fleetGroup";

/** The group's hooks; the launch hook's heartbeat timeout is `heartbeat` (FleetArgs.launchHeartbeatSeconds). */
export function groupLifecycleHooks(
  fleet: FleetGroupArgs,
  heartbeat: pulumi.Input<number>,
): aws.types.input.autoscaling.GroupInitialLifecycleHook[] {
  return [
    {
      name: LIFECYCLE_HOOK_NAME,
      lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
      defaultResult: "ABANDON",
      heartbeatTimeout: heartbeat,
    },
    // A host running Sidekiq leaving the group (scale-in, an instance refresh) first lets its
    // jobs finish: its drain quiets Sidekiq and completes this hook (src/fleet/host/readiness.ts,
    // DRAIN); if nothing does, the termination goes on when the heartbeat runs out.
    ...((fleet.sidekiqQueues?.length ?? 0) > 0
      ? [
          {
            name: DRAIN.hookName,
            lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
            defaultResult: "CONTINUE",
            heartbeatTimeout: DRAIN.heartbeatSeconds,
          },
        ]
      : []),
  ];
}
