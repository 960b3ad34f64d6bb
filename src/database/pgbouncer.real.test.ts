/**
 * The rendered pgbouncer.ini (production's sidekiq-default host) run by Debian's PgBouncer in front
 * of a real PostgreSQL with TLS: transaction pooling keeps the server connections at the pool the
 * budget counted while every process's threads are busy, the server side is verified TLS, and
 * max_client_conn turns away what the host should never open. Host paths (CA bundle, userlist,
 * port) are relocated to the test directory; every other line is the rendered one.
 *
 * PgBouncer logs in as the app's role, made as on RDS: by a master that is not a superuser, with the
 * scheduler's host's role step over verified TLS (src/database/files/mastodon-database.sh role, run as
 * on the host: test/real/servers.ts runRoleSetup), its password checked by the server
 * (scram-sha-256), and its connection limit the budget's roleConnectionLimit for this server's
 * max_connections, with this host as its fleet's only one: PgBouncer's pool, then the one-offs'
 * headroom and the rest of the limit for direct connections as the same role.
 */
import { execFileSync, spawnSync, type ChildProcess } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { clientConnectionsPerHost, computeBudget, pgbouncerRow } from "../budget/budget";
import { parseStackConfig } from "../config";
import { BUDGET_RULES, DEFAULTS } from "../vocabulary/defaults";
import { METRICS, hostMetricsConfig } from "../monitoring/metrics";
import { PGBOUNCER_PATHS, renderPgbouncerIni, renderPgbouncerUserlist } from "./pgbouncer";
import { MASTODON_METRICS, programPath } from "../host/programs";
import { MASTODON_PATHS } from "../fleet/host/units";
import { stackConfig } from "../../test/helpers";
import {
  type Postgres,
  RDS_MASTER_SQL,
  asPostgresUser,
  freePort,
  makeTestCertificates,
  isRoot,
  requireProgram,
  runRoleSetup,
  spawnServer,
  startPostgres,
  stopAllServers,
  stopProcess,
  tempDir,
  waitFor,
} from "../../test/real/servers";

const { config } = parseStackConfig(stackConfig("production"));
const fleet = config.fleets.find((f) => f.name === "sidekiq-default")!;
const pool = pgbouncerRow(fleet).poolSize; // 12
const clients = clientConnectionsPerHost(fleet); // 4 processes x 15 threads = 60
const PASSWORD = "PgbouncerTestPassword0123456789";
const ADMIN_PASSWORD = "AdminTestPassword0123456789";
const { masterUsername: MASTER, username: APP, databaseName: DATABASE } = DEFAULTS.mastodon;
// The test server's max_connections, with RDS's 3 + 2 reserved slots (superuser_reserved_connections).
const MAX_CONNECTIONS = 100;
// The budget of a stack whose only fleet is this one host, on a database with MAX_CONNECTIONS.
const budget = computeBudget({
  fleets: [{ ...fleet, maxSize: 1 }],
  database: { ...config.database.primary, maxConnections: MAX_CONNECTIONS },
  pooler: "pgbouncer",
  headroom: config.database.adminHeadroom,
});
const role = {
  masterUser: MASTER,
  appUser: APP,
  databaseName: DATABASE,
  connectionLimit: budget.roleConnectionLimit,
  adminPasswordParameter: "/mastodon/production/mastodon-admin/db-admin-password",
  appPasswordParameter: "/mastodon/production/mastodon/db-password",
};

// Generous bounds for every test and hook here: RSA keys, TLS handshakes and 80 clients, on a machine
// that may be busy.
const SLOW = 180000;
jest.setTimeout(SLOW);

const dir = tempDir("mastodon-pgbouncer-");
let pg: Postgres;
let bouncer: ChildProcess;
let port: number;
const socketDir = path.join(dir, "run-pgbouncer");
const open: Client[] = [];

beforeAll(async () => {
  requireProgram("/usr/sbin/pgbouncer");
  fs.chmodSync(dir, 0o755);
  // A CA and a server certificate for 127.0.0.1, so verify-full has something to verify.
  makeTestCertificates(dir);
  for (const f of ["server.key", "server.crt", "ca.crt"]) {
    fs.chmodSync(path.join(dir, f), 0o600);
    if (isRoot) execFileSync("chown", ["postgres:postgres", path.join(dir, f)]);
  }
  pg = await startPostgres(
    {
      ssl: "on",
      ssl_cert_file: path.join(dir, "server.crt"),
      ssl_key_file: path.join(dir, "server.key"),
      max_connections: String(MAX_CONNECTIONS),
      superuser_reserved_connections: String(
        BUDGET_RULES.superuserReserved + BUDGET_RULES.rdsSuperuserReserved,
      ),
    },
    { passwords: true },
  );
  const admin = new Client({ host: "127.0.0.1", port: pg.port, user: pg.superuser, database: "postgres" });
  await admin.connect();
  for (const sql of RDS_MASTER_SQL(MASTER, ADMIN_PASSWORD, DATABASE)) await admin.query(sql);
  await admin.end();
  const setup = runRoleSetup(
    pg,
    role,
    { [role.adminPasswordParameter]: ADMIN_PASSWORD, [role.appPasswordParameter]: PASSWORD },
    path.join(dir, "ca.crt"),
  );
  if (setup.status !== 0) throw new Error(`role setup failed: ${setup.stderr}`);

  port = await freePort();
  // The unit's RuntimeDirectory: PgBouncer's own, mode 0700.
  fs.mkdirSync(socketDir, { mode: 0o700 });
  if (isRoot) execFileSync("chown", ["postgres:postgres", socketDir]);
  const userlist = path.join(dir, "userlist.txt");
  fs.writeFileSync(userlist, renderPgbouncerUserlist(APP, PASSWORD), { mode: 0o600 });
  if (isRoot) execFileSync("chown", ["postgres:postgres", userlist]);
  const ini = renderPgbouncerIni({
    fleet,
    primaryHost: "127.0.0.1",
    port: pg.port,
    databaseName: DATABASE,
  })
    .replace(
      `server_tls_ca_file = ${MASTODON_PATHS.rdsCaBundle}`,
      `server_tls_ca_file = ${path.join(dir, "ca.crt")}`,
    )
    .replace(`auth_file = ${PGBOUNCER_PATHS.userlist}`, `auth_file = ${userlist}`)
    .replace("listen_port = 6432", `listen_port = ${port}`)
    .replace(`unix_socket_dir = ${PGBOUNCER_PATHS.socketDir}`, `unix_socket_dir = ${socketDir}`);
  fs.writeFileSync(path.join(dir, "pgbouncer.ini"), ini);
  // A direct child (as root, run as the postgres user): stopping it is a signal and its exit, reaped.
  bouncer = spawnServer("/usr/sbin/pgbouncer", [path.join(dir, "pgbouncer.ini")], {
    ...asPostgresUser(),
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  bouncer.stderr?.on("data", (d) => (log += d));
  await waitFor(async () => {
    if (bouncer.exitCode !== null || bouncer.signalCode !== null) throw new Error(`pgbouncer exited: ${log}`);
    const c = viaBouncer(10000);
    try {
      await c.connect();
      await c.end();
      return true;
    } catch {
      return false;
    }
  }, "pgbouncer");
});

afterAll(async () => {
  // The clients first (each a Terminate and a close), then PgBouncer: SIGTERM is its immediate
  // shutdown in 1.18, and from 1.23 on a shutdown that waits for the clients to leave.
  await Promise.allSettled(open.map((c) => c.end()));
  if (bouncer) await stopProcess(bouncer, "SIGTERM");
  await pg?.stop();
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

function viaBouncer(connectionTimeoutMillis = 0): Client {
  const client = new Client({
    host: "127.0.0.1",
    port,
    user: APP,
    password: PASSWORD,
    database: DATABASE,
    connectionTimeoutMillis,
  });
  // A socket closing under a client (PgBouncer refusing it, or stopped after a failed test) is expected.
  client.on("error", () => undefined);
  return client;
}

async function serverSide(): Promise<{ connections: number; tls: number }> {
  const admin = new Client({ host: "127.0.0.1", port: pg.port, user: pg.superuser, database: "postgres" });
  await admin.connect();
  const { rows } = await admin.query(
    "SELECT count(*)::int AS connections, count(*) FILTER (WHERE s.ssl)::int AS tls FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) WHERE a.usename = 'mastodon'",
  );
  await admin.end();
  return rows[0];
}

test(`the host's ${clients} busy threads share ${pool} verified-TLS server connections`, async () => {
  expect([pool, clients]).toEqual([12, 60]);
  open.push(
    ...(await Promise.all(
      Array.from({ length: clients }, async () => {
        const c = viaBouncer();
        await c.connect();
        return c;
      }),
    )),
  );
  // Every thread runs a transaction at once; PgBouncer queues them onto the pool. The server side is
  // watched for as long as the work takes, however long that is, and once more after.
  let peak = { connections: 0, tls: 0 };
  let working = true;
  const work = Promise.all(
    open.map((c) =>
      c
        .query("BEGIN")
        .then(() => c.query("SELECT pg_sleep(0.3)"))
        .then(() => c.query("COMMIT")),
    ),
  ).finally(() => (working = false));
  const watch = (async () => {
    for (let last = false; !last;) {
      last = !working;
      const now = await serverSide();
      if (now.connections > peak.connections) peak = now;
      if (!last) await new Promise((r) => setTimeout(r, 100));
    }
  })();
  await Promise.all([work, watch]);
  expect(peak.connections).toBe(pool);
  expect(peak.tls).toBe(peak.connections);
});

test("beside PgBouncer's servers, direct connections as the role get the headroom and up to the role's limit, then are refused; the master still gets in", async () => {
  // 90% of 95 usable connections: 85, of which PgBouncer's pool holds 12 and the headroom plans 15.
  expect([budget.fleetConnections, budget.headroom, budget.roleConnectionLimit]).toEqual([pool, 15, 85]);
  expect(budget.fleetConnections + budget.headroom).toBeLessThanOrEqual(budget.roleConnectionLimit);
  expect(budget.alarmThreshold).toBeLessThan(budget.roleConnectionLimit);
  // The pool's server connections stay open, idle, after the busy test (server_idle_timeout).
  expect(await serverSide()).toEqual({ connections: pool, tls: pool });
  const ca = fs.readFileSync(path.join(dir, "ca.crt"));
  const direct = (user: string, password: string) => {
    const c = new Client({
      host: "127.0.0.1",
      port: pg.port,
      user,
      password,
      database: DATABASE,
      ssl: { ca },
    });
    c.on("error", () => undefined);
    return c;
  };
  // Migrations and tootctl connect as the role straight to PostgreSQL, as these do: the headroom gets
  // in, and so does the rest of the role's limit; one more is refused by PostgreSQL itself.
  const oneOffs: Client[] = [];
  try {
    let refusal: Error | undefined;
    while (!refusal && oneOffs.length <= budget.roleConnectionLimit) {
      const c = direct(APP, PASSWORD);
      try {
        await c.connect();
        oneOffs.push(c);
      } catch (e) {
        refusal = e as Error;
      }
    }
    expect(oneOffs.length).toBe(budget.roleConnectionLimit - pool);
    expect(oneOffs.length).toBeGreaterThanOrEqual(budget.headroom);
    expect(refusal?.message).toBe(`too many connections for role "${APP}"`);
    expect(await serverSide()).toEqual({
      connections: budget.roleConnectionLimit,
      tls: budget.roleConnectionLimit,
    });
    const master = direct(MASTER, ADMIN_PASSWORD);
    await master.connect();
    const { rows } = await master.query(`SELECT rolconnlimit FROM pg_roles WHERE rolname = '${APP}'`);
    await master.end();
    expect(rows).toEqual([{ rolconnlimit: budget.roleConnectionLimit }]);
  } finally {
    // PgBouncer may need to open its servers again in the tests below: the one-offs leave.
    await Promise.allSettled(oneOffs.map((c) => c.end()));
  }
});

test("max_client_conn turns away what one host should never open", async () => {
  const maxClient = Number(
    /max_client_conn = (\d+)/.exec(renderPgbouncerIni({ fleet, primaryHost: "h", databaseName: "d" }))?.[1],
  );
  // The earlier test's clients are still connected; add up to the limit, then one more.
  while (open.length < maxClient) {
    const c = viaBouncer();
    await c.connect();
    open.push(c);
  }
  const extra = viaBouncer();
  await expect(extra.connect()).rejects.toThrow(/max_client_conn/);
});

test("the metrics collector reads the waiting clients from PgBouncer's admin console, as the unit runs it", async () => {
  // The pool's server connections all held in open transactions, then WAITING more clients asking.
  const WAITING = 5;
  const holders = open.slice(0, pool);
  const askers = open.slice(pool, pool + WAITING);
  await Promise.all(holders.map((c) => c.query("BEGIN").then(() => c.query("SELECT 1"))));
  const asked = askers.map((c) => c.query("SELECT 1"));
  const config = path.join(dir, "metrics.json");
  fs.writeFileSync(
    config,
    JSON.stringify({
      ...hostMetricsConfig(
        fleet,
        { stack: "/mastodon/production", region: "us-east-1", fleets: [fleet] },
        { pooled: true },
      ),
      pgbouncer: { socketDir, port },
    }),
  );
  const collect = () => {
    // As its unit: the postgres user, whom PgBouncer's console admits on the socket without a password.
    const r = spawnSync("/usr/bin/python3", [programPath(MASTODON_METRICS), config, "--dry-run"], {
      ...asPostgresUser(),
      env: { PATH: "/usr/bin:/bin" },
      encoding: "utf8",
      timeout: SLOW,
    });
    if (r.status !== 0) throw new Error(`collector (${r.status}): ${r.stderr}`);
    const data = (
      JSON.parse(r.stdout) as { metricData: { MetricName: string; Value: number; Dimensions: unknown[] }[] }
    ).metricData;
    return Object.fromEntries(data.map((d) => [d.MetricName, { value: d.Value, dimensions: d.Dimensions }]));
  };
  // PgBouncer counts a client as waiting once it has read its query: poll until all have been read.
  let seen = collect();
  await waitFor(() => {
    seen = collect();
    return seen[METRICS.pgbouncerClientsWaiting.name]?.value === WAITING;
  }, `${WAITING} waiting clients in SHOW POOLS`);
  expect(seen[METRICS.pgbouncerClientsWaiting.name]).toEqual({
    value: WAITING,
    dimensions: [
      { Name: "Stack", Value: "/mastodon/production" },
      { Name: "Fleet", Value: fleet.name },
    ],
  });
  expect(seen[METRICS.pgbouncerMaxWait.name]!.value).toBeGreaterThanOrEqual(0);
  // The holders commit: the askers get their turn and nobody waits any more.
  await Promise.all(holders.map((c) => c.query("COMMIT")));
  await Promise.all(asked);
  expect(collect()[METRICS.pgbouncerClientsWaiting.name]!.value).toBe(0);
});
