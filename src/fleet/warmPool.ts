/**
 * A fleet's warm pool as its Auto Scaling group declares it (pure): instances launched ahead of
 * need, prepared by a boot that stops short of serving, and kept Stopped (or Running) beside the
 * group; a scale-out starts one of them instead of launching a cold host.
 *
 * The size is absolute: the pool's MinSize and MaxGroupPreparedCapacity are both `size` (Amazon EC2
 * Auto Scaling API Reference, PutWarmPool: "Only when MaxGroupPreparedCapacity and MinSize are set
 * to the same value does the warm pool have an absolute size"), so the cost model prices exactly
 * what runs. Instances scaled in are terminated, not returned to the pool (InstanceReusePolicy off,
 * AWS's default): the drain keeps its one meaning, a host that leaves for good.
 *
 * The launch lifecycle hook fires twice for a pooled instance (Amazon EC2 Auto Scaling User Guide,
 * "Use lifecycle hooks with a warm pool in Auto Scaling group": it pauses in Warmed:Pending:Wait
 * on the way into the pool, and again in Pending:Wait when the instance is started out of it);
 * the host's boot completes each (src/fleet/host/warmPoolUnits.ts). A pooled instance runs no
 * Mastodon process and holds no database connection; the budget counts maxSize as before.
 */
import type * as aws from "@pulumi/aws";
import { DEFAULTS } from "../vocabulary/defaults";
import type { FleetGroupArgs } from "./fleetGroup";

/** The group's warmPool argument, or undefined for a fleet without one. */
export function groupWarmPool(fleet: FleetGroupArgs): aws.types.input.autoscaling.GroupWarmPool | undefined {
  const pool = fleet.warmPool;
  if (!pool) return undefined;
  // PutWarmPool "cannot be called on an Auto Scaling group that has a mixed instances policy or a
  // launch template or launch configuration that requests Spot Instances" (API Reference).
  if (fleet.spot)
    throw new Error(
      `fleet ${fleet.name}: a warm pool cannot serve a Spot fleet (AWS refuses PutWarmPool there)`,
    );
  if (pool.size > fleet.maxSize - fleet.minSize)
    throw new Error(
      `fleet ${fleet.name}: a warm pool of ${pool.size} is more than the ${fleet.maxSize - fleet.minSize} hosts scaling can add (maxSize - minSize)`,
    );
  return {
    poolState: pool.state ?? DEFAULTS.warmPool.state,
    minSize: pool.size,
    maxGroupPreparedCapacity: pool.size,
    instanceReusePolicy: { reuseOnScaleIn: false },
  };
}
