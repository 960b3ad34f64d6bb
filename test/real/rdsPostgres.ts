/**
 * PostgreSQL as RDS serves it, for the host programs' real tests that connect as the RDS master:
 * TLS with a certificate for 127.0.0.1 from a throwaway CA (libpq's verify-full against `ca`, as the
 * hosts verify the RDS CA bundle), scram-sha-256 for every role but the superuser, and RDS's master
 * (RDS_MASTER_SQL: CREATEDB and CREATEROLE in rds_superuser, not a superuser) with its password,
 * owning the instance's database: what src/database/*.real.test.ts run the database's programs against.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { type Postgres, RDS_MASTER_SQL, isRoot, makeTestCertificates, startPostgres } from "./servers";

export interface RdsMaster {
  readonly user: string;
  readonly password: string;
  /** The instance's database, which RDS creates owned by the master. */
  readonly database: string;
}

/**
 * Starts it with its certificates in `dir` (made 0755: run as root, the server runs as Debian's
 * postgres user, which must reach its key there). Stop it with `pg.stop()`.
 */
export async function startRdsPostgres(
  dir: string,
  master: RdsMaster,
  settings: Record<string, string> = {},
): Promise<{ pg: Postgres; ca: string }> {
  fs.chmodSync(dir, 0o755);
  const { ca, cert, key } = makeTestCertificates(dir);
  for (const file of [cert, key]) {
    fs.chmodSync(file, 0o600);
    if (isRoot) execFileSync("chown", ["postgres:postgres", file]);
  }
  const pg = await startPostgres(
    { ...settings, ssl: "on", ssl_cert_file: path.resolve(cert), ssl_key_file: path.resolve(key) },
    { passwords: true },
  );
  const su = new Client({ host: "127.0.0.1", port: pg.port, user: pg.superuser, database: "postgres" });
  try {
    await su.connect();
    for (const sql of RDS_MASTER_SQL(master.user, master.password, master.database)) await su.query(sql);
  } catch (e) {
    await pg.stop();
    throw e;
  } finally {
    await su.end();
  }
  return { pg, ca };
}
