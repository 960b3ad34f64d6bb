/**
 * The snapshot the offline plan assumes for mastodon:database.restoreFrom.snapshot or .stack. The
 * plan runs the program against a fake account that holds no snapshot, and cannot ask AWS for one:
 * without an assumption the lookup (aws.rds.getSnapshot) finds nothing and the plan fails, though
 * the stack may well deploy. So the fake account holds one snapshot the query finds and the stack
 * can become (PostgreSQL of the stack's major version, its storage, encrypted, available), the plan
 * renders what `pulumi up` would declare, and a warning says so: `pulumi preview` describes the real
 * snapshot and refuses one that does not fit (src/database/restoreFrom.ts, snapshotProblems).
 */
import { type DeploymentIdentity } from "../aws/naming/scope";
import { snapshotName } from "../aws/naming/rdsSnapshots";
import { type Problem, configKey } from "../config/problems";
import type { StackConfig } from "../config";
import { snapshotQuery } from "../database/restoreFrom";
import type { FakeDbSnapshot } from "../testing/fakeCloud";

/** The identifier of the assumed newest snapshot of another stack: a name RDS would take. */
export const ASSUMED_STACK_SNAPSHOT = "assumed-by-the-offline-plan";

/** The fake account's holdings for `config`'s restoreFrom (none without one, or for a dump). */
export function assumedSnapshots(config: StackConfig, scope: DeploymentIdentity): FakeDbSnapshot[] {
  const restore = config.database.restoreFrom;
  if (!restore || restore.dump !== undefined) return [];
  const query = snapshotQuery(restore, scope);
  const fits = {
    created: "2026-01-01T00:00:00Z",
    engineVersion: `${config.database.engineVersion}.0`,
    allocatedStorage: config.database.storageGiB,
  };
  if (restore.snapshot === undefined)
    return [
      { ...fits, identifier: ASSUMED_STACK_SNAPSHOT, instance: "assumed", tags: query.args.tags ?? {} },
    ];
  const named = snapshotName(restore.snapshot);
  if ("problems" in named) return [];
  // Stored lower-case, as RDS stores identifiers; an automated one of the instance its name holds.
  const identifier = named.identifier.toLowerCase();
  const instance = named.instance?.toLowerCase() ?? "assumed";
  return [
    {
      ...fits,
      identifier,
      instance,
      ...(named.arn && { account: named.arn.account, region: named.arn.region }),
    },
  ];
}

/** The warning the summary shows beside the assumption (a config problem of severity warning). */
export function assumedSnapshotNotes(config: StackConfig): Problem[] {
  const restore = config.database.restoreFrom;
  if (!restore || restore.dump !== undefined) return [];
  const leaf = restore.snapshot !== undefined ? "snapshot" : "stack";
  return [
    {
      severity: "warning",
      key: configKey(["database", "restoreFrom", leaf]),
      value: restore.snapshot ?? restore.stack,
      message:
        "cannot be looked up offline: the plan assumes a snapshot it names that the stack can become (PostgreSQL " +
        `${config.database.engineVersion}, at most ${config.database.storageGiB} GiB, encrypted, available); pulumi preview describes the real one and refuses it if it does not fit`,
    },
  ];
}
