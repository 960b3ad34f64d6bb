/**
 * A fleet host's boot as systemd units (pure): the oneshot that runs the steps and ends with
 * readiness, its OnFailure= companion that abandons the launch, the watch and the drain that follow
 * (mastodon-ready --watch's loop, mastodon-drain's), and the commands cloud-init's runcmd starts
 * the boot with. What the lifecycle action is and what readiness checks is readiness.ts.
 *
 * Why a systemd oneshot rather than cloud-init's runcmd: cloud-init runs runcmd as one sh script
 * without `set -e` (a failed step does not stop the next: the units would start on a missing
 * .env.production), it has no failure hook to send ABANDON from, and no bound on a hung step.
 * A oneshot's ExecStart= lines run in order and stop at the first failure, TimeoutStartSec bounds
 * the whole boot, OnFailure= fires on a failed step, a timeout or a signal alike, and the journal
 * keeps the boot's log under one name (`journalctl -u mastodon-boot`). runcmd only starts it, once
 * per instance, as cloud-init runs runcmd once per instance.
 */
import { type Directive, renderUnit, type UnitFile } from "../../host/systemd";
import { type BootStep, bootTimeoutSeconds, execLine } from "./bootStep";
import {
  ABANDON_UNIT,
  BOOT_UNIT,
  DRAIN,
  DRAIN_UNIT,
  READINESS,
  READINESS_PATHS,
  READY_OVERHEAD_SECONDS,
  WATCH_UNIT,
  lifecycleHeartbeatSeconds,
  withReadiness,
} from "./readiness";

const ABANDON_REASON = `${BOOT_UNIT} failed (journalctl -u ${BOOT_UNIT})`;

/**
 * The boot unit (the steps, then readiness, then the watch enabled), the unit that abandons the
 * launch when it fails, and the watch. Started by cloud-init's runcmd with
 * `systemctl start --no-block` (bootCommands): cloud-init finishes its stage at once, and the
 * boot's outcome is the lifecycle action, not cloud-init's status.
 */
export function renderBootUnits(
  steps: readonly BootStep[],
  opts: { drain?: boolean; abandonReason?: string } = {},
): UnitFile[] {
  const all = withReadiness(steps, opts);
  lifecycleHeartbeatSeconds(steps);
  const boot = stepsUnit(
    BOOT_UNIT,
    "Mastodon first boot: secrets, units, readiness (completes the launch lifecycle action)",
    all,
  );
  const abandon: UnitFile = {
    name: ABANDON_UNIT,
    content: renderUnit({
      unit: [
        ["Description", "Mastodon first boot failed: complete the launch lifecycle action with ABANDON"],
      ],
      service: [
        ["Type", "oneshot"],
        ["TimeoutStartSec", READY_OVERHEAD_SECONDS],
        [
          "ExecStart",
          execLine([
            READINESS_PATHS.program,
            "--abandon",
            opts.abandonReason ?? ABANDON_REASON,
            READINESS_PATHS.config,
          ]),
        ],
      ],
    }),
  };
  const watch = readinessLoopUnit(
    WATCH_UNIT,
    "Mastodon watch: mark the instance Unhealthy when its services stay down",
    [READINESS_PATHS.program, "--watch", READINESS_PATHS.config],
    READINESS.watchIntervalSeconds,
  );
  // The drain signals Sidekiq's processes (another user's) and stops mastodon.target through systemd.
  const drain = readinessLoopUnit(
    DRAIN_UNIT,
    "Mastodon drain: quiet Sidekiq and let its jobs finish when the group terminates the host",
    [READINESS_PATHS.drain, READINESS_PATHS.config],
    DRAIN.intervalSeconds,
  );
  return [boot, abandon, watch, ...(opts.drain ? [drain] : [])];
}

/**
 * A oneshot that runs `steps` in order once the network is up, bounded by their sum, and abandons
 * the launch when one fails: the boot unit, and a warm pool host's preparation (warmPoolUnits.ts).
 */
export function stepsUnit(name: string, description: string, steps: readonly BootStep[]): UnitFile {
  return {
    name,
    content: renderUnit({
      unit: [
        ["Description", description],
        ["Wants", "network-online.target"],
        ["After", "network-online.target"],
        ["OnFailure", ABANDON_UNIT],
      ],
      service: [
        ["Type", "oneshot"],
        ["RemainAfterExit", "yes"],
        ["TimeoutStartSec", bootTimeoutSeconds(steps)],
        ...steps.map((s): Directive => ["ExecStart", execLine(s.argv)]),
      ],
    }),
  };
}

/**
 * A unit that runs `argv` (mastodon-ready --watch, mastodon-drain) for as long as the host
 * runs, after mastodon.target: root with its capabilities (it marks the instance's health, signals
 * Mastodon's processes, stops units), the system read-only but /etc and /var, a private /tmp.
 */
function readinessLoopUnit(
  name: string,
  description: string,
  argv: readonly string[],
  restartSec: number,
): UnitFile {
  return {
    name,
    content: renderUnit({
      unit: [
        ["Description", description],
        ["After", "mastodon.target"],
      ],
      service: [
        ["Type", "simple"],
        ["ExecStart", execLine(argv)],
        ["Restart", "on-failure"],
        ["RestartSec", restartSec],
        ["NoNewPrivileges", "true"],
        ["ProtectSystem", "full"],
        ["PrivateTmp", "true"],
      ],
      install: [["WantedBy", "multi-user.target"]],
    }),
  };
}

/** What cloud-init's runcmd does: load the units it wrote, start the boot without waiting for it. */
export function bootCommands(): string[][] {
  return [
    ["systemctl", "daemon-reload"],
    ["systemctl", "start", "--no-block", BOOT_UNIT],
  ];
}
