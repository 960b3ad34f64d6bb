/**
 * The role Mastodon connects as, made by the RDS master user (docs/budget.md, "The app role"):
 * LOGIN, no SUPERUSER, CREATEDB, CREATEROLE, REPLICATION or BYPASSRLS, in no privileged role
 * (rds_superuser above all), owner of the database and of schema public, and limited to the
 * connections the budget's limit allows (the fleets and the admin headroom the one-off processes
 * use); the last 10% and the reserved slots stay for the master and RDS's own administrator. Pure:
 * the SQL that src/database/files/mastodon-database.sh runs at the scheduler's first boot
 * (src/database/database.ts); the real-PostgreSQL tests run the same.
 *
 * PostgreSQL's documentation, CREATE ROLE: CONNECTION LIMIT counts only normal connections and "is
 * never enforced for superusers"; a password given in clear "will be transmitted to the server in
 * cleartext, and it might also be logged", so the setup sends a SCRAM-SHA-256 verifier computed on
 * the host instead (Chapter "Client Authentication", "Password Authentication": a stored password
 * already in SCRAM form is kept as is).
 */

export interface DatabaseRole {
  /** The RDS master user (rds_superuser): runs the setup, never the app. */
  readonly masterUser: string;
  /** The role Mastodon connects as (DB_USER). */
  readonly appUser: string;
  /** The database the role owns (DB_NAME). */
  readonly databaseName: string;
  /** The budget's roleConnectionLimit: the fleets and the admin headroom, never RDS's reserved slots. */
  readonly connectionLimit: number;
}

export interface DatabaseRoleSetup extends DatabaseRole {
  /** SSM SecureString holding the master's password. */
  readonly adminPasswordParameter: string;
  /** SSM SecureString holding the app role's password (DB_PASS). */
  readonly appPasswordParameter: string;
}

/** The psql variable the setup reads the app role's SCRAM verifier from (set on stdin). */
export const VERIFIER_VARIABLE = "app_password_verifier";

const IDENTIFIER = /^[a-z_][a-z0-9_]{0,62}$/;

/** Names go into SQL and shell unquoted: plain lower-case identifiers only. */
export function checkDatabaseRole(role: DatabaseRole): void {
  for (const [what, name] of [
    ["master user", role.masterUser],
    ["app role", role.appUser],
    ["database name", role.databaseName],
  ] as const)
    if (!IDENTIFIER.test(name))
      throw new Error(`database role setup: the ${what} ${JSON.stringify(name)} is not a plain identifier`);
  if (role.masterUser === role.appUser)
    throw new Error("database role setup: the app role must not be the master user");
  if (!Number.isInteger(role.connectionLimit) || role.connectionLimit < 1)
    throw new Error(
      `database role setup: connection limit ${role.connectionLimit} is not a positive integer`,
    );
}

/**
 * The setup as a psql script, connected as the master to the app's database, with
 * `:'app_password_verifier'` set before it. Idempotent: creates the role if missing, then sets
 * every attribute, revokes privileged memberships and hands over ownership on every run, and ends
 * by checking the result (an error, so psql with ON_ERROR_STOP fails the phase).
 *
 * Only negative attributes at CREATE and no SUPERUSER/REPLICATION/BYPASSRLS at ALTER: a
 * CREATEROLE role that is not a superuser (RDS's master) may not name those at ALTER ROLE
 * (PostgreSQL's documentation, ALTER ROLE). ALTER DATABASE ... OWNER and ALTER SCHEMA ... OWNER
 * need the master to be able to SET ROLE to the new owner, hence the GRANT of the app role to the
 * master (never the reverse); PostgreSQL 16's implicit grant to a role's creator has SET FALSE.
 */
export function renderRoleSetupSql(role: DatabaseRole): string {
  checkDatabaseRole(role);
  const { appUser: app, databaseName: db, connectionLimit: limit } = role;
  const privileged =
    "r.rolname = 'rds_superuser' OR r.rolsuper OR r.rolcreaterole OR r.rolcreatedb OR r.rolreplication OR r.rolbypassrls";
  return [
    "\\set ON_ERROR_STOP on",
    // The GRANT below says NOTICE on every run after the first: only warnings reach the journal.
    "SET client_min_messages = warning;",
    `SELECT 'CREATE ROLE ${app} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS'`,
    `  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${app}') \\gexec`,
    `ALTER ROLE ${app} WITH LOGIN NOCREATEDB NOCREATEROLE CONNECTION LIMIT ${limit} PASSWORD :'${VERIFIER_VARIABLE}';`,
    `SELECT format('REVOKE %I FROM ${app}', r.rolname) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.roleid`,
    `  WHERE m.member = '${app}'::regrole AND (${privileged}) \\gexec`,
    `GRANT ${app} TO CURRENT_USER;`,
    `ALTER DATABASE ${db} OWNER TO ${app};`,
    // PostgreSQL 15 revoked CREATE on public from PUBLIC; the owner keeps it.
    `ALTER SCHEMA public OWNER TO ${app};`,
    "DO $check$",
    "BEGIN",
    `  IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${app}' AND rolcanlogin AND rolconnlimit = ${limit}`,
    "      AND NOT (rolsuper OR rolcreaterole OR rolcreatedb OR rolreplication OR rolbypassrls)) THEN",
    `    RAISE EXCEPTION 'role ${app} is not a plain login role limited to ${limit} connections';`,
    "  END IF;",
    `  IF EXISTS (SELECT FROM pg_roles r WHERE r.rolname <> '${app}' AND (${privileged})`,
    `      AND pg_has_role('${app}', r.oid, 'MEMBER')) THEN`,
    `    RAISE EXCEPTION 'role ${app} is a member of a privileged role';`,
    "  END IF;",
    `  IF (SELECT datdba FROM pg_database WHERE datname = '${db}') <> '${app}'::regrole`,
    `      OR (SELECT nspowner FROM pg_namespace WHERE nspname = 'public') <> '${app}'::regrole THEN`,
    `    RAISE EXCEPTION 'role ${app} does not own database ${db} and schema public';`,
    "  END IF;",
    "END",
    "$check$;",
    "",
  ].join("\n");
}

/**
 * Where the RDS master's password lives: beside the stack's path, not under it. Each fleet may read
 * the parameters its hosts name and no other (src/fleet/fleetRole.ts); only the scheduler's fleet,
 * which prepares the database, may read this one (src/fleet/fleet.ts).
 */
export function adminPasswordParameterName(parameterPrefix: string): string {
  return `${parameterPrefix}-admin/db-admin-password`;
}
