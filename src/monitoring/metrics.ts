/**
 * What the hosts publish to CloudWatch once a minute, and how (pure): the metric names every alarm,
 * panel and scaling policy reads, the collector's per-host config, and its units (a oneshot service
 * and the timer that starts it). The collector is src/monitoring/files/mastodon-metrics.py, with its
 * modules beside it (mastodon_metrics_sources.py, mastodon_metrics_cloudwatch.py).
 *
 * Who publishes what:
 * - the Sidekiq backlog (per queue size and latency, the retry, dead and scheduled sets, and per
 *   Sidekiq fleet the largest latency of its queues) comes from the scheduler's host only. The
 *   config rules keep exactly one scheduler host in the stack (maxSize 1, never scaled), so there is
 *   one publisher without an election, and it already reads the persistent Redis. Its cost per run
 *   is two O(1) commands per queue and three for the sets in one pipeline, whatever the backlog.
 * - PgBouncer's waiting clients and longest wait, and the streaming server's connections, come from
 *   every host that runs them, with the fleet as dimension: CloudWatch's Sum and Maximum over a
 *   minute then give the fleet's total and its worst host.
 *
 * Mastodon's Prometheus exporter (MASTODON_PROMETHEUS_EXPORTER_*, Mastodon 4.3+) is not used for
 * this: its Sidekiq figures come from each process (one per process, to be scraped and summed by a
 * Prometheus server this stack does not run), and its queue latency comes from the same Redis reads
 * done in every Sidekiq process instead of one. One reader in the VPC gives one authoritative figure
 * per queue with no scraper to operate.
 */
import type { Fleet } from "../config/stackConfig";
import type { SidekiqQueue } from "../vocabulary/defaults";
import { PGBOUNCER_PORT } from "../host/env";
import { PGBOUNCER_PATHS } from "../database/pgbouncer";
import { type Directive, renderUnit, type UnitFile } from "../host/systemd";
import { daemonSandbox } from "../host/unitPolicy";

/** The CloudWatch namespace of every custom metric; the fleet's role may publish to it and no other. */
export const METRICS_NAMESPACE = "Mastodon";

/** Every custom metric, its unit, and which dimensions (besides Stack) it carries. */
export const METRICS = {
  queueSize: { name: "QueueSize", unit: "Count", by: "Queue" },
  queueLatency: { name: "QueueLatency", unit: "Seconds", by: "Queue" },
  retrySetSize: { name: "RetrySetSize", unit: "Count", by: undefined },
  deadSetSize: { name: "DeadSetSize", unit: "Count", by: undefined },
  scheduledSetSize: { name: "ScheduledSetSize", unit: "Count", by: undefined },
  fleetQueueLatency: { name: "FleetQueueLatency", unit: "Seconds", by: "Fleet" },
  pgbouncerClientsWaiting: { name: "PgBouncerClientsWaiting", unit: "Count", by: "Fleet" },
  pgbouncerMaxWait: { name: "PgBouncerMaxWait", unit: "Seconds", by: "Fleet" },
  streamingConnections: { name: "StreamingConnections", unit: "Count", by: "Fleet" },
  redisMemoryPercent: { name: "RedisMemoryPercent", unit: "Percent", by: "Role" },
} as const;
export type MetricKey = keyof typeof METRICS;

/** The timer's period: CloudWatch's standard resolution, and the granularity of every alarm on these. */
export const METRICS_PERIOD_SECONDS = 60;

/**
 * The collector's own directory: the program and the modules it imports, which Python finds in the
 * program's directory (the first entry of sys.path), so they are installed together and not in
 * /usr/local/sbin. The unit runs the program through /usr/bin/python3; nothing runs it by name.
 */
const METRICS_DIR = "/usr/local/lib/mastodon-metrics/";

export const METRICS_PATHS = {
  /** Every file in it is the collector's: a host fetches them all where it publishes, or none. */
  dir: METRICS_DIR,
  program: `${METRICS_DIR}mastodon-metrics`,
  /** The collectors (src/monitoring/files/mastodon_metrics_sources.py). */
  sources: `${METRICS_DIR}mastodon_metrics_sources.py`,
  /** IMDS credentials, SigV4 and PutMetricData (src/monitoring/files/mastodon_metrics_cloudwatch.py). */
  cloudwatch: `${METRICS_DIR}mastodon_metrics_cloudwatch.py`,
  config: "/etc/mastodon/metrics.json",
  /** SIDEKIQ_REDIS_URL for the queue collector: filled at boot, read by systemd only (root, 0600). */
  env: "/etc/mastodon/metrics.env",
  envTemplate: "/etc/mastodon/metrics.env.template",
} as const;

export const METRICS_UNITS = {
  service: "mastodon-metrics.service",
  timer: "mastodon-metrics.timer",
} as const;

/** The collector's bound per run: well inside the minute, so two runs never overlap. */
export const METRICS_RUN_BOUND_SECONDS = 50;

/** What the collector reads on one host (the JSON at METRICS_PATHS.config). */
export interface HostMetricsConfig {
  /** The Stack dimension of every value: the stack's SSM path, unique per MastodonStack in an account. */
  readonly stack: string;
  readonly region: string;
  readonly namespace: string;
  readonly fleet: string;
  /** Queues whose size and latency this host publishes (the scheduler's host: all of them). */
  readonly queues: readonly SidekiqQueue[];
  /** Per Sidekiq fleet, the queues whose largest latency is its FleetQueueLatency. */
  readonly fleetQueues: Readonly<Record<string, readonly SidekiqQueue[]>>;
  readonly pgbouncer: { readonly socketDir: string; readonly port: number } | null;
  readonly streamingPorts: readonly number[];
  /** redis.onHost: the two Redis on this host, each read with the URL in the named env variable. */
  readonly redis: readonly { readonly role: "cache" | "persistent"; readonly env: string }[];
}

/** redis.onHost: which env variable holds each on-host Redis's URL (with its password). */
export const ON_HOST_REDIS_URL_ENV = { cache: "CACHE_REDIS_URL", persistent: "SIDEKIQ_REDIS_URL" } as const;

/** What the stack gives every host's collector. */
export interface StackMetricsInput {
  readonly stack: string;
  readonly region: string;
  readonly fleets: readonly Fleet[];
}

/** Every queue some fleet serves: the queues the scheduler's host publishes, and their alarms. */
export function stackQueues(fleets: readonly Fleet[]): SidekiqQueue[] {
  return [...new Set(fleets.flatMap((f) => f.sidekiq?.queues ?? []))];
}

export function hostMetricsConfig(
  fleet: Fleet,
  stack: StackMetricsInput,
  ctx: { readonly pooled: boolean; readonly localRedis?: boolean },
): HostMetricsConfig {
  // The scheduler's host publishes the backlog: one host in the stack.
  const queues = fleet.servesScheduler;
  const sidekiqFleets = stack.fleets.filter((f) => f.sidekiq);
  return {
    stack: stack.stack,
    region: stack.region,
    namespace: METRICS_NAMESPACE,
    fleet: fleet.name,
    queues: queues ? stackQueues(stack.fleets) : [],
    fleetQueues: queues
      ? Object.fromEntries(sidekiqFleets.map((f) => [f.name, f.sidekiq?.queues ?? []]))
      : {},
    pgbouncer: ctx.pooled ? { socketDir: PGBOUNCER_PATHS.socketDir, port: PGBOUNCER_PORT } : null,
    streamingPorts: fleet.streaming?.ports ?? [],
    redis: ctx.localRedis
      ? (["cache", "persistent"] as const).map((role) => ({ role, env: ON_HOST_REDIS_URL_ENV[role] }))
      : [],
  };
}

/**
 * Every metric series the stack's hosts publish, as name and dimension value (CloudWatch bills each
 * once, however many hosts send it): read from the same per-host configs the collector reads.
 */
export function publishedSeries(
  fleets: readonly Fleet[],
  ctx: { readonly pooled: boolean; readonly localRedis?: boolean },
): string[] {
  const stack = { stack: "", region: "", fleets };
  const series = new Set<string>();
  for (const fleet of fleets) {
    const host = hostMetricsConfig(fleet, stack, ctx);
    for (const q of host.queues)
      for (const m of [METRICS.queueSize, METRICS.queueLatency]) series.add(`${m.name}/${q}`);
    if (host.queues.length > 0)
      for (const m of [METRICS.retrySetSize, METRICS.deadSetSize, METRICS.scheduledSetSize])
        series.add(m.name);
    for (const f of Object.keys(host.fleetQueues)) series.add(`${METRICS.fleetQueueLatency.name}/${f}`);
    if (host.pgbouncer)
      for (const m of [METRICS.pgbouncerClientsWaiting, METRICS.pgbouncerMaxWait])
        series.add(`${m.name}/${fleet.name}`);
    if (host.streamingPorts.length > 0) series.add(`${METRICS.streamingConnections.name}/${fleet.name}`);
    for (const r of host.redis) series.add(`${METRICS.redisMemoryPercent.name}/${r.role}`);
  }
  return [...series];
}

/** Whether a host has anything to publish (a web-only fleet without PgBouncer has not). */
export function hasMetrics(config: HostMetricsConfig): boolean {
  return (
    config.queues.length > 0 ||
    config.pgbouncer !== null ||
    config.streamingPorts.length > 0 ||
    config.redis.length > 0
  );
}

/**
 * The collector's service and timer. The service runs as postgres where PgBouncer runs (the admin
 * console trusts that user on its socket), else as a dynamic user; either way sandboxed like the
 * daemons, with nothing to write. The timer is wanted by mastodon.target, so the boot's
 * `systemctl start mastodon.target` starts it (timers.target is long reached by then).
 */
export function renderMetricsUnits(config: HostMetricsConfig): UnitFile[] {
  const user: Directive[] = config.pgbouncer !== null ? [["User", "postgres"]] : [["DynamicUser", "true"]];
  const service: Directive[] = [
    ["Type", "oneshot"],
    ...user,
    ...(readsRedis(config) ? [["EnvironmentFile", METRICS_PATHS.env] as Directive] : []),
    ["ExecStart", `/usr/bin/python3 ${METRICS_PATHS.program} ${METRICS_PATHS.config}`],
    ["TimeoutStartSec", METRICS_RUN_BOUND_SECONDS],
    // Shares the postgres user with PgBouncer: leave its IPC objects alone (unitPolicy.ts).
    ...daemonSandbox({ readWritePaths: [], removeIpc: false }),
  ];
  return [
    {
      name: METRICS_UNITS.service,
      content: renderUnit({
        unit: [
          ["Description", "Publishes Sidekiq, PgBouncer and streaming figures to CloudWatch (mastodon-aws)"],
          ["After", "network-online.target"],
          ["Wants", "network-online.target"],
        ],
        service,
      }),
    },
    {
      name: METRICS_UNITS.timer,
      content: renderUnit({
        unit: [["Description", "Runs mastodon-metrics.service every minute"]],
        timer: [
          ["OnCalendar", "*-*-* *:*:00"],
          ["AccuracySec", "1s"],
          ["Unit", METRICS_UNITS.service],
        ],
        install: [["WantedBy", "mastodon.target"]],
      }),
    },
  ];
}

/** Whether the collector on this host reads a Redis (the backlog, or the on-host servers' memory). */
export function readsRedis(config: HostMetricsConfig): boolean {
  return config.queues.length > 0 || config.redis.length > 0;
}

/**
 * The metrics.env template: the Redis URLs the collector reads (placeholders for their passwords,
 * filled at boot), nothing else of the env.
 */
export function renderMetricsEnvTemplate(
  config: HostMetricsConfig,
  env: Readonly<Record<string, string>>,
): string {
  const names = [
    ...new Set([
      ...(config.queues.length > 0 ? ["SIDEKIQ_REDIS_URL"] : []),
      ...config.redis.map((r) => r.env),
    ]),
  ];
  const lines = names.map((name) => {
    const url = env[name];
    if (url === undefined) throw new Error(`the metrics collector needs ${name} in the env`);
    return `${name}=${url}`;
  });
  return `# mastodon-aws: the Redis the metrics collector reads; the SSM placeholders are filled at boot\n${lines.join("\n")}\n`;
}
