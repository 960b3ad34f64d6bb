/**
 * redis.onHost (docs/design.md, "Redis on the host"): refused where it cannot work, and on the
 * small stack's one host two separate servers, each with its own config, unit and password, which
 * the Mastodon units wait for and the env points at; the persistent one's data on an EBS volume of
 * its own, in the one zone its fleet is placed in, which only that fleet's instances may attach.
 */
import { parseStackConfig } from "../config";
import { renderFleetHost } from "../fleet/host/fleetHost";
import { HOST_FILES } from "../fleet/host/hostFiles";
import { onHostRedisPaths } from "./onHostRedisUnits";
import { BOOT_UNIT, DRAIN, lifecycleHeartbeatSeconds } from "../fleet/host/readiness";
import { bootTimeoutSeconds } from "../fleet/host/bootStep";
import { REDIS_VOLUME_PATHS, redisVolumeStep } from "./redisVolume";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import { all, configErrors as errorsOf, find, runStack, stackConfig, withConfig } from "../../test/helpers";

const small = () => structuredClone(stackConfig("small")) as any;

const REFUSED: [string, () => Record<string, unknown>, string, string][] = [
  [
    "more than one fleet",
    () => withConfig((c) => (c.redis = { onHost: {} })),
    "mastodon:redis.onHost",
    "the stack has 4 fleets",
  ],
  [
    "a fleet that can grow past one host",
    () => {
      const c = small();
      c.fleets.all.maxSize = 2;
      c.fleets.all.sidekiq.queues = ["default", "ingress", "push", "pull", "mailers", "fasp"];
      return c;
    },
    "mastodon:fleets.all.maxSize",
    "each host would run its own empty Redis",
  ],
  [
    "a volume too small for what the persistent store writes",
    () => {
      const c = small();
      c.redis.onHost.persistentVolumeGiB = 1;
      c.redis.onHost.persistentMaxmemoryMiB = 256;
      c.fleets.all.instanceType = "c6g.large";
      return c;
    },
    "mastodon:redis.onHost.persistentVolumeGiB",
    "up to 1344 MiB",
  ],
  [
    "ElastiCache keys beside it",
    () => {
      const c = small();
      c.redis.persistent = { nodes: 2 };
      return c;
    },
    "mastodon:redis.persistent",
    "which mastodon:redis.onHost replaces",
  ],
];

test.each(REFUSED)("refuses %s, by key", (_what, config, key, fragment) => {
  const problem = errorsOf(config()).find((p) => p.key === key);
  expect(problem?.message).toContain(fragment);
});

test("production without acceptJobLoss: accepted (the volume keeps the queues), with a warning of what it does not keep", () => {
  const c = small();
  delete c.redis.onHost.acceptJobLoss;
  expect(errorsOf(c)).toEqual([]);
  const warning = parseStackConfig(c).warnings.find((w) => w.key === "mastodon:redis.onHost.acceptJobLoss");
  expect(warning?.message).toContain("keeps the queued jobs and home feeds");
  expect(warning?.message).toContain("the volume has no snapshot and lives in one zone");
  // Accepted, it is quiet (the shipped small stack).
  expect(parseStackConfig(stackConfig("small")).warnings.map((w) => w.key)).not.toContain(
    "mastodon:redis.onHost.acceptJobLoss",
  );
});

test("accepted outside production without acceptJobLoss (dev), and by the shipped small stack", () => {
  const dev = structuredClone(stackConfig("dev")) as any;
  // small's persistent maxmemory: the default 128 MiB does not fit dev's 2 GiB host with the rest.
  dev.redis = { onHost: { persistentMaxmemoryMiB: 96 } };
  expect(errorsOf(dev)).toEqual([]);
  expect(parseStackConfig(stackConfig("small")).config.redis.onHost).toMatchObject({
    cachePort: 6380,
    persistentPort: 6381,
    acceptJobLoss: true,
  });
});

describe("the small stack's host", () => {
  const { config } = parseStackConfig(stackConfig("small"));
  const fleet = config.fleets[0]!;
  const host = renderFleetHost({
    fleet,
    env: {
      REDIS_URL: "redis://:{{ssm:/p/redis-persistent-password}}@127.0.0.1:6381/0",
      SIDEKIQ_REDIS_URL: "redis://:{{ssm:/p/redis-persistent-password}}@127.0.0.1:6381/0",
      CACHE_REDIS_URL: "redis://:{{ssm:/p/redis-cache-password}}@127.0.0.1:6380/0",
    },
    parameterPath: "/p",
    region: "us-east-1",
    metrics: { stack: "/p", region: "us-east-1", fleets: config.fleets },
    hostFiles: { bucket: "mastodon-host-files-bucket-0123abc" },
    logGroupName: "/mastodon/p/all",
    onHostRedis: {
      cache: {
        port: 6380,
        maxmemoryBytes: 64 * 1024 ** 2,
        passwordPlaceholder: "{{ssm:/p/redis-cache-password}}",
      },
      persistent: {
        port: 6381,
        maxmemoryBytes: 96 * 1024 ** 2,
        passwordPlaceholder: "{{ssm:/p/redis-persistent-password}}",
      },
      persistentVolumeId: "vol-0123456789abcdef0",
    },
  });
  const file = (path: string) => host.files.find((f) => f.path === path);
  const unit = (name: string) => host.units.find((u) => u.name === name)?.content ?? "";

  test("the persistent Redis starts only on its volume, mounted by the unit it requires; the cache needs none", () => {
    const persistent = unit(onHostRedisPaths("persistent").unit);
    const dataDir = onHostRedisPaths("persistent").dataDir;
    expect(persistent).toMatch(/^Requires=mastodon-redis-volume\.service$/m);
    expect(persistent).toMatch(/^After=.*mastodon-redis-volume\.service/m);
    expect(persistent).toContain(`\nRequiresMountsFor=${dataDir}\n`);
    // Outside the sandbox (+): inside it ReadWritePaths= makes the directory a mount point anyway.
    expect(persistent).toContain(`\nExecStartPre=+/usr/bin/mountpoint -q ${dataDir}\n`);
    expect(unit(onHostRedisPaths("cache").unit)).not.toMatch(/redis-volume|mountpoint/);
    const volume = unit(REDIS_VOLUME_PATHS.unit);
    expect(volume).toContain(
      `ExecStart=${REDIS_VOLUME_PATHS.program} --volume-id vol-0123456789abcdef0 --data-dir ${dataDir} --owner redis:redis`,
    );
    expect(volume).toMatch(/^Type=oneshot$/m);
    expect(volume).not.toContain("[Install]");
  });

  test("the boot fetches the volume's program, then mounts the volume before anything starts a Redis", () => {
    const boot = unit(BOOT_UNIT)
      .split("\n")
      .filter((l) => l.startsWith("ExecStart="));
    const program = HOST_FILES.find((f) => f.path === REDIS_VOLUME_PATHS.program)!;
    const fetch = boot.findIndex((l) => l.includes(program.key));
    const mount = boot.indexOf(`ExecStart=/usr/bin/systemctl start ${REDIS_VOLUME_PATHS.unit}`);
    const firstRedis = boot.findIndex((l) => /systemctl (start|enable) .*mastodon-redis-persistent/.test(l));
    expect(fetch).toBeGreaterThanOrEqual(0);
    expect(mount).toBeGreaterThan(fetch);
    expect(firstRedis).toBeGreaterThan(mount);
    // The launch hook waits for the mount's bound too.
    const steps = host.launchHeartbeatSeconds;
    expect(steps).toBeLessThanOrEqual(7200);
    // The wait for the old instance ends by an uptime past its drain and shutdown, whatever came before.
    expect(redisVolumeStep().untilUptimeSeconds).toBeGreaterThanOrEqual(DRAIN.heartbeatSeconds + 60);
    expect(lifecycleHeartbeatSeconds([redisVolumeStep()])).toBeLessThan(steps);
  });

  test("the boot's bound counts the volume's wait only beyond the steps before it (they ran while the old host drained)", () => {
    const step = redisVolumeStep();
    const until = step.untilUptimeSeconds!;
    const quick = { argv: ["/bin/true"], boundSeconds: 100 };
    const slow = { argv: ["/bin/true"], boundSeconds: until + 200 };
    // Steps that may end early: the wait can last until the uptime, then the rest of the program.
    expect(bootTimeoutSeconds([quick, step])).toBe(until + step.boundSeconds);
    // Steps that may take longer than the old host's drain: the wait adds nothing but the program.
    expect(bootTimeoutSeconds([slow, step])).toBe(slow.boundSeconds + step.boundSeconds);
  });

  test("two units, two configs and two password includes; the Mastodon units start after both", () => {
    for (const role of ["cache", "persistent"] as const) {
      const p = onHostRedisPaths(role);
      expect(host.units.map((u) => u.name)).toContain(p.unit);
      expect(file(p.conf)).toMatchObject({ owner: "root:redis", permissions: "0640", defer: true });
      expect(file(p.authTemplate)?.content).toMatch(
        new RegExp(`^requirepass \\{\\{ssm:/p/redis-${role}-password\\}\\}$`, "m"),
      );
    }
    const web = host.units.find((u) => u.name === "mastodon-web.service")!.content;
    expect(web).toMatch(/^After=.*mastodon-redis-cache\.service mastodon-redis-persistent\.service/m);
    expect(host.userData).toContain("redis-server");
    expect(host.userData).toContain("redis-server.service");
  });

  test("the cache keeps nothing on disk and evicts; the persistent store appends and never evicts", () => {
    const cache = file(onHostRedisPaths("cache").conf)!.content;
    const persistent = file(onHostRedisPaths("persistent").conf)!.content;
    expect(cache).toMatch(/^maxmemory-policy allkeys-lru$/m);
    expect(cache).toMatch(/^appendonly no$/m);
    expect(cache).toMatch(/^save ""$/m);
    expect(persistent).toMatch(/^maxmemory-policy noeviction$/m);
    expect(persistent).toMatch(/^appendonly yes$/m);
    expect(persistent).toMatch(/^appendfsync everysec$/m);
    for (const conf of [cache, persistent]) expect(conf).toMatch(/^bind 127\.0\.0\.1$/m);
  });
});

/**
 * The small stack as the program declares it (resources.json): the persistent Redis's volume, in the
 * zone of its fleet's only subnet; the fleet's role may attach that volume, by its ARN and tags, to
 * instances carrying the tags the fleet's launch template gives its instances, and nothing else; the
 * group terminates its host before launching the next (EBS volumes attach to one instance at a time).
 */
describe("the small stack's persistent Redis volume, as declared", () => {
  const VOLUME = "aws:ebs/volume:Volume";
  const GROUP = "aws:autoscaling/group:Group";
  const SUBNET = "aws:ec2/subnet:Subnet";

  test("one encrypted gp3 volume of persistentVolumeGiB, in the zone of the fleet's only subnet", async () => {
    const run = await runStack("small");
    const volume = find(run, VOLUME);
    expect(volume.inputs).toMatchObject({ type: "gp3", encrypted: true, size: 8, finalSnapshot: true });
    const group = find(run, GROUP);
    const subnetIds = group.inputs["vpcZoneIdentifiers"] as string[];
    expect(subnetIds).toHaveLength(1);
    const subnet = all(run, SUBNET).find((s) => s.id === subnetIds[0])!;
    expect(subnet.inputs["availabilityZone"]).toBe(volume.inputs["availabilityZone"]);
    // The first of the network's zones: its first public subnet's.
    expect(subnet.name).toMatch(/-public-a$/);
    // The host is told which volume to attach.
    const [fleet] = fleetArtifacts(run.resources);
    expect(fleet!.units[REDIS_VOLUME_PATHS.unit]).toContain(`--volume-id ${volume.id} `);
    // Terminate, then launch: the next host can attach the volume only once the old one has let it go.
    expect(group.inputs["instanceMaintenancePolicy"]).toEqual({
      minHealthyPercentage: 0,
      maxHealthyPercentage: 100,
    });
  });

  test("the role attaches that volume only, to instances with its fleet's launch tags only; it detaches nothing", async () => {
    const run = await runStack("small");
    const volume = find(run, VOLUME);
    const policy = all(run, "aws:iam/rolePolicy:RolePolicy").filter((p) =>
      String(p.inputs["policy"]).includes("ec2:"),
    );
    expect(policy.map((p) => p.name)).toEqual(["mastodon-all-redis-volume"]);
    const statements = JSON.parse(String(policy[0]!.inputs["policy"])).Statement as {
      Action: string;
      Resource: string;
      Condition?: { StringEquals: Record<string, string> };
    }[];
    expect(statements.map((s) => s.Action).sort()).toEqual([
      "ec2:AttachVolume",
      "ec2:AttachVolume",
      "ec2:DescribeVolumes",
    ]);
    const tagsOf = (s: (typeof statements)[number]) =>
      Object.fromEntries(
        Object.entries(s.Condition?.StringEquals ?? {}).map(([k, v]) => [
          k.replace("ec2:ResourceTag/", ""),
          v,
        ]),
      );
    const onVolume = statements.find((s) => s.Resource === volume.arn)!;
    const onInstances = statements.find((s) => s.Resource.endsWith(":instance/*"))!;
    expect(onVolume).toBeDefined();
    expect(onInstances.Resource).toBe(volume.arn!.replace(/volume\/vol-[0-9a-f]+$/, "instance/*"));
    // Each condition names tags the resource really carries: the volume's, and the fleet's instances'.
    expect(Object.keys(tagsOf(onVolume)).length).toBeGreaterThan(0);
    expect(volume.inputs["tags"]).toMatchObject(tagsOf(onVolume));
    const template = find(run, "aws:ec2/launchTemplate:LaunchTemplate");
    const instanceTags = (
      template.inputs["tagSpecifications"] as { resourceType: string; tags: Record<string, string> }[]
    ).find((t) => t.resourceType === "instance")!.tags;
    expect(Object.keys(tagsOf(onInstances))).toEqual(
      expect.arrayContaining(["mastodon:stack", "mastodon:fleet"]),
    );
    expect(instanceTags).toMatchObject(tagsOf(onInstances));
    // Another deployment's instances do not match: the stack tag names this one.
    expect(tagsOf(onInstances)["mastodon:stack"]).toBe(
      (volume.inputs["tags"] as Record<string, string>)["mastodon:stack"],
    );
  });

  test("a stack without redis.onHost has no such volume, and its fleets keep every zone", async () => {
    const run = await runStack("dev");
    expect(all(run, VOLUME)).toEqual([]);
    for (const group of all(run, GROUP))
      expect((group.inputs["vpcZoneIdentifiers"] as string[]).length).toBeGreaterThan(1);
  });
});
