/**
 * A database restored from an RDS snapshot (mastodon:database.restoreFrom), then prepared by the
 * scheduler's host's own first boot step, `mastodon-database prepare CONFIG`
 * (src/database/files/mastodon-database.sh, run by bash as on the host), against a real PostgreSQL 15
 * from Debian with verified TLS, RDS's master (CREATEDB and CREATEROLE in rds_superuser, not a
 * superuser) and scram-sha-256 passwords, with the stand-ins of test/real/databaseStandIns.ts for the
 * AWS CLI, podman (Rails) and systemctl.
 *
 * A snapshot is the whole instance as it was: its roles with their passwords, its database, its rows.
 * So the source stack (production) prepares and fills its database first, and an operator leaves
 * some drift on the app's role; the "restore" is that same server as the snapshot holds it, whose
 * master's password the provider then sets to the new stack's (ModifyDBInstance MasterUserPassword,
 * played here by the superuser). The new stack (a staging drill) has other passwords and another
 * connection limit in its own SSM parameters. Its prepare must make the app role's password, limit,
 * attributes, memberships and ownerships the new stack's, load no schema, seed nothing, keep every
 * row, and leave the app role able to read and write every table.
 */
import * as fs from "fs";
import { Client } from "pg";
import { DEFAULTS } from "../vocabulary/defaults";
import { stackRoleSetup } from "../../test/helpers";
import { type Postgres, stopAllServers, tempDir } from "../../test/real/servers";
import {
  type DatabaseRun,
  type DatabaseRunPlace,
  databaseRunPlace,
  railsRuns,
  runDatabaseProgram,
  writeSchedulerDatabase,
} from "../../test/real/databaseRun";
import { startRdsPostgres } from "../../test/real/rdsPostgres";

jest.setTimeout(180000);
const RUN_TIMEOUT_MS = 150000;

const { masterUsername: MASTER, username: APP, databaseName: DATABASE } = DEFAULTS.mastodon;
const OWNER = { username: "admin", email: "owner@mastodon.example" };

/** One stack's side: its passwords in its own SSM parameters, its role's limit from its own budget. */
function stackSide(stack: string, admin: string, app: string) {
  const role = stackRoleSetup(stack);
  const prefix = role.appPasswordParameter.replace(/\/db-password$/, "");
  const owner = { ...OWNER, passwordParameter: `${prefix}-admin/owner-password` };
  return { stack, role, owner, admin, app };
}
const SOURCE = stackSide(
  "production",
  "SourceAdmin0123456789abcdefghijklmnopqrs",
  "SourceApp0123456789abcdefghijklmnopqrstu",
);
const DRILL = stackSide(
  "staging",
  "DrillAdmin0123456789abcdefghijklmnopqrst",
  "DrillApp0123456789abcdefghijklmnopqrstuv",
);

const dir = tempDir("mastodon-restored-");
let place: DatabaseRunPlace;
let pg: Postgres;
let ca: string;

/** The side's config file and .env.production, as its scheduler's host has them. */
const hostFiles = (side: typeof SOURCE): string =>
  writeSchedulerDatabase(place, dir, {
    name: side.stack,
    pg,
    ca,
    role: side.role,
    adminPassword: side.admin,
    appPassword: side.app,
    owner: side.owner,
  });

/** No password of either stack reaches the output or a command line. */
const prepare = (config: string): Promise<DatabaseRun> =>
  runDatabaseProgram(
    place,
    ["prepare", config],
    [SOURCE.admin, SOURCE.app, DRILL.admin, DRILL.app],
    RUN_TIMEOUT_MS,
  );

async function superuser(sql: string): Promise<any[]> {
  const su = new Client({ host: "127.0.0.1", port: pg.port, user: pg.superuser, database: DATABASE });
  await su.connect();
  try {
    return (await su.query(sql)).rows;
  } finally {
    await su.end();
  }
}

/** SQL as the app's role with `password`, over TCP (scram-sha-256 checks it); throws when refused. */
async function asApp(password: string, sql: string): Promise<any[]> {
  const app = new Client({ host: "127.0.0.1", port: pg.port, user: APP, password, database: DATABASE });
  await app.connect();
  try {
    return (await app.query(sql)).rows;
  } finally {
    await app.end();
  }
}
const canLogIn = (password: string) =>
  asApp(password, "SELECT 1").then(
    () => true,
    (e: Error) => (/password authentication failed/.test(e.message) ? false : Promise.reject(e)),
  );

const roleState = async () =>
  (
    await superuser(
      `SELECT rolconnlimit, rolcreatedb, rolcreaterole, pg_has_role('${APP}', 'rds_superuser', 'MEMBER') AS in_rds_superuser,
              (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS database_owner,
              (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public') AS public_owner
         FROM pg_roles WHERE rolname = '${APP}'`,
    )
  )[0];
/** Every row the snapshot holds, table by table, in order: what no step may lose. */
const contents = async () =>
  Object.fromEntries(
    await Promise.all(
      ["schema_migrations", "oauth_applications", "accounts", "users", "statuses"].map(
        async (t) => [t, await superuser(`SELECT * FROM ${t} ORDER BY 1`)] as const,
      ),
    ),
  );

let sourceConfig: string;
let drillConfig: string;
let snapshot: Awaited<ReturnType<typeof contents>>;

beforeAll(async () => {
  place = databaseRunPlace(dir);
  // The source instance as RDS made it: its master with the source stack's password.
  ({ pg, ca } = await startRdsPostgres(dir, { user: MASTER, password: SOURCE.admin, database: DATABASE }));
  sourceConfig = hostFiles(SOURCE);
  drillConfig = hostFiles(DRILL);
});

afterAll(async () => {
  await pg?.stop();
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("the source stack's database, as its snapshot holds it: Mastodon's schema, its rows, the old role", async () => {
  const run = await prepare(sourceConfig);
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  expect(railsRuns(run).map((r) => r.command)).toEqual([
    "rails db:schema:load",
    "rails db:seed",
    `bin/tootctl accounts create ${OWNER.username} --email ${OWNER.email} --confirmed --role Owner`,
  ]);
  // The instance in use, by the app's role with the source stack's password.
  await asApp(
    SOURCE.app,
    `INSERT INTO accounts (username) VALUES ('alice'), ('bob');
     INSERT INTO users (account_id, sign_in_count) SELECT id, 2 FROM accounts WHERE username IN ('alice', 'bob');
     UPDATE users SET sign_in_count = 9 FROM accounts a WHERE a.id = users.account_id AND a.username = '${OWNER.username}';
     INSERT INTO statuses (text) VALUES ('first post'), ('second post'), ('third post');
     INSERT INTO schema_migrations VALUES ('20250301000000')`,
  );
  // What an operator left on the role: a maintenance grant never taken back, another limit.
  await superuser(`GRANT rds_superuser TO ${APP}; ALTER ROLE ${APP} CREATEDB CONNECTION LIMIT 7`);
  snapshot = await contents();
  expect(snapshot["accounts"]).toHaveLength(3);
  expect(snapshot["statuses"]).toHaveLength(3);
  expect(await roleState()).toMatchObject({ rolconnlimit: 7, rolcreatedb: true, in_rds_superuser: true });
});

test("restored: the new stack's prepare makes the role its own and keeps every row", async () => {
  // The provider's ModifyDBInstance after the restore: the master's password is the new stack's.
  await superuser(`ALTER ROLE ${MASTER} PASSWORD '${DRILL.admin}'`);
  // The snapshot's app role still has the old instance's password.
  expect(await canLogIn(SOURCE.app)).toBe(true);
  expect(await canLogIn(DRILL.app)).toBe(false);
  expect(DRILL.role.connectionLimit).not.toBe(SOURCE.role.connectionLimit);

  const run = await prepare(drillConfig);
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  // A database with a schema: its pending pre-deployment migrations only; no schema load, no seeds;
  // the owner account is there and has signed in, so its password is left alone and nothing stored.
  expect(railsRuns(run)).toEqual([
    {
      command: "rails db:migrate",
      env: expect.arrayContaining(["SKIP_POST_DEPLOYMENT_MIGRATIONS=true", `DB_PORT=${pg.port}`]),
    },
  ]);
  expect(run.stderr).toContain("the seeds ran before: not seeding");
  expect(run.stderr).toContain(`the owner account ${OWNER.username} exists and has signed in`);
  expect(run.calls.filter((c) => c[0] === "aws" && c[2] === "put-parameter")).toEqual([]);
  // It read the new stack's parameters only.
  const names = run.calls.filter((c) => c[0] === "aws").map((c) => c[c.indexOf("--name") + 1]);
  expect(names.length).toBeGreaterThan(0);
  for (const name of names) expect(name).toMatch(/^\/mastodon\/mastodon-aws\/staging\//);

  // The app role logs in with the new stack's password only, as the new stack's role.
  expect(await canLogIn(DRILL.app)).toBe(true);
  expect(await canLogIn(SOURCE.app)).toBe(false);
  expect(await roleState()).toEqual({
    rolconnlimit: DRILL.role.connectionLimit,
    rolcreatedb: false,
    rolcreaterole: false,
    in_rds_superuser: false,
    database_owner: APP,
    public_owner: APP,
  });
  expect(await contents()).toEqual(snapshot);
});

test("the app role reads and writes every table of the restored database", async () => {
  const tables = await superuser(
    "SELECT tablename, tableowner FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename",
  );
  expect(tables.map((t) => t.tablename)).toEqual([
    "accounts",
    "ar_internal_metadata",
    "oauth_applications",
    "schema_migrations",
    "statuses",
    "users",
  ]);
  for (const { tablename } of tables)
    expect(await asApp(DRILL.app, `SELECT count(*) FROM ${tablename}`)).toHaveLength(1);
  const [{ id }] = await asApp(
    DRILL.app,
    "INSERT INTO statuses (text) VALUES ('restored and posting') RETURNING id",
  );
  // The sequence goes on from the snapshot's rows.
  expect(Number(id)).toBe(4);
  await asApp(DRILL.app, `UPDATE statuses SET text = 'edited' WHERE id = ${id}`);
  expect(await asApp(DRILL.app, `SELECT text FROM statuses WHERE id = ${id}`)).toEqual([{ text: "edited" }]);
  await asApp(DRILL.app, `DELETE FROM statuses WHERE id = ${id}`);
  await asApp(DRILL.app, "INSERT INTO accounts (username) VALUES ('carol')");
  await asApp(DRILL.app, "DELETE FROM accounts WHERE username = 'carol'");
  // A migration as the owner of the tables would run it.
  await asApp(
    DRILL.app,
    "ALTER TABLE statuses ADD COLUMN restored boolean; ALTER TABLE statuses DROP COLUMN restored",
  );
});

test("a second prepare of the restored database changes nothing, and the password stays the stack's", async () => {
  const before = await roleState();
  const rows = await contents();
  const run = await prepare(drillConfig);
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  expect(railsRuns(run).map((r) => r.command)).toEqual(["rails db:migrate"]);
  expect(await roleState()).toEqual(before);
  expect(await contents()).toEqual(rows);
  expect(await canLogIn(DRILL.app)).toBe(true);
  expect(await canLogIn(SOURCE.app)).toBe(false);
});
