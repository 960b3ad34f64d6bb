/**
 * Everything a fleet host is given at launch, rendered from the resolved config (pure): its systemd
 * units, the env and PgBouncer templates, and the cloud-config that installs them and starts the
 * boot unit (readiness.ts), which fetches the RDS CA bundle, fills the secrets from SSM, enables
 * the units this fleet runs, starts mastodon.target and completes the launch lifecycle action with
 * CONTINUE once they all serve (ABANDON if any step fails or they do not within the bound).
 */
import { BOOT_PATHS, type RenderedFile, renderEnvFile, renderManifest, renderSecretsProgram } from "./boot";
import { renderCloudConfig, type WriteFile } from "./cloudInit";
import type { Fleet } from "../config/resolve";
import type { Env } from "./env";
import {
  PGBOUNCER_PATHS,
  renderPgbouncerIni,
  renderPgbouncerUnit,
  renderPgbouncerUserlist,
} from "./pgbouncer";
import {
  type BootStep,
  READINESS_PATHS,
  bootCommands,
  fleetReadinessChecks,
  readinessProgram,
  renderBootUnits,
  renderReadinessConfig,
  renderSecretsStep,
} from "./readiness";
import type { UnitFile } from "./systemd";
import { MASTODON_PATHS, enabledUnits, renderFleetUnits } from "./units";

/** The RDS CA bundle, from AWS's trust store: libpq and node verify RDS with it. */
export const RDS_CA_BUNDLE_URL = "https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

export interface FleetHostInput {
  readonly fleet: Fleet;
  /** .env.production with `{{ssm:...}}` placeholders for every secret. */
  readonly env: Env;
  /** The stack's SSM path: the renderer reads every parameter under it. */
  readonly parameterPath: string;
  readonly region: string;
  /** Present when the stack pools connections through PgBouncer on every host. */
  readonly pgbouncer?: {
    readonly primaryHost: string;
    readonly replicaHost?: string;
    readonly databaseName: string;
    readonly user: string;
    readonly passwordPlaceholder: string;
  };
}

export interface FleetHost {
  readonly units: readonly UnitFile[];
  /** Files besides the units, by path (templates, PgBouncer config, the renderer). */
  readonly files: readonly WriteFile[];
  readonly userData: string;
}

const TEMPLATES = {
  env: `${BOOT_PATHS.dir}/env.production.template`,
  userlist: `${BOOT_PATHS.dir}/pgbouncer-userlist.template`,
} as const;

export function renderFleetHost(input: FleetHostInput): FleetHost {
  const { fleet, pgbouncer } = input;
  const ctx = { pooled: pgbouncer !== undefined };
  const caBundle = MASTODON_PATHS.rdsCaBundle;
  // Each step with its bound: the boot unit's TimeoutStartSec is their sum (readiness.ts).
  const steps: BootStep[] = [
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
    renderSecretsStep(BOOT_PATHS.renderer, BOOT_PATHS.manifest),
    { argv: ["/usr/bin/systemctl", "enable", ...enabledUnits(fleet, ctx)], boundSeconds: 30 },
    // Waits for the start jobs only (PgBouncer, then the Mastodon units); readiness waits for them to serve.
    { argv: ["/usr/bin/systemctl", "start", "mastodon.target"], boundSeconds: 120 },
  ];
  const units = [
    ...renderFleetUnits(fleet, ctx),
    ...(pgbouncer ? [renderPgbouncerUnit()] : []),
    ...renderBootUnits(steps),
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
  ];
  const files: WriteFile[] = [
    {
      path: TEMPLATES.env,
      content: renderEnvFile(
        input.env,
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
    { path: BOOT_PATHS.renderer, content: renderSecretsProgram(), permissions: "0755" },
    {
      path: READINESS_PATHS.config,
      content: renderReadinessConfig({ region: input.region, checks: fleetReadinessChecks(fleet, ctx) }),
      permissions: "0644",
    },
    { path: READINESS_PATHS.program, content: readinessProgram(), permissions: "0755" },
  ];

  const userData = renderCloudConfig({
    writeFiles: [
      ...units.map((u) => ({
        path: `${MASTODON_PATHS.unitDir}/${u.name}`,
        content: u.content,
        permissions: "0644",
      })),
      ...files,
    ],
    runcmd: bootCommands(),
  });
  return { units, files, userData };
}
