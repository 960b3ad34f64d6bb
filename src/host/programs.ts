/**
 * The programs a host runs at boot, kept as real files in the files/ folder of the part they serve
 * (where shellcheck and Python's compiler see them: src/host/programs.test.ts) and read when a host's files are rendered,
 * byte for byte. They take per-stack values as arguments or from a manifest, never by editing
 * their text.
 */
import * as fs from "fs";
import * as path from "path";
import { PACKAGE_ROOT } from "../vocabulary/data";

/** The boot-time secret renderer (Python 3, standard library only): see boot.ts. */
export const RENDER_SECRETS = "render-secrets.py";
/** The self-managed Redis host's first-boot setup (bash): see redis.ts. */
export const REDIS_HOST_SETUP = "redis-host-setup.sh";
/** Readiness: waits for the units to serve, then completes the launch lifecycle action (readiness.ts). */
export const MASTODON_READY = "mastodon-ready.sh";
/** A warm pool host's wait between its preparation and its service (warmPoolUnits.ts). */
export const MASTODON_POOL = "mastodon-pool.sh";
/** The drain: lets a Sidekiq host's running jobs finish when the group terminates it (bootUnits.ts). */
export const MASTODON_DRAIN = "mastodon-drain.sh";
/** What mastodon-ready, mastodon-drain and mastodon-pool share: log, IMDS, AWS calls (readiness.ts). */
export const MASTODON_LIFECYCLE = "mastodon-lifecycle.sh";
/** Shell libraries: sourced by the programs in their folder, installed beside them, never run (not executable). */
export const SHELL_LIBRARIES: readonly Program[] = [MASTODON_LIFECYCLE];
/** The EC2 Image Builder component's build and validate steps (imageBuild.ts). */
export const IMAGE_BUILD_SCRIPT = "mastodon-image-build.sh";
/**
 * The SSM agent for a stock Debian host, which has none: a fleet host's first boot step, and the
 * Image Builder build instance's user data (fleetHost.ts, imageBuild.ts).
 */
export const INSTALL_SSM_AGENT = "install-ssm-agent.sh";
/** The CloudWatch agent for a stock Debian host, signature-checked: ships the journal export (logs.ts, fleetHost.ts). */
export const INSTALL_CLOUDWATCH_AGENT = "install-cloudwatch-agent.sh";
/** The per-minute CloudWatch collector: Sidekiq's backlog, PgBouncer's waits, streaming's clients (metrics.ts). */
export const MASTODON_METRICS = "mastodon-metrics.py";
/** The collector's collectors: the RESP Redis client, Sidekiq, PgBouncer, Redis and streaming (a module it imports). */
export const MASTODON_METRICS_SOURCES = "mastodon_metrics_sources.py";
/** The collector's publishing: IMDS credentials, SigV4 and PutMetricData (a module it imports). */
export const MASTODON_METRICS_CLOUDWATCH = "mastodon_metrics_cloudwatch.py";
/** Modules: imported by a program in their folder and installed beside it, never run (no executable bit). */
export const PROGRAM_MODULES: readonly Program[] = [MASTODON_METRICS_SOURCES, MASTODON_METRICS_CLOUDWATCH];

/** The database's lifecycle on the scheduler's host, and its one-off tootctl commands (database.ts). */
export const MASTODON_DATABASE = "mastodon-database.sh";
/** restoreFrom.dump: the pg_dump archive into the empty database, as the app's role (restoreDump.ts). */
export const MASTODON_RESTORE = "mastodon-restore.sh";
/** The restore drill's checks, carried to the scheduler's host by the drill document (drill.ts). */
export const MASTODON_DRILL = "mastodon-drill.py";
/** Mastodon's own OpenSearch user, made by the master user on the scheduler's host (searchUser.ts). */
export const MASTODON_SEARCH_USER = "mastodon-search-user.py";

/** Lays out a pulled release image as the tree its units run in (imageRoot.ts). */
export const MASTODON_IMAGE_ROOT = "mastodon-image-root.sh";
/** Attaches and mounts the on-host persistent Redis's EBS volume at every boot (redisVolume.ts). */
export const MASTODON_REDIS_VOLUME = "mastodon-redis-volume.sh";

export type Program =
  | typeof RENDER_SECRETS
  | typeof REDIS_HOST_SETUP
  | typeof MASTODON_READY
  | typeof MASTODON_POOL
  | typeof MASTODON_DRAIN
  | typeof MASTODON_LIFECYCLE
  | typeof IMAGE_BUILD_SCRIPT
  | typeof INSTALL_SSM_AGENT
  | typeof INSTALL_CLOUDWATCH_AGENT
  | typeof MASTODON_METRICS
  | typeof MASTODON_METRICS_SOURCES
  | typeof MASTODON_METRICS_CLOUDWATCH
  | typeof MASTODON_DATABASE
  | typeof MASTODON_RESTORE
  | typeof MASTODON_DRILL
  | typeof MASTODON_SEARCH_USER
  | typeof MASTODON_IMAGE_ROOT
  | typeof MASTODON_REDIS_VOLUME;

/** The folder each program lives in, beside the code that renders it (from the package root). */
export const PROGRAM_FOLDERS: Readonly<Record<Program, string>> = {
  [RENDER_SECRETS]: "src/host/files",
  [REDIS_HOST_SETUP]: "src/redis/files",
  [MASTODON_READY]: "src/fleet/host/files",
  [MASTODON_POOL]: "src/fleet/host/files",
  [MASTODON_DRAIN]: "src/fleet/host/files",
  [MASTODON_LIFECYCLE]: "src/fleet/host/files",
  [IMAGE_BUILD_SCRIPT]: "src/images/files",
  [INSTALL_SSM_AGENT]: "src/fleet/host/files",
  [INSTALL_CLOUDWATCH_AGENT]: "src/monitoring/files",
  [MASTODON_METRICS]: "src/monitoring/files",
  [MASTODON_METRICS_SOURCES]: "src/monitoring/files",
  [MASTODON_METRICS_CLOUDWATCH]: "src/monitoring/files",
  [MASTODON_DATABASE]: "src/database/files",
  [MASTODON_RESTORE]: "src/database/files",
  [MASTODON_DRILL]: "src/database/files",
  [MASTODON_SEARCH_USER]: "src/search/files",
  [MASTODON_IMAGE_ROOT]: "src/images/files",
  [MASTODON_REDIS_VOLUME]: "src/redis/files",
};

/** Where a program is, from the package root, so the compiled package (dist/) reads the same files it ships. */
export function programPath(name: Program): string {
  return path.join(PACKAGE_ROOT, PROGRAM_FOLDERS[name], name);
}

const cache = new Map<Program, string>();

/** The text of a program, as its file holds it. */
export function programText(name: Program): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = fs.readFileSync(programPath(name), "utf8");
    cache.set(name, text);
  }
  return text;
}
