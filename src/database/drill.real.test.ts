/**
 * The restore drill against real PostgreSQL 15 from Debian: a source instance with Mastodon-shaped
 * tables is dumped (pg_dump) and restored (pg_restore) into a new instance as RDS serves it (verified
 * TLS, scram-sha-256, the RDS master: test/real/rdsPostgres.ts); then the drill document's own shell
 * lines (drill.ts, rendered on the test's config) run with /bin/sh: they write
 * src/database/files/mastodon-drill.py and run it, and its report is read back by `npm run drill`'s
 * parser (drillCommand.ts). The master's password comes from the stand-in `aws` that
 * test/real/databaseRun.ts installs (which records its calls); the media host is the HTTP stand-in
 * of test/real/mediaStandIn.ts (CloudFront in front of the bucket: the path is the object's key),
 * which .env.production names as Mastodon would read it.
 */
import { execFileSync, spawn } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { MASTODON_DRILL, programPath } from "../host/programs";
import { renderDrillDocument } from "./drill";
import { formatDrillReport, parseDrillReport } from "./drillCommand";
import { productionRoleSetup } from "../../test/helpers";
import {
  POSTGRES_BIN,
  pgDump,
  requireProgram,
  type Postgres,
  startPostgres,
  stopAllServers,
  tempDir,
  testDatabaseConfig,
} from "../../test/real/servers";
import { startRdsPostgres } from "../../test/real/rdsPostgres";
import { type MediaStandIn, startMediaStandIn } from "../../test/real/mediaStandIn";
import { databaseRunPlace, putParameter } from "../../test/real/databaseRun";

jest.setTimeout(180000);
const RUN_TIMEOUT_MS = 150000;

const ROLE = productionRoleSetup();
const MASTER = {
  user: ROLE.masterUser,
  password: "DrillAdmin0123456789abcdefghijklmnopqrs",
  database: ROLE.databaseName,
};
const APP_PASSWORD = "AppSecret0123456789abcdefghijklmnopqrstu";
const SECRET_KEY_BASE = "SecretKeyBase0123456789abcdefghijklmnopq";
const SCHEMA = `
  CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
  CREATE TABLE accounts (id bigint PRIMARY KEY, username varchar NOT NULL, domain varchar);
  CREATE TABLE users (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts);
  CREATE TABLE statuses (id bigint PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts, text text NOT NULL DEFAULT '');
  CREATE TABLE media_attachments (id bigint PRIMARY KEY, account_id bigint REFERENCES accounts, file_file_name varchar,
    file_content_type varchar, remote_url varchar NOT NULL DEFAULT '', processing integer);
  CREATE TABLE follows (id bigserial PRIMARY KEY, account_id bigint NOT NULL, target_account_id bigint NOT NULL);
  CREATE TABLE favourites (id bigserial PRIMARY KEY, account_id bigint NOT NULL, status_id bigint NOT NULL);
  CREATE TABLE session_activations (id bigserial PRIMARY KEY, user_id bigint NOT NULL, session_id varchar NOT NULL);
  CREATE TABLE oauth_access_tokens (id bigserial PRIMARY KEY, token varchar NOT NULL);
  CREATE TABLE web_push_subscriptions (id bigserial PRIMARY KEY, endpoint varchar NOT NULL);`;
/** The rows the source holds, table by table: what the restored database must count. */
const ROWS: Record<string, string[]> = {
  schema_migrations: ["('20240101000000')", "('20250923140000')", "('20250101000000')"],
  // The instance actor, two local accounts, one remote.
  accounts: [
    "(-99, 'mastodon.example', NULL)",
    "(1, 'alice', NULL)",
    "(2, 'bob', NULL)",
    "(3, 'carol', 'remote.example')",
  ],
  users: ["(DEFAULT, 1)", "(DEFAULT, 2)"],
  statuses: [1, 2, 3, 4, 5].map((i) => `(${i}, ${(i % 2) + 1}, 'post ${i}')`),
  // The newest local one with a stored, processed file is ...678; newer ones are remote (cached),
  // without a file, or still queued: Mastodon serves none of them from this media host's path.
  media_attachments: [
    "(113456789012345600, 1, 'old.png', 'image/png', '', 2)",
    "(113456789012345678, 2, 'a1b2c3d4e5f60718.png', 'image/png', '', 2)",
    "(113456789012345690, 3, 'cached.png', 'image/png', 'https://remote.example/x.png', 2)",
    "(113456789012345695, 1, NULL, NULL, '', 2)",
    "(113456789012345699, 1, 'queued.png', 'image/png', '', 0)",
  ],
  follows: ["(DEFAULT, 1, 2)", "(DEFAULT, 2, 1)", "(DEFAULT, 1, 3)"],
  favourites: ["(DEFAULT, 1, 2)", "(DEFAULT, 2, 1)"],
  session_activations: ["(DEFAULT, 1, 's1')", "(DEFAULT, 2, 's2')"],
  oauth_access_tokens: ["(DEFAULT, 't1')", "(DEFAULT, 't2')", "(DEFAULT, 't3')"],
  web_push_subscriptions: ["(DEFAULT, 'https://push.example/1')"],
};
const TABLES = Object.keys(ROWS).filter((t) => t !== "schema_migrations");
/** Paperclip's path of the original: ':class/:attachment/:id_partition/:style/:filename'. */
const MEDIA_PATH = "/media_attachments/files/113/456/789/012/345/678/original/a1b2c3d4e5f60718.png";
const MEDIA = randomBytes(1234);
const PYTHON = requireProgram("/usr/bin/python3");

const dir = tempDir("mastodon-drill-");
/** The stand-ins (test/real/databaseStandIns.ts) on PATH, SSM's store, the call log, TMPDIR. */
const place = databaseRunPlace(dir);
const config = path.join(dir, "database.conf");
let source: Postgres;
let drill: Postgres;
let media: MediaStandIn;

async function sql(pg: Postgres, database: string, text: string): Promise<any[]> {
  const client = new Client({ host: "127.0.0.1", port: pg.port, user: pg.superuser, database });
  await client.connect();
  try {
    return (await client.query(text)).rows;
  } finally {
    await client.end();
  }
}
const contents = async () =>
  Object.fromEntries(
    await Promise.all(
      Object.keys(ROWS).map(async (t) => [
        t,
        await sql(drill, MASTER.database, `SELECT * FROM ${t} ORDER BY 1`),
      ]),
    ),
  );

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** Each stand-in call: program, then its arguments. */
  readonly calls: string[][];
}

/** `argv` with the stand-ins first on PATH, then PostgreSQL's and Debian's programs; TMPDIR its own. */
function run(argv: string[]): Promise<Run> {
  fs.rmSync(path.join(place.logs, "calls.log"), { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        // Debian's own programs after the stand-ins, as on the host: no python3 that puts its own
        // directory (a real aws CLI) first on PATH, as pyenv's shims do.
        PATH: `${place.bin}:${POSTGRES_BIN}:/usr/bin:/bin`,
        FAKE_SSM: place.ssm,
        FAKE_LOG: place.logs,
        TMPDIR: place.tmp,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), RUN_TIMEOUT_MS);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      const log = path.join(place.logs, "calls.log");
      const calls = fs.existsSync(log)
        ? fs
            .readFileSync(log, "utf8")
            .split("\n")
            .filter(Boolean)
            .map((l) => l.split("\t"))
        : [];
      // No secret reaches the report, the log or a command line; nothing is left in TMPDIR.
      const seen = stdout + stderr + calls.flat().join(" ");
      if ([MASTER.password, APP_PASSWORD, SECRET_KEY_BASE].some((secret) => seen.includes(secret)))
        reject(new Error("a secret reached the drill's output or a command line"));
      const left = fs.readdirSync(place.tmp);
      if (left.length > 0) reject(new Error(`left in TMPDIR: ${left.join(", ")}`));
      resolve({ status, stdout, stderr, calls });
    });
  });
}

/** The drill document's shell lines, run by /bin/sh as SSM runs them, on the test's config. */
function runDocument(): Promise<Run> {
  const doc = JSON.parse(renderDrillDocument({ config }));
  const script = path.join(dir, "document.sh");
  fs.writeFileSync(script, `${doc.mainSteps[0].inputs.runCommand.join("\n")}\n`);
  return run(["/bin/sh", script]);
}

const checksOf = (r: Run) => Object.fromEntries(JSON.parse(r.stdout).checks.map((c: any) => [c.name, c]));

beforeAll(async () => {
  // The source instance and its rows.
  source = await startPostgres({});
  await sql(source, "postgres", `CREATE DATABASE ${MASTER.database}`);
  const inserts = Object.entries(ROWS).map(([t, rows]) => `INSERT INTO ${t} VALUES ${rows.join(", ")};`);
  await sql(source, MASTER.database, `${SCHEMA}\n${inserts.join("\n")}`);
  // The new stack's instance, as RDS made it; the source's dump restored into it as its master.
  const rds = await startRdsPostgres(dir, MASTER);
  drill = rds.pg;
  const dump = path.join(dir, "source.dump");
  const connect = (pg: Postgres) => ["-h", "127.0.0.1", "-p", String(pg.port), "-U", pg.superuser];
  pgDump(source, MASTER.database, dump);
  execFileSync(`${POSTGRES_BIN}/pg_restore`, [
    ...connect(drill),
    ...["--no-owner", `--role=${MASTER.user}`, "--exit-on-error", "-d", MASTER.database, dump],
  ]);
  fs.writeFileSync(config, drillConfig(drill, rds.ca), { mode: 0o600 });
  await source.stop();
  putParameter(place, ROLE.adminPasswordParameter, MASTER.password);
  media = await startMediaStandIn();
  media.objects.set(MEDIA_PATH, MEDIA);
  // The host's .env.production: Mastodon's media URLs under the stand-in, secrets beside them.
  const env = [
    "DB_HOST=127.0.0.1",
    `DB_PASS=${APP_PASSWORD}`,
    `S3_ALIAS_HOST=${media.host}`,
    "S3_BUCKET=mastodon-media-bucket",
    "S3_ENABLED=true",
    "S3_PROTOCOL=http",
    `SECRET_KEY_BASE=${SECRET_KEY_BASE}`,
  ];
  fs.writeFileSync(path.join(dir, "env.production"), `${env.join("\n")}\n`, { mode: 0o600 });
});

/** database.conf as src/database/database.ts renders it, its paths relocated to the test's files. */
function drillConfig(pg: Postgres, caFile: string): string {
  const roleSql = path.join(dir, "database-role.sql");
  return testDatabaseConfig({ pg, role: ROLE, roleSql, envFile: path.join(dir, "env.production"), caFile });
}

afterAll(async () => {
  await media?.stop();
  await drill?.stop();
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("restored from a dump: the drill document checks the database and the media, and reports every figure", async () => {
  const before = await contents();
  const r = await runDocument();
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  const report = JSON.parse(r.stdout);
  expect(report).toMatchObject({ ok: true, database: `127.0.0.1:${drill.port}/${MASTER.database}` });
  expect(report.checks.map((c: any) => [c.name, c.ok])).toEqual([
    ["database", true],
    ["schema", true],
    ...TABLES.map((t) => [`rows.${t}`, true]),
    ["media", true],
  ]);
  const checks = checksOf(r);
  expect(checks["database"].detail).toBe(`${MASTER.user} connected with sslmode verify-full`);
  expect(checks["schema"]).toMatchObject({ version: "20250923140000", detail: "version 20250923140000" });
  for (const t of TABLES)
    expect([t, checks[`rows.${t}`].rows, checks[`rows.${t}`].counted]).toEqual([t, ROWS[t]!.length, "exact"]);
  expect(checks["media"]).toMatchObject({
    id: "113456789012345678",
    url: `http://${media.host}${MEDIA_PATH}`,
    status: 200,
    bytes: MEDIA.length,
  });
  expect(media.requests).toEqual([MEDIA_PATH]);
  // The master's password from SSM, once; and nothing written.
  expect(r.calls).toEqual([
    ["aws", "ssm", "get-parameter", "--with-decryption", "--name", ROLE.adminPasswordParameter].concat([
      "--query",
      "Parameter.Value",
      "--output",
      "text",
      "--region",
      "test-1",
    ]),
  ]);
  expect(await contents()).toEqual(before);
  // npm run drill reads the same report.
  const parsed = parseDrillReport(r.stdout)!;
  expect(parsed.ok).toBe(true);
  expect(formatDrillReport(parsed).at(-1)).toBe(`all ${TABLES.length + 3} checks passed`);
});

test("above --exact-below, a table's rows are the planner's estimate, labelled so", async () => {
  await sql(drill, MASTER.database, "ANALYZE");
  const r = await run([PYTHON, programPath(MASTODON_DRILL), config, "--exact-below", "1"]);
  expect(r.status).toBe(0);
  const checks = checksOf(r);
  // ANALYZE reads every row of a table this small: the estimate is the count.
  for (const t of TABLES)
    expect([t, checks[`rows.${t}`].rows, checks[`rows.${t}`].counted]).toEqual([
      t,
      ROWS[t]!.length,
      "estimate",
    ]);
});

test("the media object missing from the media host: the media check fails, the others pass, exit 1", async () => {
  media.objects.delete(MEDIA_PATH);
  try {
    const r = await runDocument();
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.ok).toBe(false);
    expect(report.checks.filter((c: any) => !c.ok).map((c: any) => c.name)).toEqual(["media"]);
    expect(checksOf(r)["media"]).toMatchObject({ status: 404, bytes: 9, detail: "HTTP 404, 9 bytes" });
    expect(r.stderr).toBe("mastodon-drill: media failed: HTTP 404, 9 bytes\n");
    expect(parseDrillReport(r.stdout)?.ok).toBe(false);
  } finally {
    media.objects.set(MEDIA_PATH, MEDIA);
  }
});

test("a wrong master password: the database check fails and every other check is listed as not checked", async () => {
  putParameter(place, ROLE.adminPasswordParameter, "WrongPassword0123456789");
  try {
    const r = await runDocument();
    expect(r.status).toBe(1);
    const report = JSON.parse(r.stdout);
    expect(report.checks).toHaveLength(TABLES.length + 3);
    expect(report.checks[0]).toMatchObject({ name: "database", ok: false });
    expect(report.checks[0].detail).toContain(`password authentication failed for user "${MASTER.user}"`);
    for (const c of report.checks.slice(1))
      expect(c).toMatchObject({ ok: false, detail: "not checked: the database did not answer" });
  } finally {
    putParameter(place, ROLE.adminPasswordParameter, MASTER.password);
  }
});

test("a config without a key it needs: exit 2, the key named, no report", async () => {
  const broken = path.join(dir, "broken.conf");
  fs.writeFileSync(broken, fs.readFileSync(config, "utf8").replace(/^db_host .*\n/m, ""));
  const r = await run([PYTHON, programPath(MASTODON_DRILL), broken]);
  expect(r.status).toBe(2);
  expect(r.stdout).toBe("");
  expect(r.stderr).toBe(
    `mastodon-drill: ${broken}: db_host is missing: mastodon-database's config has it; pulumi up renders it\n`,
  );
});

test("media URLs partition the id as Paperclip's :id_partition does (kt-paperclip, interpolations.rb)", () => {
  // Ruby's ("%09d" % id).scan(/\d{3}/).join("/"), "%012d" from 1_000_000_000 on: a shorter last group is dropped.
  const cases: [number | string, string][] = [
    [1234, "000/001/234"],
    [999999999, "999/999/999"],
    [1234567890, "001/234/567/890"],
    ["12345678901234567", "123/456/789/012/345"],
    ["113456789012345678", "113/456/789/012/345/678"],
  ];
  const program = [
    "import json, runpy, sys",
    "id_partition = runpy.run_path(sys.argv[1], run_name='drill')['id_partition']",
    "print(json.dumps([id_partition(int(i)) for i in sys.argv[2:]]))",
  ].join("\n");
  const out = execFileSync(
    PYTHON,
    ["-B", "-c", program, programPath(MASTODON_DRILL), ...cases.map(([id]) => String(id))],
    {
      encoding: "utf8",
    },
  );
  expect(JSON.parse(out)).toEqual(cases.map(([, partition]) => partition));
});
