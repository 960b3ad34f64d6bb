/**
 * The budget's arithmetic against a real PostgreSQL from Debian, started with the parameters the
 * RDS parameter group gets (src/database/postgres.ts rdsParameters) for the production stack.
 *
 * RDS reserves 3 slots for superusers and 2 more for rds_superuser. Debian's PostgreSQL 15 has no
 * second reservation (reserved_connections arrived in 16), so the test reserves the same 5 slots with
 * superuser_reserved_connections = 3 + 2: an ordinary role sees what it sees on RDS.
 *
 * The roles are RDS's: a master with CREATEDB and CREATEROLE in rds_superuser (not a superuser),
 * owning the database, and the app's role `mastodon` made by the scheduler's host's first boot step
 * (src/database/files/mastodon-database.sh role, run as on the host: test/real/servers.ts runRoleSetup),
 * limited to the budget's roleConnectionLimit. Passwords are checked (scram-sha-256).
 */
import { Client } from "pg";
import { BUDGET_RULES, DEFAULTS } from "../vocabulary/defaults";
import { parseStackConfig } from "../config";
import { rdsParameters } from "./postgres";
import { stackConfig } from "../../test/helpers";
import {
  type Postgres,
  RDS_MASTER_SQL,
  runRoleSetup,
  startPostgres,
  stopAllServers,
} from "../../test/real/servers";

const { budget } = parseStackConfig(stackConfig("production"), "production");
const parameters = rdsParameters(budget.maxConnections, budget.workMemMiB).filter(
  (p) => !p.name.startsWith("rds."),
);

// Generous bounds for every test and hook here: hundreds of connections, each a forked backend, on a
// machine that may be busy.
jest.setTimeout(180000);

const { masterUsername: MASTER, username: APP, databaseName: DATABASE } = DEFAULTS.mastodon;
const ADMIN_PASSWORD = "AdminPassword0123456789abcdefghijklmnopq";
const APP_PASSWORD = "AppPassword0123456789abcdefghijklmnopqrs";
const role = {
  masterUser: MASTER,
  appUser: APP,
  databaseName: DATABASE,
  connectionLimit: budget.roleConnectionLimit,
  adminPasswordParameter: "/mastodon/production/mastodon-admin/db-admin-password",
  appPasswordParameter: "/mastodon/production/mastodon/db-password",
};
const ssm = { [role.adminPasswordParameter]: ADMIN_PASSWORD, [role.appPasswordParameter]: APP_PASSWORD };

let pg: Postgres;
const clients: Client[] = [];

async function superuserQuery(sql: string, database = "postgres") {
  const su = new Client({ host: "127.0.0.1", port: pg.port, user: pg.superuser, database });
  await su.connect();
  try {
    return (await su.query(sql)).rows;
  } finally {
    await su.end();
  }
}

beforeAll(async () => {
  pg = await startPostgres(
    {
      ...Object.fromEntries(parameters.map((p) => [p.name, p.value])),
      superuser_reserved_connections: String(
        BUDGET_RULES.superuserReserved + BUDGET_RULES.rdsSuperuserReserved,
      ),
      shared_buffers: "32MB",
    },
    { passwords: true },
  );
  for (const sql of RDS_MASTER_SQL(MASTER, ADMIN_PASSWORD, DATABASE)) await superuserQuery(sql);
  const setup = runRoleSetup(pg, role, ssm);
  if (setup.status !== 0) throw new Error(`role setup failed: ${setup.stderr}`);
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.end()));
  await pg?.stop();
  await stopAllServers();
});

async function connectAs(user: string, password: string): Promise<Client> {
  const client = new Client({ host: "127.0.0.1", port: pg.port, user, password, database: DATABASE });
  await client.connect();
  return client;
}
const connectMastodon = () => connectAs(APP, APP_PASSWORD);
const connectAdmin = () => connectAs(MASTER, ADMIN_PASSWORD);

/** Opens `n` connections, 50 at a time, into `clients`. */
async function open(n: number, connect: () => Promise<Client>): Promise<void> {
  for (let opened = 0; opened < n; opened += 50) {
    clients.push(...(await Promise.all(Array.from({ length: Math.min(50, n - opened) }, connect))));
  }
}

/** Connects one at a time until PostgreSQL says no; returns how many it opened and the refusal. */
async function untilRefused(connect: () => Promise<Client>): Promise<{ opened: number; refusal?: Error }> {
  for (let opened = 0; clients.length < budget.maxConnections; opened++) {
    try {
      clients.push(await connect());
    } catch (e) {
      return { opened, refusal: e as Error };
    }
  }
  return { opened: NaN };
}

test("the role step makes a plain login role, limited to the budget's role limit, owning the database and public", async () => {
  // 90% of production's 495 usable connections (max_connections 500 - 3 - 2), from max_connections alone.
  expect(role.connectionLimit).toBe(445);
  const [row] = await superuserQuery(
    `SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolconnlimit,
            rolpassword LIKE 'SCRAM-SHA-256$4096:%' AS scram,
            pg_has_role('${APP}', 'rds_superuser', 'MEMBER') AS in_rds_superuser,
            (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = '${DATABASE}') AS database_owner
       FROM pg_authid WHERE rolname = '${APP}'`,
  );
  expect(row).toEqual({
    rolcanlogin: true,
    rolsuper: false,
    rolcreaterole: false,
    rolcreatedb: false,
    rolreplication: false,
    rolbypassrls: false,
    rolconnlimit: budget.roleConnectionLimit,
    scram: true,
    in_rds_superuser: false,
    database_owner: APP,
  });
  const [schema] = await superuserQuery(
    "SELECT pg_get_userbyid(nspowner) AS owner FROM pg_namespace WHERE nspname = 'public'",
    DATABASE,
  );
  expect(schema.owner).toBe(APP);

  // Its password is the one in SSM (checked: scram-sha-256), and it may create in public ...
  const app = await connectMastodon();
  try {
    await app.query("CREATE TABLE public.role_setup_probe (id bigint)");
    await app.query("DROP TABLE public.role_setup_probe");
    // ... but not make roles.
    await expect(app.query("CREATE ROLE intruder LOGIN")).rejects.toThrow(/permission denied to create role/);
  } finally {
    await app.end();
  }
  await expect(connectAs(APP, "not-the-password")).rejects.toThrow(/password authentication failed/);
});

test("the role step is idempotent and takes the role back out of rds_superuser", async () => {
  await superuserQuery(`GRANT rds_superuser TO ${APP}`);
  await superuserQuery(`ALTER ROLE ${APP} CONNECTION LIMIT -1`);
  const again = runRoleSetup(pg, role, ssm);
  expect(again.stderr).not.toMatch(/ERROR|FATAL/);
  expect(again.status).toBe(0);
  expect(again.leftBehind).toEqual([]);
  const [row] = await superuserQuery(
    `SELECT rolconnlimit, pg_has_role('${APP}', 'rds_superuser', 'MEMBER') AS in_rds_superuser FROM pg_roles WHERE rolname = '${APP}'`,
  );
  expect(row).toEqual({ rolconnlimit: budget.roleConnectionLimit, in_rds_superuser: false });
});

test("the role step fails on a wrong master password, and leaves no pgpass file behind", () => {
  const wrong = runRoleSetup(pg, role, { ...ssm, [role.adminPasswordParameter]: "WrongPassword0123" });
  expect(wrong.status).not.toBe(0);
  expect(wrong.stderr).toMatch(/password authentication failed for user "mastodon_admin"/);
  expect(wrong.leftBehind).toEqual([]);
});

test("the server runs with the rendered max_connections and work_mem", async () => {
  const client = await connectMastodon();
  const settings = await client.query(
    "SELECT name, setting, unit FROM pg_settings WHERE name IN ('max_connections', 'work_mem', 'idle_in_transaction_session_timeout', 'log_min_duration_statement') ORDER BY name",
  );
  await client.end();
  expect(settings.rows).toEqual([
    { name: "idle_in_transaction_session_timeout", setting: "600000", unit: "ms" },
    { name: "log_min_duration_statement", setting: "1000", unit: "ms" },
    { name: "max_connections", setting: String(budget.maxConnections), unit: null },
    { name: "work_mem", setting: String(budget.workMemMiB * 1024), unit: "kB" },
  ]);
});

test("the app role holds the fleets, their replacements launched first and the headroom up to its limit; the master gets the rest of the usable connections, a superuser the reserved slots", async () => {
  // Production: 408 PgBouncer server connections at maximum fleet sizes, 18 more while a web and a
  // streaming host launch their replacements first, 15 of headroom, a role limit of 445; the alarm
  // (above 441) fires while the role still accepts connections.
  expect([budget.fleetConnections, budget.surgeConnections, budget.headroom]).toEqual([408, 18, 15]);
  expect(budget.roleConnectionLimit).toBe(445);
  expect(budget.total).toBeLessThanOrEqual(budget.roleConnectionLimit);
  expect(budget.alarmThreshold).toBe(budget.total);
  expect(budget.alarmThreshold).toBeLessThan(budget.roleConnectionLimit);
  expect(budget.roleConnectionLimit).toBeLessThan(budget.usable);

  // Everything the fleets hold at maximum size and beside it while replacing hosts, then the
  // one-offs' headroom: migrations and tootctl log in as the same role, straight to PostgreSQL. All
  // of it gets in.
  await open(budget.fleetConnections, connectMastodon);
  await open(budget.surgeConnections, connectMastodon);
  await open(budget.headroom, connectMastodon);
  // What the budget leaves spare below the role's limit gets in too, and not one connection more.
  const app = await untilRefused(connectMastodon);
  expect(app.opened).toBe(budget.roleConnectionLimit - budget.total);
  expect(app.refusal?.message).toBe(`too many connections for role "${APP}"`);

  // What is left of the usable connections belongs to the master: it gets in until PostgreSQL keeps
  // the reserved slots, exactly at `usable`.
  const admin = await untilRefused(connectAdmin);
  expect(admin.opened).toBe(budget.usable - budget.roleConnectionLimit);
  expect(admin.opened).toBeGreaterThan(0);
  expect(admin.refusal?.message).toMatch(/remaining connection slots are reserved/);
  expect(clients).toHaveLength(budget.usable);

  // The reserved slots still admit a superuser (RDS's rdsadmin).
  const rows = await superuserQuery(
    "SELECT usename, count(*)::int AS n FROM pg_stat_activity WHERE usename IS NOT NULL AND backend_type = 'client backend' GROUP BY usename ORDER BY usename",
  );
  expect(rows).toEqual([
    { usename: APP, n: budget.roleConnectionLimit },
    { usename: MASTER, n: budget.usable - budget.roleConnectionLimit },
    { usename: pg.superuser, n: 1 },
  ]);
});
