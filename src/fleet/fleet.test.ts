/**
 * The fleets under Pulumi's mocks: launch templates, roles, Auto Scaling groups, rolling updates,
 * lifecycle hooks, and no secret in any host's user-data.
 */
import { createHash } from "crypto";
import { parseStackConfig } from "../config";
import {
  BOOT_UNIT,
  DRAIN,
  DRAIN_UNIT,
  INSTANCE_LAUNCH_SECONDS,
  MAX_LIFECYCLE_HEARTBEAT_SECONDS,
  LIFECYCLE_HOOK_NAME,
  READINESS,
  READINESS_PATHS,
} from "./host/readiness";
import * as pulumi from "@pulumi/pulumi";
import { vapidKeysFromPrivate } from "../migration/vapid";
import { fakeSecret } from "../testing/fakeCloud";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import { ssmAgentPolicy } from "../aws/ssmAgentPolicy";
import { type MockRun, NameRefusedError, runUnderMocks } from "../testing/mocks";
import { type FleetArgs, type FleetGroupArgs, Fleet, SCHEMA_FROM_TAG, USER_DATA_LIMIT_BYTES } from "./fleet";
import {
  STACKS,
  all,
  arnOf,
  decodeUserData,
  find,
  idOf,
  resolve,
  runStack,
  stackConfig,
  userDataOf,
} from "../../test/helpers";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const ASG = "aws:autoscaling/group:Group";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const TG = "aws:lb/targetGroup:TargetGroup";

describe.each(STACKS)("stack %s", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack), stack);
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("one launch template and one group per fleet", () => {
    expect(
      all(run, LT)
        .map((r) => r.name)
        .sort(),
    ).toEqual(config.fleets.map((f) => `mastodon-${f.name}-template`).sort());
    expect(all(run, ASG)).toHaveLength(config.fleets.length);
  });

  test.each(config.fleets.map((f) => [f.name, f] as const))(
    "%s: IMDSv2 only, encrypted gp3 root, no key pair, its roles' groups",
    (name, fleet) => {
      const lt = find(run, LT, `mastodon-${name}-template`).inputs as any;
      expect(lt.metadataOptions).toEqual({
        httpTokens: "required",
        httpEndpoint: "enabled",
        httpPutResponseHopLimit: 1,
        instanceMetadataTags: "enabled",
      });
      expect(lt.blockDeviceMappings).toEqual([
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeType: "gp3",
            volumeSize: fleet.rootVolumeGiB,
            encrypted: "true",
            deleteOnTermination: "true",
          },
        },
      ]);
      expect(lt.keyName).toBeUndefined();
      expect(lt.instanceType).toBe(fleet.instanceType);
      // The pinned Debian 12 AMI of the fleet's architecture (src/images/images.test.ts checks the lookup).
      expect(lt.imageId).toMatch(/^ami-[0-9a-f]{17}$/);
      const groups = [fleet.web && "web", fleet.streaming && "streaming", fleet.sidekiq && "sidekiq"]
        .filter(Boolean)
        .map((r) => idOf(run, SG, `mastodon-network-${r}`));
      expect(lt.networkInterfaces[0].securityGroups).toEqual(groups);
      expect(lt.networkInterfaces[0].associatePublicIpAddress).toBe(
        String(config.network.egress === "public-subnets"),
      );
    },
  );

  test.each(config.fleets.map((f) => [f.name, f] as const))(
    "%s: the group's sizes, subnets, targets and rolling update",
    (name, fleet) => {
      const asg = find(run, ASG, `mastodon-${name}-group`).inputs as any;
      expect(asg).toMatchObject({
        minSize: fleet.minSize,
        maxSize: fleet.maxSize,
        desiredCapacity: fleet.desiredSize,
      });
      // Every zone, but with redis.onHost its persistent store's volume's only (redisOnHost.test.ts).
      expect(asg.vpcZoneIdentifiers).toHaveLength(config.redis.onHost ? 1 : config.network.availabilityZones);
      const scheduler = fleet.sidekiq?.queues.includes("scheduler") ?? false;
      // The scheduler's one host leaves first; web and streaming launch first; other queues 90/100.
      expect(asg.instanceMaintenancePolicy).toEqual(
        scheduler
          ? { minHealthyPercentage: 0, maxHealthyPercentage: 100 }
          : fleet.web || fleet.streaming
            ? { minHealthyPercentage: 100, maxHealthyPercentage: expect.any(Number) }
            : { minHealthyPercentage: 90, maxHealthyPercentage: 100 },
      );
      // A refresh repeats the group's policy: the provider would send 90/100 for what it leaves out.
      expect(asg.instanceRefresh).toEqual({
        strategy: "Rolling",
        preferences: { ...asg.instanceMaintenancePolicy, instanceWarmup: "120" },
      });
      if (scheduler) expect(fleet.maxSize).toBe(1);
      const ports = fleet.streaming?.ports ?? [];
      const expected = [
        ...(fleet.web ? [arnOf(run, TG, "mastodon-lb-web")] : []),
        ...ports.map((p) => arnOf(run, TG, `mastodon-lb-stream-${p}`)),
      ];
      expect(asg.targetGroupArns ?? []).toEqual(expected);
      expect(asg.healthCheckType).toBe(expected.length ? "ELB" : "EC2");
      expect(
        asg.launchTemplate ?? asg.mixedInstancesPolicy.launchTemplate.launchTemplateSpecification,
      ).toBeDefined();
    },
  );

  test.each(config.fleets.map((f) => [f.name] as const))(
    "%s: instances wait on the launch lifecycle hook, which abandons by default; Sidekiq hosts drain on the way out",
    (name) => {
      const asg = find(run, ASG, `mastodon-${name}-group`).inputs as any;
      const fleet = config.fleets.find((f) => f.name === name)!;
      expect(asg.initialLifecycleHooks).toEqual([
        {
          name: LIFECYCLE_HOOK_NAME,
          lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
          defaultResult: "ABANDON",
          heartbeatTimeout: asg.initialLifecycleHooks[0].heartbeatTimeout,
        },
        // The drain's hook: the running jobs' time, the stop and the completing call fit its heartbeat.
        ...(fleet.sidekiq
          ? [
              {
                name: DRAIN.hookName,
                lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
                defaultResult: "CONTINUE",
                heartbeatTimeout: DRAIN.heartbeatSeconds,
              },
            ]
          : []),
      ]);
      expect(DRAIN.heartbeatSeconds).toBeGreaterThan(DRAIN.timeoutSeconds + 120);
      const drainUnit = fleetArtifacts(run.resources).find((a) => a.fleet === name)!.units[DRAIN_UNIT];
      expect(drainUnit !== undefined).toBe(fleet.sidekiq !== undefined);
      // The heartbeat outlasts the host's whole boot unit (its TimeoutStartSec), within AWS's 7200 s.
      const units = fleetArtifacts(run.resources).find((a) => a.fleet === name)!.units;
      const bootTimeout = Number(/^TimeoutStartSec=(\d+)$/m.exec(units[BOOT_UNIT]!)![1]);
      expect(bootTimeout).toBeGreaterThan(READINESS.waitSeconds);
      const heartbeat = asg.initialLifecycleHooks[0].heartbeatTimeout as number;
      expect(heartbeat).toBeGreaterThan(bootTimeout);
      expect(heartbeat).toBeLessThanOrEqual(MAX_LIFECYCLE_HEARTBEAT_SECONDS);
      // The hook's name is the one the host completes.
      const readiness = fleetArtifacts(run.resources).find((a) => a.fleet === name)!.files[
        READINESS_PATHS.config
      ]!;
      expect(readiness).toContain(`\nhook ${LIFECYCLE_HOOK_NAME}\n`);
      // So is the drain's, on a host running Sidekiq.
      if (fleet.sidekiq) expect(readiness).toContain(`\ndrain_hook ${DRAIN.hookName}\n`);
    },
  );

  test.each(config.fleets.map((f) => [f.name] as const))(
    "%s: the role completes lifecycle actions and sets health only on a group with its fleet and stack tags",
    (name) => {
      const policy = JSON.parse(
        String(find(run, "aws:iam/rolePolicy:RolePolicy", `mastodon-${name}-lifecycle`).inputs["policy"]),
      );
      // Project, stack and component: a same-named stack of another project is another deployment.
      const stackTag = `mastodon-aws/${stack}/mastodon`;
      expect(policy.Statement).toEqual([
        {
          Sid: "OwnGroupLifecycle",
          Effect: "Allow",
          Action: ["autoscaling:CompleteLifecycleAction", "autoscaling:SetInstanceHealth"],
          Resource: "arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup:*:autoScalingGroupName/*",
          Condition: {
            StringEquals: {
              "autoscaling:ResourceTag/mastodon:fleet": name,
              "autoscaling:ResourceTag/mastodon:stack": stackTag,
            },
          },
        },
      ]);
      // The group carries exactly those tags: the condition matches it and no other fleet's group.
      const tags = (find(run, ASG, `mastodon-${name}-group`).inputs as any).tags as {
        key: string;
        value: string;
      }[];
      expect(tags).toEqual(
        expect.arrayContaining([
          { key: "mastodon:fleet", value: name, propagateAtLaunch: true },
          { key: "mastodon:stack", value: stackTag, propagateAtLaunch: true },
        ]),
      );
      const others = all(run, ASG).filter((g) => g.name !== `mastodon-${name}-group`);
      for (const g of others)
        expect((g.inputs as any).tags).not.toContainEqual({
          key: "mastodon:fleet",
          value: name,
          propagateAtLaunch: true,
        });
    },
  );

  test("user-data carries no secret the mocks generated", () => {
    const generated = [
      fakeSecret("mastodon-db-master-password", 40),
      fakeSecret("mastodon-cache-auth", 64),
      fakeSecret("mastodon-persistent-auth", 64),
      fakeSecret("mastodon-secrets-secret-key-base", 128),
      fakeSecret("mastodon-secrets-ar-deterministic-key", 32),
      fakeSecret("mastodon-secrets-ar-key-derivation-salt", 32),
      fakeSecret("mastodon-secrets-ar-primary-key", 32),
      // The fake cloud's RandomBytes: sha256 of the resource name.
      vapidKeysFromPrivate(createHash("sha256").update("mastodon-secrets-vapid").digest().toString("base64"))
        .privateKey,
      ...(config.mail.provider === "ses" ? [fakeSecret("mastodon-mail-smtp-smtp", 44)] : []),
    ];
    for (const fleet of config.fleets) {
      const userData = userDataOf(run, fleet.name);
      expect(userData).toContain("{{ssm:/mastodon/");
      for (const secret of generated) expect(userData).not.toContain(secret);
    }
    const everything = JSON.stringify(run.resources);
    for (const secret of generated) expect(everything).not.toContain(secret);
  });

  test("each role may read only its stack's parameters, the media bucket and its own log group", () => {
    for (const fleet of config.fleets) {
      const parameters = JSON.parse(
        String(
          find(run, "aws:iam/rolePolicy:RolePolicy", `mastodon-${fleet.name}-parameters`).inputs["policy"],
        ),
      );
      // Each parameter its hosts read, by its own ARN, of this stack only (src/aws/leastPrivilege.test.ts
      // holds the list to the hosts' templates): no path, no wildcard.
      for (const arn of parameters.Statement[0].Resource as string[])
        expect(arn).toMatch(
          new RegExp(
            `^arn:aws:ssm:us-east-1:123456789012:parameter/mastodon/mastodon-aws/${stack}/mastodon(-admin)?/[a-z-]+$`,
          ),
        );
      // The media bucket for Puma and Sidekiq; a streaming-only fleet gets none (databaseLifecycle.test.ts).
      if (fleet.web || fleet.sidekiq) {
        const media = JSON.parse(
          String(find(run, "aws:iam/rolePolicy:RolePolicy", `mastodon-${fleet.name}-media`).inputs["policy"]),
        );
        expect(media.Statement[0].Resource).toBe(
          `${arnOf(run, "aws:s3/bucket:Bucket", "mastodon-media-bucket")}/*`,
        );
      }
      const logs = JSON.parse(
        String(find(run, "aws:iam/rolePolicy:RolePolicy", `mastodon-${fleet.name}-logs`).inputs["policy"]),
      );
      expect(logs.Statement[0].Resource).toBe(
        `${arnOf(run, "aws:cloudwatch/logGroup:LogGroup", `mastodon-${fleet.name}-logs`)}:*`,
      );
      // Session Manager and Run Command through the SSM Agent's inline policy, which reads no
      // parameter; no managed policy on the role (AmazonSSMManagedInstanceCore would read them all).
      const roleId = find(run, "aws:iam/rolePolicy:RolePolicy", `mastodon-${fleet.name}-parameters`).inputs[
        "role"
      ];
      const agent = find(run, "aws:iam/rolePolicy:RolePolicy", `mastodon-${fleet.name}-ssm-agent`).inputs;
      expect(agent["role"]).toBe(roleId);
      expect(JSON.parse(String(agent["policy"]))).toEqual(ssmAgentPolicy());
      expect(String(agent["policy"])).not.toContain("GetParameter");
      const roleName = all(run, "aws:iam/role:Role").find((r) => r.id === roleId)?.inputs["name"];
      expect(roleName).toBeDefined();
      expect(
        all(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").filter(
          (a) => a.inputs["role"] === roleName,
        ),
      ).toEqual([]);
    }
  });
});

describe("Fleet on its own", () => {
  const REGION = "eu-west-1";
  const ACCOUNT = "123456789012";
  const PATH = "/mastodon/p/s/m";
  const ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy";
  const POLICY = "aws:autoscaling/policy:Policy";
  const CLOUD_CONFIG = "#cloud-config\nruncmd:\n  - [systemctl, start, mastodon.target]\n";

  const group = (over: Partial<FleetGroupArgs> = {}): FleetGroupArgs => ({
    name: "web",
    instanceType: "c7g.large",
    minSize: 1,
    desiredSize: 2,
    maxSize: 4,
    postgresConnectionsPerHost: 30,
    ...over,
  });
  const args = (over: Partial<FleetArgs> = {}): FleetArgs => ({
    fleet: group(),
    imageId: "ami-0123456789abcdef0",
    subnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
    securityGroupIds: ["sg-0aaaaaaaaaaaaaaa1"],
    userData: CLOUD_CONFIG,
    parameterPath: PATH,
    ...over,
  });
  /** The options each child was declared with, by name (a transformation sees them; the recorder does not). */
  const ignoredChanges = new Map<string, unknown>();
  const watch: pulumi.ResourceTransformation = (a) => {
    ignoredChanges.set(a.name, a.opts.ignoreChanges);
    return undefined;
  };
  /** The fleets `declare` builds, run under mocks; the components are kept for their outputs. */
  async function build(declare: () => Fleet[]): Promise<{ run: MockRun; fleets: Fleet[] }> {
    let fleets: Fleet[] = [];
    const run = await runUnderMocks(
      () => {
        fleets = declare();
        return {};
      },
      { project: "p", stack: "s", config: { "aws:region": REGION } },
    );
    return { run, fleets };
  }
  /** One Fleet of `args(over)` named `name`. */
  const one = async (over: Partial<FleetArgs> = {}, name = "f") => {
    ignoredChanges.clear();
    const built = await build(() => [new Fleet(name, args(over), { transformations: [watch] })]);
    return { ...built, fleet: built.fleets[0] as Fleet };
  };
  const policyOf = (run: MockRun, name: string) =>
    JSON.parse(String(find(run, ROLE_POLICY, name).inputs["policy"])) as { Statement: any[] };
  const groupOf = (run: MockRun, name = "f-group") => find(run, ASG, name).inputs as any;
  const groupTag = (run: MockRun, key: string, name = "f-group") =>
    (groupOf(run, name).tags as { key: string; value: string; propagateAtLaunch: boolean }[]).find(
      (t) => t.key === key,
    );

  test("GIVEN a fleet's args WHEN built THEN its launch template requires IMDSv2, boots an encrypted gp3 root from the AMI, has no key pair, and carries the cloud-config gzip-compressed within EC2's limit", async () => {
    const { run } = await one();
    const lt = find(run, LT, "f-template");
    const inputs = lt.inputs as any;
    expect(inputs.metadataOptions).toEqual({
      httpTokens: "required",
      httpEndpoint: "enabled",
      httpPutResponseHopLimit: 1,
      instanceMetadataTags: "enabled",
    });
    // Debian's root device and the 30 GiB default, encrypted and gone with the instance.
    expect(inputs.blockDeviceMappings).toEqual([
      {
        deviceName: "/dev/xvda",
        ebs: { volumeType: "gp3", volumeSize: 30, encrypted: "true", deleteOnTermination: "true" },
      },
    ]);
    expect(inputs.keyName).toBeUndefined();
    expect(inputs.imageId).toBe("ami-0123456789abcdef0");
    expect(inputs.instanceType).toBe("c7g.large");
    // Gzip (magic 1f 8b), base64: what the instance reads back is the cloud-config given.
    const bytes = Buffer.from(String(inputs.userData), "base64");
    expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(bytes.length).toBeLessThanOrEqual(USER_DATA_LIMIT_BYTES);
    expect(decodeUserData(lt)).toBe(CLOUD_CONFIG);
    // The hosts run as the fleet's own instance profile, in the given groups, with no public address.
    expect(inputs.iamInstanceProfile).toEqual({
      arn: arnOf(run, "aws:iam/instanceProfile:InstanceProfile", "f-profile"),
    });
    expect(inputs.networkInterfaces).toEqual([
      {
        deviceIndex: 0,
        associatePublicIpAddress: "false",
        securityGroups: ["sg-0aaaaaaaaaaaaaaa1"],
        deleteOnTermination: "true",
      },
    ]);
    expect(inputs.monitoring).toEqual({ enabled: true });
  });

  test("GIVEN a root device, a root size, a public address and instance tags WHEN built THEN the template carries them, and the instance tags reach only the instances and volumes", async () => {
    const { run } = await one({
      fleet: group({ rootVolumeGiB: 40 }),
      rootDeviceName: "/dev/sda1",
      associatePublicIp: true,
      tags: { "mastodon:stack": "p/s/m" },
      instanceTags: { "mastodon:version": "v4.6.5" },
    });
    const inputs = find(run, LT, "f-template").inputs as any;
    expect(inputs.blockDeviceMappings[0]).toMatchObject({
      deviceName: "/dev/sda1",
      ebs: { volumeSize: 40, encrypted: "true", volumeType: "gp3" },
    });
    expect(inputs.networkInterfaces[0].associatePublicIpAddress).toBe("true");
    const expectedTags = {
      "mastodon:stack": "p/s/m",
      "mastodon:fleet": "web",
      "mastodon:version": "v4.6.5",
      Name: "f",
    };
    expect(inputs.tagSpecifications).toEqual([
      { resourceType: "instance", tags: expectedTags },
      { resourceType: "volume", tags: expectedTags },
    ]);
    // A version change rolls the fleet through its template, and touches nothing else.
    expect(groupTag(run, "mastodon:version")).toBeUndefined();
    expect(groupTag(run, "mastodon:stack")).toEqual({
      key: "mastodon:stack",
      value: "p/s/m",
      propagateAtLaunch: true,
    });
  });

  test("GIVEN user-data over EC2's 16 KiB once compressed WHEN built THEN the launch template's user-data is refused with its size", async () => {
    // SHA-512 digests do not compress: 400 of them in base64 stay over 16 KiB gzip-compressed.
    const incompressible = Array.from({ length: 400 }, (_, i) =>
      createHash("sha512").update(String(i)).digest("base64"),
    ).join("\n");
    // Under mocks a failing input leaves its registration pending: the transformation takes the
    // user-data as the component computed it and registers the template with none in its place.
    let refusal: Promise<unknown> = Promise.resolve();
    const capture: pulumi.ResourceTransformation = (a) => {
      if (a.type !== LT) return undefined;
      // An Output's value, known-ness, secretness and resources each reject: all are handled here.
      const computed = a.props["userData"] as unknown as {
        promise(): Promise<unknown>;
        isKnown: Promise<boolean>;
        isSecret: Promise<boolean>;
        allResources?: () => Promise<unknown>;
      };
      const ignore = () => undefined;
      void computed.isKnown.catch(ignore);
      void computed.isSecret.catch(ignore);
      void computed.allResources?.().catch(ignore);
      refusal = computed.promise().then(ignore, (e: unknown) => e);
      return { props: { ...a.props, userData: "" }, opts: a.opts };
    };
    await build(() => [new Fleet("big", args({ userData: incompressible }), { transformations: [capture] })]);
    expect(String(await refusal)).toMatch(
      /^Error: big: user-data is \d+ bytes compressed, over EC2's 16384$/,
    );
  });

  test("GIVEN the parameters its hosts read WHEN built THEN the role may read and decrypt those, each by its ARN in the stack's region and account, and nothing the args did not ask for", async () => {
    const { run } = await one({
      parameterNames: [`${PATH}/secret-key-base`, `${PATH}/db-password`, `${PATH}/db-password`],
    });
    const parameters = policyOf(run, "f-parameters");
    expect(parameters.Statement[0]).toEqual({
      Sid: "ReadOwnParameters",
      Effect: "Allow",
      Action: ["ssm:GetParameters", "ssm:GetParameter"],
      // Once each, sorted: no path, no wildcard.
      Resource: [
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PATH}/db-password`,
        `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter${PATH}/secret-key-base`,
      ],
    });
    expect(parameters.Statement[1]).toMatchObject({
      Action: "kms:Decrypt",
      Condition: { StringEquals: { "kms:ViaService": `ssm.${REGION}.amazonaws.com` } },
    });
    // Only the policies every fleet needs: no media, host files, registry, volume or database password.
    const roleId = idOf(run, "aws:iam/role:Role", "f-role");
    const policies = all(run, ROLE_POLICY);
    expect(policies.map((p) => p.name).sort()).toEqual(
      ["f-lifecycle", "f-logs", "f-metrics", "f-parameters", "f-ssm-agent"].sort(),
    );
    for (const p of policies) expect(p.inputs["role"]).toBe(roleId);
    // The SSM Agent's actions inline, without AmazonSSMManagedInstanceCore's read of every parameter.
    expect(policyOf(run, "f-ssm-agent")).toEqual(ssmAgentPolicy());
    expect(all(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
    // EC2 alone may assume it.
    expect(
      JSON.parse(String(find(run, "aws:iam/role:Role", "f-role").inputs["assumeRolePolicy"])).Statement,
    ).toEqual([{ Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" }]);
  });

  test("GIVEN no parameter names WHEN built THEN the role may read no parameter", async () => {
    const { run } = await one();
    expect(all(run, ROLE_POLICY).map((p) => p.name)).not.toContain("f-parameters");
    expect(JSON.stringify(all(run, ROLE_POLICY).map((p) => p.inputs["policy"]))).not.toContain(
      "ssm:GetParameter",
    );
    // Nor through a managed policy (AmazonSSMManagedInstanceCore reads every parameter).
    expect(all(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")).toEqual([]);
  });

  test("GIVEN a fleet WHEN built THEN its role writes only to its own log group, named from the stack's path and the fleet, and completes lifecycle actions only on a group tagged as this fleet's", async () => {
    const { run, fleet } = await one({ tags: { "mastodon:stack": "p/s/m" }, logRetentionDays: 90 });
    const logGroup = find(run, "aws:cloudwatch/logGroup:LogGroup", "f-logs");
    expect(logGroup.inputs).toMatchObject({ name: "/mastodon/p/s/m/web", retentionInDays: 90 });
    expect(await resolve(fleet.logGroup.name)).toBe("/mastodon/p/s/m/web");
    expect(policyOf(run, "f-logs").Statement).toEqual([
      {
        Sid: "WriteOwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
        Resource: `${logGroup.arn}:*`,
      },
    ]);
    expect(policyOf(run, "f-metrics").Statement[0].Condition).toEqual({
      StringEquals: { "cloudwatch:namespace": "Mastodon" },
    });
    const lifecycle = policyOf(run, "f-lifecycle").Statement[0];
    expect(lifecycle.Resource).toBe(
      `arn:aws:autoscaling:${REGION}:${ACCOUNT}:autoScalingGroup:*:autoScalingGroupName/*`,
    );
    expect(lifecycle.Condition).toEqual({
      StringEquals: {
        "autoscaling:ResourceTag/mastodon:fleet": "web",
        "autoscaling:ResourceTag/mastodon:stack": "p/s/m",
      },
    });
    // The group carries the tags the condition names.
    expect(groupTag(run, "mastodon:fleet")?.value).toBe("web");
    expect(groupTag(run, "mastodon:stack")?.value).toBe("p/s/m");
  });

  test("GIVEN the optional grants WHEN built THEN each becomes a policy of the role: the documents as given, the database's password read-only, the owner's read and write, each on its one ARN", async () => {
    const doc = (sid: string) => JSON.stringify({ Version: "2012-10-17", Statement: [{ Sid: sid }] });
    const admin = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/m/admin-password`;
    const owner = `arn:aws:ssm:${REGION}:${ACCOUNT}:parameter/m/owner-password`;
    const { run } = await one({
      mediaAccessPolicy: doc("Media"),
      hostFilesPolicy: doc("HostFiles"),
      dataVolumePolicy: doc("Volume"),
      pullPolicy: doc("Pull"),
      adminPasswordParameterArn: admin,
      ownerPasswordParameterArn: owner,
    });
    for (const [name, sid] of [
      ["f-media", "Media"],
      ["f-host-files", "HostFiles"],
      ["f-redis-volume", "Volume"],
      ["f-registry", "Pull"],
    ] as const)
      expect(policyOf(run, name).Statement).toEqual([{ Sid: sid }]);
    expect(policyOf(run, "f-db-admin").Statement[0]).toEqual({
      Sid: "ReadParameter",
      Effect: "Allow",
      Action: "ssm:GetParameter",
      Resource: admin,
    });
    expect(policyOf(run, "f-owner-password").Statement[0]).toEqual({
      Sid: "ReadAndWriteParameter",
      Effect: "Allow",
      Action: ["ssm:GetParameter", "ssm:PutParameter"],
      Resource: owner,
    });
  });

  test("GIVEN a fleet without Sidekiq WHEN built THEN its instances wait on the launch hook alone, ABANDON by default, and pulumi up waits a launch plus that heartbeat", async () => {
    const { run } = await one();
    const asg = groupOf(run);
    expect(asg.initialLifecycleHooks).toEqual([
      {
        name: LIFECYCLE_HOOK_NAME,
        lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
        defaultResult: "ABANDON",
        heartbeatTimeout: MAX_LIFECYCLE_HEARTBEAT_SECONDS,
      },
    ]);
    expect(asg.waitForCapacityTimeout).toBe(`${MAX_LIFECYCLE_HEARTBEAT_SECONDS + INSTANCE_LAUNCH_SECONDS}s`);
  });

  test("GIVEN a Sidekiq fleet and its boot's heartbeat WHEN built THEN the launch hook waits that long and a termination hook lets its drain finish", async () => {
    const { run } = await one({
      fleet: group({ name: "workers", sidekiqQueues: ["default", "push"] }),
      launchHeartbeatSeconds: 900,
    });
    const asg = groupOf(run);
    expect(asg.initialLifecycleHooks).toEqual([
      {
        name: LIFECYCLE_HOOK_NAME,
        lifecycleTransition: "autoscaling:EC2_INSTANCE_LAUNCHING",
        defaultResult: "ABANDON",
        heartbeatTimeout: 900,
      },
      {
        name: DRAIN.hookName,
        lifecycleTransition: "autoscaling:EC2_INSTANCE_TERMINATING",
        defaultResult: "CONTINUE",
        heartbeatTimeout: DRAIN.heartbeatSeconds,
      },
    ]);
    expect(asg.waitForCapacityTimeout).toBe(`${900 + INSTANCE_LAUNCH_SECONDS}s`);
    // The policy pack's facts: the queues, space-separated, and the connections one host opens.
    expect(groupTag(run, "mastodon:sidekiq-queues")?.value).toBe("default push");
    expect(groupTag(run, "mastodon:postgres-connections")?.value).toBe("30");
  });

  test("GIVEN no scaling target WHEN built THEN no scaling policy, and the group owns its desired capacity", async () => {
    const { run } = await one();
    expect(all(run, POLICY)).toEqual([]);
    expect(groupOf(run).desiredCapacity).toBe(2);
    expect(ignoredChanges.get("f-group")).toBeUndefined();
  });

  test("GIVEN a CPU target WHEN built THEN one target-tracking policy on the group's average CPU, and target tracking owns the desired capacity", async () => {
    const { run, fleet } = await one({ fleet: group({ cpuTarget: 55 }) });
    const groupName = await resolve(fleet.group.name);
    expect(all(run, POLICY).map((p) => [p.name, p.inputs])).toEqual([
      [
        "f-cpu",
        {
          autoscalingGroupName: groupName,
          policyType: "TargetTrackingScaling",
          targetTrackingConfiguration: {
            predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
            targetValue: 55,
          },
          name: expect.any(String),
        },
      ],
    ]);
    expect(ignoredChanges.get("f-group")).toEqual(["desiredCapacity"]);
  });

  test("GIVEN a queue-latency target WHEN built THEN one policy tracks the fleet's largest queue latency, as the hosts publish it for this stack and fleet", async () => {
    const { run } = await one({
      fleet: group({ name: "workers", sidekiqQueues: ["push"], queueLatencyTarget: 30 }),
    });
    expect(all(run, POLICY).map((p) => p.name)).toEqual(["f-queue-latency"]);
    const tracking = find(run, POLICY, "f-queue-latency").inputs as any;
    expect(tracking.estimatedInstanceWarmup).toBe(groupOf(run).defaultInstanceWarmup);
    expect(tracking.targetTrackingConfiguration).toEqual({
      customizedMetricSpecification: {
        namespace: "Mastodon",
        metricName: "FleetQueueLatency",
        metricDimensions: [
          { name: "Stack", value: PATH },
          { name: "Fleet", value: "workers" },
        ],
        statistic: "Maximum",
        unit: "Seconds",
      },
      targetValue: 30,
    });
    expect(ignoredChanges.get("f-group")).toEqual(["desiredCapacity"]);
  });

  test("GIVEN both targets WHEN built THEN both policies", async () => {
    const { run } = await one({ fleet: group({ cpuTarget: 60, queueLatencyTarget: 20 }) });
    expect(
      all(run, POLICY)
        .map((p) => p.name)
        .sort(),
    ).toEqual(["f-cpu", "f-queue-latency"]);
  });

  test("GIVEN target groups WHEN built THEN the group joins them, checks health through the ALB and replaces hosts launch-first: one host above a maxSize of 4", async () => {
    const tgs = [
      `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/web/0123456789abcdef`,
      `arn:aws:elasticloadbalancing:${REGION}:${ACCOUNT}:targetgroup/stream/0123456789abcdef`,
    ];
    const { run } = await one({ targetGroupArns: tgs });
    const asg = groupOf(run);
    expect(asg.targetGroupArns).toEqual(tgs);
    expect(asg.healthCheckType).toBe("ELB");
    expect(asg.instanceMaintenancePolicy).toEqual({ minHealthyPercentage: 100, maxHealthyPercentage: 125 });
    expect(asg.instanceRefresh).toEqual({
      strategy: "Rolling",
      preferences: { minHealthyPercentage: 100, maxHealthyPercentage: 125, instanceWarmup: "120" },
    });
    // Sizes, zones and the template's latest version, which a change of the template rolls out.
    expect(asg).toMatchObject({ minSize: 1, desiredCapacity: 2, maxSize: 4 });
    expect(asg.vpcZoneIdentifiers).toEqual(["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"]);
    expect(asg.launchTemplate).toEqual({ id: idOf(run, LT, "f-template"), version: "1" });
  });

  test.each([
    [
      "the scheduler's queue",
      group({ name: "scheduler", desiredSize: 1, maxSize: 1, sidekiqQueues: ["scheduler"] }),
      { minHealthyPercentage: 0, maxHealthyPercentage: 100 },
    ],
    [
      "other queues, no target group",
      group({ name: "workers", sidekiqQueues: ["default"] }),
      { minHealthyPercentage: 90, maxHealthyPercentage: 100 },
    ],
    [
      "a policy of its own",
      group({ instanceMaintenancePolicy: { minHealthyPercentage: 50, maxHealthyPercentage: 150 } }),
      { minHealthyPercentage: 50, maxHealthyPercentage: 150 },
    ],
  ])(
    "GIVEN %s WHEN built THEN the group's maintenance policy follows from it, and its refreshes repeat that policy",
    async (_, fleet, policy) => {
      const { run } = await one({ fleet });
      const asg = groupOf(run);
      expect(asg.healthCheckType).toBe("EC2");
      expect(asg.instanceMaintenancePolicy).toEqual(policy);
      expect(asg.instanceRefresh.preferences).toEqual({ ...policy, instanceWarmup: "120" });
    },
  );

  test("GIVEN Spot with more types WHEN built THEN the minimum stays on demand, the rest runs on Spot across the types, rebalanced", async () => {
    const { run } = await one({
      fleet: group({
        name: "workers",
        spot: true,
        minSize: 2,
        sidekiqQueues: ["pull"],
        spotInstanceTypes: ["c6g.large", "c8g.large"],
      }),
    });
    const asg = groupOf(run);
    expect(asg.launchTemplate).toBeUndefined();
    expect(asg.capacityRebalance).toBe(true);
    expect(asg.mixedInstancesPolicy).toEqual({
      instancesDistribution: {
        onDemandBaseCapacity: 2,
        onDemandPercentageAboveBaseCapacity: 0,
        spotAllocationStrategy: "price-capacity-optimized",
      },
      launchTemplate: {
        launchTemplateSpecification: { launchTemplateId: idOf(run, LT, "f-template"), version: "1" },
        overrides: [
          { instanceType: "c7g.large" },
          { instanceType: "c6g.large" },
          { instanceType: "c8g.large" },
        ],
      },
    });
  });

  test("GIVEN Spot alone WHEN built THEN the template's one type, no overrides", async () => {
    const { run } = await one({ fleet: group({ spot: true, sidekiqQueues: ["pull"] }) });
    expect(groupOf(run).mixedInstancesPolicy.launchTemplate.overrides).toBeUndefined();
  });

  test("GIVEN the group that prepares the database WHEN built THEN its name is a tag of this group only, not of the instances; without it, no such tag", async () => {
    const { run: waits } = await one({ schemaFromGroup: "scheduler-group-0123456" });
    expect(groupTag(waits, SCHEMA_FROM_TAG)).toEqual({
      key: SCHEMA_FROM_TAG,
      value: "scheduler-group-0123456",
      propagateAtLaunch: false,
    });
    const { run: prepares } = await one();
    expect(groupTag(prepares, SCHEMA_FROM_TAG)).toBeUndefined();
  });

  test("GIVEN two fleets in one program WHEN built THEN every name derives from its component's, none collides, and the outputs are the resources' own", async () => {
    const { run, fleets } = await build(() => [
      new Fleet("blue-web", args()),
      new Fleet(
        "green-web",
        args({ fleet: group({ name: "workers", sidekiqQueues: ["default"], cpuTarget: 50 }) }),
      ),
    ]);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    for (const r of run.resources.filter((r) => r.parent !== null))
      expect(r.name.startsWith(`${r.parent}-`)).toBe(true);
    const [blue, green] = fleets as [Fleet, Fleet];
    expect([blue.fleetName, green.fleetName]).toEqual(["web", "workers"]);
    expect(await resolve(blue.launchTemplate.id)).toBe(idOf(run, LT, "blue-web-template"));
    expect(await resolve(green.group.name)).toBe(groupOf(run, "green-web-group").name);
    expect(await resolve(blue.role.arn)).toBe(arnOf(run, "aws:iam/role:Role", "blue-web-role"));
    expect(await resolve(green.logGroup.name)).toBe("/mastodon/p/s/m/workers");
  });

  test("GIVEN a component name too long for IAM WHEN built THEN the role's name is cut to fit, with a hash", async () => {
    const long = `fleet-${"x".repeat(70)}`;
    const { run } = await one({}, long);
    const role = all(run, "aws:iam/role:Role")[0]!;
    expect(role.name).not.toBe(`${long}-role`);
    expect(String(role.inputs["name"]).length).toBeLessThanOrEqual(64);
  });

  test("GIVEN two fleets of one name under one stack path WHEN built THEN the second log group's name is refused as taken", async () => {
    const error = await build(() => [new Fleet("a", args()), new Fleet("b", args())]).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(NameRefusedError);
    expect((error as NameRefusedError).refusals.map((r) => [r.type, r.resource, r.name])).toEqual([
      ["aws:cloudwatch/logGroup:LogGroup", "b-logs", "/mastodon/p/s/m/web"],
    ]);
  });
});
