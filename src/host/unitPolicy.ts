/**
 * What every service this package writes shares, as directives for the unit writer (systemd.ts):
 * the restart policy, and the sandboxes (Mastodon's own, from its dist/ units, and the C daemons').
 * Pure.
 */
import type { Directive } from "./systemd";

/**
 * Restart=always waits RESTART_SEC between attempts, so a service starts at most
 * floor(START_LIMIT_INTERVAL_SEC / RESTART_SEC) + 1 times in one START_LIMIT_INTERVAL_SEC (13),
 * fewer than START_LIMIT_BURST whenever START_LIMIT_BURST x RESTART_SEC > START_LIMIT_INTERVAL_SEC
 * (75 > 60). So while Postgres or Redis is still down at boot the units keep retrying, instead of
 * exhausting systemd's default start limit (5 starts in 10 s, at a 100 ms RestartSec) and staying
 * failed until someone resets them.
 */
export const RESTART_SEC = 5;
export const START_LIMIT_INTERVAL_SEC = 60;
export const START_LIMIT_BURST = 15;

/** [Unit]: the start limit that Restart=always with RESTART_SEC never exhausts. */
export const startLimits: readonly Directive[] = [
  ["StartLimitIntervalSec", START_LIMIT_INTERVAL_SEC],
  ["StartLimitBurst", START_LIMIT_BURST],
];
/** [Service]: restart forever, RESTART_SEC apart. */
export const restartAlways: readonly Directive[] = [
  ["Restart", "always"],
  ["RestartSec", RESTART_SEC],
];

/**
 * LimitNOFILE of the C daemons, as Debian's pgbouncer.service and redis-server.service set it:
 * PgBouncer holds a descriptor per client and per server connection, Redis one per client (its
 * maxclients, 10000, plus 32 of its own), both far below this.
 */
export const DAEMON_OPEN_FILES = 65536;

export type Runtime = "ruby" | "node";

/**
 * The sandboxing Mastodon's own dist/ units carry (eigenmagic-systemd-template-units.txt).
 * Mastodon's streaming unit (node) also denies @memlock and @resources; its Ruby units allow @chown.
 */
export function mastodonSandbox(runtime: Runtime): Directive[] {
  let denied: string[];
  let allowed: Directive[];
  switch (runtime) {
    case "ruby":
      denied = [
        "@cpu-emulation",
        "@debug",
        "@keyring",
        "@ipc",
        "@mount",
        "@obsolete",
        "@privileged",
        "@setuid",
      ];
      allowed = [["SystemCallFilter", "@chown"]];
      break;
    case "node":
      denied = [
        "@cpu-emulation",
        "@debug",
        "@keyring",
        "@ipc",
        "@memlock",
        "@mount",
        "@obsolete",
        "@privileged",
        "@resources",
        "@setuid",
      ];
      allowed = [];
      break;
    default: {
      const unknown: never = runtime;
      throw new Error(`unknown runtime ${String(unknown)}`);
    }
  }
  return [
    ["CapabilityBoundingSet", ""],
    ["NoNewPrivileges", "true"],
    ["ProtectSystem", "strict"],
    ["PrivateTmp", "true"],
    ["PrivateDevices", "true"],
    ["PrivateUsers", "true"],
    ["ProtectHostname", "true"],
    ["ProtectKernelLogs", "true"],
    ["ProtectKernelModules", "true"],
    ["ProtectKernelTunables", "true"],
    ["ProtectControlGroups", "true"],
    ["RestrictAddressFamilies", "AF_INET"],
    ["RestrictAddressFamilies", "AF_INET6"],
    ["RestrictAddressFamilies", "AF_NETLINK"],
    ["RestrictAddressFamilies", "AF_UNIX"],
    ["RestrictNamespaces", "true"],
    ["LockPersonality", "true"],
    ["RestrictRealtime", "true"],
    ["RestrictSUIDSGID", "true"],
    ["RemoveIPC", "true"],
    ["PrivateMounts", "true"],
    ["ProtectClock", "true"],
    ["SystemCallArchitectures", "native"],
    ["SystemCallFilter", `~${denied.join(" ")}`],
    ...allowed,
    ["SystemCallFilter", "pipe"],
    ["SystemCallFilter", "pipe2"],
  ];
}

/**
 * The sandbox of the C daemons beside Mastodon (PgBouncer, the self-managed Redis): what Mastodon's
 * units carry, plus what a program without a JIT, child programs or home directory allows
 * (Debian's redis-server.service carries the same set). A denied system call fails with EPERM
 * rather than killing the daemon. `removeIpc` is off for a daemon running as a user another
 * service shares (PgBouncer runs as postgres: RemoveIPC would drop a local PostgreSQL's shared
 * memory when PgBouncer stops).
 */
export function daemonSandbox(opts: {
  readonly readWritePaths: readonly string[];
  readonly removeIpc: boolean;
}): Directive[] {
  return [
    ["CapabilityBoundingSet", ""],
    ["NoNewPrivileges", "true"],
    ["ProtectSystem", "strict"],
    ["ProtectHome", "true"],
    ["PrivateTmp", "true"],
    ["PrivateDevices", "true"],
    ["PrivateUsers", "true"],
    ["PrivateMounts", "true"],
    ["ProtectHostname", "true"],
    ["ProtectClock", "true"],
    ["ProtectKernelLogs", "true"],
    ["ProtectKernelModules", "true"],
    ["ProtectKernelTunables", "true"],
    ["ProtectControlGroups", "true"],
    ["ProtectProc", "invisible"],
    // TCP on loopback and to the network, AF_UNIX for sd_notify (Type=notify) and the journal.
    ["RestrictAddressFamilies", "AF_INET AF_INET6 AF_UNIX"],
    ["RestrictNamespaces", "true"],
    ["LockPersonality", "true"],
    ["MemoryDenyWriteExecute", "true"],
    ["RestrictRealtime", "true"],
    ["RestrictSUIDSGID", "true"],
    ...(opts.removeIpc ? [["RemoveIPC", "true"] as Directive] : []),
    ["UMask", "0077"],
    ["SystemCallArchitectures", "native"],
    ["SystemCallFilter", "@system-service"],
    ["SystemCallFilter", "~@privileged @resources"],
    ["SystemCallErrorNumber", "EPERM"],
    ...opts.readWritePaths.map((p): Directive => ["ReadWritePaths", p]),
  ];
}
