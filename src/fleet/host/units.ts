/**
 * systemd units for a fleet, rendered from the resolved config (docs/design.md, "Processes, threads and units";
 * eigenmagic-systemd-template-units.txt) through the unit writer (systemd.ts). Pure: the pools here
 * are read from src/budget/budget.ts, so a unit's DB_POOL is the pool the budget counted.
 */
import { poolOf } from "../../budget/budget";
import type { Fleet } from "../../config/stackConfig";
import { DEFAULTS, SIDEKIQ_QUEUE_WEIGHTS, type SidekiqQueue } from "../../vocabulary/defaults";
import { type Directive, environment as env, renderUnit, type UnitFile } from "../../host/systemd";
import { ON_HOST_REDIS_UNITS } from "../../redis/onHostRedisUnits";
import { mastodonSandbox, restartAlways, type Runtime, startLimits } from "../../host/unitPolicy";

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

/**
 * Sidekiq's process tag (`sidekiq -g`): its process title reads "sidekiq <version> mastodon [N of M
 * busy]" (Sidekiq's launcher, PROCTITLES), which is how the drain finds the processes to quiet and
 * counts their running jobs, in both runtimes (a container's processes are the host's too).
 */
export const SIDEKIQ_TAG = "mastodon";

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
 * TimeoutSec of web and streaming, as Mastodon's dist/ units set it: Puma and the streaming server
 * start and stop within it; one that does not is killed, and Restart=always starts it again.
 */
export const MASTODON_TIMEOUT_SEC = 15;

/** Mastodon's sandbox, and the one directory Mastodon writes (public/system, tmp). */
const sandbox = (runtime: Runtime): Directive[] => [
  ...mastodonSandbox(runtime),
  ["ReadWritePaths", MASTODON_PATHS.live],
];

/** The host's own daemons a Mastodon unit waits for: PgBouncer when pooled, the on-host Redis. */
export function localDaemons(ctx: UnitContext): string[] {
  return [...(ctx.pooled ? [PGBOUNCER_UNIT] : []), ...(ctx.localRedis ? ON_HOST_REDIS_UNITS : [])];
}

/** [Unit] of a Mastodon service: after the network, and after the host's own daemons. */
const unitSection = (description: string, ctx: UnitContext): Directive[] => [
  ["Description", description],
  ["After", ["network.target", ...localDaemons(ctx)].join(" ")],
  ...(localDaemons(ctx).length ? [["Wants", localDaemons(ctx).join(" ")] as Directive] : []),
  ["PartOf", "mastodon.target"],
  ...startLimits,
];
const serviceBasics: Directive[] = [
  ["Type", "simple"],
  ["User", "mastodon"],
  ["WorkingDirectory", MASTODON_PATHS.live],
];
const install: Directive[] = [["WantedBy", "mastodon.target"]];

export function renderTarget(): UnitFile {
  return {
    name: "mastodon.target",
    content: renderUnit({
      unit: [
        ["Description", "Mastodon app server"],
        ["Requires", "network.target"],
        // No Wants=multi-user.target: a target is ordered after what it wants, and the watch and
        // the drain, WantedBy=multi-user.target and After=mastodon.target, would close a cycle that
        // systemd breaks at every boot after the first by deleting their start jobs (found by
        // booting a whole host: test/real/wholeHost.real.test.ts).
        ["After", "network.target"],
      ],
      install: [["WantedBy", "multi-user.target"]],
    }),
  };
}

/** What the units need besides the fleet: PgBouncer on the host, or TLS straight to RDS. */
export interface UnitContext {
  readonly pooled: boolean;
  /** Both Redis run on this host (redis.onHost): the Mastodon units start after them. @default false */
  readonly localRedis?: boolean;
}

export const PGBOUNCER_UNIT = "mastodon-pgbouncer.service";

export function renderWebUnit(fleet: Fleet, ctx: UnitContext): UnitFile {
  if (!fleet.web) throw new Error(`fleet ${fleet.name} runs no web`);
  return {
    name: "mastodon-web.service",
    content: renderUnit({
      unit: unitSection("mastodon-web", ctx),
      service: [
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
        ["TimeoutSec", MASTODON_TIMEOUT_SEC],
        ...restartAlways,
        ...sandbox("ruby"),
      ],
      install,
    }),
  };
}

/** One process per port since Mastodon 4.2: mastodon-streaming@4000, @4001, ... */
export function renderStreamingUnit(fleet: Fleet, ctx: UnitContext): UnitFile {
  if (!fleet.streaming) throw new Error(`fleet ${fleet.name} runs no streaming`);
  return {
    name: "mastodon-streaming@.service",
    content: renderUnit({
      unit: unitSection("mastodon-streaming on port %i", ctx),
      service: [
        ...serviceBasics,
        env("NODE_ENV", "production"),
        env("PORT", "%i"),
        env("BIND", "0.0.0.0"),
        env("DB_POOL", poolOf(fleet, "streaming")),
        // Direct TLS to RDS is verified (docs/design.md, "Encryption in transit"): trust the RDS CA bundle.
        ...(ctx.pooled ? [] : [env("NODE_EXTRA_CA_CERTS", MASTODON_PATHS.rdsCaBundle)]),
        ["ExecStart", `${MASTODON_PATHS.node} ./streaming/index.js`],
        ["TimeoutSec", MASTODON_TIMEOUT_SEC],
        ...restartAlways,
        ...sandbox("node"),
      ],
      install,
    }),
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
    content: renderUnit({
      unit: unitSection(`mastodon-sidekiq ${sidekiq.queues.join(",")} (process ${i + 1}, %i threads)`, ctx),
      service: [
        ...serviceBasics,
        env("RAILS_ENV", "production"),
        env("DB_POOL", "%i"),
        // eigenmagic-systemd-template-units.txt: MALLOC_ARENA_MAX=2 halved Sidekiq's memory.
        env("MALLOC_ARENA_MAX", 2),
        env("LD_PRELOAD", JEMALLOC_PRELOAD),
        ["ExecStart", `${MASTODON_PATHS.bundle} exec sidekiq -g ${SIDEKIQ_TAG} -c %i ${queues}`],
        ["TimeoutStopSec", SIDEKIQ_STOP_TIMEOUT_SECONDS],
        ...restartAlways,
        ...sandbox("ruby"),
      ],
      install,
    }),
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
