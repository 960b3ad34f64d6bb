/**
 * Real Debian programs for the tests: PostgreSQL, PgBouncer and redis-server started on loopback in
 * temporary directories, on free ports, stopped after. Debian's packages are installed by
 * scripts/ensure-deps.sh (npm test's pretest) and by .ci/run.
 *
 * Written for a busy machine: readiness is polled (never a fixed sleep), every wait has a generous
 * bound, and every server is a direct child of the test process (as root it is started under the
 * postgres user with spawn's uid/gid, not through runuser), so stopping it means signalling it and
 * waiting for its exit: nothing is left running or unreaped. `stopAllServers()` in an afterAll is
 * the safety net for a test that failed before it stopped its own.
 */
import {
  type ChildProcess,
  type SpawnOptions,
  execFile,
  execFileSync,
  spawn,
  spawnSync,
} from "child_process";
import * as fs from "fs";
import Redis from "ioredis";
import * as net from "net";
import * as os from "os";
import * as path from "path";
import * as tls from "tls";
import { promisify } from "util";
import { type DatabaseHostInput, renderDatabaseConfig } from "../../src/database/database";
import { type DatabaseRoleSetup, renderRoleSetupSql } from "../../src/database/databaseRole";
import { DATABASE_PATHS } from "../../src/fleet/host/oneOff";
import { MASTODON_DATABASE, MASTODON_RESTORE, programPath } from "../../src/host/programs";
import { MASTODON_PATHS } from "../../src/fleet/host/units";

const execFileAsync = promisify(execFile);

/** How long a server gets to start, or to stop after its signal, before the test gives up. */
export const SERVER_TIMEOUT_MS = 60000;

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on("error", reject);
  });
}

export function requireProgram(file: string): string {
  if (!fs.existsSync(file)) {
    throw new Error(
      `${file} is missing: run scripts/ensure-deps.sh --debian (npm test does) to install the Debian packages`,
    );
  }
  return file;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` until it returns true (a throw ends the wait at once), for at most `ms`. */
export async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  ms = SERVER_TIMEOUT_MS,
): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await sleep(100);
  }
  throw new Error(`timed out after ${ms / 1000} s waiting for ${what}`);
}

export const isRoot = process.getuid?.() === 0;

let postgresIds: { uid: number; gid: number } | undefined;

/**
 * PostgreSQL and PgBouncer refuse to run as root: as root, spawn options that run the program as
 * Debian's postgres user (the child is then ours to signal and reap); otherwise none.
 */
export function asPostgresUser(): Pick<SpawnOptions, "uid" | "gid"> {
  if (!isRoot) return {};
  postgresIds ??= {
    uid: Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" })),
    gid: Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" })),
  };
  return postgresIds;
}

/**
 * The same through runuser, for one-shot commands run to completion (execFileSync). Do not use it
 * for a server: runuser passes no signal on and sleeps 2 s before it exits, leaving the server a
 * zombie nobody reaps; spawn it with `asPostgresUser()` instead.
 */
export function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return isRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

/** Server processes started here that have not exited yet. */
const running = new Set<ChildProcess>();

/** spawn, remembered until exit so that `stopAllServers()` can find what a failed test left. */
export function spawnServer(cmd: string, args: string[], options: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, options);
  running.add(child);
  child.once("exit", () => running.delete(child));
  // A failed spawn emits "error" (and no "exit"); the caller sees it as a server that never came up.
  child.once("error", () => running.delete(child));
  return child;
}

const exited = (child: ChildProcess) => child.exitCode !== null || child.signalCode !== null;

/**
 * Sends `signal`, waits for the exit; if the process is still there after `graceMs`, SIGKILL and
 * wait again. Node reaps its own children, so the process is gone, not a zombie, when this resolves.
 */
export function stopProcess(
  child: ChildProcess,
  signal: NodeJS.Signals = "SIGINT",
  graceMs = SERVER_TIMEOUT_MS,
): Promise<void> {
  if (exited(child) || child.pid === undefined) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    child.kill(signal);
  });
}

/** Stops a process started with `detached: true`, and everything in its group. */
export function stopGroup(child: ChildProcess, graceMs = SERVER_TIMEOUT_MS): Promise<void> {
  if (exited(child) || child.pid === undefined) return Promise.resolve();
  const group = -child.pid;
  const kill = (signal: NodeJS.Signals) => {
    try {
      process.kill(group, signal);
    } catch {
      // the group is already gone
    }
  };
  return new Promise((resolve) => {
    const timer = setTimeout(() => kill("SIGKILL"), graceMs);
    child.once("exit", () => {
      clearTimeout(timer);
      resolve();
    });
    kill("SIGTERM");
  });
}

/** Kills (SIGKILL) and reaps every server still running: an afterAll's safety net. */
export async function stopAllServers(): Promise<void> {
  await Promise.all([...running].map((child) => stopProcess(child, "SIGKILL")));
}

export interface Postgres {
  readonly port: number;
  readonly socketDir: string;
  readonly superuser: string;
  stop(): Promise<void>;
}

const PG_BIN = "/usr/lib/postgresql/15/bin";

/**
 * initdb + postgres with the given settings (`-c name=value`), listening on 127.0.0.1. The superuser
 * connects without a password; with `passwords`, every other role over TCP needs its password
 * (scram-sha-256, as on RDS), so a role's stored verifier is really checked.
 */
export async function startPostgres(
  settings: Record<string, string>,
  options: { passwords?: boolean } = {},
): Promise<Postgres> {
  requireProgram(`${PG_BIN}/postgres`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-pg-"));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  const superuser = isRoot ? "postgres" : os.userInfo().username;
  execFileSync(`${PG_BIN}/initdb`, ["-D", data, "-A", "trust", "-U", superuser, "--no-sync"], {
    ...asPostgresUser(),
    cwd: dir,
    stdio: "ignore",
    timeout: SERVER_TIMEOUT_MS,
  });
  if (options.passwords) {
    fs.writeFileSync(
      path.join(data, "pg_hba.conf"),
      [
        "local all all trust",
        `host all ${superuser} 127.0.0.1/32 trust`,
        "host all all 127.0.0.1/32 scram-sha-256",
        "",
      ].join("\n"),
    );
  }
  const port = await freePort();
  const flags = Object.entries({
    ...settings,
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
    fsync: "off",
  }).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  const server = spawnServer(`${PG_BIN}/postgres`, ["-D", data, ...flags], {
    ...asPostgresUser(),
    cwd: dir,
    stdio: ["ignore", "ignore", "pipe"],
  });
  let log = "";
  server.stderr?.on("data", (d) => (log += d));
  // SIGINT is PostgreSQL's fast shutdown: it ends the sessions and exits.
  const stop = async () => {
    await stopProcess(server, "SIGINT");
    fs.rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitFor(async () => {
      if (exited(server)) throw new Error(`postgres exited: ${log}`);
      try {
        await execFileAsync(`${PG_BIN}/pg_isready`, ["-h", "127.0.0.1", "-p", String(port), "-t", "5"], {
          timeout: 10000,
        });
        return true;
      } catch {
        return false;
      }
    }, "PostgreSQL");
  } catch (e) {
    await stop();
    throw e;
  }
  return { port, socketDir: dir, superuser, stop };
}

export interface RedisServer {
  readonly port: number;
  readonly process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

/** A RESP command, as redis-cli would send it. */
const resp = (...words: string[]) =>
  `*${words.length}\r\n${words.map((w) => `$${Buffer.byteLength(w)}\r\n${w}\r\n`).join("")}`;

/**
 * PING (after AUTH, with a password) on a fresh connection: true on PONG; false when nothing
 * answers yet, or while the server answers LOADING (it is reading its AOF or RDB back after a
 * restart: it accepts connections but refuses commands until done); any other error throws.
 */
function redisPong(port: number, password?: string, tlsCa?: string): Promise<boolean> {
  return new Promise((resolve, reject) => {
    const expected = password === undefined ? 1 : 2;
    let replies = "";
    const hello = () => socket.write((password === undefined ? "" : resp("AUTH", password)) + resp("PING"));
    const socket =
      tlsCa === undefined
        ? net.connect(port, "127.0.0.1", hello)
        : tls.connect({ port, host: "127.0.0.1", ca: fs.readFileSync(tlsCa) }, hello);
    const done = (result: boolean | Error) => {
      socket.destroy();
      if (result instanceof Error) reject(result);
      else resolve(result);
    };
    socket.setTimeout(5000, () => done(false));
    socket.on("error", () => done(false));
    socket.on("close", () => done(false));
    socket.on("data", (d) => {
      replies += d;
      const lines = replies.split("\r\n").slice(0, -1);
      if (lines.length < expected) return;
      const last = lines[expected - 1]!;
      if (lines.some((l) => l.startsWith("-LOADING"))) done(false);
      else if (password !== undefined && lines[0] !== "+OK") done(new Error(`redis AUTH: ${lines[0]}`));
      else if (last === "+PONG") done(true);
      else done(new Error(`redis PING: ${last}`));
    });
  });
}

/**
 * redis-server with a config file and/or command-line settings; resolves once it answers PING
 * (with `password`, after AUTH), so a restart that reloads its AOF is ready to use.
 */
export async function startRedis(
  args: string[],
  port: number,
  password?: string,
  opts: { tls?: string } = {},
): Promise<RedisServer> {
  requireProgram("/usr/bin/redis-server");
  const server = spawnServer("/usr/bin/redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  server.stdout?.on("data", (d) => (log += d));
  server.stderr?.on("data", (d) => (log += d));
  try {
    await waitFor(() => {
      if (exited(server)) throw new Error(`redis-server exited: ${log}`);
      return redisPong(port, password, opts.tls);
    }, "redis-server to answer PONG");
  } catch (e) {
    await stopProcess(server, "SIGKILL");
    throw e;
  }
  return {
    port,
    process: server,
    log: () => log,
    stop: () => stopProcess(server),
    kill9: () => stopProcess(server, "SIGKILL"),
  };
}

/**
 * An ioredis client of a test Redis on loopback that never retries: a refusal must surface, and
 * nothing lingers after the test. It connects on its first command, or on `connect()`.
 */
export function redisClient(port: number, password?: string): Redis {
  return new Redis({
    port,
    host: "127.0.0.1",
    password,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    enableReadyCheck: false,
    retryStrategy: () => null,
  });
}

/** redis-cli against a test Redis on loopback with its password (over TLS given the CA's file); its output. */
export function redisCli(
  port: number,
  password: string,
  args: string[],
  opts: { tls?: string } = {},
): string {
  const login = [
    ...(opts.tls === undefined ? [] : ["--tls", "--cacert", opts.tls, "-h", "127.0.0.1"]),
    ...["-p", String(port), "--no-auth-warning", "-a", password],
  ];
  return execFileSync("redis-cli", [...login, ...args], { encoding: "utf8" });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** RDS's master as PostgreSQL sees it: CREATEDB and CREATEROLE, in rds_superuser, not a superuser. */
export const RDS_MASTER_SQL = (master: string, password: string, database: string) => [
  "CREATE ROLE rds_superuser NOLOGIN",
  `CREATE ROLE ${master} LOGIN CREATEDB CREATEROLE PASSWORD '${password}' IN ROLE rds_superuser`,
  // RDS creates the instance's database owned by the master.
  `CREATE DATABASE ${database} OWNER ${master}`,
];

/**
 * `database` of `pg` dumped by PostgreSQL 15's pg_dump in its custom format (`pg_dump -Fc`, the
 * archive mastodon:database.restoreFrom.dump takes) into `file`, as the server's superuser.
 */
export function pgDump(pg: Postgres, database: string, file: string): void {
  execFileSync(
    `${PG_BIN}/pg_dump`,
    ["-Fc", "-h", "127.0.0.1", "-p", String(pg.port), "-U", pg.superuser, "-f", file, database],
    { timeout: SERVER_TIMEOUT_MS },
  );
}

/** The database's lifecycle program the scheduler's host runs (src/database/files/mastodon-database.sh). */
export const DATABASE_PROGRAM = programPath(MASTODON_DATABASE);

/** Where PostgreSQL 15's own programs (psql above all) are: first on a test program's PATH. */
export const POSTGRES_BIN = PG_BIN;

/** A release image reference for configs whose test never runs the image (or runs a stand-in podman). */
export const TEST_IMAGE = "registry.invalid/mastodon/mastodon:test";

export interface TestDatabaseConfig {
  readonly pg: Postgres;
  readonly role: DatabaseRoleSetup;
  /** Where the role's SQL (renderRoleSetupSql) is: role_sql. */
  readonly roleSql: string;
  /** The host's .env.production: env_file. */
  readonly envFile: string;
  /** verify-full against this CA (ca_bundle); without it ssl_mode disable, the server having no TLS. */
  readonly caFile?: string;
  readonly owner?: DatabaseHostInput["owner"];
  /** Mastodon's OpenSearch user (src/search/searchUser.ts): search_* lines as rendered, not relocated. */
  readonly search?: DatabaseHostInput["search"];
  /** restoreFrom.dump's archive: restore_* lines, the program relocated to the package's file. */
  readonly restore?: DatabaseHostInput["restore"];
}

/**
 * /etc/mastodon/database.conf as src/database/database.ts renders it for the release image, for `pg`
 * on 127.0.0.1 in region test-1, with the host paths relocated to the test's own files: role_sql,
 * env_file, ca_bundle (and ssl_mode disable without a CA). Every other line is the rendered one.
 */
export function testDatabaseConfig(input: TestDatabaseConfig): string {
  const rendered = renderDatabaseConfig(
    {
      region: "test-1",
      databaseHost: "127.0.0.1",
      databasePort: input.pg.port,
      role: input.role,
      ...(input.owner && { owner: input.owner }),
      ...(input.search !== undefined && { search: input.search }),
      ...(input.restore && { restore: input.restore }),
      retention: { mediaDays: 7, previewCardsDays: 7 },
    },
    { kind: "image", image: TEST_IMAGE },
  );
  const relocate: Record<string, [string, string]> = {
    role_sql: [DATABASE_PATHS.roleSql, input.roleSql],
    env_file: [MASTODON_PATHS.envFile, input.envFile],
    ssl_mode: ["verify-full", input.caFile ? "verify-full" : "disable"],
    // With ssl_mode disable libpq reads no CA; the key is required all the same.
    ca_bundle: [
      MASTODON_PATHS.rdsCaBundle,
      input.caFile ?? path.join(path.dirname(input.roleSql), "no-ca.crt"),
    ],
    ...(input.restore && {
      restore_program: [DATABASE_PATHS.restoreProgram, programPath(MASTODON_RESTORE)] as [string, string],
    }),
  };
  const lines = rendered.split("\n");
  for (const [key, [from, to]] of Object.entries(relocate)) {
    const i = lines.indexOf(`${key} ${from}`);
    if (i < 0) throw new Error(`the rendered database config has no line "${key} ${from}":\n${rendered}`);
    lines[i] = `${key} ${to}`;
  }
  return lines.join("\n");
}

/**
 * Step 1 of the scheduler's host's first boot alone: `mastodon-database role CONFIG`
 * (src/database/files/mastodon-database.sh, run by bash as on the host) against `pg`, with the config
 * testDatabaseConfig renders, the role's SQL renderRoleSetupSql renders, and a stand-in `aws` that
 * answers get-parameter from `parameters` (name -> value). Without `caFile` the connection is plain
 * (the server has no TLS); with it, verify-full against that CA instead of the RDS bundle. TMPDIR is
 * a directory of its own, empty again after a run (the program's work directory, with its pgpass
 * file, is gone).
 */
export function runRoleSetup(
  pg: Postgres,
  role: DatabaseRoleSetup,
  parameters: Record<string, string>,
  caFile?: string,
): { status: number | null; stdout: string; stderr: string; leftBehind: string[] } {
  const dir = tempDir("mastodon-role-setup-");
  const bin = path.join(dir, "bin");
  const ssm = path.join(dir, "ssm");
  const tmp = path.join(dir, "tmp");
  for (const d of [bin, ssm, tmp]) fs.mkdirSync(d);
  for (const [name, value] of Object.entries(parameters)) {
    fs.mkdirSync(path.dirname(path.join(ssm, name)), { recursive: true });
    fs.writeFileSync(path.join(ssm, name), `${value}\n`);
  }
  // aws ssm get-parameter ... --name NAME ... --output text: the value and a newline, as the CLI prints it.
  fs.writeFileSync(
    path.join(bin, "aws"),
    '#!/bin/sh\nwhile [ $# -gt 0 ]; do [ "$1" = --name ] && name=$2; shift; done\nexec cat "$FAKE_SSM$name"\n',
    { mode: 0o755 },
  );
  const roleSql = path.join(dir, "database-role.sql");
  fs.writeFileSync(roleSql, renderRoleSetupSql(role), { mode: 0o600 });
  const config = path.join(dir, "database.conf");
  fs.writeFileSync(
    config,
    testDatabaseConfig({
      pg,
      role,
      roleSql,
      envFile: path.join(dir, "env.production"),
      ...(caFile && { caFile }),
    }),
    { mode: 0o600 },
  );
  const r = spawnSync("/bin/bash", [DATABASE_PROGRAM, "role", config], {
    encoding: "utf8",
    timeout: SERVER_TIMEOUT_MS,
    env: {
      ...process.env,
      PATH: `${bin}:${PG_BIN}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
      FAKE_SSM: ssm,
      TMPDIR: tmp,
    },
  });
  const leftBehind = fs.readdirSync(tmp);
  fs.rmSync(dir, { recursive: true, force: true });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, leftBehind };
}

/**
 * A throwaway CA and a server certificate for 127.0.0.1 (subjectAltName IP), written into `dir` as
 * ca.crt, server.crt and server.key: TLS servers started here are verified against ca.crt, as the
 * hosts verify RDS and ElastiCache.
 */
export function makeTestCertificates(dir: string): { ca: string; cert: string; key: string } {
  const openssl = (...args: string[]) =>
    execFileSync("openssl", args, { cwd: dir, stdio: "ignore", timeout: SERVER_TIMEOUT_MS });
  openssl(
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.crt",
    "-days",
    "2",
    "-subj",
    "/CN=test-ca",
  );
  openssl(
    "req",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "server.key",
    "-out",
    "server.csr",
    "-subj",
    "/CN=127.0.0.1",
  );
  fs.writeFileSync(path.join(dir, "san.ext"), "subjectAltName=IP:127.0.0.1\n");
  openssl(
    "x509",
    "-req",
    "-in",
    "server.csr",
    "-CA",
    "ca.crt",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-out",
    "server.crt",
    "-days",
    "2",
    "-extfile",
    "san.ext",
  );
  return {
    ca: path.join(dir, "ca.crt"),
    cert: path.join(dir, "server.crt"),
    key: path.join(dir, "server.key"),
  };
}
