/**
 * systemd units for a fleet, rendered from the resolved config (docs/design.md, "Processes, threads and units";
 * eigenmagic-systemd-template-units.txt). Pure: the pools here are read from core/budget.ts, so a
 * unit's DB_POOL is the pool the budget counted.
 */
import { poolOf } from "../sizing/budget";
import type { Fleet } from "../config/resolve";
import { DEFAULTS, SIDEKIQ_QUEUE_WEIGHTS, type SidekiqQueue } from "../defaults";

/** Where the Mastodon machine image keeps things (Mastodon's install guide and dist/ units). */
export const MASTODON_PATHS = {
  home: "/home/mastodon",
  live: "/home/mastodon/live",
  envFile: "/home/mastodon/live/.env.production",
  bundle: "/home/mastodon/.rbenv/shims/bundle",
  node: "/usr/bin/node",
  unitDir: "/etc/systemd/system",
  /** The RDS CA bundle: libpq finds it as ~/.postgresql/root.crt, node through NODE_EXTRA_CA_CERTS. */
  rdsCaBundle: "/etc/ssl/certs/rds-global-bundle.pem",
} as const;

export interface UnitFile {
  readonly name: string;
  readonly content: string;
}

/** Sidekiq stops within 25 s (its shutdown timeout); give it room before SIGKILL. */
export const SIDEKIQ_STOP_TIMEOUT_SECONDS = 30;

/**
 * jemalloc for Ruby (eigenmagic-systemd-template-units.txt: Puma and Sidekiq use less memory with
 * it). The seed's `libjemalloc.so` is the unversioned development link, shipped only by
 * libjemalloc-dev; Debian's and Ubuntu's libjemalloc2 ship `libjemalloc.so.2`, and the loader
 * silently ignores an LD_PRELOAD entry it cannot find. The bare soname is found through the
 * loader's cache on amd64 and arm64 alike, where a full path would name one architecture's directory.
 */
export const JEMALLOC_PRELOAD = "libjemalloc.so.2";

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

export type Directive = readonly [key: string, value: string | number];

export function section(name: string, directives: readonly Directive[]): string[] {
  return [`[${name}]`, ...directives.map(([k, v]) => `${k}=${v}`), ""];
}

export function render(...sections: string[][]): string {
  return sections.flat().join("\n").replace(/\n+$/, "\n");
}

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

const env = (name: string, value: string | number): Directive => ["Environment", `"${name}=${value}"`];

/**
 * The sandboxing Mastodon's own dist/ units carry (eigenmagic-systemd-template-units.txt).
 */
function sandbox(runtime: "ruby" | "node"): Directive[] {
  // Mastodon's streaming unit also denies @memlock and @resources; its Ruby units allow @chown.
  const extraDenied = runtime === "node" ? ["@memlock"] : [];
  const denied = [
    "@cpu-emulation",
    "@debug",
    "@keyring",
    "@ipc",
    ...extraDenied,
    "@mount",
    "@obsolete",
    "@privileged",
    ...(runtime === "node" ? ["@resources"] : []),
    "@setuid",
  ];
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
    ...(runtime === "ruby" ? [["SystemCallFilter", "@chown"] as Directive] : []),
    ["SystemCallFilter", "pipe"],
    ["SystemCallFilter", "pipe2"],
    ["ReadWritePaths", MASTODON_PATHS.live],
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

/** [Unit] of a Mastodon service: after the network, and after the local PgBouncer when pooled. */
const unitSection = (description: string, ctx: UnitContext): Directive[] => [
  ["Description", description],
  ["After", ["network.target", ...(ctx.pooled ? [PGBOUNCER_UNIT] : [])].join(" ")],
  ...(ctx.pooled ? [["Wants", PGBOUNCER_UNIT] as Directive] : []),
  ["PartOf", "mastodon.target"],
  ...startLimits,
];
const serviceBasics: Directive[] = [
  ["Type", "simple"],
  ["User", "mastodon"],
  ["WorkingDirectory", MASTODON_PATHS.live],
];
const install = section("Install", [["WantedBy", "mastodon.target"]]);

export function renderTarget(): UnitFile {
  return {
    name: "mastodon.target",
    content: render(
      section("Unit", [
        ["Description", "Mastodon app server"],
        ["Requires", "network.target"],
        ["Wants", "multi-user.target"],
        ["After", "network.target"],
      ]),
      section("Install", [["WantedBy", "multi-user.target"]]),
    ),
  };
}

/** What the units need besides the fleet: PgBouncer on the host, or TLS straight to RDS. */
export interface UnitContext {
  readonly pooled: boolean;
}

export const PGBOUNCER_UNIT = "mastodon-pgbouncer.service";

export function renderWebUnit(fleet: Fleet, ctx: UnitContext): UnitFile {
  if (!fleet.web) throw new Error(`fleet ${fleet.name} runs no web`);
  return {
    name: "mastodon-web.service",
    content: render(
      section("Unit", unitSection("mastodon-web", ctx)),
      section("Service", [
        ...serviceBasics,
        env("RAILS_ENV", "production"),
        // Read by config/puma.rb before .env.production is loaded: they must live here.
        env("PORT", DEFAULTS.web.port),
        // Behind the ALB: listen on every address (the security group admits only the ALB).
        env("BIND", "0.0.0.0"),
        env("WEB_CONCURRENCY", fleet.web.processes),
        env("MAX_THREADS", poolOf(fleet, "web")),
        // The seed sets no MALLOC_ARENA_MAX for Puma, only for Sidekiq.
        env("LD_PRELOAD", JEMALLOC_PRELOAD),
        ["ExecStart", `${MASTODON_PATHS.bundle} exec puma -C config/puma.rb`],
        ["ExecReload", "/bin/kill -SIGUSR1 $MAINPID"],
        ["TimeoutSec", 15],
        ...restartAlways,
        ...sandbox("ruby"),
      ]),
      install,
    ),
  };
}

/** One process per port since Mastodon 4.2: mastodon-streaming@4000, @4001, ... */
export function renderStreamingUnit(fleet: Fleet, ctx: UnitContext): UnitFile {
  if (!fleet.streaming) throw new Error(`fleet ${fleet.name} runs no streaming`);
  return {
    name: "mastodon-streaming@.service",
    content: render(
      section("Unit", unitSection("mastodon-streaming on port %i", ctx)),
      section("Service", [
        ...serviceBasics,
        env("NODE_ENV", "production"),
        env("PORT", "%i"),
        env("BIND", "0.0.0.0"),
        env("DB_POOL", poolOf(fleet, "streaming")),
        // Direct TLS to RDS is verified (docs/design.md, "Encryption in transit"): trust the RDS CA bundle.
        ...(ctx.pooled ? [] : [env("NODE_EXTRA_CA_CERTS", MASTODON_PATHS.rdsCaBundle)]),
        ["ExecStart", `${MASTODON_PATHS.node} ./streaming/index.js`],
        ["TimeoutSec", 15],
        ...restartAlways,
        ...sandbox("node"),
      ]),
      install,
    ),
  };
}

/** The queue set in a unit name: mastodon-sidekiq-default, mastodon-sidekiq-push-pull. */
export function sidekiqUnitPrefix(fleet: Fleet, processIndex: number): string {
  if (!fleet.sidekiq) throw new Error(`fleet ${fleet.name} runs no sidekiq`);
  const base = `mastodon-sidekiq-${fleet.sidekiq.queues.join("-")}`;
  return processIndex === 1 ? base : `${base}-${processIndex}`;
}

/**
 * Sidekiq's -q arguments for a fleet's queues. One queue needs no weight. Several are weighted as
 * Mastodon's config/sidekiq.yml weights them (SIDEKIQ_QUEUE_WEIGHTS): unweighted, Sidekiq takes
 * the queues in strict order, and a default backlog would starve scheduler and mailers.
 */
export function sidekiqQueueArgs(queues: readonly SidekiqQueue[]): string {
  if (queues.length === 1) return `-q ${queues[0]}`;
  return queues.map((q) => `-q ${q},${SIDEKIQ_QUEUE_WEIGHTS[q]}`).join(" ");
}

/**
 * The Sidekiq template of a fleet, %i = threads (eigenmagic): `-c %i`, DB_POOL=%i, one -q per
 * queue, weighted when there are several. An instance name can hold one process only, so the second and later processes on a host
 * get copies of the template named -2, -3, ... (eigenmagic: "copying an existing sidekiq unit
 * definition to a new one"), each enabled with the same thread count.
 */
export function renderSidekiqUnits(fleet: Fleet, ctx: UnitContext): UnitFile[] {
  const sidekiq = fleet.sidekiq;
  if (!sidekiq) throw new Error(`fleet ${fleet.name} runs no sidekiq`);
  const queues = sidekiqQueueArgs(sidekiq.queues);
  return Array.from({ length: sidekiq.processes }, (_, i) => ({
    name: `${sidekiqUnitPrefix(fleet, i + 1)}@.service`,
    content: render(
      section(
        "Unit",
        unitSection(`mastodon-sidekiq ${sidekiq.queues.join(",")} (process ${i + 1}, %i threads)`, ctx),
      ),
      section("Service", [
        ...serviceBasics,
        env("RAILS_ENV", "production"),
        env("DB_POOL", "%i"),
        // eigenmagic-systemd-template-units.txt: MALLOC_ARENA_MAX=2 halved Sidekiq's memory.
        env("MALLOC_ARENA_MAX", 2),
        env("LD_PRELOAD", JEMALLOC_PRELOAD),
        ["ExecStart", `${MASTODON_PATHS.bundle} exec sidekiq -c %i ${queues}`],
        ["TimeoutStopSec", SIDEKIQ_STOP_TIMEOUT_SECONDS],
        ...restartAlways,
        ...sandbox("ruby"),
      ]),
      install,
    ),
  }));
}

/** The unit instances a fleet enables: what `systemctl enable` gets, in order. */
export function enabledUnits(fleet: Fleet, ctx: UnitContext): string[] {
  return [
    ...(ctx.pooled ? [PGBOUNCER_UNIT] : []),
    ...(fleet.web ? ["mastodon-web.service"] : []),
    ...(fleet.streaming?.ports.map((p) => `mastodon-streaming@${p}.service`) ?? []),
    ...(fleet.sidekiq
      ? Array.from(
          { length: fleet.sidekiq.processes },
          (_, i) => `${sidekiqUnitPrefix(fleet, i + 1)}@${poolOf(fleet, "sidekiq")}.service`,
        )
      : []),
    "mastodon.target",
  ];
}

export function renderFleetUnits(fleet: Fleet, ctx: UnitContext): UnitFile[] {
  return [
    renderTarget(),
    ...(fleet.web ? [renderWebUnit(fleet, ctx)] : []),
    ...(fleet.streaming ? [renderStreamingUnit(fleet, ctx)] : []),
    ...(fleet.sidekiq ? renderSidekiqUnits(fleet, ctx) : []),
  ];
}
