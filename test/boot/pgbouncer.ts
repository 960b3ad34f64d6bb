/** What the whole-host scenarios ask a booted host's PgBouncer (test/real/wholeHost*.real.test.ts). */
import type { HostBoot } from "./harness";

/**
 * A query through the host's PgBouncer (127.0.0.1:6432, as .env.production's DB_HOST and DB_PORT
 * say), as the app's role with its password from SSM: PgBouncer's userlist rendered from SSM, its
 * TLS to the RDS name verified against the CA bundle the boot downloaded, the role and the schema
 * the scheduler's host made.
 */
export function throughPgBouncer(boot: HostBoot, sql: string): { status: number | null; out: string } {
  const password = boot.parameters[`${boot.inputs.parameterPath}/db-password`];
  expect(password).toBeDefined();
  const r = boot.exec([
    "env",
    `PGPASSWORD=${password}`,
    "psql",
    "-X",
    "-tA",
    "-h",
    "127.0.0.1",
    "-p",
    "6432",
    "-U",
    "mastodon",
    "-d",
    "mastodon_production",
    "-c",
    sql,
  ]);
  return { status: r.status, out: (r.stdout + r.stderr).trim() };
}
