/**
 * A fleet host's boot as one systemd oneshot that ends by telling the Auto Scaling group whether
 * the host is ready (pure): the boot unit, its OnFailure= companion, the watch that follows, and
 * the checks src/fleet/host/files/mastodon-ready.sh runs.
 *
 * The group holds every new instance in Pending:Wait on a launch lifecycle hook whose default
 * result is ABANDON (src/fleet/fleet.ts). The boot unit runs the steps in order (RDS CA bundle,
 * secrets, units, readiness); systemd stops at the first step that fails, kills the unit when it
 * overruns its TimeoutStartSec, and either way starts mastodon-boot-abandon.service, which
 * completes the action with ABANDON. mastodon-ready completes it with CONTINUE only once every
 * unit the fleet enabled is active and every local health endpoint answers, and with ABANDON when
 * they do not within READINESS.waitSeconds. A host whose boot never ran at all (broken user-data,
 * no network) is abandoned by the hook's heartbeat timeout. So an instance reaches InService only
 * ready, and one that is not is terminated and replaced (Amazon EC2 Auto Scaling User Guide,
 * "Amazon EC2 Auto Scaling lifecycle hooks": an abandoned launch terminates the instance).
 *
 * Why a systemd oneshot rather than cloud-init's runcmd: cloud-init runs runcmd as one sh script
 * without `set -e` (a failed step does not stop the next: the units would start on a missing
 * .env.production), it has no failure hook to send ABANDON from, and no bound on a hung step.
 * A oneshot's ExecStart= lines run in order and stop at the first failure, TimeoutStartSec bounds
 * the whole boot, OnFailure= fires on a failed step, a timeout or a signal alike, and the journal
 * keeps the boot's log under one name (`journalctl -u mastodon-boot`). runcmd only starts it, once
 * per instance, as cloud-init runs runcmd once per instance.
 */
import type { Fleet } from "../../config/resolve";
import { DEFAULTS } from "../../vocabulary/defaults";
import { ssmReadBoundSeconds } from "../../host/boot";
import { MASTODON_READY, programText } from "../../host/programs";
import { renderKeyValueFile } from "../../host/conf";
import { type Directive, renderUnit, type UnitFile } from "../../host/systemd";
import { enabledUnits, type UnitContext } from "./units";

/** src/fleet/host/files/mastodon-ready.sh, installed as READINESS_PATHS.program. */
export { MASTODON_READY } from "../../host/programs";

/** The readiness program's text, byte for byte. */
export function readinessProgram(): string {
  return programText(MASTODON_READY);
}

export const READINESS_PATHS = {
  program: "/usr/local/sbin/mastodon-ready",
  config: "/etc/mastodon/readiness.conf",
  /** The lifecycle action's outcome: kept across reboots, read by the watch and by the OnFailure unit. */
  state: "/var/lib/mastodon-ready",
} as const;

export const BOOT_UNIT = "mastodon-boot.service";
export const ABANDON_UNIT = "mastodon-boot-abandon.service";
export const WATCH_UNIT = "mastodon-watch.service";
/** The drain (mastodon-ready --drain): quiets Sidekiq when the group terminates the host. */
export const DRAIN_UNIT = "mastodon-drain.service";

/**
 * The termination hook of a fleet running Sidekiq (src/fleet/fleet.ts) and its drain: the jobs a
 * host runs when the group scales it in or an instance refresh replaces it get five minutes to
 * finish (most of Mastodon's take seconds; a job still running after that is pushed back onto its
 * queue by Sidekiq's own shutdown, not lost). The hook's heartbeat adds the stop and the call that
 * completes it; if nothing completes it, its default result lets the termination go on.
 */
export const DRAIN = {
  hookName: "mastodon-drain",
  timeoutSeconds: 300,
  intervalSeconds: 5,
  heartbeatSeconds: 300 + 120 + 120,
} as const;

/** The launch lifecycle hook every fleet's group declares and every host completes. */
export const LIFECYCLE_HOOK_NAME = "mastodon-ready";

/**
 * The readiness wait and the watch. 10 minutes covers Puma loading Rails and the streaming server
 * reaching Redis and Postgres on a cold host, with the units' own restarts (RestartSec 5) while a
 * tier is still coming up. The watch marks a host Unhealthy after 5 failed checks a minute apart:
 * a unit that crash-loops (Restart=always keeps it "activating", never "failed") for 5 minutes.
 */
export const READINESS = {
  waitSeconds: 600,
  intervalSeconds: 5,
  watchIntervalSeconds: 60,
  watchStrikes: 5,
} as const;

/**
 * What mastodon-ready.sh may spend besides the wait itself: a last round of checks (5 s per URL,
 * each `curl --max-time 5`), IMDS (two bounded curl calls of at most 30 s each), and completing the
 * action (AWS_ATTEMPTS = 5 calls of at most AWS_CALL_SECONDS = 30 s, 2+4+8+16 s apart).
 */
const READY_OVERHEAD_SECONDS = 300;

/** Allowance for everything before the boot unit: the OS, cloud-init's stages, and the OnFailure ABANDON call. */
const BEFORE_AND_AFTER_BOOT_SECONDS = 600;

/** The launch hook's longest heartbeat timeout (Amazon EC2 Auto Scaling API Reference, PutLifecycleHook: HeartbeatTimeout 30-7200). */
export const MAX_LIFECYCLE_HEARTBEAT_SECONDS = 7200;

/**
 * EC2's part before the boot counts: the instance launched and the launch template's user-data
 * reached (an instance is Pending for a minute or two; the allowance doubles it).
 */
export const INSTANCE_LAUNCH_SECONDS = 300;

/**
 * The launch hook's heartbeat timeout for a boot of `steps`: when no one completes the action within
 * it, the group applies the default result (ABANDON). The boot unit's TimeoutStartSec (every step
 * at its bound, readiness and the watch's start included) plus what comes before and after it.
 * Throws when that exceeds AWS's 7200 s.
 */
export function lifecycleHeartbeatSeconds(steps: readonly BootStep[]): number {
  const heartbeat = bootTimeoutSeconds(withReadiness(steps)) + BEFORE_AND_AFTER_BOOT_SECONDS;
  if (heartbeat > MAX_LIFECYCLE_HEARTBEAT_SECONDS)
    throw new Error(
      `the boot may take ${heartbeat - BEFORE_AND_AFTER_BOOT_SECONDS} s, which with ${BEFORE_AND_AFTER_BOOT_SECONDS} s before and after it exceeds the launch hook's longest heartbeat timeout (${MAX_LIFECYCLE_HEARTBEAT_SECONDS} s)`,
    );
  return heartbeat;
}

/**
 * How long `pulumi up` waits for a group's minimum of instances InService (the group's
 * waitForCapacityTimeout): a launch, then the longest the launch hook may hold it. A boot that
 * fails is abandoned within that time, so the update fails instead of waiting on a loop of
 * replacements.
 */
export function capacityWaitSeconds(heartbeatSeconds: number): number {
  return INSTANCE_LAUNCH_SECONDS + heartbeatSeconds;
}

/** The checks mastodon-ready runs: units that must be active, local URLs that must answer 2xx. */
export interface ReadinessChecks {
  readonly units: readonly string[];
  readonly urls: readonly string[];
}

export interface ReadinessConfigInput {
  readonly region: string;
  readonly checks: ReadinessChecks;
  readonly hook?: string;
  readonly waitSeconds?: number;
  readonly intervalSeconds?: number;
  readonly watchIntervalSeconds?: number;
  readonly watchStrikes?: number;
  readonly stateDir?: string;
  /** A fleet running Sidekiq: the drain's settings (DRAIN), with Sidekiq's process tag. @default none */
  readonly drain?: {
    readonly tag: string;
    readonly timeoutSeconds?: number;
    readonly intervalSeconds?: number;
  };
}

const WORD = /^[A-Za-z0-9_.:@/-]+$/;

/** /etc/mastodon/readiness.conf: one "key value" per line (mastodon-ready.sh reads it). */
export function renderReadinessConfig(input: ReadinessConfigInput): string {
  const { checks } = input;
  if (checks.units.length + checks.urls.length === 0) throw new Error("readiness: no check to run");
  const lines: [string, string | number][] = [
    ["region", input.region],
    ["hook", input.hook ?? LIFECYCLE_HOOK_NAME],
    ["timeout", input.waitSeconds ?? READINESS.waitSeconds],
    ["interval", input.intervalSeconds ?? READINESS.intervalSeconds],
    ["watch_interval", input.watchIntervalSeconds ?? READINESS.watchIntervalSeconds],
    ["strikes", input.watchStrikes ?? READINESS.watchStrikes],
    ["state", input.stateDir ?? READINESS_PATHS.state],
    ...checks.units.map((u): [string, string] => ["unit", u]),
    ...checks.urls.map((u): [string, string] => ["http", u]),
    ...(input.drain
      ? ([
          ["drain_hook", DRAIN.hookName],
          ["drain_timeout", input.drain.timeoutSeconds ?? DRAIN.timeoutSeconds],
          ["drain_interval", input.drain.intervalSeconds ?? DRAIN.intervalSeconds],
          ["drain_tag", input.drain.tag],
        ] as [string, string | number][])
      : []),
  ];
  return renderKeyValueFile(
    "readiness",
    // Host bytes name the module that first rendered them: moving the source must not change a host.
    "mastodon-aws: what mastodon-ready checks (core/host/readiness.ts)",
    lines,
    WORD,
  );
}

/** One step of the boot: a command (absolute path first) and the longest it may take. */
export interface BootStep {
  readonly argv: readonly string[];
  readonly boundSeconds: number;
  /** A wait that ends at the latest when the host has been up this long, then boundSeconds. @default none */
  readonly untilUptimeSeconds?: number;
}

/**
 * A command line as systemd reads ExecStart= (systemd.service(5), "Command lines"): `%` is a
 * specifier and `$` a variable, so both are doubled; an argument with spaces is double-quoted.
 * Quotes and backslashes, which systemd would unescape, are refused.
 */
export function execLine(argv: readonly string[]): string {
  if (!argv[0]?.startsWith("/"))
    throw new Error(`ExecStart needs an absolute path, not ${JSON.stringify(argv[0])}`);
  return argv
    .map((arg) => {
      if (arg === "" || /["'\\\n\r;]/.test(arg))
        throw new Error(`ExecStart argument ${JSON.stringify(arg)} cannot be written`);
      const escaped = arg.replace(/%/g, "%%").replace(/\$/g, "$$$$");
      return /\s/.test(arg) ? `"${escaped}"` : escaped;
    })
    .join(" ");
}

/** The readiness step: the last of every boot. */
export function readinessStep(): BootStep {
  return {
    argv: [READINESS_PATHS.program, READINESS_PATHS.config],
    boundSeconds: READINESS.waitSeconds + READY_OVERHEAD_SECONDS,
  };
}

/** The renderer's step, bounded by its SSM retries (boot.ts, SSM_READ_RETRY). */
export function renderSecretsStep(renderer: string, manifest: string): BootStep {
  return { argv: [renderer, manifest], boundSeconds: ssmReadBoundSeconds() + 10 };
}

/** The boot unit's TimeoutStartSec: every step at its bound. */
/**
 * The steps one after another, each at its bound; a step that waits until an uptime ends no later
 * than that uptime (the boot unit starts after the host does) plus its bound.
 */
export function bootTimeoutSeconds(steps: readonly BootStep[]): number {
  return steps.reduce((sum, s) => Math.max(sum, s.untilUptimeSeconds ?? 0) + s.boundSeconds, 0);
}

const ABANDON_REASON = `${BOOT_UNIT} failed (journalctl -u ${BOOT_UNIT})`;

/**
 * The boot unit (the steps, then readiness, then the watch enabled), the unit that abandons the
 * launch when it fails, and the watch. Started by cloud-init's runcmd with
 * `systemctl start --no-block` (bootCommands): cloud-init finishes its stage at once, and the
 * boot's outcome is the lifecycle action, not cloud-init's status.
 */
function withReadiness(steps: readonly BootStep[], opts: { drain?: boolean } = {}): BootStep[] {
  return [
    ...steps,
    readinessStep(),
    {
      argv: ["/usr/bin/systemctl", "enable", "--now", WATCH_UNIT, ...(opts.drain ? [DRAIN_UNIT] : [])],
      boundSeconds: 30,
    },
  ];
}

export function renderBootUnits(steps: readonly BootStep[], opts: { drain?: boolean } = {}): UnitFile[] {
  const all = withReadiness(steps, opts);
  lifecycleHeartbeatSeconds(steps);
  const timeout = bootTimeoutSeconds(all);
  const boot: UnitFile = {
    name: BOOT_UNIT,
    content: renderUnit({
      unit: [
        [
          "Description",
          "Mastodon first boot: secrets, units, readiness (completes the launch lifecycle action)",
        ],
        ["Wants", "network-online.target"],
        ["After", "network-online.target"],
        ["OnFailure", ABANDON_UNIT],
      ],
      service: [
        ["Type", "oneshot"],
        ["RemainAfterExit", "yes"],
        ["TimeoutStartSec", timeout],
        ...all.map((s): Directive => ["ExecStart", execLine(s.argv)]),
      ],
    }),
  };
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
          execLine([READINESS_PATHS.program, "--abandon", ABANDON_REASON, READINESS_PATHS.config]),
        ],
      ],
    }),
  };
  const watch = readinessLoopUnit(
    WATCH_UNIT,
    "Mastodon watch: mark the instance Unhealthy when its services stay down",
    "--watch",
    READINESS.watchIntervalSeconds,
  );
  // The drain signals Sidekiq's processes (another user's) and stops mastodon.target through systemd.
  const drain = readinessLoopUnit(
    DRAIN_UNIT,
    "Mastodon drain: quiet Sidekiq and let its jobs finish when the group terminates the host",
    "--drain",
    DRAIN.intervalSeconds,
  );
  return [boot, abandon, watch, ...(opts.drain ? [drain] : [])];
}

/**
 * A unit that runs mastodon-ready in one of its loops (`--watch`, `--drain`) for as long as the host
 * runs, after mastodon.target: root with its capabilities (it marks the instance's health, signals
 * Mastodon's processes, stops units), the system read-only but /etc and /var, a private /tmp.
 */
function readinessLoopUnit(name: string, description: string, mode: string, restartSec: number): UnitFile {
  return {
    name,
    content: renderUnit({
      unit: [
        ["Description", description],
        ["After", "mastodon.target"],
      ],
      service: [
        ["Type", "simple"],
        ["ExecStart", execLine([READINESS_PATHS.program, mode, READINESS_PATHS.config])],
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

/**
 * What a fleet's host must show before it is ready: every unit it enables active (PgBouncer,
 * Puma, each streaming port, each Sidekiq process, mastodon.target), Puma's /health on the web
 * port and the streaming server's /api/v1/streaming/health on each streaming port, the endpoints
 * the ALB's target groups check (docs/design.md, "Topology"), here on loopback.
 */
export function fleetReadinessChecks(fleet: Fleet, ctx: UnitContext): ReadinessChecks {
  return {
    units: enabledUnits(fleet, ctx),
    urls: [
      ...(fleet.web ? [`http://127.0.0.1:${DEFAULTS.web.port}/health`] : []),
      ...(fleet.streaming?.ports.map((p) => `http://127.0.0.1:${p}/api/v1/streaming/health`) ?? []),
    ],
  };
}
