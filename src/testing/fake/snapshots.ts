/**
 * The fake account's RDS DB snapshots, and aws.rds.getSnapshot over them as the provider answers it
 * (terraform-provider-aws internal/service/rds/snapshot_data_source.go): DescribeDBSnapshots with the
 * query's identifier, instance, type and include-shared flag, the tags matched by the provider (every
 * tag asked for, with its value), then one result, the newest by SnapshotCreateTime with mostRecent
 * (a snapshot still being made has none and sorts first), or the provider's own error. The account
 * holds only what the run is given (FakeCloudOptions.dbSnapshots): none by default, as a fresh one.
 */
import { snapshotArn } from "../../aws/naming/rdsSnapshots";
import { FAKE_ACCOUNT, type State, hex, uuid } from "./shapes";

/** A DB snapshot the fake account holds (or is shared with, when another account's). */
export interface FakeDbSnapshot {
  /** DBSnapshotIdentifier: a manual snapshot's name, or rds:<instance>-<yyyy-mm-dd-hh-mm> for an automated one. */
  readonly identifier: string;
  /** The DB instance it was taken of (DBInstanceIdentifier). */
  readonly instance: string;
  /** SnapshotCreateTime, ISO 8601. */
  readonly created: string;
  /** e.g. 17.4 */
  readonly engineVersion: string;
  /** GiB */
  readonly allocatedStorage: number;
  /** @default "postgres" */
  readonly engine?: string;
  /** @default true */
  readonly encrypted?: boolean;
  /** @default "available"; "creating" has no SnapshotCreateTime yet */
  readonly status?: string;
  /** @default {} */
  readonly tags?: Readonly<Record<string, string>>;
  /** Its owner; another account's is a manual snapshot shared with this one. @default the fake account */
  readonly account?: string;
  /** @default the Region the run deploys to */
  readonly region?: string;
}

/** The provider's words when DescribeDBSnapshots leaves nothing (snapshot_data_source.go). */
export const DB_SNAPSHOT_NO_RESULTS =
  "Your query returned no results. Please change your search criteria and try again.";
/** The provider's words for several results without mostRecent (snapshot_data_source.go). */
export const DB_SNAPSHOT_MANY_RESULTS =
  "Your query returned more than one result. Please try a more specific search criteria.";

const text = (v: unknown): string | undefined => (typeof v === "string" && v !== "" ? v : undefined);

/** DescribeDBSnapshots' SnapshotType of a snapshot as this account sees it. */
function typeOf(s: FakeDbSnapshot): "automated" | "manual" | "shared" {
  if ((s.account ?? FAKE_ACCOUNT) !== FAKE_ACCOUNT) return "shared";
  return s.identifier.startsWith("rds:") ? "automated" : "manual";
}

/** Whether DescribeDBSnapshots lists `s` for the query (DescribeDBSnapshots request parameters). */
function listed(s: FakeDbSnapshot, inputs: State, region: string): boolean {
  const named = text(inputs["dbSnapshotIdentifier"]);
  const instance = text(inputs["dbInstanceIdentifier"]);
  const asked = text(inputs["snapshotType"]);
  const type = typeOf(s);
  // Without a type: automated and manual, shared ones too with IncludeShared.
  const visible = asked ? type === asked : type !== "shared" || inputs["includeShared"] === true;
  if ((s.region ?? region) !== region || !visible) return false;
  if (named) {
    const own = snapshotArn(region, s.account ?? FAKE_ACCOUNT, s.identifier);
    // Identifiers are stored lower-case; another account's snapshot is found by its ARN only; an
    // automated one only with SnapshotType automated ("the SnapshotType parameter must also be specified").
    const byName = type !== "shared" && named.toLowerCase() === s.identifier;
    const byArn =
      named.replace(/:snapshot:(.*)$/, (_, id: string) => `:snapshot:${id.toLowerCase()}`) === own;
    if (!byName && !byArn) return false;
    if (type === "automated" && asked !== "automated") return false;
  }
  if (instance && instance.toLowerCase() !== s.instance) return false;
  const tags = (inputs["tags"] ?? {}) as Record<string, string>;
  return Object.entries(tags).every(([k, v]) => s.tags?.[k] === v);
}

/** rds.getSnapshot (aws:rds/getSnapshot:getSnapshot) over the account's snapshots in `region`. */
export function getSnapshotAnswer(inputs: State, region: string, holdings: readonly FakeDbSnapshot[]): State {
  if (text(inputs["dbSnapshotIdentifier"]) && text(inputs["dbInstanceIdentifier"]))
    // DescribeDBSnapshots: DBInstanceIdentifier "can't be used in conjunction with DBSnapshotIdentifier".
    throw new Error(
      "reading RDS DB Snapshots: InvalidParameterCombination: DBInstanceIdentifier and DBSnapshotIdentifier cannot be used together",
    );
  const found = holdings.filter((s) => listed(s, inputs, region));
  if (found.length === 0) throw new Error(DB_SNAPSHOT_NO_RESULTS);
  if (found.length > 1 && inputs["mostRecent"] !== true) throw new Error(DB_SNAPSHOT_MANY_RESULTS);
  const time = (s: FakeDbSnapshot) => ((s.status ?? "available") === "creating" ? "" : s.created);
  const s = [...found].sort((a, b) => time(a).localeCompare(time(b)))[found.length - 1] as FakeDbSnapshot;
  const account = s.account ?? FAKE_ACCOUNT;
  const encrypted = s.encrypted ?? true;
  const major = s.engineVersion.split(".")[0] ?? "";
  return {
    ...inputs,
    id: s.identifier,
    dbSnapshotIdentifier: s.identifier,
    dbSnapshotArn: snapshotArn(region, account, s.identifier),
    dbInstanceIdentifier: s.instance,
    snapshotType: typeOf(s),
    engine: s.engine ?? "postgres",
    engineVersion: s.engineVersion,
    allocatedStorage: s.allocatedStorage,
    encrypted,
    kmsKeyId: encrypted ? `arn:aws:kms:${region}:${account}:key/${uuid(`${account}:rds`)}` : "",
    status: s.status ?? "available",
    ...(time(s) && { snapshotCreateTime: s.created, originalSnapshotCreateTime: s.created }),
    availabilityZone: `${region}a`,
    port: 5432,
    iops: 3000,
    storageType: "gp3",
    licenseModel: "postgresql-license",
    optionGroupName: `default:${s.engine ?? "postgres"}-${major}`,
    sourceDbSnapshotIdentifier: "",
    sourceRegion: "",
    vpcId: `vpc-${hex(`${account}:${s.instance}`, 17)}`,
    tags: { ...s.tags },
    region,
  };
}
