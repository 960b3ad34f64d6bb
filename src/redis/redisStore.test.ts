/**
 * The two Redis under Pulumi's mocks (docs/design.md, "The two Redis"): an evicting cache and a
 * persistent store that never evicts on ElastiCache, or the persistent store on a self-managed
 * AOF host with its own volume, password and snapshots.
 */
import { parseStackConfig } from "../config";
import { fakeSecret } from "../testing/fakeCloud";
import { STACKS, all, arnOf, find, idOf, runStack, stackConfig } from "../../test/helpers";

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
