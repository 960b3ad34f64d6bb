/**
 * PostgreSQL under Pulumi's mocks: the primary each shipped stack declares with the exact inputs
 * docs/design.md ("Topology") and docs/budget.md ask for, a single-AZ primary refused in
 * production, a read replica, the app's own role beside the RDS master, and who may read the
 * master's password.
 */
import * as pulumi from "@pulumi/pulumi";
import { PostgresDatabase, type PostgresDatabaseArgs } from "./postgresDatabase";
import { parseStackConfig } from "../config";
import { fakeSecret } from "../testing/fakeCloud";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import { STACKS, all, find, nameOf, resolve, runStack, stackConfig, stateOf } from "../../test/helpers";

const RDS = "aws:rds/instance:Instance";
const RDS_PARAMS = "aws:rds/parameterGroup:ParameterGroup";
const SSM = "aws:ssm/parameter:Parameter";

describe.each(STACKS)("stack %s", (stack) => {
  const { config, budget } = parseStackConfig(stackConfig(stack), stack);
  const production = config.environment === "production";
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("PostgreSQL: private, encrypted, gp3 with autoscaling, backups, TLS and the computed parameters", () => {
    const db = find(run, RDS, "mastodon-db-primary").inputs;
    expect(db).toMatchObject({
      engine: "postgres",
      engineVersion: config.database.engineVersion,
      instanceClass: config.database.primary.instanceClass,
      multiAz: config.database.multiAz,
      publiclyAccessible: false,
      storageEncrypted: true,
      storageType: "gp3",
      allocatedStorage: config.database.storageGiB,
      maxAllocatedStorage: config.database.maxStorageGiB,
      backupRetentionPeriod: production ? 14 : 7,
      deletionProtection: production,
      skipFinalSnapshot: !production,
      performanceInsightsEnabled: true,
      // The master is the administrators' (src/database/databaseRole.ts); Mastodon connects as its own role.
      username: "mastodon_admin",
      password: "[secret]",
    });
    // Project and stack (Pulumi.yaml's mastodon-aws): another project's `production` keeps its own.
    expect(db["finalSnapshotIdentifier"]).toBe(
      production ? `mastodon-aws-${stack}-mastodon-db-final` : undefined,
    );
    const params = find(run, RDS_PARAMS, "mastodon-db-params").inputs;
    expect(params["family"]).toBe(`postgres${config.database.engineVersion}`);
    expect(params["parameters"]).toEqual(
      expect.arrayContaining([
        { name: "max_connections", value: String(budget.maxConnections), applyMethod: "pending-reboot" },
        { name: "work_mem", value: String(budget.workMemMiB * 1024), applyMethod: "immediate" },
        { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
        { name: "log_min_duration_statement", value: "1000", applyMethod: "immediate" },
        { name: "idle_in_transaction_session_timeout", value: "600000", applyMethod: "immediate" },
      ]),
    );
  });
});

test("production refuses a single-AZ database unless accepted; small accepts it explicitly", () => {
  expect(parseStackConfig(stackConfig("small")).config.database.multiAz).toBe(false);
  const withoutAcceptance = {
    ...stackConfig("small"),
    database: { instanceClass: "db.t4g.small", multiAz: false },
  };
  expect(() => parseStackConfig(withoutAcceptance)).toThrow(
    "mastodon:database.multiAz: false is refused in production",
  );
});

describe("a read replica", () => {
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    const database = {
      ...(stackConfig("staging")["database"] as object),
      replica: { instanceClass: "db.t4g.medium" },
    };
    run = await runStack("staging", { database });
  });
  test("replicates the primary with its own parameter group", () => {
    expect(find(run, RDS, "mastodon-db-replica").inputs).toMatchObject({
      replicateSourceDb: nameOf(run, RDS, "mastodon-db-primary", "identifier"),
      instanceClass: "db.t4g.medium",
      publiclyAccessible: false,
      storageEncrypted: true,
    });
    expect(find(run, RDS_PARAMS, "mastodon-db-replica-params").inputs["parameters"]).toEqual(
      expect.arrayContaining([{ name: "max_connections", value: "450", applyMethod: "pending-reboot" }]),
    );
  });
  test("its budget is exported beside the primary's", () => {
    expect(run.outputs["replicaBudget"]).toMatchObject({ target: "replica", maxConnections: 450 });
  });
});

describe("the app's own database role", () => {
  const args = {
    instanceClass: "db.t4g.medium",
    maxConnections: 450,
    workMemMiB: 9,
    subnetIds: ["subnet-1"],
    securityGroupId: "sg-1",
    parameterPrefix: "/m/p",
    scope: { project: "p", stack: "s", name: "d" },
  };
  async function declare(extra: Partial<ConstructorParameters<typeof PostgresDatabase>[1]>) {
    let db: PostgresDatabase | undefined;
    const run = await runUnderMocks(
      () => {
        db = new PostgresDatabase("d", { ...args, ...extra });
        return {};
      },
      { project: "p", stack: "s", config: { "aws:region": "us-east-1" } },
    );
    return { run, db: db! };
  }

  test("two passwords, two parameters: the master's and the app role's; the setup input from the budget", async () => {
    const { run, db } = await declare({ budget: { roleConnectionLimit: 321 } });
    expect([db.masterUsername, db.username]).toEqual(["mastodon_admin", "mastodon"]);
    expect([db.adminPasswordParameterName, db.passwordParameterName]).toEqual([
      "/m/p-admin/db-admin-password",
      "/m/p/db-password",
    ]);
    expect(find(run, SSM, "d-admin-password").inputs).toMatchObject({
      name: "/m/p-admin/db-admin-password",
      value: "[secret]",
    });
    expect(find(run, SSM, "d-master-password").inputs).toMatchObject({
      name: "/m/p/db-password",
      value: "[secret]",
    });
    expect(find(run, RDS, "d-primary").inputs).toMatchObject({ username: "mastodon_admin" });
    expect(db.roleSetup).toEqual({
      masterUser: "mastodon_admin",
      appUser: "mastodon",
      databaseName: "mastodon_production",
      connectionLimit: 321,
      adminPasswordParameter: "/m/p-admin/db-admin-password",
      appPasswordParameter: "/m/p/db-password",
    });
    expect(fakeSecret("d-admin-password", 40)).not.toBe(fakeSecret("d-master-password", 40));
  });

  test("no budget, no setup input; an app role that is the master is refused", async () => {
    expect((await declare({})).db.roleSetup).toBeUndefined();
    await expect(declare({ masterUsername: "mastodon" })).rejects.toThrow(
      "the app role and the RDS master user must differ",
    );
  });
});

describe.each(STACKS)("stack %s: who may read the RDS master password", (stack) => {
  test("only the scheduler's fleet: its parameter lies outside the path every fleet reads", async () => {
    const run = await runStack(stack);
    const { config } = parseStackConfig(stackConfig(stack));
    const admin = find(run, SSM, "mastodon-db-admin-password");
    const adminArn = admin.arn!;
    const policies = all(run, "aws:iam/rolePolicy:RolePolicy");
    const readsAdmin = (fleet: string) =>
      policies
        .filter((p) => p.name.startsWith(`mastodon-${fleet}-`))
        .flatMap(
          (p) => JSON.parse(String(p.inputs["policy"])).Statement as { Action: unknown; Resource: unknown }[],
        )
        .filter((s) => JSON.stringify(s.Action).includes("ssm:Get"))
        .some((s) =>
          [s.Resource]
            .flat()
            .some(
              (r) =>
                r === adminArn || (String(r).endsWith("/*") && adminArn.startsWith(String(r).slice(0, -1))),
            ),
        );
    for (const fleet of config.fleets)
      expect([fleet.name, readsAdmin(fleet.name)]).toEqual([fleet.name, fleet.servesScheduler]);
  });
});

describe("PostgresDatabase on its own", () => {
  const SUBNET_GROUP = "aws:rds/subnetGroup:SubnetGroup";
  const PASSWORD = "random:index/randomPassword:RandomPassword";
  const OPTS = { project: "p", stack: "s", config: { "aws:region": "us-east-1" } };
  /** GIVEN: the fewest inputs it needs, as plain ids and strings. */
  const ARGS: PostgresDatabaseArgs = {
    instanceClass: "db.t4g.medium",
    maxConnections: 450,
    workMemMiB: 9,
    subnetIds: ["subnet-0aaa", "subnet-0bbb"],
    securityGroupId: "sg-0db",
    parameterPrefix: "/m/p/s/m",
    scope: { project: "p", stack: "s", name: "m" },
  };
  const REPLICA = { instanceClass: "db.t4g.small", maxConnections: 225, workMemMiB: 4 };

  /** What each registration asked of the engine beyond its inputs, by logical name (the recorder keeps inputs only). */
  function engineOptions(): Map<string, { protect: boolean; retainOnDelete: boolean }> {
    const seen = new Map<string, { protect: boolean; retainOnDelete: boolean }>();
    type Request = { getName(): string; getProtect(): boolean; getRetainondelete(): boolean };
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResource(req: Request, cb: unknown): unknown;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      seen.set(req.getName(), { protect: req.getProtect(), retainOnDelete: req.getRetainondelete() });
      return register(req, cb);
    };
    return seen;
  }

  /** WHEN: a program that builds one PostgresDatabase, and nothing else, runs under mocks. */
  async function declare(extra: Partial<PostgresDatabaseArgs> = {}, name = "m-db") {
    let db: PostgresDatabase | undefined;
    let options = new Map<string, { protect: boolean; retainOnDelete: boolean }>();
    const run = await runUnderMocks(() => {
      options = engineOptions();
      db = new PostgresDatabase(name, { ...ARGS, ...extra });
      return { password: db.password, adminPassword: db.adminPassword, address: db.address };
    }, OPTS);
    return { run, db: db!, options };
  }

  /** After a refused run: lets what it registered before the refusal reach its mock monitor. */
  async function refusal(extra: Partial<PostgresDatabaseArgs>): Promise<Error> {
    try {
      await declare(extra);
    } catch (e) {
      await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> })
        .waitForRPCs()
        .catch(() => undefined);
      return e as Error;
    }
    throw new Error("expected the component to refuse its args");
  }

  const primary = (run: MockRun, name = "m-db") => find(run, RDS, `${name}-primary`).inputs;

  test("GIVEN the fewest args WHEN it runs THEN one private, encrypted PostgreSQL 17 primary on gp3 with autoscaling, in the given subnets behind the given group only, its master the administrators' user", async () => {
    const { run, db, options } = await declare();
    expect(find(run, "mastodon:index:PostgresDatabase").name).toBe("m-db");
    expect(find(run, SUBNET_GROUP, "m-db-subnets").inputs["subnetIds"]).toEqual([
      "subnet-0aaa",
      "subnet-0bbb",
    ]);
    expect(primary(run)).toMatchObject({
      engine: "postgres",
      engineVersion: "17",
      instanceClass: "db.t4g.medium",
      dbName: "mastodon_production",
      username: "mastodon_admin",
      password: "[secret]",
      port: 5432,
      // In the subnet group the component made, behind the group it was given and no other.
      dbSubnetGroupName: nameOf(run, SUBNET_GROUP, "m-db-subnets"),
      vpcSecurityGroupIds: ["sg-0db"],
      publiclyAccessible: false,
      storageEncrypted: true,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      storageType: "gp3",
      allocatedStorage: 20,
      maxAllocatedStorage: 200,
      multiAz: false,
      // Outside production: a week of backups, deletable, no final snapshot.
      backupRetentionPeriod: 7,
      deletionProtection: false,
      skipFinalSnapshot: true,
      copyTagsToSnapshot: true,
      performanceInsightsEnabled: true,
      enabledCloudwatchLogsExports: ["postgresql"],
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: false,
    });
    expect(primary(run)["finalSnapshotIdentifier"]).toBeUndefined();
    expect(primary(run)["tags"]).toBeUndefined();
    expect(options.get("m-db-primary")?.protect).toBe(false);
    // No replica asked, none declared.
    expect(all(run, RDS).map((r) => r.name)).toEqual(["m-db-primary"]);
    expect(db.replica).toBeUndefined();
    expect(db.replicaAddress).toBeUndefined();
  });

  test("GIVEN max_connections 450 and work_mem 9 MiB WHEN it runs THEN the primary's own parameter group carries them (work_mem in kB), forces TLS, logs slow statements and ends idle transactions", async () => {
    const { run } = await declare();
    expect(all(run, RDS_PARAMS).map((g) => g.name)).toEqual(["m-db-params"]);
    const params = find(run, RDS_PARAMS, "m-db-params").inputs;
    expect(params["family"]).toBe("postgres17");
    expect(params["parameters"]).toEqual([
      { name: "max_connections", value: "450", applyMethod: "pending-reboot" },
      { name: "work_mem", value: "9216", applyMethod: "immediate" },
      { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
      { name: "log_min_duration_statement", value: "1000", applyMethod: "immediate" },
      { name: "idle_in_transaction_session_timeout", value: "600000", applyMethod: "immediate" },
    ]);
    expect(primary(run)["parameterGroupName"]).toBe(nameOf(run, RDS_PARAMS, "m-db-params"));
  });

  test("GIVEN a parameter prefix WHEN it runs THEN two generated 40-character alphanumeric passwords, each only in an SSM SecureString and as a Pulumi secret; the master's outside the prefix's path", async () => {
    const { run, db } = await declare();
    expect(all(run, PASSWORD).map((p) => [p.name, p.inputs])).toEqual([
      ["m-db-master-password", { length: 40, special: false }],
      ["m-db-admin-password", { length: 40, special: false }],
    ]);
    expect(find(run, SSM, "m-db-master-password").inputs).toMatchObject({
      name: "/m/p/s/m/db-password",
      type: "SecureString",
      value: "[secret]",
    });
    expect(find(run, SSM, "m-db-admin-password").inputs).toMatchObject({
      name: "/m/p/s/m-admin/db-admin-password",
      type: "SecureString",
      value: "[secret]",
    });
    // The fleets read everything under the prefix's path; the master's password is not under it.
    expect(db.adminPasswordParameterName.startsWith("/m/p/s/m/")).toBe(false);
    expect(run.outputs["password"]).toBe("[secret]");
    expect(run.outputs["adminPassword"]).toBe("[secret]");
    // The values the provider generated reach no input in clear, the instance's master password included.
    const everything = JSON.stringify(run.resources);
    for (const name of ["m-db-master-password", "m-db-admin-password"])
      expect(everything).not.toContain(fakeSecret(name, 40));
    // The app's password is in its parameter (DB_PASS), the master's is the instance's own.
    expect(await resolve(db.password)).toBe(fakeSecret("m-db-master-password", 40));
    expect(await resolve(db.adminPassword)).toBe(fakeSecret("m-db-admin-password", 40));
  });

  test("GIVEN production WHEN it runs THEN deletion protection, two weeks of backups, a final snapshot named for the project, stack and component, and the primary protected from `pulumi destroy`", async () => {
    const { run, options } = await declare({ production: true });
    expect(primary(run)).toMatchObject({
      deletionProtection: true,
      backupRetentionPeriod: 14,
      skipFinalSnapshot: false,
      finalSnapshotIdentifier: "p-s-m-db-final",
    });
    expect(options.get("m-db-primary")?.protect).toBe(true);
    // Another stack of the same project keeps its own final snapshot.
    const other = await runUnderMocks(
      () => {
        new PostgresDatabase("m-db", { ...ARGS, production: true, scope: { ...ARGS.scope, stack: "s2" } });
        return {};
      },
      { ...OPTS, stack: "s2" },
    );
    expect(primary(other)["finalSnapshotIdentifier"]).toBe("p-s2-m-db-final");
  });

  test("GIVEN PostgreSQL 16, Multi-AZ, 500 GiB and tags WHEN it runs THEN the family follows the version, the ceiling follows the storage unless given, and the tags land on the instance", async () => {
    const { run } = await declare({
      engineVersion: "16",
      multiAz: true,
      storageGiB: 500,
      tags: { team: "ops" },
    });
    expect(find(run, RDS_PARAMS, "m-db-params").inputs["family"]).toBe("postgres16");
    expect(primary(run)).toMatchObject({
      engineVersion: "16",
      multiAz: true,
      allocatedStorage: 500,
      // Without maxStorageGiB: 26% above the allocation, when that is above the 200 GiB floor.
      maxAllocatedStorage: 630,
      tags: { team: "ops" },
    });
    const { run: given } = await declare({ storageGiB: 500, maxStorageGiB: 1000 });
    expect(primary(given)["maxAllocatedStorage"]).toBe(1000);
  });

  test("GIVEN a replica WHEN it runs THEN a second private, encrypted instance that replicates the primary by its identifier, behind the same group, with its own parameter group from its own sizing", async () => {
    const { run, db } = await declare({
      replica: REPLICA,
      tags: { team: "ops" },
    });
    const replica = find(run, RDS, "m-db-replica").inputs;
    expect(replica).toMatchObject({
      replicateSourceDb: nameOf(run, RDS, "m-db-primary", "identifier"),
      instanceClass: "db.t4g.small",
      parameterGroupName: nameOf(run, RDS_PARAMS, "m-db-replica-params"),
      vpcSecurityGroupIds: ["sg-0db"],
      publiclyAccessible: false,
      storageEncrypted: true,
      caCertIdentifier: "rds-ca-rsa2048-g1",
      storageType: "gp3",
      tags: { team: "ops" },
    });
    // It takes the primary's database, users and passwords: none of its own.
    for (const key of ["dbName", "username", "password"]) expect(replica[key]).toBeUndefined();
    expect(find(run, RDS_PARAMS, "m-db-replica-params").inputs).toMatchObject({
      family: "postgres17",
      parameters: expect.arrayContaining([
        { name: "max_connections", value: "225", applyMethod: "pending-reboot" },
        { name: "work_mem", value: "4096", applyMethod: "immediate" },
        { name: "rds.force_ssl", value: "1", applyMethod: "immediate" },
      ]),
    });
    expect(await resolve(db.replicaAddress!)).toBe(stateOf(run, RDS, "m-db-replica")["address"]);
  });

  test("GIVEN the fewest args WHEN it runs THEN its outputs are the primary's endpoint and the parameters' names; the app role, the database and the master are the defaults", async () => {
    const { run, db } = await declare();
    const answered = stateOf(run, RDS, "m-db-primary");
    expect(await resolve(db.address)).toBe(answered["address"]);
    expect(run.outputs["address"]).toBe(answered["address"]);
    expect(await resolve(db.port)).toBe(5432);
    expect([db.databaseName, db.username, db.masterUsername]).toEqual([
      "mastodon_production",
      "mastodon",
      "mastodon_admin",
    ]);
    expect(await resolve(db.passwordParameter.name)).toBe(db.passwordParameterName);
    expect(await resolve(db.adminPasswordParameter.name)).toBe(db.adminPasswordParameterName);
    expect(await resolve(db.parameterGroup.name)).toBe(nameOf(run, RDS_PARAMS, "m-db-params"));
  });

  test("GIVEN a database name, users and a budget that cannot go into the role's SQL WHEN it runs THEN it refuses each", async () => {
    expect((await refusal({ username: "mastodon_admin" })).message).toContain(
      "m-db: the app role and the RDS master user must differ (both mastodon_admin)",
    );
    expect(
      (await refusal({ databaseName: "mastodon-prod", budget: { roleConnectionLimit: 100 } })).message,
    ).toBe('database role setup: the database name "mastodon-prod" is not a plain identifier');
    expect((await refusal({ username: "Mastodon", budget: { roleConnectionLimit: 100 } })).message).toBe(
      'database role setup: the app role "Mastodon" is not a plain identifier',
    );
    expect((await refusal({ budget: { roleConnectionLimit: 0 } })).message).toBe(
      "database role setup: connection limit 0 is not a positive integer",
    );
  });

  test("GIVEN other names for the database and its users WHEN it runs THEN the instance, the role setup and the parameters' descriptions use them", async () => {
    const { run, db } = await declare({
      databaseName: "social",
      username: "social_app",
      masterUsername: "social_admin",
      budget: { roleConnectionLimit: 300 },
    });
    expect(primary(run)).toMatchObject({ dbName: "social", username: "social_admin" });
    expect(db.roleSetup).toMatchObject({
      masterUser: "social_admin",
      appUser: "social_app",
      databaseName: "social",
    });
    expect(find(run, SSM, "m-db-master-password").inputs["description"]).toContain("social_app");
    expect(find(run, SSM, "m-db-admin-password").inputs["description"]).toContain("social_admin");
  });

  test("GIVEN two databases, and two whose long names differ only at the end, in one program WHEN it runs THEN every name is their own: no (type, name) repeats and the RDS identifiers fit and differ", async () => {
    const long = "a".repeat(70);
    const run = await runUnderMocks(() => {
      for (const [name, prefix] of [
        ["blue-db", "/m/blue"],
        ["green-db", "/m/green"],
        [`${long}-x`, "/m/x"],
        [`${long}-y`, "/m/y"],
      ] as const)
        new PostgresDatabase(name, { ...ARGS, parameterPrefix: prefix, replica: REPLICA });
      return {};
    }, OPTS);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    const identifiers = all(run, RDS).map((r) => String(r.inputs["identifier"]));
    expect(identifiers).toHaveLength(8);
    expect(new Set(identifiers).size).toBe(8);
    for (const id of identifiers) expect(id.length).toBeLessThanOrEqual(63);
    for (const name of ["blue-db", "green-db"])
      for (const r of run.resources.filter((x) => x.parent === name))
        expect(r.name.startsWith(`${name}-`)).toBe(true);
  });
});
