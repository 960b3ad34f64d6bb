/**
 * PostgreSQL under Pulumi's mocks: the primary each shipped stack declares with the exact inputs
 * docs/design.md ("Topology") and docs/budget.md ask for, a single-AZ primary refused in
 * production, a read replica, the app's own role beside the RDS master, and who may read the
 * master's password.
 */
import { PostgresDatabase } from "./postgresDatabase";
import { parseStackConfig } from "../config";
import { fakeSecret } from "../testing/fakeCloud";
import { runUnderMocks } from "../testing/mocks";
import { STACKS, all, find, nameOf, runStack, stackConfig } from "../../test/helpers";

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
