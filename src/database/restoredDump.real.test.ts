/**
 * A database from a pg_dump archive (mastodon:database.restoreFrom.dump): an instance that ran
 * elsewhere, dumped by pg_dump 15 in its custom format, restored by the scheduler's host's own first
 * boot step, `mastodon-database prepare CONFIG` (src/database/files/mastodon-database.sh and
 * mastodon-restore.sh, run by bash as on the host) into a new stack's empty database on a real
 * PostgreSQL 15 from Debian with verified TLS, RDS's master (not a superuser) and scram-sha-256
 * passwords, with the stand-ins of test/real/databaseStandIns.ts for the AWS CLI (S3 and SSM),
 * podman (Rails) and systemctl.
 *
 * The old instance runs on a server of its own, as Mastodon's install guide sets it up: its database
 * owned by a role `mastodon`, an extension a superuser made (pg_stat_statements), a grant to a role
 * the new server does not have, Mastodon-shaped tables with a plpgsql function and a materialized
 * view. The new stack's prepare must restore every row as the app's role, which then owns every
 * object and may read, write and migrate them; leave the extension and the grant out; run the pending
 * pre-deployment migrations and no schema load or seeds; never restore twice; and leave the database
 * empty when an archive fails half-way, so that the next boot restores it whole.
 */
import type * as http from "http";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { DEFAULTS } from "../vocabulary/defaults";
import { DUMP_KEY } from "./databaseDump";
import { productionRoleSetup } from "../../test/helpers";
import { pgDump, type Postgres, startPostgres, stopAllServers, tempDir } from "../../test/real/servers";
import {
  type DatabaseRun,
  type DatabaseRunPlace,
  databaseRunPlace,
  railsRuns,
  runDatabaseProgram,
  writeSchedulerDatabase,
} from "../../test/real/databaseRun";
import { instanceMetadata } from "../../test/real/imdsStandIn";
import { startRdsPostgres } from "../../test/real/rdsPostgres";
import { LIFECYCLE_HOOK_NAME } from "../fleet/host/readiness";

jest.setTimeout(240000);
const RUN_TIMEOUT_MS = 200000;

const { masterUsername: MASTER, username: APP, databaseName: DATABASE } = DEFAULTS.mastodon;
const ADMIN_PASSWORD = "StackAdmin0123456789abcdefghijklmnopqrs";
const APP_PASSWORD = "StackApp0123456789abcdefghijklmnopqrstu";
const BUCKET = "mastodon-production-database-dump-1a2b3c4";
const URL = `s3://${BUCKET}/${DUMP_KEY}`;
/** Statuses in the old instance: enough for the restore's figure to mean something. */
const STATUSES = 200000;
/** The tables compared row for row, and the old instance's tables, in order. */
const TABLES = [
  "accounts",
  "ar_internal_metadata",
  "oauth_applications",
  "schema_migrations",
  "session_activations",
  "statuses",
  "users",
  "web_push_subscriptions",
];

const OLD_INSTANCE_SQL = [
  "CREATE ROLE mastodon LOGIN",
  "CREATE ROLE reader NOLOGIN",
  `CREATE DATABASE ${DATABASE} OWNER mastodon`,
];
/** In the old database: the superuser's extension, then Mastodon's objects as its role. */
const OLD_SCHEMA_SQL = `
  CREATE EXTENSION pg_stat_statements;
  SET ROLE mastodon;
  CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
  CREATE TABLE ar_internal_metadata (key varchar PRIMARY KEY, value varchar);
  CREATE FUNCTION timestamp_id(table_name text) RETURNS bigint LANGUAGE plpgsql AS
    $$ BEGIN RETURN (floor(extract(epoch FROM clock_timestamp()) * 1000)::bigint << 16) | (nextval(table_name || '_id_seq') % 65536); END $$;
  CREATE TABLE oauth_applications (id bigserial PRIMARY KEY, name varchar, superapp boolean NOT NULL DEFAULT false);
  CREATE TABLE accounts (id bigserial PRIMARY KEY, username varchar NOT NULL, domain varchar);
  CREATE UNIQUE INDEX index_accounts_on_username_and_domain_lower ON accounts (lower(username), COALESCE(lower(domain), ''));
  CREATE TABLE users (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts,
    email varchar NOT NULL, encrypted_password varchar NOT NULL, sign_in_count integer NOT NULL DEFAULT 0);
  CREATE SEQUENCE statuses_id_seq;
  CREATE TABLE statuses (id bigint PRIMARY KEY DEFAULT timestamp_id('statuses'),
    account_id bigint NOT NULL REFERENCES accounts, text text NOT NULL DEFAULT '', created_at timestamp NOT NULL DEFAULT now());
  CREATE INDEX index_statuses_on_account_id_id ON statuses (account_id, id DESC);
  CREATE TABLE session_activations (id bigserial PRIMARY KEY, user_id bigint NOT NULL REFERENCES users, session_id varchar NOT NULL);
  CREATE TABLE web_push_subscriptions (id bigserial PRIMARY KEY, user_id bigint REFERENCES users,
    endpoint varchar NOT NULL, key_p256dh varchar NOT NULL, key_auth varchar NOT NULL);
  CREATE MATERIALIZED VIEW account_summaries AS SELECT account_id, count(*) AS statuses FROM statuses GROUP BY account_id;
  INSERT INTO schema_migrations VALUES ('20240101000000'), ('20250301000000');
  INSERT INTO ar_internal_metadata VALUES ('environment', 'production');
  INSERT INTO oauth_applications (name, superapp) VALUES ('Web', true);
  INSERT INTO accounts (username) VALUES ('admin'), ('alice'), ('bob');
  INSERT INTO users (account_id, email, encrypted_password, sign_in_count)
    SELECT id, username || '@old.example', '$2a$10$' || md5(username), 3 FROM accounts;
  INSERT INTO statuses (account_id, text) SELECT 1 + g % 3, 'post ' || g || ' ' || md5(g::text) FROM generate_series(1, ${STATUSES}) g;
  INSERT INTO session_activations (user_id, session_id) SELECT id, md5(id::text) FROM users;
  INSERT INTO web_push_subscriptions (user_id, endpoint, key_p256dh, key_auth)
    SELECT id, 'https://push.example/' || id, 'BNc' || md5(id::text), md5(email) FROM users;
  REFRESH MATERIALIZED VIEW account_summaries;
  RESET ROLE;
  GRANT SELECT ON statuses TO reader;
  COMMENT ON TABLE statuses IS 'posts';
`;

const dir = tempDir("mastodon-dump-");
let place: DatabaseRunPlace;
let old: Postgres;
let pg: Postgres;
let config: string;
let archive: Buffer;
let imds: { server: http.Server; url: string };
const INSTANCE = { id: "i-0123456789abcdef0", group: "mastodon-sidekiq-scheduler-group-1a2b3c4" };

async function query(
  server: Postgres,
  sql: string,
  user = server.superuser,
  password?: string,
  database: string = DATABASE,
): Promise<any[]> {
  const client = new Client({ host: "127.0.0.1", port: server.port, user, password, database });
  await client.connect();
  try {
    return (await client.query(sql)).rows;
  } finally {
    await client.end();
  }
}
const asApp = (sql: string) => query(pg, sql, APP, APP_PASSWORD);

/** Every table's rows, in order: what the restore must carry over. */
const contents = async (server: Postgres) =>
  Object.fromEntries(
    await Promise.all(
      TABLES.map(async (t) => [t, await query(server, `SELECT * FROM ${t} ORDER BY 1`)] as const),
    ),
  );

/** The public schema's objects and their owners, as "kind name owner". */
const owned = async () =>
  (
    await query(
      pg,
      `SELECT c.relkind::text || ' ' || c.relname || ' ' || pg_get_userbyid(c.relowner) AS o
         FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'
       UNION ALL SELECT 'f ' || proname || ' ' || pg_get_userbyid(proowner) FROM pg_proc p
         JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname = 'public' ORDER BY 1`,
    )
  ).map((r) => r.o as string);

const prepare = (): Promise<DatabaseRun> =>
  runDatabaseProgram(place, ["prepare", config], [ADMIN_PASSWORD, APP_PASSWORD], RUN_TIMEOUT_MS, imds.url);

/** The archive the stack uploaded, as S3's stand-in holds it. */
function upload(bytes: Buffer): void {
  const object = path.join(place.s3, BUCKET, DUMP_KEY);
  fs.mkdirSync(path.dirname(object), { recursive: true });
  fs.writeFileSync(object, bytes);
}

beforeAll(async () => {
  place = databaseRunPlace(dir);
  imds = await instanceMetadata({ value: "Pending:Wait", reads: 0 }, INSTANCE);
  fs.chmodSync(dir, 0o755);
  old = await startPostgres({});
  // Its roles and database, through the maintenance database.
  for (const sql of OLD_INSTANCE_SQL) await query(old, sql, old.superuser, undefined, "postgres");
  await query(old, OLD_SCHEMA_SQL);
  // The operator's dump, pg_dump's custom format, as the README says.
  const file = path.join(dir, "mastodon.dump");
  pgDump(old, DATABASE, file);
  archive = fs.readFileSync(file);

  // The new stack's RDS instance: its master, its empty database.
  let ca: string;
  ({ pg, ca } = await startRdsPostgres(dir, { user: MASTER, password: ADMIN_PASSWORD, database: DATABASE }));
  config = writeSchedulerDatabase(place, dir, {
    name: "production",
    pg,
    ca,
    role: productionRoleSetup(),
    adminPassword: ADMIN_PASSWORD,
    appPassword: APP_PASSWORD,
    restore: { url: URL, bytes: archive.length },
  });
});

afterAll(async () => {
  imds?.server.close();
  await old?.stop();
  await pg?.stop();
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("the archive is pg_dump 15's custom format, as restoreDump.ts reads its header", () => {
  expect(archive.toString("latin1", 0, 5)).toBe("PGDMP");
  expect([archive[5], archive[6], archive[10]]).toEqual([1, 14, 1]);
});

test("an archive that fails half-way leaves the database empty", async () => {
  // Cut short: its table of contents is whole, the data of its last entries is not there.
  upload(archive.subarray(0, Math.floor(archive.length * 0.9)));
  const run = await prepare();
  expect(run.status).not.toBe(0);
  expect(run.stderr).toMatch(/pg_restore: error/);
  expect(railsRuns(run)).toEqual([]);
  expect(
    await query(
      pg,
      "SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public'",
    ),
  ).toEqual([{ n: 0 }]);
});

test("the whole archive restores as the app's role, every row, and the boot goes on to the migrations", async () => {
  upload(archive);
  const started = process.hrtime.bigint();
  const run = await prepare();
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  // Printed, never asserted: the figure behind restoreDump.ts's rate.
  console.log(
    `prepare with the restore of a ${(archive.length / 2 ** 20).toFixed(1)} MiB archive: ${seconds.toFixed(1)} s, ${(archive.length / 2 ** 20 / seconds).toFixed(1)} MiB/s`,
  );
  expect(run.calls.filter((c) => c[0] === "aws" && c[1] === "s3")).toEqual([
    [
      "aws",
      "s3",
      "cp",
      "--only-show-errors",
      "--region",
      "test-1",
      URL,
      expect.stringMatching(/\/mastodon\.dump$/),
    ],
  ]);
  expect(run.stderr).toContain("leaving out: EXTENSION - pg_stat_statements");
  // The launch hook kept waiting: a heartbeat at the restore's start, on this instance's own hook.
  expect(run.calls.filter((c) => c[0] === "aws" && c[1] === "autoscaling")[0]).toEqual([
    "aws",
    "autoscaling",
    "record-lifecycle-action-heartbeat",
    "--region",
    "test-1",
    "--lifecycle-hook-name",
    LIFECYCLE_HOOK_NAME,
    "--auto-scaling-group-name",
    INSTANCE.group,
    "--instance-id",
    INSTANCE.id,
  ]);
  // A database with Mastodon's schema: its pending migrations; the old instance's seeds are there.
  expect(railsRuns(run).map((r) => r.command)).toEqual(["rails db:migrate"]);
  expect(run.stderr).toContain("the seeds ran before: not seeding");
  expect(await contents(pg)).toEqual(await contents(old));
  expect(await query(pg, "SELECT * FROM account_summaries ORDER BY 1")).toEqual(
    await query(old, "SELECT * FROM account_summaries ORDER BY 1"),
  );
  // The app's role owns every object; the old role, its grant and the extension are not here.
  const objects = await owned();
  expect(objects.length).toBeGreaterThan(TABLES.length);
  for (const o of objects) expect(o).toMatch(new RegExp(` ${APP}$`));
  expect(await query(pg, "SELECT rolname FROM pg_roles WHERE rolname IN ('reader')")).toEqual([]);
  expect(await query(pg, "SELECT relacl FROM pg_class WHERE relname = 'statuses'")).toEqual([
    { relacl: null },
  ]);
  expect(await query(pg, "SELECT extname FROM pg_extension ORDER BY 1")).toEqual([{ extname: "plpgsql" }]);
  // Nothing of the run is left behind: the archive went with the work directory.
  expect(fs.readdirSync(place.tmp)).toEqual([]);
});

test("the app's role reads, writes and migrates the restored tables", async () => {
  const [{ id }] = await asApp(
    "INSERT INTO statuses (account_id, text) VALUES (2, 'after the move') RETURNING id",
  );
  // The default, timestamp_id(), runs as restored: an id above every old one.
  const [{ max }] = await asApp("SELECT max(id) AS max FROM statuses WHERE id <> " + id);
  expect(BigInt(id)).toBeGreaterThan(BigInt(max));
  await asApp("INSERT INTO accounts (username) VALUES ('carol')");
  await asApp("UPDATE users SET sign_in_count = sign_in_count + 1 WHERE email = 'alice@old.example'");
  await asApp("REFRESH MATERIALIZED VIEW account_summaries");
  await asApp("ALTER TABLE statuses ADD COLUMN moved boolean; ALTER TABLE statuses DROP COLUMN moved");
  await asApp(`DELETE FROM statuses WHERE id = ${id}`);
  await asApp("DELETE FROM accounts WHERE username = 'carol'");
});

test("a second prepare leaves the restored database alone", async () => {
  const before = await contents(pg);
  const run = await prepare();
  expect(run.status).toBe(0);
  expect(run.stderr).toContain("the database has a schema: the archive is not restored again");
  expect(run.calls.filter((c) => c[0] === "aws" && c[1] === "s3")).toEqual([]);
  expect(railsRuns(run).map((r) => r.command)).toEqual(["rails db:migrate"]);
  expect(await contents(pg)).toEqual(before);
});
