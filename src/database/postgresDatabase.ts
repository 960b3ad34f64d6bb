import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { fitLogicalName } from "../aws/naming";
import { scopedName } from "../aws/naming/scope";
import { DEFAULTS } from "../vocabulary/defaults";
import { type DatabaseRoleSetup, adminPasswordParameterName, checkDatabaseRole } from "./databaseRole";
import type { PostgresDatabaseArgs, PostgresInstanceSize } from "./postgresDatabaseArgs";
import {
  REFUSED_SNAPSHOT,
  type RestoreTarget,
  type SnapshotQuery,
  snapshotProblems,
  snapshotQuery,
} from "./restoreFrom";
import { defaultMaxStorageGiB, postgresFamily, rdsParameters } from "./postgres";
import { providedType, withFormerType } from "../aws/typeToken";
import { type DatabaseDump, databaseDump } from "./databaseDump";

export type { DatabaseBudgetArgs, PostgresDatabaseArgs, PostgresInstanceSize } from "./postgresDatabaseArgs";

/**
 * RDS PostgreSQL for Mastodon: gp3 with storage autoscaling, encrypted, private, TLS forced, the
 * sizing core's max_connections and work_mem in its own parameter group, two generated passwords
 * kept as SSM SecureStrings (never an output in clear): the RDS master's and the app role's, and an
 * optional read replica. Mastodon connects as its own role (`username`), never as the master, an
 * rds_superuser that could take the connections the budget keeps for administrators; the scheduler's
 * host makes that role from `roleSetup` at its first boot (src/database/database.ts, databaseRole.ts).
 * With `restoreFrom`, the primary starts from an RDS snapshot when it is created (restoreFrom.ts),
 * or empty with a pg_dump archive beside it for the scheduler's host to restore (databaseDump.ts).
 */
export class PostgresDatabase extends pulumi.ComponentResource {
  /** The primary RDS instance. */
  public readonly instance: aws.rds.Instance;
  /** The read replica, when one was asked for. */
  public readonly replica?: aws.rds.Instance;
  /** The parameter group with the sizing core's max_connections and work_mem. */
  public readonly parameterGroup: aws.rds.ParameterGroup;
  /** The primary's host name (DB_HOST). */
  public readonly address: pulumi.Output<string>;
  /** The primary's port (DB_PORT). */
  public readonly port: pulumi.Output<number>;
  /** The replica's host name (REPLICA_DB_HOST), when there is a replica. */
  public readonly replicaAddress?: pulumi.Output<string>;
  /** The database Mastodon uses (DB_NAME). */
  public readonly databaseName: string;
  /** The app's role (DB_USER). */
  public readonly username: string;
  /** The app role's password (DB_PASS): a Pulumi secret. */
  public readonly password: pulumi.Output<string>;
  /** The SSM SecureString parameter the hosts read the app role's password from at boot. */
  public readonly passwordParameter: aws.ssm.Parameter;
  /** That parameter's name, <parameterPrefix>/db-password. */
  public readonly passwordParameterName: string;
  /** The RDS master user. */
  public readonly masterUsername: string;
  /** The master's password: a Pulumi secret, read on the host only by the database's preparation. */
  public readonly adminPassword: pulumi.Output<string>;
  /** The SSM SecureString parameter holding the master's password, beside the stack's path: only the scheduler's fleet may read it. */
  public readonly adminPasswordParameter: aws.ssm.Parameter;
  /** That parameter's name, <parameterPrefix>-admin/db-admin-password. */
  public readonly adminPasswordParameterName: string;
  /** What the scheduler's host needs to make the role (src/database/database.ts); present when the budget was given. */
  public readonly roleSetup?: DatabaseRoleSetup;
  /** restoreFrom.dump: the uploaded archive, its size and the scheduler's read policy. */
  public readonly dump?: DatabaseDump;

  constructor(name: string, args: PostgresDatabaseArgs, opts?: pulumi.ComponentResourceOptions) {
    super(
      providedType("PostgresDatabase"),
      name,
      {},
      withFormerType("mastodon:database:PostgresDatabase", opts),
    );
    const parent = { parent: this };
    const engineVersion = args.engineVersion ?? DEFAULTS.database.engineVersion;
    const production = args.production ?? false;
    const storageGiB = args.storageGiB ?? DEFAULTS.database.storageGiB;
    this.databaseName = args.databaseName ?? DEFAULTS.mastodon.databaseName;
    this.username = args.username ?? DEFAULTS.mastodon.username;
    this.masterUsername = args.masterUsername ?? DEFAULTS.mastodon.masterUsername;
    if (this.masterUsername === this.username)
      throw new Error(`${name}: the app role and the RDS master user must differ (both ${this.username})`);
    // A snapshot name RDS would not take is refused here, before anything is declared.
    const restore =
      args.restoreFrom && args.restoreFrom.dump === undefined && snapshotQuery(args.restoreFrom, args.scope);
    if (args.restoreFrom?.dump !== undefined)
      this.dump = databaseDump(`${name}-dump`, args.restoreFrom.dump, this);

    // Alphanumeric: valid for RDS (no / " @ or space), and safe unquoted in .env.production, PgBouncer's
    // userlist, a pgpass line and a psql literal. The app role's resources keep the logical names they
    // had when the app connected as the master: the parameter hosts read (db-password) and its value
    // stay what they were.
    const password = new random.RandomPassword(
      `${name}-master-password`,
      { length: 40, special: false },
      parent,
    );
    this.password = pulumi.secret(password.result);
    this.passwordParameterName = `${args.parameterPrefix}/db-password`;
    this.passwordParameter = new aws.ssm.Parameter(
      `${name}-master-password`,
      {
        name: this.passwordParameterName,
        type: "SecureString",
        value: this.password,
        description: `Mastodon's PostgreSQL role ${this.username} (DB_PASS)`,
      },
      parent,
    );
    const adminPassword = new random.RandomPassword(
      `${name}-admin-password`,
      { length: 40, special: false },
      parent,
    );
    this.adminPassword = pulumi.secret(adminPassword.result);
    this.adminPasswordParameterName = adminPasswordParameterName(args.parameterPrefix);
    this.adminPasswordParameter = new aws.ssm.Parameter(
      `${name}-admin-password`,
      {
        name: this.adminPasswordParameterName,
        type: "SecureString",
        value: this.adminPassword,
        description: `RDS master user ${this.masterUsername} (the database's preparation on the scheduler's host; never the app)`,
      },
      parent,
    );
    if (args.budget) {
      this.roleSetup = {
        masterUser: this.masterUsername,
        appUser: this.username,
        databaseName: this.databaseName,
        connectionLimit: args.budget.roleConnectionLimit,
        adminPasswordParameter: this.adminPasswordParameterName,
        appPasswordParameter: this.passwordParameterName,
      };
      checkDatabaseRole(this.roleSetup);
    }

    const subnetGroup = new aws.rds.SubnetGroup(
      `${name}-subnets`,
      { subnetIds: args.subnetIds, description: `${name}: data subnets` },
      parent,
    );
    const parameterGroup = (suffix: string, size: PostgresInstanceSize) =>
      new aws.rds.ParameterGroup(
        `${name}-${suffix}`,
        {
          family: postgresFamily(engineVersion),
          description: `${name}: max_connections ${size.maxConnections}, work_mem ${size.workMemMiB} MiB (mastodon-aws sizing core)`,
          parameters: rdsParameters(size.maxConnections, size.workMemMiB),
        },
        parent,
      );
    this.parameterGroup = parameterGroup("params", args);
    const snapshot = restore && restoredSnapshot(restore, { engineVersion, storageGiB }, this);

    // RDS identifiers hold 63 characters, the provider's random suffix included.
    this.instance = new aws.rds.Instance(
      fitLogicalName("aws:rds/instance:Instance", name, "primary"),
      {
        engine: "postgres",
        engineVersion,
        instanceClass: args.instanceClass,
        dbName: this.databaseName,
        // A new master username replaces the instance (RDS cannot rename it).
        username: this.masterUsername,
        password: this.adminPassword,
        port: 5432,
        parameterGroupName: this.parameterGroup.name,
        dbSubnetGroupName: subnetGroup.name,
        vpcSecurityGroupIds: [args.securityGroupId],
        publiclyAccessible: false,
        multiAz: args.multiAz ?? false,
        storageType: "gp3",
        allocatedStorage: storageGiB,
        maxAllocatedStorage: args.maxStorageGiB ?? defaultMaxStorageGiB(storageGiB),
        storageEncrypted: true,
        caCertIdentifier: "rds-ca-rsa2048-g1",
        backupRetentionPeriod: production ? 14 : 7,
        copyTagsToSnapshot: true,
        deletionProtection: production,
        skipFinalSnapshot: !production,
        // Snapshot identifiers are unique per account and Region (RDS API DeleteDBInstance,
        // FinalDBSnapshotIdentifier): project and stack keep two deployments apart.
        ...(production && {
          finalSnapshotIdentifier: scopedName(
            args.scope,
            "aws:rds/instance:Instance",
            name,
            ["final"],
            "finalSnapshotIdentifier",
          ),
        }),
        performanceInsightsEnabled: true,
        performanceInsightsRetentionPeriod: 7,
        enabledCloudwatchLogsExports: ["postgresql"],
        autoMinorVersionUpgrade: true,
        // Major upgrades are a runbook step, never a side effect of `pulumi up`.
        allowMajorVersionUpgrade: false,
        ...(args.tags && { tags: args.tags }),
        // Restored when created (RestoreDBInstanceFromDBSnapshot): what it keeps from the snapshot and
        // what the provider sets after it, src/database/restoreFrom.ts.
        ...(snapshot && { snapshotIdentifier: snapshot }),
      },
      {
        parent: this,
        // The provider replaces the instance when snapshotIdentifier changes: a snapshot counts only
        // when the instance is created. So another stack's newer snapshot at the next `pulumi up`, a
        // restoreFrom changed, removed, or added to a live stack never replaces its database.
        ignoreChanges: ["snapshotIdentifier"],
        ...(production ? { protect: true } : {}),
      },
    );

    if (args.replica) {
      const replicaParameters = parameterGroup("replica-params", args.replica);
      this.replica = new aws.rds.Instance(
        fitLogicalName("aws:rds/instance:Instance", name, "replica"),
        {
          replicateSourceDb: this.instance.identifier,
          instanceClass: args.replica.instanceClass,
          parameterGroupName: replicaParameters.name,
          vpcSecurityGroupIds: [args.securityGroupId],
          publiclyAccessible: false,
          storageType: "gp3",
          storageEncrypted: true,
          caCertIdentifier: "rds-ca-rsa2048-g1",
          performanceInsightsEnabled: true,
          performanceInsightsRetentionPeriod: 7,
          enabledCloudwatchLogsExports: ["postgresql"],
          skipFinalSnapshot: true,
          autoMinorVersionUpgrade: true,
          ...(args.tags && { tags: args.tags }),
        },
        parent,
      );
      this.replicaAddress = this.replica.address;
    }

    this.address = this.instance.address;
    this.port = this.instance.port;
    this.registerOutputs({
      address: this.address,
      port: this.port,
      replicaAddress: this.replicaAddress,
      passwordParameterName: this.passwordParameter.name,
      adminPasswordParameterName: this.adminPasswordParameter.name,
    });
  }
}

/**
 * The snapshot restoreFrom names as AWS describes it (aws.rds.getSnapshot: DescribeDBSnapshots),
 * checked against the instance it must become; resolves to what the restore names. Each problem is
 * an error diagnostic, which fails the preview (and the offline plan) with the key to fix before RDS
 * is asked; a refused snapshot, or none, leaves the restore naming one RDS refuses.
 */
function restoredSnapshot(
  query: SnapshotQuery,
  target: RestoreTarget,
  parent: pulumi.Resource,
): pulumi.Output<string> {
  const refuse = (problem: string) =>
    void pulumi.log.error(`${query.key}: ${JSON.stringify(query.value)} ${problem}`, parent);
  const described = aws.rds.getSnapshot(query.args, { parent }).then(
    (snapshot) => {
      const problems = snapshotProblems(snapshot, target);
      problems.forEach(refuse);
      return problems.length ? REFUSED_SNAPSHOT : (query.restoreIdentifier ?? snapshot.id);
    },
    (e: Error) => {
      refuse(`names no snapshot AWS finds (${e.message}). ${query.notFound}`);
      return REFUSED_SNAPSHOT;
    },
  );
  return pulumi.output(described);
}
