/**
 * Real Debian programs for the tests: PostgreSQL and redis-server started on loopback in temporary
 * directories, on free ports, stopped after. Debian's packages are installed by
 * scripts/ensure-deps.sh (npm test's pretest) and by .ci/run.
 */
import { type ChildProcess, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

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

export async function waitFor(
  check: () => Promise<boolean> | boolean,
  what: string,
  ms = 20000,
): Promise<void> {
  const until = Date.now() + ms;
  while (Date.now() < until) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

export const isRoot = process.getuid?.() === 0;

/** PostgreSQL and PgBouncer refuse to run as root: as root, run them as Debian's postgres user. */
export function asPostgres(cmd: string, args: string[]): [string, string[]] {
  return isRoot ? ["runuser", ["-u", "postgres", "--", cmd, ...args]] : [cmd, args];
}

export interface Postgres {
  readonly port: number;
  readonly socketDir: string;
  readonly superuser: string;
  stop(): Promise<void>;
}

const PG_BIN = "/usr/lib/postgresql/15/bin";

/** initdb + postgres with the given settings (`-c name=value`), listening on 127.0.0.1. */
export async function startPostgres(settings: Record<string, string>): Promise<Postgres> {
  requireProgram(`${PG_BIN}/postgres`);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-pg-"));
  fs.chmodSync(dir, 0o777);
  const data = path.join(dir, "data");
  const superuser = isRoot ? "postgres" : os.userInfo().username;
  const [initCmd, initArgs] = asPostgres(`${PG_BIN}/initdb`, [
    "-D",
    data,
    "-A",
    "trust",
    "-U",
    superuser,
    "--no-sync",
  ]);
  execFileSync(initCmd, initArgs, { stdio: "ignore" });
  const port = await freePort();
  const flags = Object.entries({
    ...settings,
    listen_addresses: "127.0.0.1",
    port: String(port),
    unix_socket_directories: dir,
    fsync: "off",
  }).flatMap(([k, v]) => ["-c", `${k}=${v}`]);
  const [cmd, args] = asPostgres(`${PG_BIN}/postgres`, ["-D", data, ...flags]);
  const server = spawn(cmd, args, { stdio: ["ignore", "ignore", "pipe"] });
  let log = "";
  server.stderr?.on("data", (d) => (log += d));
  await waitFor(() => {
    if (server.exitCode !== null) throw new Error(`postgres exited: ${log}`);
    try {
      execFileSync(`${PG_BIN}/pg_isready`, ["-h", "127.0.0.1", "-p", String(port)], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  }, "PostgreSQL");
  return {
    port,
    socketDir: dir,
    superuser,
    // runuser does not pass signals on to postgres: ask pg_ctl, then wait for the process to go.
    stop: async () => {
      const exited = new Promise<void>((resolve) =>
        server.exitCode !== null ? resolve() : server.once("exit", () => resolve()),
      );
      const [stopCmd, stopArgs] = asPostgres(`${PG_BIN}/pg_ctl`, ["stop", "-D", data, "-m", "fast", "-w"]);
      execFileSync(stopCmd, stopArgs, { stdio: "ignore" });
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface RedisServer {
  readonly port: number;
  readonly process: ChildProcess;
  log(): string;
  stop(): Promise<void>;
  kill9(): Promise<void>;
}

/** redis-server with a config file and/or command-line settings. */
export async function startRedis(args: string[], port: number): Promise<RedisServer> {
  requireProgram("/usr/bin/redis-server");
  const server = spawn("/usr/bin/redis-server", args, { stdio: ["ignore", "pipe", "pipe"] });
  let log = "";
  server.stdout?.on("data", (d) => (log += d));
  server.stderr?.on("data", (d) => (log += d));
  await waitFor(async () => {
    if (server.exitCode !== null) throw new Error(`redis-server exited: ${log}`);
    return new Promise<boolean>((resolve) => {
      const socket = net.connect(port, "127.0.0.1", () => {
        socket.end();
        resolve(true);
      });
      socket.on("error", () => resolve(false));
    });
  }, "redis-server");
  return {
    port,
    process: server,
    log: () => log,
    stop: () => stopProcess(server),
    kill9: () => stopProcess(server, "SIGKILL"),
  };
}

export function stopProcess(child: ChildProcess, signal: NodeJS.Signals = "SIGINT"): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    child.kill(signal);
  });
}

/** Stops a process started with `detached: true`, and everything in its group. */
export function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined)
    return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", () => resolve());
    process.kill(-(child.pid as number), "SIGTERM");
  });
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
