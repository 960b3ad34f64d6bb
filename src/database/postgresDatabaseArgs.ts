/**
 * What PostgresDatabase takes (src/database/postgresDatabase.ts): types only, read by Pulumi's
 * component analyzer for other languages' schema as they were when they lived beside the component.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentIdentity } from "../aws/naming/scope";
import type { PostgresVersion } from "../vocabulary/configEnums";
import type { StackRestoreFromArgs } from "./args";

export interface PostgresInstanceSize {
  /** e.g. db.r7g.2xlarge */
  instanceClass: string;
  /** Computed by the sizing core (src/database/postgres.ts). */
  maxConnections: number;
  /** PostgreSQL's work_mem, MiB, in the instance's parameter group. */
  workMemMiB: number;
}

/** What the database reads of the connection budget (src/budget/budget.ts Budget). */
export interface DatabaseBudgetArgs {
  /**
   * The app role's CONNECTION LIMIT (src/budget/budget.ts Budget.roleConnectionLimit): from
   * max_connections alone, holding the fleets and the admin headroom the one-off processes use.
   */
  roleConnectionLimit: number;
}

export interface PostgresDatabaseArgs extends PostgresInstanceSize {
  /** Isolated data subnets, one per AZ. */
  subnetIds: pulumi.Input<pulumi.Input<string>[]>;
  /** The database role's security group (5432 from the fleets). */
  securityGroupId: pulumi.Input<string>;
  /** Where the two passwords are stored, e.g. /mastodon/mastodon-aws/production/mastodon. */
  parameterPrefix: string;
  /** The deployment (Pulumi project and stack, MastodonStack name): the final snapshot is named from it. */
  scope: DeploymentIdentity;
  /** PostgreSQL major version (parameter group family postgres16 / postgres17) (@default "17"). */
  engineVersion?: PostgresVersion;
  /** A standby in a second zone, failed over to by RDS (@default false). */
  multiAz?: boolean;
  /** Allocated gp3 storage, GiB; storage autoscaling grows it (@default 20). */
  storageGiB?: number;
  /** Storage autoscaling ceiling, at least 10% above storageGiB (RDS refuses less). (@default max(200, 1.26 x storageGiB)) */
  maxStorageGiB?: number;
  /**
   * Production: deletion protection, a final snapshot, 14 days of backups. Elsewhere 7 days and no
   * final snapshot. (@default false)
   */
  production?: boolean;
  /** A read replica, sized on its own; the budget counts it against its own max_connections (@default none). */
  replica?: PostgresInstanceSize;
  /** The database Mastodon uses (DB_NAME) (@default "mastodon_production"). */
  databaseName?: string;
  /** The role Mastodon connects as (DB_USER), made by the scheduler's host at its first boot (src/database/database.ts). (@default "mastodon") */
  username?: string;
  /** The RDS master user: the database's preparation and administrators only. (@default "mastodon_admin") */
  masterUsername?: string;
  /**
   * The primary's connection budget (src/budget/budget.ts): the app role's CONNECTION LIMIT is its
   * roleConnectionLimit, so the role never takes RDS's reserved slots or the 10% the budget keeps
   * for the master. Without it, no `roleSetup` (@default none).
   */
  budget?: DatabaseBudgetArgs;
  /** Tags on the primary and the replica, e.g. the stack and the budget's headroom for the policy pack (@default {}). */
  tags?: { [key: string]: string };
  /**
   * The snapshot the primary is restored from when it is created (mastodon:database.restoreFrom,
   * src/database/restoreFrom.ts): one snapshot, or another stack's newest (@default none: an empty database).
   */
  restoreFrom?: StackRestoreFromArgs;
}
