/**
 * Everything a fleet host is given at launch, rendered from the resolved config (pure): its systemd
 * units, the env and PgBouncer templates, and the cloud-config that installs them and starts the
 * boot unit (bootUnits.ts; its steps, fleetBootSteps.ts), which fetches the RDS CA bundle, fills
 * the secrets from SSM, enables the units this fleet runs, starts mastodon.target and completes the
 * launch lifecycle action with CONTINUE once they all serve (ABANDON if any step fails or they do
 * not within the bound).
 */
import {
  BOOT_PATHS,
  type RenderedFile,
  hostParameterNames,
  renderEnvFile,
  renderManifest,
} from "../../host/boot";
import { renderCloudConfig, type WriteFile } from "../../host/cloudInit";
import type { Fleet } from "../../config/stackConfig";
import { type Env, fleetEnv } from "../../host/env";
import {
  PGBOUNCER_PATHS,
  renderPgbouncerIni,
  renderPgbouncerUnit,
  renderPgbouncerUserlist,
} from "../../database/pgbouncer";
import { READINESS_PATHS, fleetReadinessChecks, readinessFiles, renderReadinessConfig } from "./readiness";
import { fleetBootPhases } from "./fleetBootSteps";
import { renderFleetBoot } from "./warmPoolUnits";
import type { UnitFile } from "../../host/systemd";
import { MASTODON_PATHS, SIDEKIQ_TAG } from "./units";
import { HOST_FILES, HOST_FILES_CHECKSUMS, renderChecksums } from "./hostFiles";
import { IMAGE_ROOT_PROGRAM } from "../../images/imageRoot";
import { CLOUDWATCH_AGENT_INSTALLER } from "./hostFiles";
import {
  JOURNAL_EXPORT_UNIT,
  LOGS_AGENT_UNIT,
  LOGS_PATHS,
  renderAgentConfig,
  renderJournalExportUnit,
  renderLogrotate,
  renderLogsAgentUnit,
} from "../../monitoring/logs";
import {
  METRICS_PATHS,
  METRICS_UNITS,
  type StackMetricsInput,
  hasMetrics,
  hostMetricsConfig,
  readsRedis,
  renderMetricsEnvTemplate,
  renderMetricsUnits,
} from "../../monitoring/metrics";
import { CONTAINER_START_BOUND_SECONDS, type HostRuntime, onHostRedisPart, runtimePart } from "./hostParts";
import {
  type DatabaseHostInput,
  type RailsSource,
  databaseParameterReads,
  databasePart,
  DATABASE_PATHS,
} from "../../database/database";
import { SEARCH_USER_PATHS } from "../../search/searchUser";
import type { OnHostRedisInput } from "../../redis/onHostRedisUnits";
import { REDIS_VOLUME_PATHS } from "../../redis/redisVolume";

export {
  CONTAINER_START_BOUND_SECONDS,
  type HostRuntime,
  SSM_AGENT_INSTALLER,
  STOCK_DEBIAN_PACKAGES,
} from "./hostParts";

export interface FleetHostInput {
  readonly fleet: Fleet;
  /** @default { kind: "native" } */
  readonly runtime?: HostRuntime;
  /** .env.production with `{{ssm:...}}` placeholders for every secret. */
  readonly env: Env;
  /** The stack's SSM path: the renderer reads every parameter under it. */
  readonly parameterPath: string;
  readonly region: string;
  /** The fleet's CloudWatch log group, where the agent ships the journal export (logs.ts, fleetLogGroupName). */
  readonly logGroupName: string;
  /** What every host's CloudWatch collector is told about the stack (metrics.ts). */
  readonly metrics: StackMetricsInput;
  /** The bucket the host fetches its larger programs from (hostFiles.ts). */
  readonly hostFiles: { readonly bucket: string };
  /** Present when the stack pools connections through PgBouncer on every host. */
  readonly pgbouncer?: {
    readonly primaryHost: string;
    readonly replicaHost?: string;
    readonly databaseName: string;
    readonly user: string;
    readonly passwordPlaceholder: string;
  };
  /** Present when both Redis run on this host (redis.onHost): their ports, maxmemory and passwords. */
  readonly onHostRedis?: OnHostRedisInput;
  /** The scheduler's fleet only: the database's lifecycle before any unit starts (database.ts). */
  readonly database?: DatabaseHostInput;
}

export interface FleetHost {
  /** The launch hook's heartbeat timeout: the boot's own bound (readiness.ts, lifecycleHeartbeatSeconds). */
  readonly launchHeartbeatSeconds: number;
  /** The longest the boot may hold the hook (readiness.ts, launchWaitSeconds). */
  readonly launchWaitSeconds: number;
  readonly units: readonly UnitFile[];
  /** Files besides the units, by path (templates, PgBouncer config, the renderer). */
  readonly files: readonly WriteFile[];
  readonly userData: string;
  /** The SSM parameters the host reads, each by name: all its role may read (src/fleet/fleetRole.ts). */
  readonly parameterNames: readonly string[];
}

const TEMPLATES = {
  env: `${BOOT_PATHS.dir}/env.production.template`,
  userlist: `${BOOT_PATHS.dir}/pgbouncer-userlist.template`,
} as const;

export { CLOUDWATCH_AGENT_INSTALLER } from "./hostFiles";
/** The key and signature (at most 60 s each), the package (at most 180 s), the check and dpkg (60 s). */
const CLOUDWATCH_AGENT_BOUND_SECONDS = 60 + 60 + 180 + 60;

export function renderFleetHost(input: FleetHostInput): FleetHost {
  const { fleet, pgbouncer, onHostRedis } = input;
  const ctx = { pooled: pgbouncer !== undefined, localRedis: onHostRedis !== undefined };
  const runtime = runtimePart(input.fleet, input.runtime, ctx);
  const redis = onHostRedis ? onHostRedisPart(onHostRedis) : undefined;
  const metrics = hostMetricsConfig(fleet, input.metrics, ctx);
  const metricsUnits = hasMetrics(metrics) ? renderMetricsUnits(metrics) : [];
  const runtimeKind = input.runtime ?? { kind: "native" };
  const railsSource: RailsSource =
    runtimeKind.kind === "containers"
      ? { kind: "image", image: runtimeKind.images.rails }
      : { kind: "installation" };
  const database = input.database
    ? databasePart(input.database, railsSource, CONTAINER_START_BOUND_SECONDS)
    : undefined;
  // A host fetches what it runs: the secrets renderer, the logs agent's installer, the collector
  // where it publishes, the database's program on the scheduler's host, the trees' lay-out with images,
  // the drain where Sidekiq runs.
  const fetched = HOST_FILES.filter(
    (f) =>
      (!f.path.startsWith(METRICS_PATHS.dir) || metricsUnits.length > 0) &&
      (f.path !== DATABASE_PATHS.program || database !== undefined) &&
      (f.path !== SEARCH_USER_PATHS.program || input.database?.search !== undefined) &&
      (f.path !== DATABASE_PATHS.restoreProgram || input.database?.restore !== undefined) &&
      (f.path !== IMAGE_ROOT_PROGRAM || runtimeKind.kind === "containers") &&
      (f.path !== REDIS_VOLUME_PATHS.program || redis !== undefined) &&
      (f.path !== READINESS_PATHS.drain || fleet.sidekiq !== undefined),
  );
  // The collector reads Redis here (the backlog, or the on-host servers): their URLs, filled at boot.
  const metricsEnv = readsRedis(metrics) ? renderMetricsEnvTemplate(metrics, input.env) : undefined;
  const phases = fleetBootPhases({
    runtime,
    redis,
    database,
    metrics: metricsUnits.length > 0,
    hostFiles: { bucket: input.hostFiles.bucket, region: input.region, fetched },
  });
  const agentInstall = { argv: [CLOUDWATCH_AGENT_INSTALLER], boundSeconds: CLOUDWATCH_AGENT_BOUND_SECONDS };
  // A cold boot in one unit, or a warm pool host's preparation, wait and boot (warmPoolUnits.ts).
  const boot = renderFleetBoot(phases, {
    drain: fleet.sidekiq !== undefined,
    ...(fleet.warmPool && {
      warmPool: {
        region: input.region,
        prepared: runtime.prepared,
        preparedWithinSeconds: runtime.startBoundSeconds,
        ahead: [agentInstall],
      },
    }),
  });
  // The collector's timer is part of a ready host: without it the scheduler's host publishes no backlog.
  const serviceChecks = fleetReadinessChecks(fleet, ctx);
  const readinessChecks = {
    ...serviceChecks,
    units: [
      ...serviceChecks.units,
      ...(metricsUnits.length > 0 ? [METRICS_UNITS.timer] : []),
      // Likewise the journal export and the agent: a host whose logs never leave it is not ready.
      JOURNAL_EXPORT_UNIT,
      LOGS_AGENT_UNIT,
    ],
  };
  const units = [
    ...runtime.units,
    ...(pgbouncer ? [renderPgbouncerUnit()] : []),
    ...(redis?.units ?? []),
    ...metricsUnits,
    ...(database?.units ?? []),
    renderJournalExportUnit(),
    // The agent's installer does nothing where the image has the agent (an operator's AMI).
    renderLogsAgentUnit([agentInstall]),
    ...boot.units,
  ];

  const rendered: RenderedFile[] = [
    { template: TEMPLATES.env, target: MASTODON_PATHS.envFile, mode: "0600", owner: "mastodon:mastodon" },
    ...(pgbouncer
      ? [
          {
            template: TEMPLATES.userlist,
            target: PGBOUNCER_PATHS.userlist,
            mode: "0640",
            owner: "postgres:postgres",
          },
        ]
      : []),
    ...(metricsEnv !== undefined
      ? [{ template: METRICS_PATHS.envTemplate, target: METRICS_PATHS.env, mode: "0600", owner: "root:root" }]
      : []),
    ...(redis?.rendered ?? []),
  ];
  const files: WriteFile[] = [
    {
      path: TEMPLATES.env,
      content: renderEnvFile(
        // A host running only the streaming server gets only what that server reads (env.ts).
        fleetEnv(input.env, fleet),
        `mastodon-aws: .env.production for fleet ${fleet.name}; the SSM placeholders are filled at boot`,
      ),
      permissions: "0600",
    },
    ...(pgbouncer
      ? [
          {
            path: PGBOUNCER_PATHS.ini,
            content: renderPgbouncerIni({ fleet, ...pgbouncer }),
            permissions: "0644",
          },
          {
            path: TEMPLATES.userlist,
            content: renderPgbouncerUserlist(pgbouncer.user, pgbouncer.passwordPlaceholder),
            permissions: "0600",
          },
        ]
      : []),
    {
      path: BOOT_PATHS.manifest,
      content: renderManifest(input.parameterPath, input.region, rendered),
      permissions: "0600",
    },
    {
      path: READINESS_PATHS.config,
      content: renderReadinessConfig({
        region: input.region,
        checks: readinessChecks,
        ...(fleet.sidekiq && { drain: { tag: SIDEKIQ_TAG } }),
      }),
      permissions: "0644",
    },
    // mastodon-ready and the library it shares with mastodon-pool and mastodon-drain.
    ...readinessFiles(),
    ...(metricsUnits.length > 0
      ? [
          {
            path: METRICS_PATHS.config,
            content: `${JSON.stringify(metrics, null, 2)}\n`,
            permissions: "0644",
          },
        ]
      : []),
    ...(fetched.length > 0
      ? [{ path: HOST_FILES_CHECKSUMS, content: renderChecksums(fetched), permissions: "0644" }]
      : []),
    ...(metricsEnv !== undefined
      ? [{ path: METRICS_PATHS.envTemplate, content: metricsEnv, permissions: "0600" }]
      : []),
    { path: LOGS_PATHS.agentConfig, content: renderAgentConfig(input.logGroupName), permissions: "0644" },
    { path: LOGS_PATHS.logrotate, content: renderLogrotate(), permissions: "0644" },
    ...runtime.files,
    ...(redis?.files ?? []),
    ...(database?.files ?? []),
    ...boot.files,
  ];

  const userData = renderCloudConfig({
    packages: [...runtime.packages, ...(redis ? ["redis-server"] : [])],
    writeFiles: [
      ...units.map((u) => ({
        path: `${MASTODON_PATHS.unitDir}/${u.name}`,
        content: u.content,
        permissions: "0644",
      })),
      ...files,
    ],
    runcmd: boot.runcmd,
  });
  const parameterNames = hostParameterNames(
    files.filter((f) => rendered.some((r) => r.template === f.path)).map((f) => f.content),
    input.database ? databaseParameterReads(input.database) : [],
  );
  const { launchHeartbeatSeconds, launchWaitSeconds } = boot;
  return { launchHeartbeatSeconds, launchWaitSeconds, units, files, userData, parameterNames };
}
