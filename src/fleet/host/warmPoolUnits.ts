/**
 * The boot of a host whose fleet keeps a warm pool (pure; src/fleet/warmPool.ts declares the pool).
 * Its first boot may be into the pool rather than into service, and it serves only after a later
 * start, when cloud-init's runcmd (once per instance) no longer runs. So the boot is three units:
 *
 *   mastodon-prepare.service  started by runcmd: the steps that do not depend on the moment (the
 *                             runtime's setup, the fetched programs, the RDS CA bundle, the release
 *                             images' pull and lay-out started, the logs agent installed), then
 *                             mastodon-pool.service enabled and started.
 *   mastodon-pool.service     at that boot and every later one until the host has served
 *                             (ConditionPathExists=!<state>/completed): mastodon-pool reads the
 *                             target lifecycle state; into the pool, it completes the launch action
 *                             with CONTINUE (the group then stops the instance) and waits; once it
 *                             reads InService it starts mastodon-boot.service.
 *   mastodon-boot.service     the rest of the cold boot (secrets as they are now, the units, the
 *                             database's lifecycle), readiness, then the watch and the drain.
 *
 * A cold launch straight into the group takes the same path, without the wait. A reboot after
 * serving runs none of them: the units are enabled, as on every other host. Each fails into
 * mastodon-boot-abandon.service. The lifecycle hook fires on both transitions (Amazon EC2 Auto
 * Scaling User Guide, "Use lifecycle hooks with a warm pool in Auto Scaling group").
 */
import { renderUnit, type UnitFile } from "../../host/systemd";
import { MASTODON_POOL, programText } from "../../host/programs";
import type { WriteFile } from "../../host/cloudInit";
import { type BootStep, execLine } from "./bootStep";
import type { BootPhases } from "./fleetBootSteps";
import {
  ABANDON_UNIT,
  BOOT_UNIT,
  READINESS,
  READINESS_PATHS,
  launchWaitSeconds,
  lifecycleHeartbeatSeconds,
  renderReadinessConfig,
} from "./readiness";
import { bootCommands, renderBootUnits, stepsUnit } from "./bootUnits";

export const PREPARE_UNIT = "mastodon-prepare.service";
export const POOL_UNIT = "mastodon-pool.service";

export const POOL_PATHS = {
  program: "/usr/local/sbin/mastodon-pool",
  /** mastodon-ready's config for the completion into the pool: the preparation's checks, the pool's state. */
  config: "/etc/mastodon/readiness-pool.conf",
  state: `${READINESS_PATHS.state}/pool`,
} as const;

/** What the abandon unit logs on a warm pool host: any of the three units may have failed. */
export const WARM_ABANDON_REASON = `the boot failed (journalctl -u ${PREPARE_UNIT} -u ${POOL_UNIT} -u ${BOOT_UNIT})`;

const SYSTEMCTL = "/usr/bin/systemctl";

/** A fleet host's boot: its units, the files they run, cloud-init's runcmd and the hook's heartbeat. */
export interface FleetBoot {
  readonly units: readonly UnitFile[];
  readonly files: readonly WriteFile[];
  readonly runcmd: readonly (readonly string[])[];
  /** The launch hook's heartbeat timeout: the longest either pause of the hook may take. */
  readonly launchHeartbeatSeconds: number;
  /** The longest the boot may hold the hook, heartbeats recorded (readiness.ts, launchWaitSeconds). */
  readonly launchWaitSeconds: number;
}

/** What a warm pool host does ahead of need besides the cold boot's preparation. */
export interface WarmPoolInput {
  readonly region: string;
  /**
   * Units run ahead of need (the images' pull on a container host): started without waiting, they
   * retry on their own (Restart=on-failure); the completion into the pool waits until they are
   * active, at most `preparedWithinSeconds` (the pull's bound).
   */
  readonly prepared: readonly string[];
  readonly preparedWithinSeconds: number;
  /** Commands a unit of the serving host would run first, run here once instead (the logs agent's installer). */
  readonly ahead: readonly BootStep[];
}

/**
 * The boot of a fleet host: one unit started by runcmd (bootUnits.ts), or with a warm pool the
 * preparation, the wait in the pool and the boot (this module).
 */
export function renderFleetBoot(
  phases: BootPhases,
  opts: { drain: boolean; warmPool?: WarmPoolInput },
): FleetBoot {
  const { warmPool } = opts;
  if (!warmPool) {
    const steps = [...phases.prepare, ...phases.serve];
    return {
      units: renderBootUnits(steps, { drain: opts.drain }),
      files: [],
      runcmd: bootCommands(),
      launchHeartbeatSeconds: lifecycleHeartbeatSeconds(steps),
      launchWaitSeconds: launchWaitSeconds(steps),
    };
  }
  const warm = renderWarmPoolBoot(phases, warmPool);
  const pooled = [...phases.prepare, ...warmPool.ahead, ...phases.serve];
  return {
    units: [
      ...renderBootUnits(phases.serve, { drain: opts.drain, abandonReason: WARM_ABANDON_REASON }),
      ...warm.units,
    ],
    files: warm.files,
    runcmd: warm.runcmd,
    // Either pause's work fits in the sum of both phases' steps (lifecycleHeartbeatSeconds adds readiness).
    launchHeartbeatSeconds: lifecycleHeartbeatSeconds(pooled),
    launchWaitSeconds: launchWaitSeconds(pooled),
  };
}

/** The prepare and pool units, the pool program and its readiness config, and runcmd. */
function renderWarmPoolBoot(
  phases: BootPhases,
  input: WarmPoolInput,
): Omit<FleetBoot, "launchHeartbeatSeconds" | "launchWaitSeconds"> {
  const prepareSteps: BootStep[] = [
    ...phases.prepare,
    // The pull first, without waiting: it runs beside what follows.
    ...(input.prepared.length > 0
      ? [{ argv: [SYSTEMCTL, "start", "--no-block", ...input.prepared], boundSeconds: 30 }]
      : []),
    ...input.ahead,
    { argv: [SYSTEMCTL, "enable", POOL_UNIT], boundSeconds: 30 },
    { argv: [SYSTEMCTL, "start", "--no-block", POOL_UNIT], boundSeconds: 30 },
  ];
  const prepare = stepsUnit(
    PREPARE_UNIT,
    "Mastodon warm pool host: what does not depend on the moment it serves",
    prepareSteps,
  );
  const pool: UnitFile = {
    name: POOL_UNIT,
    content: renderUnit({
      unit: [
        ["Description", "Mastodon warm pool host: wait in the pool, then start the boot when InService"],
        ["Wants", "network-online.target"],
        ["After", `network-online.target ${PREPARE_UNIT}`],
        // Once the host has served (or was abandoned), a reboot must not run the boot again.
        ["ConditionPathExists", `!${READINESS_PATHS.state}/completed`],
        ["OnFailure", ABANDON_UNIT],
      ],
      service: [
        ["Type", "oneshot"],
        ["RemainAfterExit", "yes"],
        // A Running pool may keep an instance for days; the launch hook's heartbeat bounds the
        // wait that matters (its default result abandons a host that never serves).
        ["TimeoutStartSec", "infinity"],
        ["ExecStart", execLine([POOL_PATHS.program, POOL_PATHS.config])],
        ["ExecStart", execLine([SYSTEMCTL, "start", "--no-block", BOOT_UNIT])],
      ],
      install: [["WantedBy", "multi-user.target"]],
    }),
  };
  return {
    units: [prepare, pool],
    files: [
      // It sources mastodon-lifecycle.sh from beside it, which every fleet host has with mastodon-ready
      // (readiness.ts, readinessFiles): the same directory.
      { path: POOL_PATHS.program, content: programText(MASTODON_POOL), permissions: "0755" },
      {
        path: POOL_PATHS.config,
        content: renderReadinessConfig({
          region: input.region,
          checks: { units: [PREPARE_UNIT, ...input.prepared], urls: [] },
          waitSeconds: Math.max(READINESS.waitSeconds, input.preparedWithinSeconds),
          stateDir: POOL_PATHS.state,
        }),
        permissions: "0644",
      },
    ],
    runcmd: [
      ["systemctl", "daemon-reload"],
      ["systemctl", "start", "--no-block", PREPARE_UNIT],
    ],
  };
}
