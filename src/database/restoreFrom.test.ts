/**
 * mastodon:database.restoreFrom as the config reads it: the names RDS takes for a snapshot (manual,
 * automated, ARN) and a stack's, refused by key, value and fix before anything is declared; the
 * query each becomes; what the snapshot AWS describes must be for the stack to become it.
 */
import { parseStackConfig } from "../config";
import { snapshotName } from "../aws/naming/rdsSnapshots";
import { REFUSED_SNAPSHOT, snapshotProblems, snapshotQuery } from "./restoreFrom";
import { configErrors, keysAndMessages, stackConfig } from "../../test/helpers";

const KEY = "mastodon:database.restoreFrom";
const AUTOMATED = "rds:mastodon-db-primary1a2b3c4-2025-06-02-04-10";
const SCOPE = { project: "mastodon-aws", stack: "drill", name: "mastodon" };

/** The staging stack with `restoreFrom`, as its stack file would hold it. */
function staging(restoreFrom: unknown): Record<string, unknown> {
  const config = stackConfig("staging");
  return { ...config, database: { ...(config["database"] as object), restoreFrom } };
}

describe("names RDS takes", () => {
  test.each([
    ["a manual snapshot", { snapshot: "before-upgrade-2025" }],
    ["an automated snapshot", { snapshot: AUTOMATED }],
    ["a shared snapshot's ARN", { snapshot: "arn:aws:rds:us-east-1:210987654321:snapshot:shared-one" }],
    ["an automated snapshot's ARN", { snapshot: `arn:aws:rds:us-east-1:123456789012:snapshot:${AUTOMATED}` }],
    ["255 characters", { snapshot: `a${"b".repeat(254)}` }],
    ["another stack of this project", { stack: "production" }],
    ["a stack of another project", { stack: "mastodon-old/production" }],
  ])("%s", (_what, restoreFrom) => {
    const { config } = parseStackConfig(staging(restoreFrom), "staging", { region: "us-east-1" });
    expect(config.database.restoreFrom).toEqual(restoreFrom);
  });

  test("without restoreFrom the database starts empty, as ever", () => {
    expect(parseStackConfig(stackConfig("staging")).config.database.restoreFrom).toBeUndefined();
  });
});

describe("refused by key, value and fix, every problem at once", () => {
  const RULE =
    "(RDS API CreateDBSnapshot DBSnapshotIdentifier: 1-255 letters, digits or hyphens, first a letter, no two consecutive hyphens, not ending with a hyphen). Give the identifier aws rds describe-db-snapshots prints (DBSnapshotIdentifier), or the snapshot's ARN";
  test.each([
    ["1st-snapshot", "must begin with a letter"],
    ["before--upgrade", "has two consecutive hyphens"],
    ["before-upgrade-", "ends with a hyphen"],
    ["before_upgrade", "has characters outside letters, digits and -"],
    [`a${"b".repeat(255)}`, "is 256 characters, over the maximum 255"],
  ])("snapshot %j: %s", (snapshot, problem) => {
    expect(keysAndMessages(configErrors(staging({ snapshot })))).toEqual([
      { key: `${KEY}.snapshot`, message: `${problem} ${RULE}` },
    ]);
  });

  test.each([
    [
      "rds:before-upgrade",
      "is not an automated snapshot's name: RDS names those rds:<DB instance identifier>-<yyyy-mm-dd-hh-mm>",
    ],
    ["rds:db--x-2025-06-02-04-10", "its DB instance identifier has two consecutive hyphens"],
    [
      "arn:aws:rds:us-east-1:123456789012:cluster-snapshot:x",
      "names an RDS cluster-snapshot (an Aurora cluster's), not a DB instance snapshot",
    ],
    [
      "arn:aws-cn:rds:cn-north-1:123456789012:snapshot:x",
      "is in the aws-cn partition; the package deploys to the aws partition only",
    ],
    ["arn:aws:rds:us-east-1:1234:snapshot:x", "has no 12-digit account"],
    [
      "arn:aws:rds:us-east-1:123456789012:snapshot:x_y",
      "its identifier has characters outside letters, digits and -",
    ],
    [
      "arn:aws:s3:::bucket",
      "is not an RDS DB snapshot ARN (arn:aws:rds:<Region>:<12-digit account>:snapshot:<identifier>)",
    ],
  ])("snapshot %j", (snapshot, problem) => {
    const [error] = configErrors(staging({ snapshot }));
    expect(error).toMatchObject({ key: `${KEY}.snapshot`, value: snapshot });
    expect(error?.message).toContain(problem);
    expect(error?.message).toContain("Give the identifier aws rds describe-db-snapshots prints");
  });

  test("a snapshot ARN of another Region than aws:region: copy it here first, with the command", () => {
    const arn = "arn:aws:rds:eu-west-1:123456789012:snapshot:before-upgrade";
    expect(configErrors(staging({ snapshot: arn }), { region: "us-east-1" })).toEqual([
      {
        severity: "error",
        key: `${KEY}.snapshot`,
        value: arn,
        message: `is in eu-west-1, and the stack deploys to us-east-1 (aws:region): RDS restores a snapshot only in its own Region. Copy it here first (aws rds copy-db-snapshot --region us-east-1 --source-region eu-west-1 --source-db-snapshot-identifier ${arn} --target-db-snapshot-identifier <name>, with --kms-key-id <a key in us-east-1> as it is encrypted) and give the copy's identifier`,
      },
    ]);
    // Reported with the config's other problems, in one pass.
    const keys = configErrors(
      { ...staging({ snapshot: arn }), environment: "qa" },
      { region: "us-east-1" },
    ).map((p) => p.key);
    expect(keys).toEqual(expect.arrayContaining([`${KEY}.snapshot`, "mastodon:environment"]));
  });

  test.each([
    [{}, "names nothing to restore: give snapshot (an identifier or ARN), stack"],
    [{ snapshot: "a", stack: "production" }, "gives more than one of snapshot, stack and dump: give one"],
  ])("%j", (restoreFrom, message) => {
    const [error] = configErrors(staging(restoreFrom));
    expect(error?.key).toBe(KEY);
    expect(error?.message).toContain(message);
  });

  test.each([
    ["acme/mastodon-aws/production", "has an organization"],
    ["prod uction", "is not a Pulumi stack name"],
  ])("stack %j", (stack, message) => {
    const [error] = configErrors(staging({ stack }));
    expect(error).toMatchObject({ key: `${KEY}.stack`, value: stack });
    expect(error?.message).toContain(message);
  });

  test("a misspelt key: that key alone, with a suggestion (not also the snapshot it leaves unnamed)", () => {
    expect(keysAndMessages(configErrors(staging({ snapshots: "a" })))).toEqual([
      { key: `${KEY}.snapshots`, message: "is not a known key; did you mean snapshot?" },
    ]);
  });
});

describe("the query each name becomes (aws.rds.getSnapshot)", () => {
  test("a manual snapshot by its identifier, restored by it", () => {
    expect(snapshotQuery({ snapshot: "before-upgrade" }, SCOPE)).toMatchObject({
      key: `${KEY}.snapshot`,
      args: { dbSnapshotIdentifier: "before-upgrade" },
      restoreIdentifier: "before-upgrade",
    });
  });

  test("an automated one needs SnapshotType automated (DescribeDBSnapshots)", () => {
    expect(snapshotQuery({ snapshot: AUTOMATED }, SCOPE).args).toEqual({
      dbSnapshotIdentifier: AUTOMATED,
      snapshotType: "automated",
    });
  });

  test("an ARN may name another account's shared snapshot: included, and restored by the ARN", () => {
    const arn = "arn:aws:rds:us-east-1:210987654321:snapshot:shared-one";
    expect(snapshotQuery({ snapshot: arn }, SCOPE)).toMatchObject({
      args: { dbSnapshotIdentifier: arn, includeShared: true },
      restoreIdentifier: arn,
    });
  });

  test("a stack: the newest snapshot carrying its mastodon:stack tag, this project's or another's", () => {
    const query = snapshotQuery({ stack: "production" }, SCOPE);
    expect(query.args).toEqual({
      tags: { "mastodon:stack": "mastodon-aws/production/mastodon" },
      mostRecent: true,
    });
    expect(query.restoreIdentifier).toBeUndefined();
    expect(snapshotQuery({ stack: "old/production" }, SCOPE).args.tags).toEqual({
      "mastodon:stack": "old/production/mastodon",
    });
  });

  test("the component refuses a name RDS would not take, before it declares anything", () => {
    expect(() => snapshotQuery({ snapshot: "before--upgrade" }, SCOPE)).toThrow(
      "has two consecutive hyphens",
    );
    expect(() => snapshotQuery({ snapshot: "a", stack: "b" }, SCOPE)).toThrow("exactly one");
    expect(REFUSED_SNAPSHOT).not.toEqual(expect.stringMatching(/[^a-z-]/));
    expect(snapshotName(REFUSED_SNAPSHOT)).toEqual({ kind: "manual", identifier: REFUSED_SNAPSHOT });
    // An automated one's name holds the instance it was taken of.
    expect(snapshotName(AUTOMATED)).toEqual({
      kind: "automated",
      identifier: AUTOMATED,
      instance: "mastodon-db-primary1a2b3c4",
    });
  });
});

describe("what the described snapshot must be", () => {
  const good = {
    id: AUTOMATED,
    engine: "postgres",
    engineVersion: "17.4",
    allocatedStorage: 50,
    encrypted: true,
    status: "available",
  };
  const target = { engineVersion: "17", storageGiB: 50 };

  test("one the stack can become: no problem", () => {
    expect(snapshotProblems(good, target)).toEqual([]);
    expect(snapshotProblems({ ...good, allocatedStorage: 20 }, target)).toEqual([]);
  });

  test.each([
    [{ engine: "mysql" }, "is an RDS mysql snapshot; the stack runs RDS PostgreSQL"],
    [{ engineVersion: "16.3" }, 'Set mastodon:database.engineVersion to "16"'],
    [{ engineVersion: "15.7" }, "Upgrade the snapshot first (aws rds modify-db-snapshot --engine-version"],
    [{ allocatedStorage: 500 }, "Set mastodon:database.storageGiB to at least 500"],
    [
      { encrypted: false },
      "Copy it with encryption first (aws rds copy-db-snapshot --kms-key-id alias/aws/rds ...)",
    ],
    [{ status: "creating" }, "aws rds wait db-snapshot-available --db-snapshot-identifier"],
  ])("%j", (change, fix) => {
    const problems = snapshotProblems({ ...good, ...change }, target);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(fix);
    expect(problems[0]).toMatch(/^\(snapshot rds:mastodon-db-primary1a2b3c4-2025-06-02-04-10\) /);
  });
});
