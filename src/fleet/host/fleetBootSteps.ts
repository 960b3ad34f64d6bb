/**
 * A fleet host's boot steps in order, each with its bound (pure): the runtime's setup, the fetched
 * programs, the RDS CA bundle, the secrets, the on-host Redis, the units enabled, the database's
 * lifecycle on the scheduler's host, then mastodon.target started. The boot unit runs them
 * (bootUnits.ts) and its TimeoutStartSec is their sum (bootStep.ts); fleetHost.ts assembles the parts.
 */
import { BOOT_PATHS, ssmReadBoundSeconds } from "../../host/boot";
import { JOURNAL_EXPORT_UNIT, LOGS_AGENT_UNIT } from "../../monitoring/logs";
import { METRICS_UNITS } from "../../monitoring/metrics";
import type { DatabasePart } from "../../database/database";
import type { BootStep } from "./bootStep";
import { type HostFile, hostFilesSteps } from "./hostFiles";
import { NATIVE_START_BOUND_SECONDS, type RuntimePart, type onHostRedisPart } from "./hostParts";
import { MASTODON_PATHS } from "./units";

/** The RDS CA bundle, from AWS's trust store: libpq and node verify RDS with it. */
export const RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

/** The renderer's step, bounded by its SSM retries (boot.ts, SSM_READ_RETRY). */
export function renderSecretsStep(renderer: string, manifest: string): BootStep {
  return { argv: [renderer, manifest], boundSeconds: ssmReadBoundSeconds() + 10 };
}

/** The parts of a fleet host whose boot steps these are (fleetHost.ts, renderFleetHost). */
export interface FleetBootInput {
  readonly runtime: RuntimePart;
  readonly redis?: ReturnType<typeof onHostRedisPart>;
  readonly database?: DatabasePart;
  /** The host publishes metrics: the collector's timer is enabled with the units. */
  readonly metrics: boolean;
  /** The programs the host fetches (hostFiles.ts), from the bucket in the region. */
  readonly hostFiles: {
    readonly bucket: string;
    readonly region: string;
    readonly fetched: readonly HostFile[];
  };
}

/**
 * A boot in two phases: what does not depend on the moment the host serves (the runtime's setup,
 * the fetched programs, the RDS CA bundle), and what does (the secrets as they are now, the units
 * enabled and started, the database's lifecycle). A cold boot runs both in one unit; a warm pool
 * host prepares once, into the pool, and serves when it is started out of it (warmPoolUnits.ts).
 */
export interface BootPhases {
  readonly prepare: readonly BootStep[];
  readonly serve: readonly BootStep[];
}

/** The steps of a fleet host's boot, in order. */
export function fleetBootSteps(input: FleetBootInput): BootStep[] {
  const { prepare, serve } = fleetBootPhases(input);
  return [...prepare, ...serve];
}

/** The steps of a fleet host's boot, by phase. */
export function fleetBootPhases(input: FleetBootInput): BootPhases {
  const { runtime, redis, database, metrics, hostFiles } = input;
  const caBundle = MASTODON_PATHS.rdsCaBundle;
  // Each step with its bound: the boot unit's TimeoutStartSec is their sum (bootUnits.ts).
  const prepare: BootStep[] = [
    // Containers: the image's user (uid 991) on the host, before anything is owned by it.
    ...runtime.setup,
    // The programs too large for user-data, checked against the digests it carries.
    ...hostFilesSteps(hostFiles.bucket, hostFiles.region, hostFiles.fetched),
    {
      // 30 s an attempt, retried for at most 120 s.
      argv: [
        "/usr/bin/curl",
        "-fsS",
        "--max-time",
        "30",
        "--retry",
        "5",
        "--retry-max-time",
        "120",
        "-o",
        caBundle,
        RDS_CA_BUNDLE_URL,
      ],
      boundSeconds: 150,
    },
    {
      argv: [
        "/usr/bin/install",
        "-d",
        "-o",
        "mastodon",
        "-g",
        "mastodon",
        "-m",
        "0700",
        `${MASTODON_PATHS.home}/.postgresql`,
      ],
      boundSeconds: 10,
    },
    {
      argv: [
        "/usr/bin/install",
        "-o",
        "mastodon",
        "-g",
        "mastodon",
        "-m",
        "0644",
        caBundle,
        `${MASTODON_PATHS.home}/.postgresql/root.crt`,
      ],
      boundSeconds: 10,
    },
  ];
  const serve: BootStep[] = [
    renderSecretsStep(BOOT_PATHS.renderer, BOOT_PATHS.manifest),
    // The on-host Redis: Debian's own stopped, the persistent store's volume mounted (hostParts.ts).
    ...(redis?.setup ?? []),
    {
      argv: [
        "/usr/bin/systemctl",
        "enable",
        ...(redis?.enabled ?? []),
        ...runtime.enabled,
        JOURNAL_EXPORT_UNIT,
        LOGS_AGENT_UNIT,
        ...(metrics ? [METRICS_UNITS.timer] : []),
        ...(database?.enabled ?? []),
      ],
      boundSeconds: 30,
    },
    // The scheduler's host: the role, the schema and the seeds before any Mastodon process starts;
    // Rails reaches Redis there too (caches, jobs the seeds enqueue), so the on-host servers first.
    ...(database && redis
      ? [{ argv: ["/usr/bin/systemctl", "start", ...redis.enabled], boundSeconds: 30 }]
      : []),
    ...(database ? [database.step] : []),
    // Waits for the start jobs only (PgBouncer, then the Mastodon units); readiness waits for them to serve.
    {
      argv: ["/usr/bin/systemctl", "start", "mastodon.target"],
      // The database step already waited for the pull: what is left is a native start.
      boundSeconds: database ? NATIVE_START_BOUND_SECONDS : runtime.startBoundSeconds,
    },
  ];
  return { prepare, serve };
}
