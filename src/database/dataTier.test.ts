/**
 * The network, PostgreSQL and the two Redis under Pulumi's mocks: the resources each shipped stack
 * declares and the exact inputs that make them what docs/design.md ("Topology", "The two Redis") and docs/budget.md ask for.
 */
import * as pulumi from "@pulumi/pulumi";
import { MastodonStack } from "../stack/mastodonStack";
import { Network } from "../network/network";
import { PostgresDatabase } from "./postgresDatabase";
import { RedisStore } from "../redis/redisStore";
import { parseStackConfig } from "../config";
import { MASTODON_ENV_NAMES } from "../host/env";
import { FAKE_ACCESS_KEY_ID, fakeSecret } from "../testing/fakeCloud";
import { runUnderMocks } from "../testing/mocks";
import {
  STACKS,
  all,
  arnOf,
  baseConfig,
  find,
  idOf,
  nameOf,
  resolve,
  runStack,
  stackConfig,
  stateOf,
} from "../../test/helpers";

const RDS = "aws:rds/instance:Instance";
const RDS_PARAMS = "aws:rds/parameterGroup:ParameterGroup";
const REDIS = "aws:elasticache/replicationGroup:ReplicationGroup";
const REDIS_PARAMS = "aws:elasticache/parameterGroup:ParameterGroup";
const SSM = "aws:ssm/parameter:Parameter";
const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
const SG = "aws:ec2/securityGroup:SecurityGroup";

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

  test("two Redis: an evicting cache and a persistent store that never evicts", () => {
    if (config.redis.onHost) {
      // Both on the app host (src/redis/redisOnHost.test.ts): no ElastiCache at all.
      expect(all(run, REDIS)).toEqual([]);
      return;
    }
    const cache = find(run, REDIS, "mastodon-cache-group").inputs;
    const persistent = find(run, REDIS, "mastodon-persistent-group").inputs;
    for (const group of [cache, persistent]) {
      expect(group).toMatchObject({
        atRestEncryptionEnabled: true,
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        authToken: "[secret]",
      });
    }
    expect(cache).toMatchObject({ numCacheClusters: config.redis.cache.nodes, snapshotRetentionLimit: 0 });
    const nodes = config.redis.persistent.nodes;
    expect(persistent).toMatchObject({
      numCacheClusters: nodes,
      automaticFailoverEnabled: nodes >= 2,
      multiAzEnabled: nodes >= 2,
      snapshotRetentionLimit: production ? 7 : 1,
      finalSnapshotIdentifier: `mastodon-aws-${stack}-mastodon-persistent-final`,
    });
    if (production) expect(nodes).toBeGreaterThanOrEqual(2);
    expect(find(run, REDIS_PARAMS, "mastodon-cache-params").inputs["parameters"]).toEqual([
      { name: "maxmemory-policy", value: "allkeys-lru" },
    ]);
    expect(find(run, REDIS_PARAMS, "mastodon-persistent-params").inputs["parameters"]).toEqual([
      { name: "maxmemory-policy", value: "noeviction" },
    ]);
    expect(find(run, REDIS_PARAMS, "mastodon-persistent-params").inputs["family"]).toBe("valkey8");
  });

  test("secrets are SSM SecureStrings under the stack's path, and never in clear in any input", () => {
    const params = all(run, SSM);
    expect(params.map((p) => p.inputs["name"]).sort()).toEqual(
      [
        "ar-deterministic-key",
        "ar-key-derivation-salt",
        "ar-primary-key",
        "db-password",
        "redis-cache-password",
        "redis-persistent-password",
        // The search domain's master's and Mastodon's own user's.
        ...(config.search ? ["search-app-password", "search-password"] : []),
        "secret-key-base",
        "smtp-login",
        "smtp-password",
        "vapid-private-key",
      ]
        .map((slug) => `/mastodon/mastodon-aws/${stack}/mastodon/${slug}`)
        // The RDS master's, beside the stack's path: no fleet but the scheduler's reads it.
        .concat(`/mastodon/mastodon-aws/${stack}/mastodon-admin/db-admin-password`)
        .sort(),
    );
    for (const p of params) expect(p.inputs).toMatchObject({ type: "SecureString", value: "[secret]" });
    const generated = [
      fakeSecret("mastodon-db-master-password", 40),
      fakeSecret("mastodon-db-admin-password", 40),
      fakeSecret("mastodon-cache-auth", 64),
      fakeSecret("mastodon-persistent-auth", 64),
      fakeSecret("mastodon-secrets-secret-key-base", 128),
      fakeSecret("mastodon-secrets-ar-primary-key", 32),
    ];
    if (config.mail.provider === "ses") generated.push(fakeSecret("mastodon-mail-smtp-smtp", 44));
    // The search domain's master password: in its parameter and the domain's input, as "[secret]" only.
    if (config.search) generated.push(fakeSecret("mastodon-search-master-password", 32));
    if (config.search) generated.push(fakeSecret("mastodon-search-app-password", 32));
    const everything = JSON.stringify(run.resources);
    for (const secret of generated) expect(everything).not.toContain(secret);
    // The SMTP login (the access key's id) reaches the hosts through its parameter only.
    if (config.mail.provider === "ses") {
      // Its id is the key ID: recorded only as "[secret]".
      expect(find(run, "aws:iam/accessKey:AccessKey", "mastodon-mail-smtp").id).toBe("[secret]");
      expect(everything).not.toContain(FAKE_ACCESS_KEY_ID);
    }
  });

  test("network: three tiers per AZ, the chosen egress, nothing open but the ALB", () => {
    const azs = config.network.availabilityZones;
    const subnets = all(run, "aws:ec2/subnet:Subnet");
    const tiers = config.network.egress === "public-subnets" ? 2 : 3;
    expect(subnets).toHaveLength(azs * tiers);
    for (const s of subnets) expect(s.inputs["mapPublicIpOnLaunch"]).toBe(false);
    const nats = { "nat-per-az": azs, "single-nat": 1, "public-subnets": 0 }[config.network.egress];
    expect(all(run, "aws:ec2/natGateway:NatGateway")).toHaveLength(nats);

    const ingress = all(run, INGRESS);
    const open = ingress.filter((r) => r.inputs["cidrIpv4"] || r.inputs["cidrIpv6"]);
    expect(open.map((r) => [r.name, r.inputs["fromPort"]])).toEqual([
      ["mastodon-network-alb-in-80", 80],
      ["mastodon-network-alb-in-443", 443],
    ]);
    // The data tier's groups take 5432/6379 from the three fleet roles' groups only.
    const dbIn = ingress.filter((r) => r.name.startsWith("mastodon-network-database-in-"));
    expect(dbIn.map((r) => [r.inputs["fromPort"], r.inputs["referencedSecurityGroupId"]])).toEqual(
      ["web", "streaming", "sidekiq"].map((role) => [5432, idOf(run, SG, `mastodon-network-${role}`)]),
    );
    const redisIn = ingress.filter((r) => r.name.startsWith("mastodon-network-redis-in-"));
    expect(redisIn.map((r) => r.inputs["toPort"])).toEqual([6379, 6379, 6379]);
    // Data stores open no connection outward.
    const egress = all(run, EGRESS);
    const dataGroups = ["database", "redis"].map((tier) => idOf(run, SG, `mastodon-network-${tier}`));
    expect(egress.length).toBeGreaterThan(0);
    expect(
      egress.filter((r) => dataGroups.includes(String(r.inputs["securityGroupId"]))).map((r) => r.name),
    ).toEqual([]);
    // Streaming ports reach every mastodon-streaming@ process.
    const ports = config.fleets.flatMap((f) => f.streaming?.ports ?? []);
    expect(find(run, INGRESS, "mastodon-network-streaming-in-alb").inputs).toMatchObject({
      fromPort: Math.min(...ports),
      toPort: Math.max(...ports),
      referencedSecurityGroupId: idOf(run, SG, "mastodon-network-alb"),
    });
  });

  test("the data subnets have no route out", () => {
    const routes = all(run, "aws:ec2/route:Route");
    const data = idOf(run, "aws:ec2/routeTable:RouteTable", "mastodon-network-data");
    expect(routes.filter((r) => r.inputs["routeTableId"] === data)).toEqual([]);
    expect(find(run, "aws:ec2/vpcEndpoint:VpcEndpoint").inputs).toMatchObject({
      serviceName: "com.amazonaws.us-east-1.s3",
      vpcEndpointType: "Gateway",
    });
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

describe("the self-managed AOF persistent store", () => {
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    const redis = {
      ...(stackConfig("production")["redis"] as object),
      persistent: { mode: "self-managed-aof", instanceType: "c7g.large", volumeGiB: 50 },
    };
    run = await runStack("production", { redis });
  });
  test("an IMDSv2-only c-family instance with encrypted disks and no key pair", () => {
    const host = find(run, "aws:ec2/instance:Instance", "mastodon-persistent-host").inputs;
    expect(host).toMatchObject({
      instanceType: "c7g.large",
      metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
      rootBlockDevice: { encrypted: true, volumeType: "gp3" },
      associatePublicIpAddress: false,
      subnetId: idOf(run, "aws:ec2/subnet:Subnet", "mastodon-network-app-a"),
    });
    expect(host["keyName"]).toBeUndefined();
    expect(find(run, "aws:ebs/volume:Volume").inputs).toMatchObject({
      size: 50,
      type: "gp3",
      encrypted: true,
      availabilityZone: "us-east-1a",
    });
    expect(all(run, REDIS).map((r) => r.name)).toEqual(["mastodon-cache-group"]);
  });
  test("its user-data carries the AOF config and reads the password from SSM, not the password itself", () => {
    const userData = String(find(run, "aws:ec2/instance:Instance").inputs["userData"]);
    expect(userData.startsWith("#cloud-config\n")).toBe(true);
    expect(userData).toContain("appendonly yes");
    expect(userData).toContain("appendfsync everysec");
    expect(userData).toContain("maxmemory-policy noeviction");
    // The setup script (src/redis/files/redis-host-setup.sh) reads the password by this name at boot.
    expect(userData).toContain(
      "    - --password-parameter\n    - /mastodon/mastodon-aws/production/mastodon/redis-persistent-password\n",
    );
    expect(userData).not.toContain(fakeSecret("mastodon-persistent-auth", 64));
  });
  test("the host may read only its own password parameter", () => {
    const policy = JSON.parse(
      String(
        find(run, "aws:iam/rolePolicy:RolePolicy", "mastodon-persistent-host-password").inputs["policy"],
      ),
    );
    expect(policy.Statement).toEqual([
      {
        Sid: "ReadParameter",
        Effect: "Allow",
        Action: "ssm:GetParameter",
        Resource: arnOf(run, SSM, "mastodon-persistent-auth"),
      },
      {
        // KMS authorizes on key ARNs, never alias ARNs: the aws/ssm key is matched by its alias.
        Sid: "DecryptThroughSsm",
        Effect: "Allow",
        Action: "kms:Decrypt",
        Resource: "arn:aws:kms:us-east-1:123456789012:key/*",
        Condition: {
          StringEquals: { "kms:ViaService": "ssm.us-east-1.amazonaws.com" },
          "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/aws/ssm" },
        },
      },
    ]);
  });
  test("daily snapshots of the data volume, kept 7 days in production", () => {
    const dlm = find(run, "aws:dlm/lifecyclePolicy:LifecyclePolicy").inputs as any;
    // DLM selects by tag across the account and Region: the value names this deployment's volume only.
    const target = { "mastodon:redis-snapshots": "mastodon-aws/production/mastodon-persistent" };
    expect(dlm.policyDetails.targetTags).toEqual(target);
    expect(find(run, "aws:ebs/volume:Volume").inputs["tags"]).toMatchObject(target);
    expect(dlm.policyDetails.schedules[0]).toMatchObject({
      createRule: { interval: 24, intervalUnit: "HOURS" },
      retainRule: { count: 7 },
    });
  });
});

test("every data-tier component twice in one stack: no duplicate (type, name)", async () => {
  const run = await runUnderMocks(
    () => {
      for (const n of ["blue", "green"]) {
        const net = new Network(`${n}-net`, { availabilityZones: 2, egress: "single-nat", ipv6: true });
        new PostgresDatabase(`${n}-db`, {
          instanceClass: "db.t4g.medium",
          maxConnections: 450,
          workMemMiB: 9,
          subnetIds: net.dataSubnetIds,
          securityGroupId: net.securityGroups.database.id,
          parameterPrefix: `/m/${n}`,
          scope: { project: "p", stack: "s", name: n },
          replica: { instanceClass: "db.t4g.small", maxConnections: 225, workMemMiB: 9 },
        });
        for (const role of ["cache", "persistent"] as const) {
          new RedisStore(`${n}-${role}`, {
            role,
            subnetIds: net.dataSubnetIds,
            securityGroupId: net.securityGroups.redis.id,
            parameterPrefix: `/m/${n}`,
            scope: { project: "p", stack: "s", name: n },
          });
        }
        new RedisStore(`${n}-aof`, {
          role: "persistent",
          mode: "self-managed-aof",
          subnetIds: net.dataSubnetIds,
          securityGroupId: net.securityGroups.redis.id,
          parameterPrefix: `/m/${n}-aof`,
          scope: { project: "p", stack: "s", name: n },
          host: { vpcId: net.vpcId, subnetId: net.fleetSubnetIds[0]!, availabilityZone: "us-east-1a" },
        });
      }
      return {};
    },
    { project: "p", stack: "s", config: { "aws:region": "us-east-1" } },
  );
  const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
  expect(pairs.length).toBeGreaterThan(150);
  expect(new Set(pairs).size).toBe(pairs.length);
  const ssmNames = all(run, SSM).map((p) => p.inputs["name"]);
  expect(new Set(ssmNames).size).toBe(ssmNames.length);
  // Dual-stack: /64s from the VPC's /56, egress-only IPv6 for the app tier.
  expect(find(run, "aws:ec2/subnet:Subnet", "blue-net-app-b").inputs["ipv6CidrBlock"]).toBe(
    "2600:1f18:4a3:6e04::/64",
  );
  expect(all(run, "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway")).toHaveLength(2);
});

describe("the Mastodon env the data tier implies", () => {
  async function envOf(stack: string) {
    let env: pulumi.Output<Record<string, string>> | undefined;
    const run = await runUnderMocks(
      () => {
        env = new MastodonStack("m", stackConfig(stack) as never).env;
        return {};
      },
      { project: "p", stack, config: { "aws:region": "us-east-1" } },
    );
    return { run, env: await resolve(env!), secret: await pulumi.isSecret(env!) };
  }

  test("direct (dev): RDS with verified TLS, full rediss:// URLs, the Ruby driver; secrets as SSM placeholders", async () => {
    const { run, env, secret } = await envOf("dev");
    // The endpoints RDS and ElastiCache give the primary and the two replication groups.
    const dbHost = stateOf(run, RDS, "m-db-primary")["address"];
    const persistent = stateOf(run, REDIS, "m-persistent-group")["primaryEndpointAddress"];
    const cache = stateOf(run, REDIS, "m-cache-group")["primaryEndpointAddress"];
    // It holds no secret value, so it may go into user-data.
    expect(secret).toBe(false);
    for (const name of Object.keys(env)) expect(MASTODON_ENV_NAMES.has(name)).toBe(true);
    expect(env).toMatchObject({
      DB_HOST: dbHost,
      DB_PORT: "5432",
      DB_NAME: "mastodon_production",
      DB_USER: "mastodon",
      DB_PASS: "{{ssm:/mastodon/p/dev/m/db-password}}",
      DB_SSLMODE: "verify-full",
      REDIS_URL: `rediss://:{{ssm:/mastodon/p/dev/m/redis-persistent-password}}@${persistent}:6379/0`,
      SIDEKIQ_REDIS_URL: `rediss://:{{ssm:/mastodon/p/dev/m/redis-persistent-password}}@${persistent}:6379/0`,
      CACHE_REDIS_URL: `rediss://:{{ssm:/mastodon/p/dev/m/redis-cache-password}}@${cache}:6379/0`,
      REDIS_DRIVER: "ruby",
      RAILS_ENV: "production",
      NODE_ENV: "production",
    });
    for (const value of Object.values(env)) {
      for (const secret of [
        fakeSecret("m-db-master-password", 40),
        fakeSecret("m-db-admin-password", 40),
        fakeSecret("m-persistent-auth", 64),
        fakeSecret("m-cache-auth", 64),
      ]) {
        expect(value).not.toContain(secret);
      }
    }
  });

  test("pooled (production): the local PgBouncer, no prepared statements", async () => {
    const { env } = await envOf("production");
    expect(env).toMatchObject({
      DB_HOST: "127.0.0.1",
      DB_PORT: "6432",
      DB_SSLMODE: "disable",
      PREPARED_STATEMENTS: "false",
    });
  });

  test("an unknown variable name is refused", () => {
    const { mastodonEnv } = jest.requireActual("../host/env");
    expect(() => mastodonEnv({ DB_HOST: "x", OTP_SECRET: "y" })).toThrow(
      "not Mastodon 4.6 environment variables: OTP_SECRET",
    );
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

test("baseConfig is usable by the component directly", () => {
  expect(() => parseStackConfig(baseConfig())).not.toThrow();
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
