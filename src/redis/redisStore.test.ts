/**
 * The two Redis under Pulumi's mocks (docs/design.md, "The two Redis"): an evicting cache and a
 * persistent store that never evicts on ElastiCache, or the persistent store on a self-managed
 * AOF host with its own volume, password and snapshots.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { RedisStore, type RedisStoreArgs } from "./redisStore";
import { DEFAULTS } from "../vocabulary/defaults";
import { fakeCloud, fakeSecret } from "../testing/fakeCloud";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import {
  STACKS,
  all,
  arnOf,
  cloudConfig,
  find,
  idOf,
  nameOf,
  resolve,
  runStack,
  stackConfig,
  stateOf,
} from "../../test/helpers";

const REDIS = "aws:elasticache/replicationGroup:ReplicationGroup";
const REDIS_PARAMS = "aws:elasticache/parameterGroup:ParameterGroup";
const SSM = "aws:ssm/parameter:Parameter";

describe.each(STACKS)("stack %s", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack), stack);
  const production = config.environment === "production";
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    run = await runStack(stack);
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

describe("RedisStore on its own", () => {
  const SUBNET_GROUP = "aws:elasticache/subnetGroup:SubnetGroup";
  const INSTANCE = "aws:ec2/instance:Instance";
  const VOLUME = "aws:ebs/volume:Volume";
  const SG = "aws:ec2/securityGroup:SecurityGroup";
  const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
  const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
  const ROLE = "aws:iam/role:Role";
  const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
  const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
  const DLM = "aws:dlm/lifecyclePolicy:LifecyclePolicy";
  const OPTS = { project: "p", stack: "s", config: { "aws:region": "us-east-1" } };
  /** GIVEN: the fewest inputs it needs, as plain ids and strings. */
  const ARGS: Omit<RedisStoreArgs, "role"> = {
    subnetIds: ["subnet-0aaa", "subnet-0bbb"],
    securityGroupId: "sg-0redis",
    parameterPrefix: "/m/p/s/m",
    scope: { project: "p", stack: "s", name: "m" },
  };
  /** Where a self-managed host lives: a fleet subnet of the zone, as plain ids. */
  const HOST = { vpcId: "vpc-0abc", subnetId: "subnet-0app", availabilityZone: "us-east-1a" };
  const AOF: RedisStoreArgs = { ...ARGS, role: "persistent", mode: "self-managed-aof", host: HOST };

  type Options = Map<string, { protect: boolean }>;
  /** What each registration asked of the engine beyond its inputs, by "<type>::<name>" (the recorder keeps inputs only). */
  function engineOptions(): Options {
    const seen: Options = new Map();
    type Request = { getType(): string; getName(): string; getProtect(): boolean };
    const monitor = pulumi.runtime.getMonitor() as unknown as {
      registerResource(req: Request, cb: unknown): unknown;
    };
    const register = monitor.registerResource.bind(monitor);
    monitor.registerResource = (req, cb) => {
      seen.set(`${req.getType()}::${req.getName()}`, { protect: req.getProtect() });
      return register(req, cb);
    };
    return seen;
  }

  /** WHEN: a program that builds one RedisStore, and nothing else, runs under mocks. */
  async function declare(args: RedisStoreArgs, name = "m-store") {
    let store: RedisStore | undefined;
    let options: Options = new Map();
    const run = await runUnderMocks(() => {
      options = engineOptions();
      store = new RedisStore(name, args);
      return { password: store.password, host: store.host };
    }, OPTS);
    return {
      run,
      store: store!,
      protect: (type: string, n: string) => options.get(`${type}::${n}`)?.protect,
    };
  }

  /** After a refused run: lets what it registered before the refusal reach its mock monitor. */
  async function refusal(args: RedisStoreArgs): Promise<Error> {
    try {
      await declare(args);
    } catch (e) {
      await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> })
        .waitForRPCs()
        .catch(() => undefined);
      return e as Error;
    }
    throw new Error("expected the component to refuse its args");
  }

  const group = (run: MockRun) => find(run, REDIS, "m-store-group").inputs;

  describe("on ElastiCache", () => {
    test("GIVEN the cache role and no options WHEN it runs THEN one Valkey 8.0 node, encrypted at rest and in transit with AUTH required, in the given subnets behind the given group only, evicting, with no snapshot", async () => {
      const { run, store, protect } = await declare({ ...ARGS, role: "cache" });
      expect(find(run, "mastodon:index:RedisStore").name).toBe("m-store");
      expect(find(run, SUBNET_GROUP, "m-store-subnets").inputs["subnetIds"]).toEqual([
        "subnet-0aaa",
        "subnet-0bbb",
      ]);
      expect(group(run)).toMatchObject({
        engine: "valkey",
        engineVersion: "8.0",
        nodeType: "cache.t4g.small",
        numCacheClusters: 1,
        automaticFailoverEnabled: false,
        multiAzEnabled: false,
        port: 6379,
        subnetGroupName: nameOf(run, SUBNET_GROUP, "m-store-subnets"),
        parameterGroupName: nameOf(run, REDIS_PARAMS, "m-store-params"),
        securityGroupIds: ["sg-0redis"],
        atRestEncryptionEnabled: true,
        transitEncryptionEnabled: true,
        transitEncryptionMode: "required",
        authToken: "[secret]",
        snapshotRetentionLimit: 0,
      });
      for (const key of ["snapshotWindow", "finalSnapshotIdentifier"])
        expect(group(run)[key]).toBeUndefined();
      expect(find(run, REDIS_PARAMS, "m-store-params").inputs).toMatchObject({
        family: "valkey8",
        parameters: [{ name: "maxmemory-policy", value: "allkeys-lru" }],
      });
      expect(protect(REDIS, "m-store-group")).toBe(false);
      // THEN the hosts reach it at its primary endpoint over TLS, and its one member is what CloudWatch watches.
      expect(store.tls).toBe(true);
      expect(store.port).toBe(6379);
      expect(await resolve(store.host)).toBe(stateOf(run, REDIS, "m-store-group")["primaryEndpointAddress"]);
      const groupName = nameOf(run, REDIS, "m-store-group", "replicationGroupId");
      expect(await Promise.all(store.memberClusterIds.map(resolve))).toEqual([`${groupName}-001`]);
      expect(store.instance).toBeUndefined();
      expect(all(run, INSTANCE)).toEqual([]);
    });

    test("GIVEN the persistent role and no options WHEN it runs THEN a primary and a replica with automatic failover across zones, never evicting, snapshotted daily with a final snapshot named for the project, stack and component", async () => {
      const { run, store, protect } = await declare({ ...ARGS, role: "persistent" });
      expect(group(run)).toMatchObject({
        numCacheClusters: 2,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
        snapshotRetentionLimit: 1,
        snapshotWindow: "03:00-04:00",
        finalSnapshotIdentifier: "p-s-m-store-final",
        transitEncryptionMode: "required",
        atRestEncryptionEnabled: true,
      });
      expect(find(run, REDIS_PARAMS, "m-store-params").inputs["parameters"]).toEqual([
        { name: "maxmemory-policy", value: "noeviction" },
      ]);
      expect(protect(REDIS, "m-store-group")).toBe(false);
      const groupName = nameOf(run, REDIS, "m-store-group", "replicationGroupId");
      expect(await Promise.all(store.memberClusterIds.map(resolve))).toEqual([
        `${groupName}-001`,
        `${groupName}-002`,
      ]);
    });

    test("GIVEN production WHEN it runs THEN the persistent store keeps a week of snapshots and is protected from `pulumi destroy`; a production cache still keeps none and is not protected", async () => {
      const persistent = await declare({ ...ARGS, role: "persistent", production: true });
      expect(group(persistent.run)["snapshotRetentionLimit"]).toBe(7);
      expect(persistent.protect(REDIS, "m-store-group")).toBe(true);
      const cache = await declare({ ...ARGS, role: "cache", production: true });
      expect(group(cache.run)["snapshotRetentionLimit"]).toBe(0);
      expect(cache.protect(REDIS, "m-store-group")).toBe(false);
    });

    test("GIVEN the redis engine, a node type and node counts WHEN it runs THEN the version and the parameter family follow the engine, and failover follows the node count", async () => {
      const redis = await declare({
        ...ARGS,
        role: "cache",
        engine: "redis",
        nodeType: "cache.r7g.large",
        nodes: 3,
      });
      expect(group(redis.run)).toMatchObject({
        engine: "redis",
        engineVersion: "7.1",
        nodeType: "cache.r7g.large",
        numCacheClusters: 3,
        automaticFailoverEnabled: true,
        multiAzEnabled: true,
      });
      expect(find(redis.run, REDIS_PARAMS, "m-store-params").inputs["family"]).toBe("redis7");
      expect(redis.store.memberClusterIds).toHaveLength(3);
      const valkey81 = await declare({ ...ARGS, role: "persistent", engineVersion: "8.1", nodes: 1 });
      expect(group(valkey81.run)).toMatchObject({
        engineVersion: "8.1",
        numCacheClusters: 1,
        automaticFailoverEnabled: false,
        multiAzEnabled: false,
      });
      expect(find(valkey81.run, REDIS_PARAMS, "m-store-params").inputs["family"]).toBe("valkey8");
    });
  });

  test("GIVEN either mode WHEN it runs THEN a generated 64-character alphanumeric AUTH password, kept only in an SSM SecureString named for the role and as a Pulumi secret", async () => {
    for (const args of [{ ...ARGS, role: "cache" } as RedisStoreArgs, AOF]) {
      const { run, store } = await declare(args);
      expect(find(run, "random:index/randomPassword:RandomPassword").inputs).toEqual({
        length: 64,
        special: false,
      });
      expect(find(run, SSM, "m-store-auth").inputs).toMatchObject({
        name: `/m/p/s/m/redis-${args.role}-password`,
        type: "SecureString",
        value: "[secret]",
      });
      expect(store.passwordParameterName).toBe(`/m/p/s/m/redis-${args.role}-password`);
      expect(await resolve(store.passwordParameter.name)).toBe(store.passwordParameterName);
      expect(run.outputs["password"]).toBe("[secret]");
      expect(JSON.stringify(run.resources)).not.toContain(fakeSecret("m-store-auth", 64));
    }
  });

  describe("self-managed-aof", () => {
    test("GIVEN a host's subnet and zone WHEN it runs THEN no ElastiCache but one IMDSv2-only instance with no public address and no key pair, behind its own egress group and the given redis group, its disks encrypted", async () => {
      const { run, store } = await declare(AOF);
      expect(all(run, REDIS)).toEqual([]);
      expect(all(run, SUBNET_GROUP)).toEqual([]);
      const host = find(run, INSTANCE, "m-store-host").inputs;
      expect(host).toMatchObject({
        instanceType: "c7g.large",
        subnetId: "subnet-0app",
        availabilityZone: "us-east-1a",
        vpcSecurityGroupIds: [idOf(run, SG, "m-store-host"), "sg-0redis"],
        associatePublicIpAddress: false,
        iamInstanceProfile: nameOf(run, "aws:iam/instanceProfile:InstanceProfile", "m-store-host"),
        metadataOptions: { httpTokens: "required", httpEndpoint: "enabled", httpPutResponseHopLimit: 1 },
        rootBlockDevice: { volumeType: "gp3", volumeSize: 10, encrypted: true },
        userDataReplaceOnChange: true,
      });
      expect(host["keyName"]).toBeUndefined();
      // Its own group opens nothing inward and lets it out on 80 and 443 only (Debian's mirrors, SSM).
      expect(find(run, SG, "m-store-host").inputs["vpcId"]).toBe("vpc-0abc");
      expect(all(run, INGRESS)).toEqual([]);
      expect(
        all(run, EGRESS).map((r) => [
          r.inputs["securityGroupId"],
          r.inputs["fromPort"],
          r.inputs["toPort"],
          r.inputs["cidrIpv4"],
        ]),
      ).toEqual([80, 443].map((port) => [idOf(run, SG, "m-store-host"), port, port, "0.0.0.0/0"]));
      // THEN the hosts reach it at the instance's private address, in plain text (the group is the fence), with no ElastiCache members.
      expect(store.tls).toBe(false);
      expect(store.port).toBe(6379);
      expect(await resolve(store.host)).toBe(stateOf(run, INSTANCE, "m-store-host")["privateIp"]);
      expect(store.memberClusterIds).toEqual([]);
      expect(store.replicationGroup).toBeUndefined();
    });

    test("GIVEN the default instance type WHEN it runs THEN it boots the pinned Debian 12 arm64 image; GIVEN an x86 type and another serial THEN that image's amd64 build", async () => {
      const amiOf = (name: string) =>
        (
          fakeCloud("us-east-1").mocks.call({
            token: "aws:ec2/getAmi:getAmi",
            inputs: {
              owners: ["136693071363"],
              includeDeprecated: true,
              filters: [{ name: "name", values: [name] }],
            },
            provider: "",
          }) as { id: string }
        ).id;
      const arm = await declare(AOF);
      expect(find(arm.run, INSTANCE).inputs["ami"]).toBe(
        amiOf(`debian-12-arm64-${DEFAULTS.image.debianSerial}`),
      );
      const x86 = await declare({
        ...AOF,
        host: { ...HOST, instanceType: "c7i.large", debianSerial: "20240102-1614" },
      });
      expect(find(x86.run, INSTANCE).inputs).toMatchObject({
        instanceType: "c7i.large",
        ami: amiOf("debian-12-amd64-20240102-1614"),
      });
    });

    test("GIVEN a host WHEN it runs THEN the AOF lives on its own encrypted gp3 volume in the host's zone, attached to that host, tagged for this deployment's snapshots only", async () => {
      const { run, protect } = await declare(AOF);
      expect(find(run, VOLUME, "m-store-data").inputs).toEqual({
        availabilityZone: "us-east-1a",
        size: 20,
        type: "gp3",
        encrypted: true,
        tags: { Name: "m-store-data", "mastodon:redis-snapshots": "p/s/m-store" },
      });
      expect(find(run, "aws:ec2/volumeAttachment:VolumeAttachment", "m-store-data").inputs).toEqual({
        instanceId: idOf(run, INSTANCE, "m-store-host"),
        volumeId: idOf(run, VOLUME, "m-store-data"),
        deviceName: "/dev/sdf",
      });
      expect(protect(VOLUME, "m-store-data")).toBe(false);
      const big = await declare({
        ...AOF,
        production: true,
        host: { ...HOST, volumeGiB: 100, publicIp: true },
      });
      expect(find(big.run, VOLUME).inputs["size"]).toBe(100);
      expect(big.protect(VOLUME, "m-store-data")).toBe(true);
      // A subnet without NAT: the host asks for a public address for its egress (still nothing inbound).
      expect(find(big.run, INSTANCE).inputs["associatePublicIpAddress"]).toBe(true);
      expect(all(big.run, INGRESS)).toEqual([]);
    });

    test("GIVEN a host WHEN it runs THEN Data Lifecycle Manager snapshots the volumes with this deployment's tag daily, through a role only DLM may assume; kept a day, a week in production", async () => {
      const { run } = await declare(AOF);
      const trust = (name: string) =>
        JSON.parse(String(find(run, ROLE, name).inputs["assumeRolePolicy"])).Statement;
      expect(trust("m-store-snapshots")).toEqual([
        { Effect: "Allow", Principal: { Service: "dlm.amazonaws.com" }, Action: "sts:AssumeRole" },
      ]);
      expect(find(run, ATTACHMENT, "m-store-snapshots").inputs).toEqual({
        role: nameOf(run, ROLE, "m-store-snapshots"),
        policyArn: "arn:aws:iam::aws:policy/service-role/AWSDataLifecycleManagerServiceRole",
      });
      const dlm = find(run, DLM, "m-store-snapshots").inputs as any;
      expect(dlm).toMatchObject({
        executionRoleArn: arnOf(run, ROLE, "m-store-snapshots"),
        state: "ENABLED",
      });
      expect(dlm.policyDetails).toEqual({
        resourceTypes: ["VOLUME"],
        // The volume's own tag (above): another deployment's volumes carry another value.
        targetTags: { "mastodon:redis-snapshots": "p/s/m-store" },
        schedules: [
          {
            name: "daily",
            createRule: { interval: 24, intervalUnit: "HOURS", times: "03:00" },
            retainRule: { count: 1 },
            copyTags: true,
          },
        ],
      });
      const production = await declare({ ...AOF, production: true });
      expect((find(production.run, DLM).inputs as any).policyDetails.schedules[0].retainRule).toEqual({
        count: 7,
      });
    });

    test("GIVEN a host WHEN it runs THEN its role, which only EC2 may assume, reads this store's password parameter by its ARN and decrypts only through SSM", async () => {
      const { run } = await declare(AOF);
      expect(
        JSON.parse(String(find(run, ROLE, "m-store-host").inputs["assumeRolePolicy"])).Statement,
      ).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
      expect(find(run, "aws:iam/instanceProfile:InstanceProfile", "m-store-host").inputs["role"]).toBe(
        nameOf(run, ROLE, "m-store-host"),
      );
      const inline = find(run, ROLE_POLICY, "m-store-host-password").inputs;
      expect(inline["role"]).toBe(idOf(run, ROLE, "m-store-host"));
      expect(JSON.parse(String(inline["policy"])).Statement).toEqual([
        {
          Sid: "ReadParameter",
          Effect: "Allow",
          Action: "ssm:GetParameter",
          Resource: arnOf(run, SSM, "m-store-auth"),
        },
        {
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

    /**
     * What the AWS managed policies attached to a role grant of SSM parameter reads (AWS Managed
     * Policy Reference, AmazonSSMManagedInstanceCore, v2: ssm:GetParameter and ssm:GetParameters on
     * "*", beside the Session Manager and inventory actions). The aws/ssm key decrypts through SSM
     * for the account's principals, and the host's own policy allows that too.
     */
    const MANAGED_PARAMETER_READS: Readonly<
      Record<string, readonly { Action: string[]; Resource: string }[]>
    > = {
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": [
        { Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: "*" },
      ],
    };

    // AmazonSSMManagedInstanceCore would let the Redis host read every parameter in the account (the
    // RDS master's password, SECRET_KEY_BASE, ...): the host carries the SSM Agent's actions inline
    // instead (src/aws/ssmAgentPolicy.ts), and reads its own password alone.
    test("GIVEN a host WHEN it runs THEN no policy of its role, inline or attached, lets it read any SSM parameter but its own password", async () => {
      const { run } = await declare(AOF);
      const role = nameOf(run, ROLE, "m-store-host");
      const statements = [
        ...all(run, ROLE_POLICY)
          .filter((p) => p.inputs["role"] === idOf(run, ROLE, "m-store-host"))
          .flatMap(
            (p) =>
              JSON.parse(String(p.inputs["policy"])).Statement as { Action: unknown; Resource: unknown }[],
          ),
        ...all(run, ATTACHMENT)
          .filter((a) => a.inputs["role"] === role)
          .flatMap((a) => MANAGED_PARAMETER_READS[String(a.inputs["policyArn"])] ?? []),
      ];
      const reads = statements.filter((s) =>
        [s.Action].flat().some((a) => String(a).startsWith("ssm:GetParameter")),
      );
      expect(reads.flatMap((s) => [s.Resource].flat())).toEqual([arnOf(run, SSM, "m-store-auth")]);
    });

    test("GIVEN a host WHEN it runs THEN its user-data configures an AOF store that never evicts within half the instance's memory, listens on loopback until boot adds its private address, and names the password's parameter, never the password", async () => {
      const { run } = await declare(AOF);
      const userData = String(find(run, INSTANCE).inputs["userData"]);
      const doc = cloudConfig(userData);
      const conf = doc.write_files.find((f) => f.path === "/etc/redis/mastodon.conf")!.content.split("\n");
      for (const line of [
        "appendonly yes",
        "appendfsync everysec",
        "maxmemory-policy noeviction",
        // c7g.large: 4 GiB, half of it.
        "maxmemory 2147483648",
        "bind 127.0.0.1",
        "port 6379",
        "protected-mode yes",
        "dir /var/lib/redis-mastodon",
        "include /etc/redis/mastodon-secrets.conf",
      ])
        expect(conf).toContain(line);
      expect(doc.runcmd[0]).toEqual([
        "/usr/local/sbin/mastodon-redis-boot",
        "--volume-id",
        idOf(run, VOLUME, "m-store-data"),
        "--region",
        "us-east-1",
        "--password-parameter",
        "/m/p/s/m/redis-persistent-password",
        "--data-dir",
        "/var/lib/redis-mastodon",
        "--secrets",
        "/etc/redis/mastodon-secrets.conf",
      ]);
      expect(userData).not.toContain(fakeSecret("m-store-auth", 64));
      // The password reaches the server only through the include the boot writes.
      expect(conf.filter((l) => l.startsWith("requirepass"))).toEqual([]);
      // A larger instance: maxmemory follows its memory.
      const larger = await declare({ ...AOF, host: { ...HOST, instanceType: "c7g.xlarge" } });
      const largerConf = cloudConfig(String(find(larger.run, INSTANCE).inputs["userData"])).write_files[0]!
        .content;
      expect(largerConf.split("\n")).toContain("maxmemory 4294967296");
    });

    test("GIVEN a cache, no host, or an instance type outside the c-family catalog WHEN it runs THEN it refuses", async () => {
      expect((await refusal({ ...AOF, role: "cache" })).message).toBe(
        "m-store: self-managed-aof is for the persistent role; a cache needs no AOF",
      );
      expect((await refusal({ ...AOF, host: undefined })).message).toBe(
        "m-store: self-managed-aof needs host (vpcId, subnetId, availabilityZone)",
      );
      expect((await refusal({ ...AOF, host: { ...HOST, instanceType: "m7g.large" } })).message).toBe(
        "m-store: m7g.large is not a c-family type in the catalog",
      );
    });
  });

  test("GIVEN two stores of each role and mode, and two whose long names differ only at the end, in one program WHEN it runs THEN no (type, name) repeats, and the ElastiCache names fit and differ", async () => {
    const long = "r".repeat(60);
    const run = await runUnderMocks(() => {
      for (const n of ["blue", "green"]) {
        new RedisStore(`${n}-cache`, { ...ARGS, role: "cache", parameterPrefix: `/m/${n}` });
        new RedisStore(`${n}-persistent`, { ...ARGS, role: "persistent", parameterPrefix: `/m/${n}` });
        new RedisStore(`${n}-aof`, { ...AOF, parameterPrefix: `/m/${n}-aof` });
      }
      new RedisStore(`${long}-x`, { ...ARGS, role: "persistent", parameterPrefix: "/m/x" });
      new RedisStore(`${long}-y`, { ...ARGS, role: "persistent", parameterPrefix: "/m/y" });
      return {};
    }, OPTS);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    const groups = all(run, REDIS).map((g) => String(g.inputs["replicationGroupId"]));
    expect(groups).toHaveLength(6);
    expect(new Set(groups).size).toBe(6);
    for (const g of groups) expect(g.length).toBeLessThanOrEqual(40);
    const snapshots = all(run, REDIS).flatMap((g) =>
      g.inputs["finalSnapshotIdentifier"] ? [g.inputs["finalSnapshotIdentifier"]] : [],
    );
    expect(new Set(snapshots).size).toBe(4);
    // Each self-managed store snapshots its own volume only.
    expect(
      all(run, DLM).map((d) => (d.inputs as any).policyDetails.targetTags["mastodon:redis-snapshots"]),
    ).toEqual(["p/s/blue-aof", "p/s/green-aof"]);
    for (const name of ["blue-cache", "green-aof"])
      for (const r of run.resources.filter((x) => x.parent === name))
        expect(r.name.startsWith(`${name}-`)).toBe(true);
  });
});
