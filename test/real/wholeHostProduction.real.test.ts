/**
 * Production's fleets booted whole (issue 19; the harness and its stand-ins: test/boot/harness.ts):
 * PgBouncer on every host in front of the (stand-in) RDS primary, two ElastiCache groups over TLS,
 * search configured. Hosts boot one after the other against the same stand-ins, as the stack
 * orders them: the scheduler's host first (it prepares the database: every other group waits for
 * it), then a web host and a Sidekiq host of the default queue, each a fresh copy of the root.
 *
 * The stand-in Puma answers /health without the database, and Mastodon's processes do not talk to
 * OpenSearch at boot (the web's readiness checks Puma's /health; the search deploy runs tootctl in
 * the stand-in image). The scheduler's host does: it makes Mastodon's own search user as the
 * domain's master, through the security API aws-standin.py answers at the domain's endpoint. What
 * PgBouncer reaches is checked by a query through it, as Mastodon's processes make theirs.
 *
 * Boot time is measured and printed, never asserted. Skipped with the reason printed where no host
 * can boot here.
 */
import { SEARCH_DEPLOY_UNIT } from "../../src/database/database";
import {
  BOOT_MS,
  type Outcome,
  bootToOutcome,
  expectMetrics,
  expectReady,
  journal,
  nextToOutcome,
  userData,
  bootSuite,
} from "../boot/scenarios";
import { throughPgBouncer } from "../boot/pgbouncer";

const { bootTest, boots } = bootSuite("production");

const fleets = async () => ({
  scheduler: await userData("production", "sidekiq-scheduler"),
  web: await userData("production", "web"),
  sidekiq: await userData("production", "sidekiq-default"),
});

let scheduler: Outcome | undefined;

bootTest(
  "production's scheduler host boots to CONTINUE and prepares the database: role, schema, seeds",
  async () => {
    const f = await fleets();
    scheduler = await bootToOutcome(boots, "production/sidekiq-scheduler", f.scheduler, {
      serves: [f.web, f.sidekiq],
    });
    const { boot, completion } = scheduler;
    expectReady(boot, completion);
    expect(boot.psql("postgres", "SELECT rolname FROM pg_roles WHERE rolname = 'mastodon'")).toBe("mastodon");
    expect(boot.psql("mastodon_production", "SELECT count(*) FROM oauth_applications WHERE superapp")).toBe(
      "1",
    );
    expect(throughPgBouncer(boot, "SELECT count(*) > 0 FROM schema_migrations")).toEqual({
      status: 0,
      out: "t",
    });
    // Mastodon's own search user, made as the master over HTTPS after the schema, before the host
    // was ready: role, user, mapping, each created.
    const api = boot.inputs.search!.api;
    const search = boot.requests().filter((r) => r.service === "es");
    expect(search.map((r) => [r["method"], r["path"], r["user"], r.status])).toEqual([
      ["PUT", `/${api}/roles/mastodon_app`, "mastodon", 201],
      ["PUT", `/${api}/internalusers/mastodon_app`, "mastodon", 201],
      ["PUT", `/${api}/rolesmapping/mastodon_app`, "mastodon", 201],
    ]);
    expect(search[2]!.n).toBeLessThan(completion!.n);
    // The search deploy the prepare started: tootctl in the release image's tree and sandbox, as
    // uid 991, straight to PostgreSQL (src/fleet/host/oneOff.ts); ended, successfully.
    let deploy: string[] = [];
    for (let attempt = 0; attempt < 30 && deploy.length === 0; attempt++) {
      deploy = journal(boot).filter((l) => l.startsWith("stand-in bundle: tootctl search deploy"));
      if (deploy.length === 0) await new Promise((r) => setTimeout(r, 2000));
    }
    expect(deploy).toEqual([
      expect.stringMatching(
        /^stand-in bundle: tootctl search deploy --concurrency 4 as uid 991 \[DB_HOST=\S+ DB_PORT=5432 DB_SSLMODE=verify-full ca=readable\]$/,
      ),
    ]);
    expect(
      boot.exec(["systemctl", "show", "-p", "Result", "--value", SEARCH_DEPLOY_UNIT]).stdout.trim(),
    ).toBe("success");
  },
  BOOT_MS,
);

bootTest(
  "production's web host, booted after the scheduler's, reaches CONTINUE with PgBouncer serving the prepared database",
  async () => {
    if (!scheduler) throw new Error("the scheduler's host did not boot");
    const { boot } = scheduler;
    const { completion, after } = await nextToOutcome(boot, "production/web", (await fleets()).web);
    expectReady(boot, completion, after);
    expect(boot.inputs.files["/etc/pgbouncer/mastodon.ini"]).toBeDefined();
    expect(throughPgBouncer(boot, "SELECT count(*) FROM accounts WHERE id = -99")).toEqual({
      status: 0,
      out: "1",
    });
    // The database's steps are the scheduler's alone: this host changed nothing there.
    expect(
      boot.requests().filter((r) => r.n > after && r.service === "ssm" && r.action === "PutParameter"),
    ).toEqual([]);
    await expectMetrics(boot, ["PgBouncerClientsWaiting", "PgBouncerMaxWait"], after);
  },
  BOOT_MS,
);

bootTest(
  "production's Sidekiq host of the default queue, booted after the scheduler's, reaches CONTINUE",
  async () => {
    if (!scheduler) throw new Error("the scheduler's host did not boot");
    const { boot } = scheduler;
    const { completion, after } = await nextToOutcome(
      boot,
      "production/sidekiq-default",
      (await fleets()).sidekiq,
    );
    expectReady(boot, completion, after);
    expect(throughPgBouncer(boot, "SELECT 1")).toEqual({ status: 0, out: "1" });
    // The queues' figures are the scheduler's host's to publish (one host, no duplicates); this one
    // publishes its PgBouncer's.
    await expectMetrics(boot, ["PgBouncerClientsWaiting", "PgBouncerMaxWait"], after);
  },
  BOOT_MS,
);
