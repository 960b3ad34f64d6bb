/**
 * mastodon:database.restoreFrom: a new stack's database starts from an RDS snapshot (pure). Either
 * `snapshot`, one snapshot by its identifier or ARN (src/aws/naming/rdsSnapshots.ts), or `stack`,
 * the newest snapshot of another stack of this project: every snapshot of a stack's database
 * carries its `mastodon:stack` tag (the primary copies its tags to its snapshots, automated and
 * manual, and its final one), so the newest one carrying `<project>/<stack>/<name>` is that stack's
 * latest. A stack may name itself: its own final snapshot, after its database was deleted. (Or
 * `dump`, a pg_dump archive the scheduler's host restores into an empty database: restoreDump.ts.)
 *
 * Read-only towards the source: the program describes the snapshot (DescribeDBSnapshots, through
 * aws.rds.getSnapshot) and RDS restores a copy of it (RestoreDBInstanceFromDBSnapshot); neither writes
 * to the snapshot or to the stack that made it.
 *
 * What a restore keeps from the snapshot (RDS API RestoreDBInstanceFromDBSnapshot: "created from the
 * source database restore point with most of the source's original configuration"; its DBName
 * "doesn't apply to the MySQL, PostgreSQL, or MariaDB engines"; it takes no MasterUsername,
 * StorageEncrypted or KmsKeyId): its data, roles and
 * passwords, its master user and database name, its encryption and KMS key, its major version. The
 * provider restores with the instance's class, subnets, security group, parameter group and tags,
 * then sets the master's password, storage, engine version and backups by ModifyDBInstance
 * (terraform-provider-aws internal/service/rds/instance.go). So the snapshot must fit what the stack
 * declares, and snapshotProblems refuses the rest with the key to fix: a PostgreSQL snapshot, of the
 * stack's major version (its parameter group's family fits no other, and the package never upgrades
 * a major version on its own), no larger than database.storageGiB (storage never shrinks), encrypted
 * (a restore keeps an unencrypted snapshot unencrypted, and storageEncrypted would then replace the
 * database at the next update), and available. A mastodon-aws stack's snapshot has the package's
 * master user and database name (DEFAULTS.mastodon), as the instance declares them: a snapshot of
 * another RDS instance must too, or the next update replaces the restored database (the provider's
 * username and dbName force a new instance); an instance made elsewhere needs a dump instead.
 */
import { z } from "zod";
import { type DeploymentIdentity, scopedTag } from "../aws/naming/scope";
import { snapshotName } from "../aws/naming/rdsSnapshots";
import { POLICY_TAGS } from "../aws/policyTags";
import { type Problem, configKey } from "../config/problems";
import { argsType, documented } from "../config/schema/keyDoc";
import type { StackRestoreFromArgs } from "./args";
import { dumpFileProblems } from "./restoreDump";

/**
 * Pulumi's project and stack names: 1-100 of A-Z a-z 0-9 _ . - (pulumi sdk/go/common/tokens
 * ValidateProjectName and the stack name rule, as src/aws/naming/scope.ts cites them).
 */
const PULUMI_NAME = /^[A-Za-z0-9_.-]{1,100}$/;

/** Every way `value` is not `<stack>` or `<project>/<stack>`. */
function stackProblems(value: string): string[] {
  const parts = value.split("/");
  if (parts.length > 2)
    return [
      "has an organization: a snapshot's mastodon:stack tag holds <project>/<stack>/<name>, so give <stack> (this project) or <project>/<stack>",
    ];
  return parts.every((p) => PULUMI_NAME.test(p))
    ? []
    : [
        "is not a Pulumi stack name: <stack> or <project>/<stack>, each 1-100 letters, digits, _, . or - (Pulumi's own rule)",
      ];
}

const checked = (problems: (value: string) => string[]) =>
  z.string().superRefine((value, ctx) => {
    for (const message of problems(value)) ctx.addIssue({ code: "custom", message });
  });

const snapshotValueProblems = (value: string): string[] => {
  const named = snapshotName(value);
  return "problems" in named
    ? named.problems.map(
        (p) =>
          `${p}. Give the identifier aws rds describe-db-snapshots prints (DBSnapshotIdentifier), or the snapshot's ARN`,
      )
    : [];
};

export const restoreFromSchema = argsType(
  z
    .strictObject({
      snapshot: documented(checked(snapshotValueProblems).optional(), {
        description:
          "One snapshot in this stack's account and Region (aws:region): a manual snapshot's identifier, an automated one's (rds:<instance>-<yyyy-mm-dd-hh-mm>), or its ARN (a snapshot another account shared).",
        default: "none",
      }),
      stack: documented(checked(stackProblems).optional(), {
        description:
          "Another stack of this Pulumi project (<stack>, or <project>/<stack>): its newest snapshot, found by its mastodon:stack tag.",
        default: "none",
      }),
      dump: documented(checked(dumpFileProblems).optional(), {
        description:
          "A pg_dump custom-format archive of PostgreSQL 15 (pg_dump -Fc), at most about 168 GiB, a path from the project's directory: uploaded to a private bucket and restored by the scheduler's host into the empty database.",
        default: "none",
      }),
    })
    // Only on an otherwise sound object: a misspelt key is the cause, not the missing one.
    .superRefine(
      (restore, ctx) => {
        const given = [restore.snapshot, restore.stack, restore.dump].filter((v) => v !== undefined).length;
        if (given !== 1)
          ctx.addIssue({
            code: "custom",
            message:
              given === 0
                ? "names nothing to restore: give snapshot (an identifier or ARN), stack (another stack of this project, whose newest snapshot is taken) or dump (a pg_dump archive's path)"
                : "gives more than one of snapshot, stack and dump: give one (snapshot names one snapshot; stack takes that stack's newest; dump restores a pg_dump archive)",
          });
      },
      { when: (payload) => payload.issues.length === 0 },
    ),
  {
    name: "StackRestoreFromArgs",
    folder: "database",
    description:
      "mastodon:database.restoreFrom: the RDS snapshot or pg_dump archive a new stack's database starts from, at its creation only; exactly one key (src/database/restoreFrom.ts, restoreDump.ts).",
  },
);

const SNAPSHOT_PATH = ["database", "restoreFrom", "snapshot"] as const;

/**
 * A snapshot ARN in another Region than the stack's (`aws:region`): RDS restores a snapshot only in
 * its own Region (Amazon RDS User Guide, "Copying a DB snapshot": copy it to the Region first).
 * Read from the config as written, beside the region's own check (src/config/index.ts).
 */
export function restoreRegionProblems(raw: Record<string, unknown>, region: string): Problem[] {
  const database = raw["database"] as { restoreFrom?: { snapshot?: unknown } } | undefined;
  const value = database?.restoreFrom?.snapshot;
  if (typeof value !== "string") return [];
  const named = snapshotName(value);
  if ("problems" in named || !named.arn || named.arn.region === region) return [];
  return [
    {
      severity: "error",
      key: configKey(SNAPSHOT_PATH),
      value,
      message: `is in ${named.arn.region}, and the stack deploys to ${region} (aws:region): RDS restores a snapshot only in its own Region. Copy it here first (aws rds copy-db-snapshot --region ${region} --source-region ${named.arn.region} --source-db-snapshot-identifier ${value} --target-db-snapshot-identifier <name>, with --kms-key-id <a key in ${region}> as it is encrypted) and give the copy's identifier`,
    },
  ];
}

/** How the program asks for the snapshot (aws.rds.getSnapshot) and what the restore names. */
export interface SnapshotQuery {
  /** The config key that named it, and its value: for problems. */
  readonly key: string;
  readonly value: string;
  /** aws.rds.getSnapshot's args (DescribeDBSnapshots, then the provider's own pick). */
  readonly args: {
    readonly dbSnapshotIdentifier?: string;
    readonly snapshotType?: string;
    readonly includeShared?: boolean;
    readonly mostRecent?: boolean;
    readonly tags?: Record<string, string>;
  };
  /** The snapshot the restore names as given (an ARN stays one); undefined: the answer's identifier. */
  readonly restoreIdentifier?: string;
  /** How to find what AWS did not: read on from the provider's error. */
  readonly notFound: string;
}

/**
 * What the restore names once the plan refused the snapshot, or AWS found none (the preview has
 * failed already, but `pulumi up --skip-preview` goes on): a snapshot no one makes, so that RDS
 * refuses the restore (DBSnapshotNotFound) rather than create a database the plan refused, or an
 * empty one in its place.
 */
export const REFUSED_SNAPSHOT = "mastodon-aws-restorefrom-refused";

/**
 * The query for `restore`, for a stack of `scope` (its project and MastodonStack name also name the
 * other stack's tag). Throws on a name RDS would not take: the component refuses before it declares.
 */
export function snapshotQuery(restore: StackRestoreFromArgs, scope: DeploymentIdentity): SnapshotQuery {
  if (restore.snapshot !== undefined && restore.stack === undefined && restore.dump === undefined) {
    const named = snapshotName(restore.snapshot);
    if ("problems" in named)
      throw new Error(
        `restoreFrom.snapshot ${JSON.stringify(restore.snapshot)} ${named.problems.join("; ")}`,
      );
    return {
      key: configKey(SNAPSHOT_PATH),
      value: restore.snapshot,
      args: {
        dbSnapshotIdentifier: restore.snapshot,
        ...(named.kind === "automated" && { snapshotType: "automated" }),
        // An ARN may name a snapshot another account shared: DescribeDBSnapshots lists those only when asked.
        ...(named.arn && { includeShared: true }),
      },
      restoreIdentifier: restore.snapshot,
      notFound: `Look it up where the stack deploys (aws rds describe-db-snapshots --db-snapshot-identifier ${restore.snapshot}${named.kind === "automated" ? " --snapshot-type automated" : ""}); another account's snapshot must be shared with this one and named by its ARN`,
    };
  }
  if (restore.stack !== undefined && restore.snapshot === undefined && restore.dump === undefined) {
    const problems = stackProblems(restore.stack);
    if (problems.length)
      throw new Error(`restoreFrom.stack ${JSON.stringify(restore.stack)} ${problems.join("; ")}`);
    const [project, stack] = restore.stack.includes("/")
      ? (restore.stack.split("/") as [string, string])
      : [scope.project, restore.stack];
    const tag = scopedTag({ project, stack, name: scope.name }, scope.name);
    return {
      key: configKey(["database", "restoreFrom", "stack"]),
      value: restore.stack,
      // Automated and manual snapshots (DescribeDBSnapshots' default), the tag matched by the
      // provider, the newest by SnapshotCreateTime (one still being made has none and sorts first).
      args: { tags: { [POLICY_TAGS.stack]: tag }, mostRecent: true },
      notFound: `No snapshot in this account and Region carries the tag ${POLICY_TAGS.stack}=${tag} (aws rds describe-db-snapshots --query "DBSnapshots[?TagList[?Key=='${POLICY_TAGS.stack}' && Value=='${tag}']].DBSnapshotIdentifier"): take one of that stack's database, or name one with restoreFrom.snapshot`,
    };
  }
  throw new Error("restoreFrom: give exactly one of snapshot, stack and dump");
}

/** What the program reads of aws.rds.getSnapshot's answer (DescribeDBSnapshots' DBSnapshot). */
export interface DescribedSnapshot {
  readonly id: string;
  readonly engine: string;
  readonly engineVersion: string;
  readonly allocatedStorage: number;
  readonly encrypted: boolean;
  readonly status: string;
}

/** What the restored instance must become: the stack's major version and its allocated storage. */
export interface RestoreTarget {
  readonly engineVersion: string;
  readonly storageGiB: number;
}

/** Every way `snapshot` cannot become `target`, each with its fix; read on from the snapshot's name. */
export function snapshotProblems(snapshot: DescribedSnapshot, target: RestoreTarget): string[] {
  const name = `(snapshot ${snapshot.id})`;
  const problems: string[] = [];
  if (snapshot.engine !== "postgres")
    problems.push(
      `${name} is an RDS ${snapshot.engine} snapshot; the stack runs RDS PostgreSQL. Name a PostgreSQL snapshot`,
    );
  const major = snapshot.engineVersion.split(".")[0] ?? "";
  if (snapshot.engine === "postgres" && major !== target.engineVersion)
    problems.push(
      `${name} was taken at PostgreSQL ${snapshot.engineVersion}; mastodon:database.engineVersion is "${target.engineVersion}", and a restore keeps the snapshot's major version (the parameter group's family postgres${target.engineVersion} fits no other, and the package never upgrades a major version on its own). ${
        major === "16" || major === "17"
          ? `Set mastodon:database.engineVersion to "${major}" (upgrade later by the runbook), or name a snapshot taken at ${target.engineVersion}`
          : `Upgrade the snapshot first (aws rds modify-db-snapshot --engine-version for a manual one, or restore and upgrade it elsewhere), then name the upgraded one`
      }`,
    );
  if (snapshot.allocatedStorage > target.storageGiB)
    problems.push(
      `${name} holds ${snapshot.allocatedStorage} GiB; mastodon:database.storageGiB is ${target.storageGiB}, and RDS never shrinks storage below a snapshot's. Set mastodon:database.storageGiB to at least ${snapshot.allocatedStorage} (and maxStorageGiB, if set, at least 10% above it)`,
    );
  if (!snapshot.encrypted)
    problems.push(
      `${name} is not encrypted: a restore keeps it so (RestoreDBInstanceFromDBSnapshot takes no StorageEncrypted or KmsKeyId), and the stack's database is encrypted. Copy it with encryption first (aws rds copy-db-snapshot --kms-key-id alias/aws/rds ...) and name the copy`,
    );
  if (snapshot.status !== "available")
    problems.push(
      `${name} is ${snapshot.status}; RDS restores an available snapshot only. Run again once it is (aws rds wait db-snapshot-available --db-snapshot-identifier ${snapshot.id})`,
    );
  return problems;
}
