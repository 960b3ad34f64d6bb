/**
 * How an RDS DB snapshot is named where RestoreDBInstanceFromDBSnapshot and DescribeDBSnapshots take
 * it (pure). Three spellings:
 * - a manual snapshot's identifier (RDS API CreateDBSnapshot, DBSnapshotIdentifier: "Must contain
 *   from 1 to 255 letters, numbers, or hyphens; First character must be a letter; Can't end with a
 *   hyphen or contain two consecutive hyphens");
 * - an automated snapshot's, `rds:<DB instance identifier>-<yyyy-mm-dd-hh-mm>`, the name RDS gives
 *   its automated snapshots; DescribeDBSnapshots finds one by it only with SnapshotType automated
 *   ("If this identifier is for an automated snapshot, the SnapshotType parameter must also be
 *   specified");
 * - an ARN, `arn:aws:rds:<Region>:<account>:snapshot:<identifier>`, the only way to name a manual
 *   snapshot another account shared (RestoreDBInstanceFromDBSnapshot, DBSnapshotIdentifier: "If you
 *   are restoring from a shared manual DB snapshot, the DBSnapshotIdentifier must be the ARN of the
 *   shared DB snapshot").
 * RDS keeps identifiers lower-case (DescribeDBSnapshots, DBSnapshotIdentifier: "This value is stored
 * as a lowercase string").
 */
import { nameProblems } from "./index";
import { DATA_TIER_RULES, DB_SNAPSHOT_IDENTIFIER_SHAPE } from "./dataTierRules";
import type { NamingRule } from "./types";

/** A manual DB snapshot's identifier. */
export const DB_SNAPSHOT_IDENTIFIER_RULE: NamingRule = {
  property: "DBSnapshotIdentifier",
  ...DB_SNAPSHOT_IDENTIFIER_SHAPE,
  source:
    "RDS API CreateDBSnapshot DBSnapshotIdentifier: 1-255 letters, digits or hyphens, first a letter, no two consecutive hyphens, not ending with a hyphen",
};

/**
 * A snapshot as named: its identifier, whether RDS took it on its own (then the DB instance it was
 * taken of, as its name holds it), and the ARN's parts when given one.
 */
export interface SnapshotName {
  readonly kind: "manual" | "automated";
  readonly identifier: string;
  readonly instance?: string;
  readonly arn?: { readonly region: string; readonly account: string };
}

const ARN = /^arn:([^:]*):rds:([^:]*):([^:]*):([^:]*):(.*)$/;
const AUTOMATED = /^rds:(.*)-([0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2})$/;
/** The commercial partition's Region names (us-east-1, ap-southeast-4, eu-central-2, ...). */
const REGION = /^[a-z]{2}(-[a-z]+)+-[0-9]+$/;
const ARN_SHAPE = "arn:aws:rds:<Region>:<12-digit account>:snapshot:<identifier>";

function identifierOf(identifier: string): SnapshotName | { problems: string[] } {
  const automated = AUTOMATED.exec(identifier);
  if (automated) {
    // The instance part follows the DB instance identifier's rule (RDS API CreateDBInstance).
    const instance = DATA_TIER_RULES["aws:rds/instance:Instance"] as NamingRule;
    const problems = nameProblems(instance, (automated[1] as string).toLowerCase());
    return problems.length
      ? { problems: problems.map((p) => `its DB instance identifier ${p} (${instance.source})`) }
      : { kind: "automated", identifier, instance: automated[1] as string };
  }
  if (identifier.startsWith("rds:"))
    return {
      problems: [
        "is not an automated snapshot's name: RDS names those rds:<DB instance identifier>-<yyyy-mm-dd-hh-mm>",
      ],
    };
  const problems = nameProblems(DB_SNAPSHOT_IDENTIFIER_RULE, identifier);
  return problems.length
    ? { problems: problems.map((p) => `${p} (${DB_SNAPSHOT_IDENTIFIER_RULE.source})`) }
    : { kind: "manual", identifier };
}

/** The snapshot `value` names, or every way it is not a name RDS takes. */
export function snapshotName(value: string): SnapshotName | { problems: string[] } {
  if (!value.startsWith("arn:")) return identifierOf(value);
  const arn = ARN.exec(value);
  if (!arn) return { problems: [`is not an RDS DB snapshot ARN (${ARN_SHAPE})`] };
  const [, partition, region, account, type, identifier] = arn as unknown as string[];
  const problems: string[] = [];
  if (partition !== "aws")
    problems.push(`is in the ${partition} partition; the package deploys to the aws partition only`);
  if (type !== "snapshot")
    problems.push(
      `names an RDS ${type}${type === "cluster-snapshot" ? " (an Aurora cluster's)" : ""}, not a DB instance snapshot (${ARN_SHAPE})`,
    );
  if (!REGION.test(region as string)) problems.push(`has no Region (${ARN_SHAPE})`);
  if (!/^[0-9]{12}$/.test(account as string)) problems.push(`has no 12-digit account (${ARN_SHAPE})`);
  const named = identifierOf(identifier as string);
  if ("problems" in named) problems.push(...named.problems.map((p) => `its identifier ${p}`));
  if (problems.length || "problems" in named) return { problems };
  return { ...named, arn: { region: region as string, account: account as string } };
}

/** The ARN of a snapshot in an account and Region, as DescribeDBSnapshots gives it (DBSnapshotArn). */
export function snapshotArn(region: string, account: string, identifier: string): string {
  return `arn:aws:rds:${region}:${account}:snapshot:${identifier}`;
}
