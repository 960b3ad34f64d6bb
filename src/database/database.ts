/**
 * The database's lifecycle inside the deploy (pure): what the scheduler's host runs at its first
 * boot, before any Mastodon unit starts, so that `pulumi up` alone ends in a serving instance
 * (docs/design.md, "The database inside the deploy"). src/database/files/mastodon-database.sh does the
 * work: the app's role as the RDS master, Mastodon's schema on an empty database (its pending
 * pre-deployment migrations on one that has it), the seeds while the instance actor is missing,
 * the owner account once, Mastodon's own OpenSearch user (searchUser.ts) and the search indices in
 * the background.
 *
 * Why the scheduler's host: exactly one runs (its group's maxSize is 1, the config rules see to
 * it), so two hosts never migrate at once, and every other fleet's group is created only after that
 * host is InService (src/fleet/fleet.ts, the schema tag), which it is only once this step passed.
 * The same program runs the one-off tootctl commands of the retention timer and the search deploy.
 */
import type { WriteFile } from "../host/cloudInit";
import { renderKeyValueFile } from "../host/conf";
import { type DatabaseRoleSetup, checkDatabaseRole, renderRoleSetupSql } from "./databaseRole";
import { IMAGES_UNIT } from "../images/containerImages";
import {
  DATABASE_PATHS,
  type DirectDatabase,
  type RailsSource,
  renderOneOffUnit,
} from "../fleet/host/oneOff";
import { MASTODON_DATABASE, programText } from "../host/programs";
import { RESTORE_HEARTBEAT_SECONDS, RESTORE_UNHEARD_SECONDS, restoreSeconds } from "./restoreDump";
import { LIFECYCLE_HOOK_NAME } from "../fleet/host/readiness";
export { DATABASE_PATHS, type RailsSource } from "../fleet/host/oneOff";
import type { BootStep } from "../fleet/host/bootStep";
import type { UnitFile } from "../host/systemd";
import { MASTODON_PATHS } from "../fleet/host/units";
import {
  type SearchAccess,
  SEARCH_USER_PATHS,
  renderSearchRole,
  searchConfigLines,
} from "../search/searchUser";
import { type RetentionInput, RETENTION_UNITS, renderRetentionUnits } from "../media/retention";

/** `tootctl search deploy`, started in the background by the prepare step when search is on. */
export const SEARCH_DEPLOY_UNIT = "mastodon-search-deploy.service";

/**
 * The bounds of the prepare step, in seconds. role: two SSM reads (5 attempts of at most 30 s, 30 s
 * of pauses each) and one psql run. schema: Rails boots and loads the schema in a minute or two on
 * an empty database; an upgrade's pre-deployment migrations get the rest (Mastodon's release notes
 * flag the ones that take long on large databases). seeds: a Rails boot and three records. owner:
 * a Rails boot, tootctl, and one SSM write. search: two SSM reads and three PUTs, which take a second
 * each, retried within this bound (mastodon-search-user.py reads it as search_seconds): the
 * scheduler's boot must stay inside the launch hook's longest heartbeat (readiness.ts). The pull of
 * the release image, when it comes first, has its own bound (fleetHost.ts, CONTAINER_START_BOUND_SECONDS).
 */
export const DATABASE_BOUNDS = { role: 420, schema: 1500, seeds: 300, owner: 420, search: 180 } as const;

export interface DatabaseHostInput {
  readonly region: string;
  readonly databaseHost: string;
  readonly databasePort: number;
  readonly role: DatabaseRoleSetup;
  /** The owner account (mastodon:owner), and where its first password goes. @default none */
  readonly owner?: {
    readonly username: string;
    readonly email: string;
    readonly passwordParameter: string;
  };
  /**
   * With a search domain: the host makes Mastodon's own OpenSearch user as its master user, then runs
   * `tootctl search deploy` after the schema. @default none
   */
  readonly search?: SearchAccess;
  /** The daily removal of cached remote content (retention.ts). */
  readonly retention: RetentionInput;
  /**
   * restoreFrom.dump: the pg_dump archive the prepare step restores into the empty database, where
   * it is (s3://) and its size, for the step's bound (restoreDump.ts). @default none
   */
  readonly restore?: { readonly url: string; readonly bytes: number };
}

const VALUE = /^[^\s#]+$/;

/** /etc/mastodon/database.conf: one "key value" per line (mastodon-database.sh reads it). */
export function renderDatabaseConfig(input: DatabaseHostInput, source: RailsSource): string {
  checkDatabaseRole(input.role);
  const { role } = input;
  const lines: [string, string | number][] = [
    ["region", input.region],
    ["db_host", input.databaseHost],
    ["db_port", input.databasePort],
    ["db_name", role.databaseName],
    ["master_user", role.masterUser],
    ["app_user", role.appUser],
    ["admin_password_parameter", role.adminPasswordParameter],
    ["app_password_parameter", role.appPasswordParameter],
    ["role_sql", DATABASE_PATHS.roleSql],
    // Verified TLS against the RDS CA bundle the boot installed, as the units connect.
    ["ssl_mode", "verify-full"],
    ["ca_bundle", MASTODON_PATHS.rdsCaBundle],
    ["env_file", MASTODON_PATHS.envFile],
    ...railsLines(source),
    ...(input.owner
      ? ([
          ["owner_username", input.owner.username],
          ["owner_email", input.owner.email],
          ["owner_password_parameter", input.owner.passwordParameter],
        ] as [string, string][])
      : []),
    ...(input.search
      ? ([
          ["search_unit", SEARCH_DEPLOY_UNIT],
          ...searchConfigLines(input.search),
          ["search_seconds", String(DATABASE_BOUNDS.search)],
        ] as [string, string][])
      : []),
    ...(input.restore
      ? ([
          ["restore_program", DATABASE_PATHS.restoreProgram],
          ["restore_url", input.restore.url],
          ["restore_seconds", String(restoreSeconds(input.restore.bytes))],
          ["restore_hook", LIFECYCLE_HOOK_NAME],
          ["restore_heartbeat", String(RESTORE_HEARTBEAT_SECONDS)],
        ] as [string, string][])
      : []),
  ];
  return renderKeyValueFile(
    "database",
    // Host bytes name the module that first rendered them: moving the source must not change a host.
    "mastodon-aws: the database's lifecycle on the scheduler's host (core/host/database.ts)",
    lines,
    VALUE,
  );
}

function railsLines(source: RailsSource): [string, string][] {
  switch (source.kind) {
    case "image":
      return [
        ["image", source.image],
        ["images_unit", IMAGES_UNIT],
      ];
    case "installation":
      return [
        ["live", MASTODON_PATHS.live],
        ["bundle", MASTODON_PATHS.bundle],
      ];
    default: {
      const unknown: never = source;
      throw new Error(`unknown Rails source ${JSON.stringify(unknown)}`);
    }
  }
}

/** The files the scheduler's host gets besides the fetched program: its config and the role's SQL. */
export function databaseFiles(input: DatabaseHostInput, source: RailsSource): WriteFile[] {
  return [
    { path: DATABASE_PATHS.config, content: renderDatabaseConfig(input, source), permissions: "0600" },
    { path: DATABASE_PATHS.roleSql, content: renderRoleSetupSql(input.role), permissions: "0600" },
    ...(input.search
      ? [{ path: SEARCH_USER_PATHS.role, content: renderSearchRole(), permissions: "0644" }]
      : []),
  ];
}

/**
 * The SSM parameters the host's database programs read themselves (besides the RDS master's and
 * the owner's, which have policies of their own): the app role's password, and with search both
 * OpenSearch users' passwords. The fleet's role may read them (src/fleet/fleetRole.ts).
 */
export function databaseParameterReads(input: DatabaseHostInput): string[] {
  return [
    input.role.appPasswordParameter,
    ...(input.search ? [input.search.masterPasswordParameter, input.search.appPasswordParameter] : []),
  ];
}

/**
 * The boot step: before `systemctl start mastodon.target`, after the secrets and the CA bundle.
 * `pullBoundSeconds`: the release image's pull, which this step waits for first (the image source).
 */
export function databasePrepareStep(input: DatabaseHostInput, pullBoundSeconds: number): BootStep {
  const b = DATABASE_BOUNDS;
  const rest =
    pullBoundSeconds +
    b.role +
    b.schema +
    b.seeds +
    (input.owner ? b.owner : 0) +
    (input.search ? b.search : 0);
  return {
    argv: [DATABASE_PATHS.program, "prepare", DATABASE_PATHS.config],
    boundSeconds: rest + (input.restore ? restoreSeconds(input.restore.bytes) : 0),
    // While the archive restores, mastodon-restore keeps the launch hook waiting with heartbeats.
    ...(input.restore && { hookSeconds: rest + RESTORE_UNHEARD_SECONDS }),
  };
}

/** Everything the scheduler's host gets for the database: its files, its units, its boot step. */
export interface DatabasePart {
  readonly files: readonly WriteFile[];
  readonly units: readonly UnitFile[];
  /** Units the boot enables with the others (the retention timer). */
  readonly enabled: readonly string[];
  readonly step: BootStep;
}

export function databasePart(
  input: DatabaseHostInput,
  source: RailsSource,
  pullBoundSeconds: number,
): DatabasePart {
  return {
    files: databaseFiles(input, source),
    units: [
      ...renderRetentionUnits(input.retention, source, directDatabase(input)),
      ...(input.search ? [renderSearchDeployUnit(source, directDatabase(input))] : []),
    ],
    enabled: [RETENTION_UNITS.timer],
    step: databasePrepareStep(input, source.kind === "image" ? pullBoundSeconds : 0),
  };
}

/**
 * `tootctl search deploy` (Mastodon docs, "Configuring full-text search", "Populate the indices"):
 * creates the indices and fills them from the database; on indices already up to date it does
 * nothing. In the background, as an import on a large database takes hours and Mastodon serves
 * without its indices meanwhile; bounded at a day.
 */
export function renderSearchDeployUnit(source: RailsSource, db: DirectDatabase): UnitFile {
  return renderOneOffUnit(
    SEARCH_DEPLOY_UNIT,
    "Mastodon: create and fill the search indices (tootctl search deploy)",
    [["search", "deploy", "--concurrency", "4"]],
    86400,
    source,
    db,
  );
}

/** PostgreSQL itself, where the one-offs connect (oneOff.ts). */
const directDatabase = (input: DatabaseHostInput): DirectDatabase => ({
  host: input.databaseHost,
  port: input.databasePort,
});

/** The program's text, byte for byte (a host file the scheduler's host fetches). */
export function databaseProgram(): string {
  return programText(MASTODON_DATABASE);
}
