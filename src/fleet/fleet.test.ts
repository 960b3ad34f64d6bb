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
  MAX_LIFECYCLE_HEARTBEAT_SECONDS,
  LIFECYCLE_HOOK_NAME,
  READINESS,
  READINESS_PATHS,
} from "./host/readiness";
import { vapidKeysFromPrivate } from "../stack/vapid";
import { fakeSecret } from "../testing/fakeCloud";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import type { MockRun } from "../testing/mocks";
import { STACKS, all, arnOf, find, idOf, runStack, stackConfig, userDataOf } from "../../test/helpers";

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
      expect(
        find(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment", `mastodon-${fleet.name}-ssm`).inputs[
          "policyArn"
        ],
      ).toBe("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore");
    }
  });
});
