/**
 * The budget's arithmetic against a real PostgreSQL from Debian, started with the parameters the
 * RDS parameter group gets (core/postgres.ts rdsParameters) for the production stack.
 *
 * RDS reserves 3 slots for superusers and 2 more for rds_superuser. Debian's PostgreSQL 15 has no
 * second reservation (reserved_connections arrived in 16), so the test reserves the same 5 slots with
 * superuser_reserved_connections = 3 + 2: an ordinary role sees what it sees on RDS.
 */
import { Client } from "pg";
import { BUDGET_RULES } from "../../core/defaults";
import { parseStackConfig } from "../../core/config";
import { rdsParameters } from "../../core/sizing/postgres";
import { stackConfig } from "../helpers";
import { type Postgres, startPostgres, stopAllServers } from "./servers";

const { budget } = parseStackConfig(stackConfig("production"), "production");
const parameters = rdsParameters(budget.maxConnections, budget.workMemMiB).filter(
  (p) => !p.name.startsWith("rds."),
);

// Generous bounds for every test and hook here: hundreds of connections, each a forked backend, on a
// machine that may be busy.
jest.setTimeout(180000);

let pg: Postgres;
const clients: Client[] = [];

beforeAll(async () => {
  pg = await startPostgres({
    ...Object.fromEntries(parameters.map((p) => [p.name, p.value])),
    superuser_reserved_connections: String(
      BUDGET_RULES.superuserReserved + BUDGET_RULES.rdsSuperuserReserved,
    ),
    shared_buffers: "32MB",
  });
  const admin = new Client({ host: "127.0.0.1", port: pg.port, user: pg.superuser, database: "postgres" });
  await admin.connect();
  await admin.query("CREATE ROLE mastodon LOGIN PASSWORD 'mastodon'");
  await admin.query("CREATE DATABASE mastodon_production OWNER mastodon");
  await admin.end();
});

afterAll(async () => {
  await Promise.allSettled(clients.map((c) => c.end()));
  await pg?.stop();
  await stopAllServers();
});

async function connectMastodon(): Promise<Client> {
  const client = new Client({
    host: "127.0.0.1",
    port: pg.port,
    user: "mastodon",
    password: "mastodon",
    database: "mastodon_production",
  });
  await client.connect();
  return client;
}

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

test("an ordinary role gets the budget's connections at maximum size, and is refused past the usable limit", async () => {
  // Everything production holds at maximum size, headroom included: 423.
  for (let opened = 0; opened < budget.total; opened += 50) {
    const batch = Math.min(50, budget.total - opened);
    clients.push(...(await Promise.all(Array.from({ length: batch }, connectMastodon))));
  }
  expect(clients).toHaveLength(budget.total);

  // Then on, one at a time, until PostgreSQL says no: that happens exactly at `usable`.
  let refusal: Error | undefined;
  while (!refusal && clients.length < budget.maxConnections) {
    try {
      clients.push(await connectMastodon());
    } catch (e) {
      refusal = e as Error;
    }
  }
  expect(clients).toHaveLength(budget.usable);
  expect(refusal?.message).toMatch(/remaining connection slots are reserved/);

  // The reserved slots still admit a superuser (RDS's rdsadmin and rds_superuser).
  const admin = new Client({ host: "127.0.0.1", port: pg.port, user: pg.superuser, database: "postgres" });
  await admin.connect();
  const { rows } = await admin.query(
    "SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = 'mastodon'",
  );
  await admin.end();
  expect(rows[0].n).toBe(budget.usable);
  expect(budget.total).toBeLessThanOrEqual(budget.limit);
  expect(budget.limit).toBeLessThan(budget.usable);
});
