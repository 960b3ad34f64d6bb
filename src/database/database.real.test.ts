/**
 * The scheduler's host's first boot step, `mastodon-database prepare CONFIG`
 * (src/database/files/mastodon-database.sh, run by bash as on the host), against a real PostgreSQL 15
 * from Debian with verified TLS, an RDS-like master (CREATEDB and CREATEROLE in rds_superuser, not a
 * superuser, owning the database) and scram-sha-256 passwords. The config is the one
 * src/database/database.ts renders for the production stack (the release image, the owner account,
 * search), its host paths relocated (test/real/servers.ts testDatabaseConfig); the role's SQL is
 * renderRoleSetupSql's. Search's user is made by the real mastodon-search-user against the
 * stand-in security API of test/real/searchStandIn.ts (HTTPS, its requests in the same log).
 *
 * What the host has and the test cannot run is played by stand-ins written here, each a small
 * /bin/sh program on PATH that records its argv into one log, in order:
 *   aws        ssm get-parameter from files (the value, or the version: 1, the stack's placeholder,
 *              until a put-parameter wrote the next); put-parameter records its --cli-input-json file
 *   podman     `run ... IMAGE bundle exec ...`: reads .env.production and the CA bundle from the
 *              volumes it is given, the container's -e over the file's values (as dotenv does), and
 *              plays Rails with psql as the app's role: db:schema:load makes a minimal stand-in
 *              schema, db:seed the web app (the superapp), db:migrate nothing; tootctl accounts
 *              create/modify insert the account and print "New password: <32 hex>"
 *   systemctl  records only
 *
 * The tests run in order on the same database: an empty one prepared, then prepared again as the
 * host's next boots would, with changed fleet sizes, changed max_connections, an owner whose
 * password was never stored, and a wrong master password.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { parseStackConfig } from "../config";
import { BUDGET_RULES, DEFAULTS } from "../vocabulary/defaults";
import { IMAGES_UNIT } from "../images/containerImages";
import { SEARCH_DEPLOY_UNIT } from "./database";
import { renderRoleSetupSql } from "./databaseRole";
import { MASTODON_SEARCH_USER, programPath } from "../host/programs";
import {
  SEARCH_APP_ROLE,
  SEARCH_APP_USER,
  SEARCH_USER_PATHS,
  renderSearchRole,
  searchAccess,
} from "../search/searchUser";
import { productionRoleSetup, stackConfig } from "../../test/helpers";
import {
  DATABASE_PROGRAM,
  POSTGRES_BIN,
  type Postgres,
  TEST_IMAGE,
  stopAllServers,
  tempDir,
  testDatabaseConfig,
} from "../../test/real/servers";
import { startRdsPostgres } from "../../test/real/rdsPostgres";
import { AWS, PODMAN, SYSTEMCTL } from "../../test/real/databaseStandIns";
import { type SearchStandIn, startSearchStandIn } from "../../test/real/searchStandIn";

// Generous bounds for every test and hook here: RSA keys, TLS handshakes, a bash program running
// psql and python3 several times, on a machine that may be busy.
const SLOW = 180000;
jest.setTimeout(SLOW);
/** How long one run of the program may take before the test kills it. */
const RUN_TIMEOUT_MS = 150000;

const { masterUsername: MASTER, username: APP, databaseName: DATABASE } = DEFAULTS.mastodon;
const ADMIN_PASSWORD = "AdminPassword0123456789abcdefghijklmnopq";
const APP_PASSWORD = "AppPassword0123456789abcdefghijklmnopqrs";
const PRODUCTION = stackConfig("production");
const { budget } = parseStackConfig(PRODUCTION, "production");
const ROLE = productionRoleSetup();
const OWNER = {
  username: "admin",
  email: "owner@mastodon.example",
  // src/database/ownerPassword.ts ownerPasswordParameterName for the production stack's prefix.
  passwordParameter: "/mastodon/mastodon-aws/production/mastodon-admin/owner-password",
};
/** The parameter's value as the stack declares it (src/database/ownerPassword.ts). */
const PLACEHOLDER = "not-yet-created";
const HEX32 = /^[0-9a-f]{32}$/;
// The search domain's two users' passwords (src/search/searchDomain.ts), beside the database's.
const SEARCH_API = "_opendistro/_security/api";
const SEARCH_MASTER_PARAMETER = ROLE.appPasswordParameter.replace(/db-password$/, "search-password");
const SEARCH_APP_PARAMETER = ROLE.appPasswordParameter.replace(/db-password$/, "search-app-password");
const SEARCH_MASTER_PASSWORD = "Search-Master.0123456789abcdefghij";
const SEARCH_APP_PASSWORD = "Search-App.0123456789abcdefghijklm";
/** The three PUTs the search user's program makes at every prepare, in order (searchUser.ts). */
const SEARCH_PUTS = [
  `/${SEARCH_API}/roles/${SEARCH_APP_ROLE}`,
  `/${SEARCH_API}/internalusers/${SEARCH_APP_USER}`,
  `/${SEARCH_API}/rolesmapping/${SEARCH_APP_ROLE}`,
].map((p) => ({ program: "search", args: ["PUT", p] }));

const dir = tempDir("mastodon-database-");
const bin = path.join(dir, "bin");
const ssm = path.join(dir, "ssm");
const logs = path.join(dir, "logs");
const tmp = path.join(dir, "tmp");
const CALLS = path.join(logs, "calls.log");
const PUTS = path.join(logs, "put-parameter.log");
const ssmFile = (name: string) => path.join(ssm, name);
let pg: Postgres;
let ca: string;
let search: SearchStandIn;

/** One call of a stand-in: its program and its arguments. */
interface Call {
  readonly program: string;
  readonly args: string[];
}

function calls(): Call[] {
  if (!fs.existsSync(CALLS)) return [];
  return fs
    .readFileSync(CALLS, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => {
      const [program, ...args] = l.split("\t");
      return { program: program!, args };
    });
}

/** A podman call taken apart: the -e values, the options, the image, the command after `bundle exec`. */
function railsRun(call: Call): { env: string[]; options: string[]; image: string; command: string } {
  const exec = call.args.indexOf("bundle");
  expect(call.args.slice(exec, exec + 2)).toEqual(["bundle", "exec"]);
  const before = call.args.slice(0, exec);
  const env = before.flatMap((a, i) => (before[i - 1] === "-e" ? [a] : []));
  const options = before.filter((a, i) => a !== "-e" && before[i - 1] !== "-e");
  return {
    env,
    options: options.slice(0, -1),
    image: options[options.length - 1]!,
    command: call.args.slice(exec + 2).join(" "),
  };
}

const podmanRuns = () =>
  calls()
    .filter((c) => c.program === "podman")
    .map(railsRun);
const systemctlCalls = () =>
  calls()
    .filter((c) => c.program === "systemctl")
    .map((c) => c.args);
const putParameters = (): Record<string, unknown>[] =>
  fs.existsSync(PUTS)
    ? fs
        .readFileSync(PUTS, "utf8")
        .split("\n")
        .filter((l) => l !== "")
        .map((l) => JSON.parse(l) as Record<string, unknown>)
    : [];
const ownerVersion = () => {
  const file = `${ssmFile(OWNER.passwordParameter)}.version`;
  return fs.existsSync(file) ? Number(fs.readFileSync(file, "utf8")) : 1;
};
/** The owner's parameter back at its placeholder, version 1: as the stack declared it. */
function ownerParameterDeclared(): void {
  fs.writeFileSync(ssmFile(OWNER.passwordParameter), `${PLACEHOLDER}\n`);
  fs.rmSync(`${ssmFile(OWNER.passwordParameter)}.version`, { force: true });
}

/** The role and the config of a production stack changed by `change`, written under `name`. */
function configFor(name: string, change: (raw: any) => void = () => undefined) {
  const raw = structuredClone(PRODUCTION) as any;
  change(raw);
  const changed = parseStackConfig(raw, "production").budget;
  const role = { ...ROLE, connectionLimit: changed.roleConnectionLimit };
  const sql = renderRoleSetupSql(role);
  const roleSql = path.join(dir, `${name}-role.sql`);
  fs.writeFileSync(roleSql, sql, { mode: 0o600 });
  const file = path.join(dir, `${name}.conf`);
  const access = searchAccess({
    endpoint: "search.example",
    engineVersion: "Elasticsearch_7.10",
    masterPasswordParameter: SEARCH_MASTER_PARAMETER,
    appPasswordParameter: SEARCH_APP_PARAMETER,
  });
  const searchRole = path.join(dir, "search-role.json");
  fs.writeFileSync(searchRole, renderSearchRole());
  const conf = testDatabaseConfig({
    pg,
    role,
    roleSql,
    envFile: path.join(dir, "env.production"),
    caFile: ca,
    owner: OWNER,
    search: { ...access, url: search.url },
  })
    // The program from this repository (bin/mastodon-search-user), its role file the rendered one, here.
    .replace(
      `search_program ${SEARCH_USER_PATHS.program}`,
      `search_program ${path.join(bin, "mastodon-search-user")}`,
    )
    .replace(`search_role_file ${SEARCH_USER_PATHS.role}`, `search_role_file ${searchRole}`);
  fs.writeFileSync(file, conf, { mode: 0o600 });
  return { budget: changed, role, sql, file };
}

interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  /** What the run left in its TMPDIR. */
  readonly leftBehind: string[];
}

/** `mastodon-database prepare CONFIG`, with the stand-ins first on PATH, after emptying the logs. */
async function prepare(config: string): Promise<Run> {
  for (const log of [CALLS, PUTS]) fs.rmSync(log, { force: true });
  const run = await runProgram(config);
  // No password, the database's or the search domain's, ever reaches the output or a command line.
  for (const secret of [ADMIN_PASSWORD, APP_PASSWORD, SEARCH_MASTER_PASSWORD, SEARCH_APP_PASSWORD]) {
    expect(`${run.stdout}${run.stderr}`).not.toContain(secret);
    expect(fs.existsSync(CALLS) ? fs.readFileSync(CALLS, "utf8") : "").not.toContain(secret);
  }
  return run;
}

function runProgram(config: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/bash", [DATABASE_PROGRAM, "prepare", config], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PATH: `${bin}:${POSTGRES_BIN}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
        FAKE_SSM: ssm,
        FAKE_LOG: logs,
        TMPDIR: tmp,
        // The search stand-in's certificate is the test CA's, as the domain's is a public CA's.
        SSL_CERT_FILE: ca,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    // The program and whatever it started, should it hang.
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), RUN_TIMEOUT_MS);
    child.once("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.once("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr, leftBehind: fs.readdirSync(tmp) });
    });
  });
}

async function query(sql: string, database: string = DATABASE): Promise<any[]> {
  const su = new Client({ host: "127.0.0.1", port: pg.port, user: pg.superuser, database });
  await su.connect();
  try {
    return (await su.query(sql)).rows;
  } finally {
    await su.end();
  }
}

/** The app role as the master left it (not its verifier: a new salt at every run). */
const roleState = async () =>
  (
    await query(
      `SELECT rolcanlogin, rolsuper, rolcreaterole, rolcreatedb, rolreplication, rolbypassrls, rolconnlimit,
              pg_has_role('${APP}', 'rds_superuser', 'MEMBER') AS in_rds_superuser,
              (SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()) AS database_owner,
              (SELECT pg_get_userbyid(nspowner) FROM pg_namespace WHERE nspname = 'public') AS public_owner
         FROM pg_roles WHERE rolname = '${APP}'`,
    )
  )[0];
const counts = async () =>
  (
    await query(
      `SELECT (SELECT count(*)::int FROM oauth_applications WHERE superapp) AS superapps,
              (SELECT count(*)::int FROM accounts) AS accounts, (SELECT count(*)::int FROM users) AS users`,
    )
  )[0];

/** Every run after the first: only the pre-deployment migrations, nothing created, seeded or stored. */
function expectNothingButMigrations(): void {
  expect(podmanRuns().map((r) => r.command)).toEqual(["rails db:migrate"]);
  expect(podmanRuns()[0]!.env).toContain("SKIP_POST_DEPLOYMENT_MIGRATIONS=true");
  expect(calls().filter((c) => c.program === "aws" && c.args[1] === "put-parameter")).toEqual([]);
  expect(putParameters()).toEqual([]);
  // The images unit, and no search deploy: the database holds posts.
  expect(systemctlCalls()).toEqual([["start", IMAGES_UNIT]]);
  // The search user made again, as at every boot: the same three PUTs, each replacing what it made.
  expect(calls().filter((c) => c.program === "search")).toEqual(SEARCH_PUTS);
  expect(search.requests.slice(-3).map((r) => r.status)).toEqual([200, 200, 200]);
}

let production: ReturnType<typeof configFor>;
let firstPassword: string;

beforeAll(async () => {
  for (const d of [bin, ssm, logs, tmp]) fs.mkdirSync(d, { recursive: true });
  fs.chmodSync(dir, 0o755);
  for (const [name, text] of [
    ["aws", AWS],
    ["podman", PODMAN],
    ["systemctl", SYSTEMCTL],
    // Debian's python3, as on the host: a python3 found first on this machine's PATH may put its own
    // directory (and an aws CLI in it) before the stand-ins.
    ["mastodon-search-user", `#!/bin/sh\nexec /usr/bin/python3 ${programPath(MASTODON_SEARCH_USER)} "$@"\n`],
  ] as const)
    fs.writeFileSync(path.join(bin, name), text, { mode: 0o755 });
  // A CA and a server certificate for 127.0.0.1: the program and Rails connect with verify-full.
  ({ pg, ca } = await startRdsPostgres(
    dir,
    { user: MASTER, password: ADMIN_PASSWORD, database: DATABASE },
    {
      superuser_reserved_connections: String(
        BUDGET_RULES.superuserReserved + BUDGET_RULES.rdsSuperuserReserved,
      ),
    },
  ));
  // The search domain's security API, answering on the test CA's certificate for 127.0.0.1.
  search = await startSearchStandIn({
    cert: path.join(dir, "server.crt"),
    key: path.join(dir, "server.key"),
    api: SEARCH_API,
    masterUser: "mastodon",
    masterPassword: SEARCH_MASTER_PASSWORD,
    callLog: CALLS,
  });
  // SSM as the stack leaves it: both database passwords, both search users', the owner's placeholder.
  for (const [name, value] of [
    [ROLE.adminPasswordParameter, ADMIN_PASSWORD],
    [ROLE.appPasswordParameter, APP_PASSWORD],
    [SEARCH_MASTER_PARAMETER, SEARCH_MASTER_PASSWORD],
    [SEARCH_APP_PARAMETER, SEARCH_APP_PASSWORD],
  ] as const) {
    fs.mkdirSync(path.dirname(ssmFile(name)), { recursive: true });
    fs.writeFileSync(ssmFile(name), `${value}\n`);
  }
  fs.mkdirSync(path.dirname(ssmFile(OWNER.passwordParameter)), { recursive: true });
  ownerParameterDeclared();
  // The host's .env.production: DB_HOST and DB_PORT point at the local PgBouncer, as on a pooled host.
  fs.writeFileSync(
    path.join(dir, "env.production"),
    [
      "DB_HOST=127.0.0.1",
      "DB_PORT=6432",
      `DB_NAME=${DATABASE}`,
      `DB_USER=${APP}`,
      `DB_PASS=${APP_PASSWORD}`,
      "",
    ].join("\n"),
    { mode: 0o600 },
  );
  production = configFor("production");
});

afterAll(async () => {
  await search?.close();
  await pg?.stop();
  await stopAllServers();
  fs.rmSync(dir, { recursive: true, force: true });
});

test("an empty database: the role, Mastodon's schema, the seeds, the owner with its password in SSM, the search indices", async () => {
  expect(production.role.connectionLimit).toBe(budget.roleConnectionLimit);
  expect(budget.roleConnectionLimit).toBe(445);
  const run = await prepare(production.file);
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  expect(run.leftBehind).toEqual([]);

  expect(await roleState()).toEqual({
    rolcanlogin: true,
    rolsuper: false,
    rolcreaterole: false,
    rolcreatedb: false,
    rolreplication: false,
    rolbypassrls: false,
    rolconnlimit: budget.roleConnectionLimit,
    in_rds_superuser: false,
    database_owner: APP,
    public_owner: APP,
  });

  // Rails, in the release image, straight to PostgreSQL (not the env file's PgBouncer) with verified
  // TLS: the schema, the seeds, then the owner.
  const runs = podmanRuns();
  expect(runs.map((r) => r.command)).toEqual([
    "rails db:schema:load",
    "rails db:seed",
    `bin/tootctl accounts create ${OWNER.username} --email ${OWNER.email} --confirmed --role Owner`,
  ]);
  for (const r of runs) {
    expect(r.image).toBe(TEST_IMAGE);
    expect(r.options).toEqual(expect.arrayContaining(["run", "--rm", "--pull=never", "--network=host"]));
    expect(r.env).toEqual([
      "RAILS_ENV=production",
      "DB_HOST=127.0.0.1",
      `DB_PORT=${pg.port}`,
      "DB_SSLMODE=verify-full",
      "PREPARED_STATEMENTS=true",
    ]);
  }
  // What the stand-in made, it made as the app's role: it owns every table.
  expect(await query("SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")).toEqual([
    { tableowner: APP },
  ]);
  expect(await counts()).toEqual({ superapps: 1, accounts: 1, users: 1 });

  // The owner's first password: in SSM as a SecureString (the next version), on no command line and
  // in no output.
  const puts = putParameters();
  expect(puts).toHaveLength(1);
  expect(puts[0]).toMatchObject({ Name: OWNER.passwordParameter, Type: "SecureString", Overwrite: true });
  firstPassword = String(puts[0]!["Value"]);
  expect(firstPassword).toMatch(HEX32);
  expect(ownerVersion()).toBe(2);
  expect(`${run.stdout}${run.stderr}`).not.toContain(firstPassword);
  expect(fs.readFileSync(CALLS, "utf8")).not.toContain(firstPassword);
  expect(run.stderr).toContain("the owner's first password is in SSM parameter");

  // The images unit first, before anything else; then Mastodon's own search user made as the master
  // (role, user, mapping: each created); the search deploy last, in the background (no post yet).
  const all = calls();
  expect(all[0]).toEqual({ program: "systemctl", args: ["start", IMAGES_UNIT] });
  expect(all.slice(-4)).toEqual([
    ...SEARCH_PUTS,
    { program: "systemctl", args: ["start", "--no-block", SEARCH_DEPLOY_UNIT] },
  ]);
  expect(search.requests.map((r) => [r.user, r.status])).toEqual([
    ["mastodon", 201],
    ["mastodon", 201],
    ["mastodon", 201],
  ]);
  expect(search.resources.get(`internalusers/${SEARCH_APP_USER}`)).toEqual({
    password: SEARCH_APP_PASSWORD,
    backend_roles: [],
    attributes: {},
  });
  expect(systemctlCalls()).toHaveLength(2);
});

test("a prepare while the database holds no post deploys the search indices again (a first deploy that failed half-way)", async () => {
  const run = await prepare(production.file);
  expect(run.status).toBe(0);
  expect(podmanRuns().map((r) => r.command)).toEqual(["rails db:migrate"]);
  expect(systemctlCalls()).toEqual([
    ["start", IMAGES_UNIT],
    ["start", "--no-block", SEARCH_DEPLOY_UNIT],
  ]);
  // From here on the instance has posted: a re-import is the operator's call.
  await query("INSERT INTO statuses (text) VALUES ('hello')");
});

test("a second prepare, nothing changed: only the pre-deployment migrations", async () => {
  const before = await roleState();
  const run = await prepare(production.file);
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  expect(run.leftBehind).toEqual([]);
  expectNothingButMigrations();
  expect(run.stderr).toContain(`the owner account ${OWNER.username} exists: nothing to do`);
  expect(await roleState()).toEqual(before);
  expect(await counts()).toEqual({ superapps: 1, accounts: 1, users: 1 });
  expect(ownerVersion()).toBe(2);
});

test("changed fleet sizes leave the role's limit and its SQL as they were: the prepare changes nothing", async () => {
  const shrunk = configFor("shrunk", (raw) => {
    raw.fleets["sidekiq-default"].maxSize -= 1;
  });
  // One host fewer on the default queue (production has 4 connections spare, not one more host's
  // 12): 12 fewer PgBouncer server connections.
  expect(shrunk.budget.fleetConnections).toBe(budget.fleetConnections - 12);
  expect(shrunk.budget.fleetConnections + shrunk.budget.headroom).toBeLessThanOrEqual(
    shrunk.budget.roleConnectionLimit,
  );
  expect(shrunk.budget.alarmThreshold).toBeLessThan(shrunk.budget.roleConnectionLimit);
  expect(shrunk.budget.roleConnectionLimit).toBe(budget.roleConnectionLimit);
  expect(shrunk.sql).toBe(production.sql);

  const before = await roleState();
  const run = await prepare(shrunk.file);
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  expect(run.leftBehind).toEqual([]);
  expectNothingButMigrations();
  expect(await roleState()).toEqual(before);
});

test("a changed max_connections changes the role's limit, and the prepare applies it", async () => {
  // Raised: production's fleets, their replacements and the headroom (441) fill 445 of 500 already.
  const raised = configFor("raised", (raw) => {
    raw.database.maxConnections = 520;
  });
  // 90% of 515 usable: 463.
  expect(raised.budget.roleConnectionLimit).toBe(463);
  expect(raised.budget.roleConnectionLimit).not.toBe(budget.roleConnectionLimit);
  expect(raised.budget.fleetConnections + raised.budget.headroom).toBeLessThanOrEqual(
    raised.budget.roleConnectionLimit,
  );
  expect(raised.budget.alarmThreshold).toBeLessThan(raised.budget.roleConnectionLimit);
  expect(raised.sql).not.toBe(production.sql);

  const run = await prepare(raised.file);
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  expect(run.leftBehind).toEqual([]);
  expectNothingButMigrations();
  expect((await roleState()).rolconnlimit).toBe(463);

  // And back, with the production config again.
  expect((await prepare(production.file)).status).toBe(0);
  expect((await roleState()).rolconnlimit).toBe(budget.roleConnectionLimit);
});

test("an owner that never signed in, whose password was never stored, gets a new one in SSM", async () => {
  // As if the run that created the account had failed to store its password.
  ownerParameterDeclared();
  expect(await query("SELECT sign_in_count FROM users")).toEqual([{ sign_in_count: 0 }]);
  const run = await prepare(production.file);
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  expect(run.leftBehind).toEqual([]);
  expect(podmanRuns().map((r) => r.command)).toEqual([
    "rails db:migrate",
    `bin/tootctl accounts modify ${OWNER.username} --reset-password`,
  ]);
  // The reset runs without SKIP_POST_DEPLOYMENT_MIGRATIONS: that was the migrations' alone.
  expect(podmanRuns()[1]!.env).not.toContain("SKIP_POST_DEPLOYMENT_MIGRATIONS=true");
  const puts = putParameters();
  expect(puts).toHaveLength(1);
  expect(puts[0]).toMatchObject({ Name: OWNER.passwordParameter, Type: "SecureString", Overwrite: true });
  const password = String(puts[0]!["Value"]);
  expect(password).toMatch(HEX32);
  expect(password).not.toBe(firstPassword);
  expect(`${run.stdout}${run.stderr}`).not.toContain(password);
  expect(fs.readFileSync(CALLS, "utf8")).not.toContain(password);
  expect(ownerVersion()).toBe(2);
  expect(await counts()).toEqual({ superapps: 1, accounts: 1, users: 1 });
  expect(systemctlCalls()).toEqual([["start", IMAGES_UNIT]]);
});

test("an owner that has signed in keeps its password, stored or not", async () => {
  ownerParameterDeclared();
  await query("UPDATE users SET sign_in_count = 1");
  const run = await prepare(production.file);
  expect(run.stderr).not.toMatch(/ERROR|FATAL/);
  expect(run.status).toBe(0);
  expect(run.leftBehind).toEqual([]);
  expectNothingButMigrations();
  expect(run.stderr).toContain(`the owner account ${OWNER.username} exists and has signed in`);
  expect(ownerVersion()).toBe(1);
  expect(fs.readFileSync(ssmFile(OWNER.passwordParameter), "utf8")).toBe(`${PLACEHOLDER}\n`);
});

test("a wrong master password fails the prepare before Rails runs, and leaves nothing in TMPDIR", async () => {
  const before = await roleState();
  fs.writeFileSync(ssmFile(ROLE.adminPasswordParameter), "WrongPassword0123\n");
  try {
    const run = await prepare(production.file);
    expect(run.status).not.toBe(0);
    expect(run.stderr).toMatch(/password authentication failed for user "mastodon_admin"/);
    expect(run.stderr).not.toContain("WrongPassword0123");
    expect(run.leftBehind).toEqual([]);
    expect(podmanRuns()).toEqual([]);
    expect(putParameters()).toEqual([]);
    expect(systemctlCalls()).toEqual([["start", IMAGES_UNIT]]);
    expect(await roleState()).toEqual(before);
  } finally {
    fs.writeFileSync(ssmFile(ROLE.adminPasswordParameter), `${ADMIN_PASSWORD}\n`);
  }
});
