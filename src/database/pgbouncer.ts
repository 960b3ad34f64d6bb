/**
 * PgBouncer on every host of a pooled stack (compendium: "maintaining pgBouncer on each machine
 * that wants to connect to it"): transaction mode, the budget's pool size, TLS to RDS. Pure.
 */
import { clientConnectionsPerHost, pgbouncerRow } from "../budget/budget";
import type { Fleet } from "../config/stackConfig";
import { connectionString, renderIni } from "../host/conf";
import { PGBOUNCER_HOST, PGBOUNCER_PORT, PGBOUNCER_REPLICA_DB } from "../host/env";
import { renderUnit, type UnitFile } from "../host/systemd";
import { DAEMON_OPEN_FILES, daemonSandbox, restartAlways, startLimits } from "../host/unitPolicy";
import { MASTODON_PATHS, PGBOUNCER_UNIT } from "../fleet/host/units";

export const PGBOUNCER_PATHS = {
  ini: "/etc/pgbouncer/mastodon.ini",
  userlist: "/etc/pgbouncer/mastodon-userlist.txt",
  /**
   * The admin console's Unix socket (its RuntimeDirectory): only the metrics collector uses it,
   * logging in as the pgbouncer user from the same Unix user (PgBouncer's documentation, "Admin
   * console"). Mastodon connects over TCP on loopback.
   */
  socketDir: "/run/pgbouncer",
} as const;

export interface PgbouncerInput {
  readonly fleet: Fleet;
  readonly primaryHost: string;
  readonly replicaHost?: string;
  readonly databaseName: string;
  readonly port?: number;
}

/** PostgreSQL's port (RDS's default), unless the input names another. */
export const POSTGRES_PORT = 5432;

/**
 * Client connections PgBouncer accepts beyond what the host's processes open at full pools: room
 * for a `rails console` or rake task an operator runs on the host, and for a restarting process
 * whose old connections PgBouncer has not yet seen close while the new ones open. Clients cost
 * PgBouncer a descriptor each, not a server connection: the headroom never reaches RDS.
 */
export const MAX_CLIENT_CONN_HEADROOM = 20;

/**
 * pgbouncer.ini for one host. default_pool_size is the pool the budget counted for this fleet
 * (server connections per host); max_client_conn leaves MAX_CLIENT_CONN_HEADROOM above what the
 * processes open.
 */
export function renderPgbouncerIni(input: PgbouncerInput): string {
  const { fleet } = input;
  const row = pgbouncerRow(fleet);
  const clients = clientConnectionsPerHost(fleet);
  const database = (host: string) =>
    connectionString({ host, port: input.port ?? POSTGRES_PORT, dbname: input.databaseName });
  return renderIni({
    // The module's old place: a new path here would change every pooled fleet's user-data and so
    // roll the fleets for a comment.
    comment: "Rendered by mastodon-aws (core/pgbouncer.ts).",
    sections: [
      {
        name: "databases",
        entries: [
          [input.databaseName, database(input.primaryHost)],
          ...(input.replicaHost ? [[PGBOUNCER_REPLICA_DB, database(input.replicaHost)] as const] : []),
        ],
      },
      {
        name: "pgbouncer",
        entries: [
          ["listen_addr", PGBOUNCER_HOST],
          ["listen_port", PGBOUNCER_PORT],
          // Clients use TCP on loopback; the socket (mode 0700 by the runtime directory) is for the
          // metrics collector's SHOW POOLS, which needs no password there and so no admin_users.
          ["unix_socket_dir", PGBOUNCER_PATHS.socketDir],
          ["auth_type", "scram-sha-256"],
          ["auth_file", PGBOUNCER_PATHS.userlist],
          // Transaction mode: Rails must not use prepared statements (PREPARED_STATEMENTS=false).
          ["pool_mode", "transaction"],
          ["default_pool_size", row.poolSize],
          ["max_db_connections", row.poolSize],
          ["max_client_conn", clients + MAX_CLIENT_CONN_HEADROOM],
          ["server_reset_query", ""],
          ["ignore_startup_parameters", "extra_float_digits"],
          // RDS forces TLS; verify it against the RDS CA.
          ["server_tls_sslmode", "verify-full"],
          ["server_tls_ca_file", MASTODON_PATHS.rdsCaBundle],
          ["admin_users", ""],
        ],
      },
    ],
  });
}

/**
 * The userlist (PgBouncer's auth_file: `"user" "password"` per line) with the password as a
 * boot-time placeholder (src/host/boot.ts fills it in, alphanumeric only).
 */
export function renderPgbouncerUserlist(user: string, passwordPlaceholder: string): string {
  for (const [what, text] of [
    ["user", user],
    ["password placeholder", passwordPlaceholder],
  ] as const)
    if (/["\n\r]/.test(text))
      throw new Error(`PgBouncer userlist: the ${what} cannot hold a quote or line break`);
  return `"${user}" "${passwordPlaceholder}"\n`;
}

/**
 * PgBouncer's unit, after Debian's own pgbouncer.service (Type=notify, user postgres, SIGINT for a
 * safe shutdown), sandboxed like the Mastodon units: it reads /etc/pgbouncer and the RDS CA bundle,
 * logs to the journal (no logfile, no pidfile) and writes nothing but its socket in its runtime
 * directory.
 */
export function renderPgbouncerUnit(): UnitFile {
  return {
    name: PGBOUNCER_UNIT,
    content: renderUnit({
      unit: [
        ["Description", "PgBouncer for Mastodon (transaction pooling to RDS)"],
        ["After", "network-online.target"],
        ["Wants", "network-online.target"],
        ["Before", "mastodon.target"],
        ...startLimits,
      ],
      service: [
        ["Type", "notify"],
        ["User", "postgres"],
        ["ExecStart", `/usr/sbin/pgbouncer ${PGBOUNCER_PATHS.ini}`],
        ["ExecReload", "/bin/kill -HUP $MAINPID"],
        ["KillSignal", "SIGINT"],
        ...restartAlways,
        ["LimitNOFILE", DAEMON_OPEN_FILES],
        ["RuntimeDirectory", "pgbouncer"],
        ["RuntimeDirectoryMode", "0700"],
        // Shared with PostgreSQL's packages: leave the postgres user's IPC objects alone.
        ...daemonSandbox({ readWritePaths: [], removeIpc: false }),
      ],
      install: [["WantedBy", "mastodon.target"]],
    }),
  };
}
