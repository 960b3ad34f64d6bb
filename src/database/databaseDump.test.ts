/**
 * A stack with mastodon:database.restoreFrom.dump, under Pulumi's mocks: the archive's private bucket
 * and object, the one role that may read it, the scheduler's database config that names it, and the
 * launch hook and `pulumi up`'s wait that make room for the restore (src/database/databaseDump.ts,
 * restoreDump.ts, database.ts).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { DUMP_KEY } from "./databaseDump";
import { DATABASE_PATHS } from "../fleet/host/oneOff";
import { FETCH_SECONDS } from "../fleet/host/hostFiles";
import { LIFECYCLE_HOOK_NAME, capacityWaitSeconds } from "../fleet/host/readiness";
import { RESTORE_HEARTBEAT_SECONDS, RESTORE_UNHEARD_SECONDS, restoreSeconds } from "./restoreDump";
import type { MockRun } from "../testing/mocks";
import {
  ALL_PUBLIC_ACCESS_BLOCKED,
  all,
  arnOf,
  cloudConfig,
  find,
  runStack,
  stackConfig,
  stateOf,
  userDataOf,
} from "../../test/helpers";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-dump-stack-"));
const ARCHIVE = path.join(dir, "mastodon.dump");
/** 300 MiB, sparse: the bound's size without the bytes. */
const BYTES = 300 * 1024 * 1024;
const SCHEDULER = "sidekiq-scheduler";
const GROUP = "aws:autoscaling/group:Group";
const POLICY = "aws:iam/rolePolicy:RolePolicy";

let restored: MockRun;
let plain: MockRun;

beforeAll(async () => {
  fs.writeFileSync(ARCHIVE, Buffer.concat([Buffer.from("PGDMP"), Buffer.from([1, 14, 0, 4, 8, 1])]));
  fs.truncateSync(ARCHIVE, BYTES);
  const database = { ...(stackConfig("production")["database"] as object), restoreFrom: { dump: ARCHIVE } };
  // One at a time: Pulumi's mocks are the process's.
  restored = await runStack("production", { database });
  plain = await runStack("production");
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const hookOf = (run: MockRun, fleet: string) =>
  (
    find(run, GROUP, `mastodon-${fleet}-group`).inputs["initialLifecycleHooks"] as Record<string, unknown>[]
  ).find((h) => h["name"] === LIFECYCLE_HOOK_NAME)!;
const databaseConfigOf = (run: MockRun) =>
  cloudConfig(userDataOf(run, SCHEDULER)).write_files.find((f) => f.path === DATABASE_PATHS.config)!.content;

test("the archive goes to a private, encrypted, TLS-only bucket of its own, as one object from the file", () => {
  const object = find(restored, "aws:s3/bucketObjectv2:BucketObjectv2", "mastodon-db-dump-archive");
  expect(object.inputs["key"]).toBe(DUMP_KEY);
  expect(JSON.stringify(object.inputs["source"])).toContain(ARCHIVE);
  const bucket = "mastodon-db-dump-bucket";
  expect(object.inputs["bucket"]).toBe(stateOf(restored, "aws:s3/bucket:Bucket", bucket)["bucket"]);
  expect(
    find(restored, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket).inputs,
  ).toMatchObject(ALL_PUBLIC_ACCESS_BLOCKED);
  expect(
    find(
      restored,
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      bucket,
    ).inputs["rules"],
  ).toEqual([expect.objectContaining({ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } })]);
  const policy = JSON.parse(
    String(find(restored, "aws:s3/bucketPolicy:BucketPolicy", bucket).inputs["policy"]),
  );
  expect(policy.Statement).toEqual([
    expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
  ]);
  // Without the key, none of it.
  expect(plain.resources.filter((r) => r.name.startsWith("mastodon-db-dump"))).toEqual([]);
});

test("the scheduler's role alone reads the archive, that object alone, and records the hook's heartbeats", () => {
  const bucketArn = arnOf(restored, "aws:s3/bucket:Bucket", "mastodon-db-dump-bucket");
  const reads = all(restored, POLICY).filter((p) => p.name.endsWith("-db-dump"));
  expect(reads.map((p) => p.name)).toEqual([`mastodon-${SCHEDULER}-db-dump`]);
  expect(JSON.parse(String(reads[0]!.inputs["policy"])).Statement).toEqual([
    {
      Sid: "ReadDatabaseDump",
      Effect: "Allow",
      Action: "s3:GetObject",
      Resource: `${bucketArn}/${DUMP_KEY}`,
    },
  ]);
  const heartbeats = all(restored, POLICY)
    .filter((p) => p.name.endsWith("-lifecycle"))
    .filter((p) => String(p.inputs["policy"]).includes("RecordLifecycleActionHeartbeat"))
    .map((p) => p.name);
  expect(heartbeats).toEqual([`mastodon-${SCHEDULER}-lifecycle`]);
  expect(
    all(plain, POLICY).filter((p) => String(p.inputs["policy"]).includes("RecordLifecycleActionHeartbeat")),
  ).toEqual([]);
});

test("the scheduler's database config names the archive, its bound, the hook and the heartbeat's pause", () => {
  const bucket = stateOf(restored, "aws:s3/bucket:Bucket", "mastodon-db-dump-bucket")["bucket"];
  const lines = databaseConfigOf(restored).split("\n");
  expect(lines).toEqual(
    expect.arrayContaining([
      `restore_program ${DATABASE_PATHS.restoreProgram}`,
      `restore_url s3://${bucket}/${DUMP_KEY}`,
      `restore_seconds ${restoreSeconds(BYTES)}`,
      `restore_hook ${LIFECYCLE_HOOK_NAME}`,
      `restore_heartbeat ${RESTORE_HEARTBEAT_SECONDS}`,
    ]),
  );
  expect(databaseConfigOf(plain)).not.toContain("restore_");
  // The rest of the file as without the archive.
  expect(lines.filter((l) => !l.startsWith("restore_")).join("\n")).toBe(databaseConfigOf(plain));
});

test("the hook's heartbeat timeout grows by what goes unheard, `pulumi up`'s wait by the whole restore", () => {
  const before = hookOf(plain, SCHEDULER)["heartbeatTimeout"] as number;
  // And by the restore program's fetch, a boot step before the restore.
  expect(hookOf(restored, SCHEDULER)["heartbeatTimeout"]).toBe(
    before + FETCH_SECONDS + RESTORE_UNHEARD_SECONDS,
  );
  const wait = (run: MockRun) =>
    find(run, GROUP, `mastodon-${SCHEDULER}-group`).inputs["waitForCapacityTimeout"];
  expect(wait(plain)).toBe(`${capacityWaitSeconds(before)}s`);
  expect(wait(restored)).toBe(`${capacityWaitSeconds(before + FETCH_SECONDS + restoreSeconds(BYTES))}s`);
  // Every other fleet as it was.
  for (const group of all(restored, GROUP).filter((g) => !g.name.includes(SCHEDULER)))
    expect(group.inputs).toEqual(find(plain, GROUP, group.name).inputs);
});

test("the primary is created empty: the archive, not a snapshot", () => {
  const primary = all(restored, "aws:rds/instance:Instance").find((i) => i.name.includes("primary"))!;
  expect(primary.inputs["snapshotIdentifier"]).toBeUndefined();
});
