/**
 * How a fleet host's boot tells the Auto Scaling group whether the host is ready (pure): the launch
 * and drain lifecycle hooks and their time bounds, the names of the boot's units (bootUnits.ts
 * renders them), the readiness step that ends every boot, the checks
 * src/fleet/host/files/mastodon-ready.sh runs, and the files that carry it and mastodon-lifecycle.sh
 * (what it shares with mastodon-drain.sh and mastodon-pool.sh) onto the host.
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
 */
import type { Fleet } from "../../config/stackConfig";
import { DEFAULTS } from "../../vocabulary/defaults";
import { MASTODON_LIFECYCLE, MASTODON_READY, programText } from "../../host/programs";
import type { WriteFile } from "../../host/cloudInit";
import { renderKeyValueFile } from "../../host/conf";
import { type BootStep, bootTimeoutSeconds, hookTimeoutSeconds } from "./bootStep";
import { enabledUnits, type UnitContext } from "./units";

/** src/fleet/host/files/mastodon-ready.sh, installed as READINESS_PATHS.program. */
export { MASTODON_READY } from "../../host/programs";

/** The readiness program's text, byte for byte. */
export function readinessProgram(): string {
  return programText(MASTODON_READY);
}

export const READINESS_PATHS = {
  program: "/usr/local/sbin/mastodon-ready",
  /** mastodon-drain (DRAIN_UNIT), on a host running Sidekiq: a host file (hostFiles.ts). */
  drain: "/usr/local/sbin/mastodon-drain",
  /** Sourced by mastodon-ready, mastodon-drain and mastodon-pool from their own directory: beside them. */
  library: "/usr/local/sbin/mastodon-lifecycle.sh",
  config: "/etc/mastodon/readiness.conf",
  /** The lifecycle action's outcome: kept across reboots, read by the watch and by the OnFailure unit. */
  state: "/var/lib/mastodon-ready",
} as const;

export const BOOT_UNIT = "mastodon-boot.service";
export const ABANDON_UNIT = "mastodon-boot-abandon.service";
export const WATCH_UNIT = "mastodon-watch.service";
/** The drain (mastodon-drain, READINESS_PATHS.drain): quiets Sidekiq when the group terminates the host. */
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
export const READY_OVERHEAD_SECONDS = 300;

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
 * The launch hook's heartbeat timeout for a boot of `steps`: when no one completes the action or
 * records a heartbeat within it, the group applies the default result (ABANDON). The boot unit's
 * TimeoutStartSec (every step at its bound, readiness and the watch's start included) plus what
 * comes before and after it, a step that records heartbeats counting only its hookSeconds.
 * Throws when that exceeds AWS's 7200 s.
 */
export function lifecycleHeartbeatSeconds(steps: readonly BootStep[]): number {
  const heartbeat = hookTimeoutSeconds(withReadiness(steps)) + BEFORE_AND_AFTER_BOOT_SECONDS;
  if (heartbeat > MAX_LIFECYCLE_HEARTBEAT_SECONDS)
    throw new Error(
      `the boot may take ${heartbeat - BEFORE_AND_AFTER_BOOT_SECONDS} s, which with ${BEFORE_AND_AFTER_BOOT_SECONDS} s before and after it exceeds the launch hook's longest heartbeat timeout (${MAX_LIFECYCLE_HEARTBEAT_SECONDS} s)`,
    );
  return heartbeat;
}

/**
 * The longest a boot of `steps` may hold the launch hook: every step at its full bound, heartbeats
 * recorded or not. The hook's heartbeat timeout when no step records any.
 */
export function launchWaitSeconds(steps: readonly BootStep[]): number {
  return bootTimeoutSeconds(withReadiness(steps)) + BEFORE_AND_AFTER_BOOT_SECONDS;
}

/**
 * How long `pulumi up` waits for a group's minimum of instances InService (the group's
 * waitForCapacityTimeout): a launch, then the longest the launch hook may hold it (launchWaitSeconds).
 * A boot that fails is abandoned within that time, so the update fails instead of waiting on a
 * loop of replacements.
 */
export function capacityWaitSeconds(launchWait: number): number {
  return INSTANCE_LAUNCH_SECONDS + launchWait;
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

/**
 * /etc/mastodon/readiness.conf: one "key value" per line (mastodon-ready.sh reads it, mastodon-drain.sh
 * its drain_* keys).
 */
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

/**
 * The readiness program and the library it sources (mastodon-pool's and mastodon-drain's too), in
 * the user-data: they report a boot that fails before anything is fetched. The drain, which runs
 * only once the boot is done, is a host file (hostFiles.ts, HOST_FILES), fetched where Sidekiq runs.
 */
export function readinessFiles(): WriteFile[] {
  return [
    { path: READINESS_PATHS.program, content: readinessProgram(), permissions: "0755" },
    { path: READINESS_PATHS.library, content: programText(MASTODON_LIFECYCLE), permissions: "0644" },
  ];
}

/** The readiness step: the last of every boot. */
export function readinessStep(): BootStep {
  return {
    argv: [READINESS_PATHS.program, READINESS_PATHS.config],
    boundSeconds: READINESS.waitSeconds + READY_OVERHEAD_SECONDS,
  };
}

/** The boot's steps, then readiness, then the watch (and the drain) enabled: what the boot unit runs. */
export function withReadiness(steps: readonly BootStep[], opts: { drain?: boolean } = {}): BootStep[] {
  return [
    ...steps,
    readinessStep(),
    {
      argv: ["/usr/bin/systemctl", "enable", "--now", WATCH_UNIT, ...(opts.drain ? [DRAIN_UNIT] : [])],
      boundSeconds: 30,
    },
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
