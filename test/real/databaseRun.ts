/**
 * A run of the scheduler's database program (src/database/files/mastodon-database.sh, by bash as on
 * the host) with the stand-ins of databaseStandIns.ts first on PATH, then PostgreSQL 15's programs:
 * what the real tests of a prepared, restored or migrated database share.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { DATABASE_PROGRAM, POSTGRES_BIN, type Postgres, testDatabaseConfig } from "./servers";
import { type DatabaseRoleSetup, renderRoleSetupSql } from "../../src/database/databaseRole";
import type { DatabaseHostInput } from "../../src/database/database";
import { AWS, PODMAN, SYSTEMCTL } from "./databaseStandIns";

/** The directories a run reads and writes: stand-ins, SSM's and S3's stand-in stores, the call log, TMPDIR. */
export interface DatabaseRunPlace {
  readonly bin: string;
  readonly ssm: string;
  readonly s3: string;
  readonly logs: string;
  readonly tmp: string;
}

/** Under `dir`: the directories made, the stand-ins installed. */
export function databaseRunPlace(dir: string): DatabaseRunPlace {
  const place = {
    bin: path.join(dir, "bin"),
    ssm: path.join(dir, "ssm"),
    s3: path.join(dir, "s3"),
    logs: path.join(dir, "logs"),
    tmp: path.join(dir, "tmp"),
  };
  for (const d of Object.values(place)) fs.mkdirSync(d, { recursive: true });
  for (const [name, text] of [
    ["aws", AWS],
    ["podman", PODMAN],
    ["systemctl", SYSTEMCTL],
  ] as const)
    fs.writeFileSync(path.join(place.bin, name), text, { mode: 0o755 });
  return place;
}

/** An SSM parameter in the stand-in's store. */
export function putParameter(place: DatabaseRunPlace, name: string, value: string): void {
  fs.mkdirSync(path.dirname(path.join(place.ssm, name)), { recursive: true });
  fs.writeFileSync(path.join(place.ssm, name), `${value}\n`);
}

/** What the scheduler's host of one stack has for its database, and the passwords SSM holds for it. */
export interface SchedulerDatabase {
  /** Names its files under the run's directory: <name>.conf, <name>-role.sql, <name>.env. */
  readonly name: string;
  readonly pg: Postgres;
  /** The CA the server's certificate is from (verify-full). */
  readonly ca: string;
  readonly role: DatabaseRoleSetup;
  readonly adminPassword: string;
  readonly appPassword: string;
  readonly owner?: NonNullable<DatabaseHostInput["owner"]>;
  readonly restore?: DatabaseHostInput["restore"];
}

/**
 * The host's files for `db` in `dir` (the role's SQL, a .env.production naming the app role, the
 * rendered database.conf relocated to them) and its passwords in SSM's stand-in (the owner's
 * parameter as the stack declares it, a placeholder); returns the config's path.
 */
export function writeSchedulerDatabase(place: DatabaseRunPlace, dir: string, db: SchedulerDatabase): string {
  const roleSql = path.join(dir, `${db.name}-role.sql`);
  fs.writeFileSync(roleSql, renderRoleSetupSql(db.role), { mode: 0o600 });
  const envFile = path.join(dir, `${db.name}.env`);
  const { databaseName, appUser } = db.role;
  const env = ["DB_HOST=127.0.0.1", "DB_PORT=6432", `DB_NAME=${databaseName}`, `DB_USER=${appUser}`];
  fs.writeFileSync(envFile, `${[...env, `DB_PASS=${db.appPassword}`].join("\n")}\n`, { mode: 0o600 });
  const config = path.join(dir, `${db.name}.conf`);
  const { pg, role, owner, restore } = db;
  const text = testDatabaseConfig({
    pg,
    role,
    roleSql,
    envFile,
    caFile: db.ca,
    ...(owner && { owner }),
    ...(restore && { restore }),
  });
  fs.writeFileSync(config, text, { mode: 0o600 });
  putParameter(place, role.adminPasswordParameter, db.adminPassword);
  putParameter(place, role.appPasswordParameter, db.appPassword);
  if (owner) putParameter(place, owner.passwordParameter, "not-yet-created");
  return config;
}

export interface DatabaseRun {
  readonly status: number | null;
  /** stdout and stderr, as the journal would hold them. */
  readonly stderr: string;
  /** Each stand-in call: program, then its arguments. */
  readonly calls: string[][];
}

/**
 * `mastodon-database ARGS...`, killed after `timeoutMs`. Every one of `secrets` is checked to reach
 * neither the output nor a stand-in's command line.
 */
export function runDatabaseProgram(
  place: DatabaseRunPlace,
  args: readonly string[],
  secrets: readonly string[],
  timeoutMs: number,
  /** Instance metadata's stand-in (test/real/imdsStandIn.ts), for what asks it. @default none */
  imdsUrl?: string,
): Promise<DatabaseRun> {
  const callLog = path.join(place.logs, "calls.log");
  fs.rmSync(callLog, { force: true });
  return new Promise((resolve, reject) => {
    const child = spawn("/bin/bash", [DATABASE_PROGRAM, ...args], {
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        PATH: `${place.bin}:${POSTGRES_BIN}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
        FAKE_SSM: place.ssm,
        FAKE_S3: place.s3,
        FAKE_LOG: place.logs,
        TMPDIR: place.tmp,
        ...(imdsUrl && { MASTODON_IMDS_URL: imdsUrl }),
      },
    });
    let stderr = "";
    child.stdout.on("data", (d) => (stderr += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => process.kill(-child.pid!, "SIGKILL"), timeoutMs);
    child.once("error", reject);
    child.once("close", (status) => {
      clearTimeout(timer);
      const calls = fs.existsSync(callLog)
        ? fs
            .readFileSync(callLog, "utf8")
            .split("\n")
            .filter((l) => l !== "")
            .map((l) => l.split("\t"))
        : [];
      for (const secret of secrets) {
        if (stderr.includes(secret)) reject(new Error("a secret reached the program's output"));
        if (calls.flat().join(" ").includes(secret)) reject(new Error("a secret reached a command line"));
      }
      resolve({ status, stderr, calls });
    });
  });
}

/** The Rails commands a run had podman play, as `bundle exec` got them, with their -e values. */
export const railsRuns = (run: DatabaseRun) =>
  run.calls
    .filter((c) => c[0] === "podman")
    .map((c) => ({
      command: c.slice(c.indexOf("bundle") + 2).join(" "),
      env: c.flatMap((a, i) => (c[i - 1] === "-e" ? [a] : [])),
    }));
