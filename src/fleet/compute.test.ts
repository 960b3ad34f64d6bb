/**
 * The fleets under Pulumi's mocks: launch templates, roles, Auto Scaling groups, rolling updates,
 * secrets at boot, migrations; and the blast radius of a config change.
 */
import { createECDH, createHash } from "crypto";
import { gunzipSync } from "zlib";
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
import { LOGS_PATHS, agentConfig, fleetLogGroupName } from "../monitoring/logs";
import { fakeSecret } from "../testing/fakeCloud";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import type { MockRun } from "../testing/mocks";
import { STACKS, all, arnOf, find, idOf, runStack, stackConfig, stateOf } from "../../test/helpers";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const ASG = "aws:autoscaling/group:Group";
const SG = "aws:ec2/securityGroup:SecurityGroup";
const TG = "aws:lb/targetGroup:TargetGroup";
const userDataOf = (run: MockRun, fleet: string) =>
  gunzipSync(
    Buffer.from(String(find(run, LT, `mastodon-${fleet}-template`).inputs["userData"]), "base64"),
  ).toString("utf8");

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

test("the migrations document goes straight to PostgreSQL and skips post-deployment migrations only in phase pre", async () => {
  const run = await runStack("production");
  const doc = find(run, "aws:ssm/document:Document");
  expect(doc.inputs["documentType"]).toBe("Command");
  const content = JSON.parse(String(doc.inputs["content"]));
  expect(content.parameters.phase.allowedValues).toEqual(expect.arrayContaining(["pre", "post"]));
  // npm run upgrade passes the new image (official) and the release it deploys.
  expect(Object.keys(content.parameters)).toEqual(expect.arrayContaining(["image", "version"]));
  const commands: string[] = content.mainSteps[0].inputs.runCommand;
  // The primary's endpoint, as RDS gives it.
  const address = stateOf(run, "aws:rds/instance:Instance", "mastodon-db-primary")["address"];
  const direct = `DB_HOST=${address} DB_PORT=5432 DB_SSLMODE=verify-full PREPARED_STATEMENTS=true`;
  // On the host's installation, and in a container of the given image (src/database/migrations.test.ts runs both).
  expect(commands).toContain(`set -- sudo -u mastodon env RAILS_ENV=production ${direct}`);
  expect(commands.join("\n")).toContain(`-e RAILS_ENV=production -e ${direct.replace(/ /g, " -e ")}`);
  // The flag is added to the command's arguments in phase pre, and nowhere else.
  expect(commands.filter((c) => c.includes("SKIP_POST_DEPLOYMENT_MIGRATIONS"))).toEqual([
    '  if [ "$stage" = "pre" ]; then set -- "$@" -e SKIP_POST_DEPLOYMENT_MIGRATIONS=true; fi',
    'if [ "$stage" = "pre" ]; then set -- "$@" SKIP_POST_DEPLOYMENT_MIGRATIONS=true; fi',
  ]);
  // Never in a file on any host.
  for (const lt of all(run, LT)) {
    expect(gunzipSync(Buffer.from(String(lt.inputs["userData"]), "base64")).toString()).not.toContain(
      "SKIP_POST_DEPLOYMENT_MIGRATIONS",
    );
  }
});

test("VAPID keys are a real P-256 pair in Mastodon's urlsafe base64", () => {
  const seed = Buffer.alloc(32, 7).toString("base64");
  const keys = vapidKeysFromPrivate(seed);
  expect(keys.privateKey).toMatch(/^[A-Za-z0-9_-]{43}=$/);
  expect(keys.publicKey).toMatch(/^[A-Za-z0-9_-]{87}=$/);
  const publicKey = Buffer.from(keys.publicKey.replace(/-/g, "+").replace(/_/g, "/"), "base64");
  expect(publicKey[0]).toBe(0x04); // uncompressed point
  // An independent ECDH with the same private key agrees with the derived public key.
  const other = createECDH("prime256v1");
  other.generateKeys();
  const mine = createECDH("prime256v1");
  mine.setPrivateKey(Buffer.from(seed, "base64"));
  expect(mine.computeSecret(other.getPublicKey()).equals(other.computeSecret(publicKey))).toBe(true);
});

test("spot and CPU tracking where configured", async () => {
  const fleets = { ...(stackConfig("production")["fleets"] as Record<string, any>) };
  // One host fewer: Capacity Rebalancing may launch a Spot replacement before the old host leaves,
  // which the budget counts (src/fleet/replacement.ts), and production has 4 connections spare.
  const push = fleets["sidekiq-push"];
  fleets["sidekiq-push"] = { ...push, spot: true, cpuTarget: 60, maxSize: push.maxSize - 1 };
  const run = await runStack("production", { fleets });
  const asg = find(run, ASG, "mastodon-sidekiq-push-group").inputs as any;
  expect(asg.launchTemplate).toBeUndefined();
  expect(asg.capacityRebalance).toBe(true);
  expect(asg.mixedInstancesPolicy.instancesDistribution).toEqual({
    onDemandBaseCapacity: 1,
    onDemandPercentageAboveBaseCapacity: 0,
    spotAllocationStrategy: "price-capacity-optimized",
  });
  expect(find(run, "aws:autoscaling/policy:Policy", "mastodon-sidekiq-push-cpu").inputs).toMatchObject({
    policyType: "TargetTrackingScaling",
    targetTrackingConfiguration: {
      predefinedMetricSpecification: { predefinedMetricType: "ASGAverageCPUUtilization" },
      targetValue: 60,
    },
  });
  expect(() =>
    parseStackConfig({
      ...stackConfig("production"),
      fleets: { ...fleets, "sidekiq-scheduler": { ...fleets["sidekiq-scheduler"], spot: true } },
    }),
  ).toThrow("mastodon:fleets.sidekiq-scheduler.spot: true is refused: this fleet serves the scheduler queue");
});

describe("blast radius", () => {
  const changed = (a: MockRun, b: MockRun) => {
    const before = new Map(a.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));
    return b.resources
      .filter((r) => before.get(`${r.type}::${r.name}`) !== JSON.stringify(r.inputs))
      .map((r) => `${r.type}::${r.name}`);
  };
  const withDefault = (change: (f: any) => void) => {
    const fleets = structuredClone(stackConfig("production")["fleets"]) as Record<string, any>;
    change(fleets["sidekiq-default"]);
    return { fleets };
  };
  let baseline: MockRun;
  beforeAll(async () => {
    baseline = await runStack("production");
  });

  test("a Sidekiq fleet's maxSize changes only its group and the connection alarm: never the database, never a host", async () => {
    const run = await runStack(
      "production",
      withDefault((f) => (f.maxSize = 11)),
    );
    // maxSize counts in the connection budget, whose total is the connection alarm's threshold. The
    // app role's CONNECTION LIMIT comes from max_connections alone (src/budget/budget.ts), so the
    // scheduler's host, which applies it at boot, does not roll: scaling is `pulumi up` alone.
    expect(changed(baseline, run).sort()).toEqual([
      "aws:autoscaling/group:Group::mastodon-sidekiq-default-group",
      "aws:cloudwatch/metricAlarm:MetricAlarm::mastodon-monitoring-db-primary-connections",
    ]);
  });

  test("its threads change only its launch template", async () => {
    const run = await runStack(
      "production",
      withDefault((f) => (f.sidekiq.threads = 12)),
    );
    expect(changed(baseline, run)).toEqual([
      "aws:ec2/launchTemplate:LaunchTemplate::mastodon-sidekiq-default-template",
    ]);
    expect(userDataOf(run, "sidekiq-default")).toContain("mastodon-sidekiq-default@12.service");
  });
});

test("each fleet's log group keeps logs.retentionDays, and its hosts' agent ships to that group", async () => {
  const run = await runStack("dev", { logs: { retentionDays: 90 } });
  const { config } = parseStackConfig(stackConfig("dev"));
  for (const fleet of config.fleets) {
    const group = find(run, "aws:cloudwatch/logGroup:LogGroup", `mastodon-${fleet.name}-logs`);
    expect(group.inputs["retentionInDays"]).toBe(90);
    const name = fleetLogGroupName("/mastodon/mastodon-aws/dev/mastodon", fleet.name);
    expect(group.inputs["name"]).toBe(name);
    const host = fleetArtifacts(run.resources).find((a) => a.fleet === fleet.name)!;
    expect(JSON.parse(host.files[LOGS_PATHS.agentConfig]!)).toEqual(agentConfig(name));
  }
});
