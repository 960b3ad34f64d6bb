/**
 * A stack whose database starts from an RDS snapshot, under Pulumi's mocks, against a fake account
 * holding snapshots (src/testing/fake/snapshots.ts): staging restored from production's newest
 * snapshot (the drill of issue 23), from one named snapshot, and the refusals of a snapshot the stack
 * could not become or AWS does not find. The restore changes one input of one resource; the primary
 * ignores later changes of it, with or without restoreFrom.
 */
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import program from "../../index";
import { readStackFile } from "../config/stackFile";
import { scopedTag } from "../aws/naming/scope";
import { POLICY_TAGS } from "../aws/policyTags";
import {
  DB_SNAPSHOT_MANY_RESULTS,
  DB_SNAPSHOT_NO_RESULTS,
  FAKE_ACCOUNT,
  type FakeDbSnapshot,
} from "../testing/fakeCloud";
import { getSnapshotAnswer } from "../testing/fake/snapshots";
import { type MockRun, ProgramError, runUnderMocks } from "../testing/mocks";
import { REFUSED_SNAPSHOT } from "./restoreFrom";
import { PROJECT, ROOT, STACKS, find, runStack, stackConfig } from "../../test/helpers";

const RDS = "aws:rds/instance:Instance";
const PRIMARY = "mastodon-db-primary";
const REGION = "us-east-1";
const tagOf = (stack: string) => ({
  [POLICY_TAGS.stack]: scopedTag({ project: PROJECT, stack, name: "mastodon" }, "mastodon"),
});
const PRODUCTION_DB = "mastodon-db-primary1a2b3c4";

/** Production's snapshots as its primary leaves them (copyTagsToSnapshot), and others beside them. */
const HOLDINGS: FakeDbSnapshot[] = [
  {
    identifier: `rds:${PRODUCTION_DB}-2025-06-01-04-10`,
    instance: PRODUCTION_DB,
    created: "2025-06-01T04:10:00Z",
    engineVersion: "17.4",
    allocatedStorage: 500,
    tags: tagOf("production"),
  },
  {
    identifier: `rds:${PRODUCTION_DB}-2025-06-02-04-10`,
    instance: PRODUCTION_DB,
    created: "2025-06-02T04:10:00Z",
    engineVersion: "17.4",
    allocatedStorage: 500,
    tags: tagOf("production"),
  },
  // Being made: no SnapshotCreateTime yet, so never the newest.
  {
    identifier: "before-upgrade",
    instance: PRODUCTION_DB,
    created: "2025-06-03T09:00:00Z",
    status: "creating",
    engineVersion: "17.4",
    allocatedStorage: 500,
    tags: tagOf("production"),
  },
  // Another stack's, newer.
  {
    identifier: "rds:mastodon-db-primary9f8e7d6-2025-06-03-04-10",
    instance: "mastodon-db-primary9f8e7d6",
    created: "2025-06-03T04:10:00Z",
    engineVersion: "17.4",
    allocatedStorage: 20,
    tags: tagOf("dev"),
  },
  {
    identifier: "old-16",
    instance: "legacy",
    created: "2024-01-01T00:00:00Z",
    engineVersion: "16.3",
    allocatedStorage: 100,
  },
  {
    identifier: "plain",
    instance: "legacy",
    created: "2024-01-02T00:00:00Z",
    engineVersion: "17.2",
    allocatedStorage: 100,
    encrypted: false,
  },
  // Shared by another account: found by its ARN only.
  {
    identifier: "shared-one",
    instance: "theirs",
    created: "2025-05-01T00:00:00Z",
    engineVersion: "17.4",
    allocatedStorage: 100,
    account: "210987654321",
  },
];

/** Staging, restored: the drill sizes its storage for production's snapshot. */
function restoredStaging(restoreFrom?: Record<string, unknown>, database: Record<string, unknown> = {}) {
  return {
    ...(stackConfig("staging")["database"] as object),
    storageGiB: 500,
    ...database,
    ...(restoreFrom && { restoreFrom }),
  };
}

async function run(stack: string, override: Record<string, unknown>, holdings = HOLDINGS): Promise<MockRun> {
  const file = readStackFile(path.join(ROOT, "stacks"), stack);
  const config = { ...file.config };
  for (const [k, v] of Object.entries(override)) config[`mastodon:${k}`] = JSON.stringify(v);
  return runUnderMocks(program, {
    project: PROJECT,
    stack,
    config,
    secretKeys: file.secretKeys,
    cloud: { dbSnapshots: holdings },
  });
}

/** The run's error, whichever way the program failed. */
async function failure(
  stack: string,
  override: Record<string, unknown>,
  holdings = HOLDINGS,
): Promise<string> {
  try {
    await run(stack, override, holdings);
  } catch (e) {
    return e instanceof ProgramError ? e.messages.join("\n") : String(e);
  }
  throw new Error("the run succeeded");
}

describe("staging restored from production's newest snapshot", () => {
  let restored: MockRun;
  let fresh: MockRun;
  beforeAll(async () => {
    restored = await run("staging", { database: restoredStaging({ stack: "production" }) });
    fresh = await run("staging", { database: restoredStaging() });
  });

  test("the tag looked up is the one production's primary carries and copies to its snapshots", async () => {
    const primary = find(await runStack("production"), RDS, PRIMARY).inputs;
    expect(primary["copyTagsToSnapshot"]).toBe(true);
    expect((primary["tags"] as Record<string, string>)[POLICY_TAGS.stack]).toBe(
      tagOf("production")[POLICY_TAGS.stack],
    );
  });

  test("the primary names production's newest available snapshot, not another stack's or one being made", () => {
    expect(find(restored, RDS, PRIMARY).inputs["snapshotIdentifier"]).toBe(
      `rds:${PRODUCTION_DB}-2025-06-02-04-10`,
    );
  });

  test("nothing else changes: every other resource and every other input of the primary as without it", () => {
    const { snapshotIdentifier, ...inputs } = find(restored, RDS, PRIMARY).inputs;
    expect(snapshotIdentifier).toBeDefined();
    expect(inputs).toEqual(find(fresh, RDS, PRIMARY).inputs);
    // Its master user and database name are the package's, as a mastodon-aws snapshot holds them.
    expect(inputs).toMatchObject({
      username: "mastodon_admin",
      dbName: "mastodon_production",
      storageEncrypted: true,
    });
    const others = (r: MockRun) => r.resources.filter((x) => x.name !== PRIMARY);
    expect(others(restored)).toEqual(others(fresh));
  });
});

test("one named snapshot: an automated one by its name, a shared one by its ARN, the restore naming it as given", async () => {
  const automated = `rds:${PRODUCTION_DB}-2025-06-01-04-10`;
  const byName = await run("staging", { database: restoredStaging({ snapshot: automated }) });
  expect(find(byName, RDS, PRIMARY).inputs["snapshotIdentifier"]).toBe(automated);
  const arn = `arn:aws:rds:${REGION}:210987654321:snapshot:shared-one`;
  const byArn = await run("staging", { database: restoredStaging({ snapshot: arn }) });
  expect(find(byArn, RDS, PRIMARY).inputs["snapshotIdentifier"]).toBe(arn);
});

describe("AWS finds nothing, and the fake account says so in the provider's words", () => {
  test.each([
    ["a name the account does not hold", { snapshot: "no-such-snapshot" }],
    ["an automated name the account does not hold", { snapshot: `rds:${PRODUCTION_DB}-2020-01-01-00-00` }],
    ["another account's snapshot by its name, not its ARN", { snapshot: "shared-one" }],
    ["a stack that made no snapshot", { stack: "small" }],
    ["another project's stack of the same name", { stack: "other-project/production" }],
  ])("%s", async (_what, restoreFrom) => {
    expect(await failure("staging", { database: restoredStaging(restoreFrom) })).toContain(
      DB_SNAPSHOT_NO_RESULTS,
    );
  });

  test("an ARN of another Region: refused by key before anything is declared; the account finds none there either", async () => {
    const arn = `arn:aws:rds:eu-west-1:${FAKE_ACCOUNT}:snapshot:plain`;
    expect(await failure("staging", { database: restoredStaging({ snapshot: arn }) })).toContain(
      `mastodon:database.restoreFrom.snapshot: "${arn}" is in eu-west-1, and the stack deploys to us-east-1 (aws:region): RDS restores a snapshot only in its own Region. Copy it here first`,
    );
    expect(() =>
      getSnapshotAnswer({ dbSnapshotIdentifier: arn, includeShared: true }, REGION, HOLDINGS),
    ).toThrow(DB_SNAPSHOT_NO_RESULTS);
  });

  test("an empty account (the offline plan's, by default) holds no snapshot at all", async () => {
    expect(await failure("staging", { database: restoredStaging({ stack: "production" }) }, [])).toContain(
      DB_SNAPSHOT_NO_RESULTS,
    );
  });

  test("several snapshots of a stack: refused without mostRecent, as the provider does; the newest with it, in AWS's shape", async () => {
    expect(() => getSnapshotAnswer({ tags: tagOf("production") }, REGION, HOLDINGS)).toThrow(
      DB_SNAPSHOT_MANY_RESULTS,
    );
    expect(
      getSnapshotAnswer({ tags: tagOf("production"), mostRecent: true }, REGION, HOLDINGS),
    ).toMatchObject({
      id: `rds:${PRODUCTION_DB}-2025-06-02-04-10`,
      dbSnapshotArn: `arn:aws:rds:${REGION}:${FAKE_ACCOUNT}:snapshot:rds:${PRODUCTION_DB}-2025-06-02-04-10`,
      snapshotType: "automated",
      engine: "postgres",
      engineVersion: "17.4",
      allocatedStorage: 500,
      encrypted: true,
      status: "available",
      snapshotCreateTime: "2025-06-02T04:10:00Z",
    });
  });
});

describe("a snapshot the stack could not become, refused by key, value and fix before RDS is asked", () => {
  test.each([
    [
      "production's 500 GiB into staging's 50",
      { stack: "production" },
      { storageGiB: 50 },
      'mastodon:database.restoreFrom.stack: "production" (snapshot rds:mastodon-db-primary1a2b3c4-2025-06-02-04-10) holds 500 GiB; mastodon:database.storageGiB is 50, and RDS never shrinks storage below a snapshot\'s. Set mastodon:database.storageGiB to at least 500',
    ],
    [
      "a PostgreSQL 16 snapshot into a 17 stack",
      { snapshot: "old-16" },
      {},
      'mastodon:database.restoreFrom.snapshot: "old-16" (snapshot old-16) was taken at PostgreSQL 16.3; mastodon:database.engineVersion is "17"',
    ],
    [
      "an unencrypted snapshot",
      { snapshot: "plain" },
      {},
      "is not encrypted: a restore keeps it so (RestoreDBInstanceFromDBSnapshot takes no StorageEncrypted or KmsKeyId), and the stack's database is encrypted. Copy it with encryption first",
    ],
    [
      "a snapshot still being made",
      { snapshot: "before-upgrade" },
      {},
      "is creating; RDS restores an available snapshot only. Run again once it is (aws rds wait db-snapshot-available --db-snapshot-identifier before-upgrade)",
    ],
  ])("%s", async (_what, restoreFrom, database, message) => {
    expect(await failure("staging", { database: restoredStaging(restoreFrom, database) })).toContain(message);
  });

  test("the PostgreSQL 16 snapshot is taken once the stack says 16", async () => {
    const r = await run("staging", {
      database: restoredStaging({ snapshot: "old-16" }, { engineVersion: "16" }),
    });
    expect(find(r, RDS, PRIMARY).inputs).toMatchObject({ snapshotIdentifier: "old-16", engineVersion: "16" });
  });
});

/** The primary as the engine receives its registration (its options, its snapshot), and the run's error. */
async function primaryRegistration(
  stack: string,
  override: Record<string, unknown>,
): Promise<{ ignoreChanges: string[]; snapshotIdentifier?: unknown; error?: string }> {
  interface Request {
    getName(): string;
    getIgnorechangesList(): string[];
    getObject(): { toJavaScript(): Record<string, unknown> } | undefined;
  }
  let registered: Request | undefined;
  let error: string | undefined;
  const file = readStackFile(path.join(ROOT, "stacks"), stack);
  const config = { ...file.config };
  for (const [k, v] of Object.entries(override)) config[`mastodon:${k}`] = JSON.stringify(v);
  await runUnderMocks(
    () => {
      const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: Request, cb: unknown): unknown;
      };
      const register = monitor.registerResource.bind(monitor);
      monitor.registerResource = (req, cb) => {
        if (req.getName() === PRIMARY) registered = req;
        return register(req, cb);
      };
      return program();
    },
    { project: PROJECT, stack, config, secretKeys: file.secretKeys, cloud: { dbSnapshots: HOLDINGS } },
  ).catch((e: unknown) => (error = e instanceof ProgramError ? e.messages.join("\n") : String(e)));
  return {
    ignoreChanges: registered?.getIgnorechangesList() ?? [],
    snapshotIdentifier: registered?.getObject()?.toJavaScript()["snapshotIdentifier"],
    ...(error !== undefined && { error }),
  };
}

test.each(STACKS)(
  "%s: the primary ignores snapshotIdentifier, so a restoreFrom added to it later never replaces its database",
  async (stack) => {
    expect((await primaryRegistration(stack, {})).ignoreChanges).toEqual(["snapshotIdentifier"]);
    // And without restoreFrom the primary's inputs are the ones the shipped stack always had.
    expect(find(await runStack(stack), RDS, PRIMARY).inputs["snapshotIdentifier"]).toBeUndefined();
  },
);

test("restored, too: a newer snapshot of the source at the next update is ignored", async () => {
  const restored = await primaryRegistration("staging", {
    database: restoredStaging({ stack: "production" }),
  });
  expect(restored).toEqual({
    ignoreChanges: ["snapshotIdentifier"],
    snapshotIdentifier: `rds:${PRODUCTION_DB}-2025-06-02-04-10`,
  });
});

test.each([
  ["refused", { snapshot: "plain" }, "is not encrypted"],
  ["not found", { stack: "small" }, DB_SNAPSHOT_NO_RESULTS],
])(
  "a snapshot %s: under pulumi up --skip-preview the restore names one RDS refuses, never the refused one nor none",
  async (_what, restoreFrom, message) => {
    const run = await primaryRegistration("staging", { database: restoredStaging(restoreFrom) });
    expect(run.error).toContain(message);
    expect(run.snapshotIdentifier).toBe(REFUSED_SNAPSHOT);
  },
);
