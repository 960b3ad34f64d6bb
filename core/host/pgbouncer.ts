/**
 * PgBouncer on every host of a pooled stack (compendium: "maintaining pgBouncer on each machine
 * that wants to connect to it"): transaction mode, the budget's pool size, TLS to RDS. Pure.
 */
import { clientConnectionsPerHost, pgbouncerRow } from "../sizing/budget";
import type { Fleet } from "../config/resolve";
import { PGBOUNCER_HOST, PGBOUNCER_PORT, PGBOUNCER_REPLICA_DB } from "./env";
import {
  daemonSandbox,
  MASTODON_PATHS,
  PGBOUNCER_UNIT,
  render,
  restartAlways,
  section,
  startLimits,
  type UnitFile,
} from "./units";

export const PGBOUNCER_PATHS = {
  ini: "/etc/pgbouncer/mastodon.ini",
  userlist: "/etc/pgbouncer/mastodon-userlist.txt",
} as const;

export interface PgbouncerInput {
  readonly fleet: Fleet;
  readonly primaryHost: string;
  readonly replicaHost?: string;
  readonly databaseName: string;
  readonly port?: number;
}

/**
 * pgbouncer.ini for one host. default_pool_size is the pool the budget counted for this fleet
 * (server connections per host); max_client_conn leaves room above what the processes open.
 */
export function renderPgbouncerIni(input: PgbouncerInput): string {
  const { fleet } = input;
  const row = pgbouncerRow(fleet);
  const clients = clientConnectionsPerHost(fleet);
  const database = (host: string) => `host=${host} port=${input.port ?? 5432} dbname=${input.databaseName}`;
  return [
    "; Rendered by mastodon-aws (core/pgbouncer.ts).",
    "[databases]",
    `${input.databaseName} = ${database(input.primaryHost)}`,
    ...(input.replicaHost ? [`${PGBOUNCER_REPLICA_DB} = ${database(input.replicaHost)}`] : []),
    "",
    "[pgbouncer]",
    `listen_addr = ${PGBOUNCER_HOST}`,
    `listen_port = ${PGBOUNCER_PORT}`,
    "unix_socket_dir =",
    "auth_type = scram-sha-256",
    `auth_file = ${PGBOUNCER_PATHS.userlist}`,
    // Transaction mode: Rails must not use prepared statements (PREPARED_STATEMENTS=false).
    "pool_mode = transaction",
    `default_pool_size = ${row.poolSize}`,
    `max_db_connections = ${row.poolSize}`,
    `max_client_conn = ${clients + 20}`,
    "server_reset_query =",
    "ignore_startup_parameters = extra_float_digits",
    // RDS forces TLS; verify it against the RDS CA.
    "server_tls_sslmode = verify-full",
    `server_tls_ca_file = ${MASTODON_PATHS.rdsCaBundle}`,
    "admin_users =",
    "",
  ].join("\n");
}

/** The userlist with the password as a boot-time placeholder (core/boot.ts fills it in). */
export function renderPgbouncerUserlist(user: string, passwordPlaceholder: string): string {
  return `"${user}" "${passwordPlaceholder}"\n`;
}

/**
 * PgBouncer's unit, after Debian's own pgbouncer.service (Type=notify, user postgres, SIGINT for a
 * safe shutdown), sandboxed like the Mastodon units: it reads /etc/pgbouncer and the RDS CA bundle,
 * logs to the journal (no logfile, no pidfile, no unix socket in the ini) and so writes nothing.
 */
export function renderPgbouncerUnit(): UnitFile {
  return {
    name: PGBOUNCER_UNIT,
    content: render(
      section("Unit", [
        ["Description", "PgBouncer for Mastodon (transaction pooling to RDS)"],
        ["After", "network-online.target"],
        ["Wants", "network-online.target"],
        ["Before", "mastodon.target"],
        ...startLimits,
      ]),
      section("Service", [
        ["Type", "notify"],
        ["User", "postgres"],
        ["ExecStart", `/usr/sbin/pgbouncer ${PGBOUNCER_PATHS.ini}`],
        ["ExecReload", "/bin/kill -HUP $MAINPID"],
        ["KillSignal", "SIGINT"],
        ...restartAlways,
        ["LimitNOFILE", 65536],
        // Shared with PostgreSQL's packages: leave the postgres user's IPC objects alone.
        ...daemonSandbox({ readWritePaths: [], removeIpc: false }),
      ]),
      section("Install", [["WantedBy", "mastodon.target"]]),
    ),
  };
}
