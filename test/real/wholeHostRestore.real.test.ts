/**
 * A pg_dump archive restored by the scheduler's host, booted whole (issue 23; the harness:
 * test/boot/harness.ts): small's one host with mastodon:database.restoreFrom.dump, its user-data as
 * the program renders it, against the real PostgreSQL at the RDS name and S3's stand-in holding the
 * archive at the URL the stack uploaded it to. The old instance is a PostgreSQL of its own (Mastodon's
 * tables as the stand-in release image knows them, owned by its role `mastodon`, a superuser's
 * extension), dumped by pg_dump 15 in its custom format. The boot fetches mastodon-restore beside the
 * lifecycle library, restores the archive as the app's role while recording a lifecycle heartbeat,
 * then runs the pending pre-deployment migrations only, and completes the hook.
 *
 * Skipped with the reason printed where no host can boot here.
 */
import * as fs from "fs";
import * as path from "path";
import { Client } from "pg";
import { type HostBoot, hostInputs } from "../boot/harness";
import { BOOT_MS, bootSuite, bootToOutcome, bundleCalls, expectReady, userData } from "../boot/scenarios";
import { type Postgres, pgDump, startPostgres, tempDir } from "./servers";
import { stackConfig } from "../helpers";

const { bootTest, boots } = bootSuite("restore");

const dir = tempDir("mastodon-whole-restore-");
const ARCHIVE = path.join(dir, "mastodon.dump");
const SCHEMA = fs.readFileSync(path.join(__dirname, "..", "boot", "release-image", "schema.sql"), "utf8");
/** The old instance's rows, beyond the schema's own migration. */
const ROWS = `
  INSERT INTO schema_migrations VALUES ('20250301000000');
  INSERT INTO oauth_applications (name, superapp) VALUES ('Web', true);
  INSERT INTO accounts (id, username) VALUES (-99, 'localhost'), (1, 'alice'), (2, 'bob');
  INSERT INTO users (account_id, sign_in_count) VALUES (1, 12), (2, 3);
  INSERT INTO statuses (account_id) SELECT 1 + g % 2 FROM generate_series(1, 500) g;
`;

let old: Postgres | undefined;

afterAll(async () => {
  await old?.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** SQL as the old server's superuser, in `database`. */
async function onOld(database: string, sql: string): Promise<void> {
  const client = new Client({ host: "127.0.0.1", port: old!.port, user: old!.superuser, database });
  await client.connect();
  await client.query(sql).finally(() => client.end());
}

/** The old instance, dumped as the README says (pg_dump -Fc), into ARCHIVE. */
async function dumpOldInstance(): Promise<void> {
  old = await startPostgres({});
  for (const sql of ["CREATE ROLE mastodon LOGIN", "CREATE DATABASE mastodon_production OWNER mastodon"])
    await onOld("postgres", sql);
  await onOld(
    "mastodon_production",
    `CREATE EXTENSION pg_stat_statements; SET ROLE mastodon; ${SCHEMA} ${ROWS}`,
  );
  pgDump(old, "mastodon_production", ARCHIVE);
}

const railsSteps = (boot: HostBoot) => bundleCalls(boot).filter((c) => /^(rails|bin\/tootctl) /.test(c.args));

bootTest(
  "the scheduler's first boot restores the archive as the app's role, then migrates, and the hook waits for it",
  async () => {
    await dumpOldInstance();
    const database = { ...(stackConfig("small")["database"] as object), restoreFrom: { dump: ARCHIVE } };
    const ud = await userData("small", "all", { database });
    const conf = hostInputs(ud).files["/etc/mastodon/database.conf"] ?? "";
    const url = /^restore_url s3:\/\/(.+)$/m.exec(conf)?.[1];
    expect(url).toBeDefined();
    const { boot, completion } = await bootToOutcome(boots, "small/all restoring a pg_dump archive", ud, {
      objects: { [url!]: ARCHIVE },
    });
    expectReady(boot, completion);
    const db = boot.inputs.database!.name;
    // Every row of the old instance, and the stand-in release's pending migration after them.
    expect(boot.psql(db, "SELECT version FROM schema_migrations ORDER BY version")).toBe(
      "20250101000000\n20250301000000\n20991231000000",
    );
    expect(boot.psql(db, "SELECT string_agg(username, ',' ORDER BY id) FROM accounts")).toBe(
      "localhost,alice,bob",
    );
    expect(boot.psql(db, "SELECT count(*) FROM statuses")).toBe("500");
    // Owned by the app's role, which the old instance's `mastodon` also was, and without the extension.
    expect(boot.psql(db, "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'")).toBe(
      "mastodon",
    );
    expect(boot.psql(db, "SELECT string_agg(extname, ',') FROM pg_extension")).toBe("plpgsql");
    // A database with Mastodon's schema: no schema load, no seeds.
    expect(railsSteps(boot)).toEqual([{ args: "rails db:migrate", skipPostDeployment: "true" }]);
    // The archive fetched from the stack's bucket, a heartbeat on the launch hook before it completed.
    const requests = boot.requests();
    const [bucket, ...key] = url!.split("/");
    expect(requests).toContainEqual(
      expect.objectContaining({
        service: "s3",
        action: "GetObject",
        bucket,
        key: key.join("/"),
        status: 200,
      }),
    );
    const heartbeats = requests.filter((r) => r.action === "RecordLifecycleActionHeartbeat");
    expect(heartbeats.length).toBeGreaterThan(0);
    expect(heartbeats[0]).toMatchObject({ LifecycleHookName: completion!["LifecycleHookName"], status: 200 });
    expect(heartbeats[0]!.n).toBeLessThan(completion!.n);
    // The restore's own lines in the boot's journal.
    const journal = boot.exec(
      ["journalctl", "--no-pager", "-u", "mastodon-boot.service", "-o", "cat"],
      60000,
    );
    expect(journal.stdout).toContain("mastodon-restore: leaving out: EXTENSION - pg_stat_statements");
    expect(journal.stdout).toContain(`mastodon-restore: restored s3://${url}`);
  },
  BOOT_MS,
);
