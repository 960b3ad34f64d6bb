/**
 * OnHostRedis on its own, under Pulumi's mocks (docs/design.md, "Redis on the host"): the two
 * on-host servers' AUTH passwords as SSM SecureStrings, the persistent store's own encrypted volume
 * in one zone, where the fleet that runs both must go, and the policy that lets that fleet's
 * instances, and no others, attach it. Built from plain ids and strings, with no MastodonStack.
 */
import * as pulumi from "@pulumi/pulumi";
import { OnHostRedis, type OnHostRedisArgs } from "./onHostRedis";
import { fakeSecret } from "../testing/fakeCloud";
import { runUnderMocks } from "../testing/mocks";
import { all, arnOf, find, idOf, resolve } from "../../test/helpers";

const VOLUME = "aws:ebs/volume:Volume";
const SSM = "aws:ssm/parameter:Parameter";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const OPTS = { project: "p", stack: "s", config: { "aws:region": "us-east-1" } };

/** GIVEN: the fewest inputs it needs, as plain ids and strings. */
const ARGS: OnHostRedisArgs = {
  parameterPrefix: "/m/p/s/m",
  cachePort: 6380,
  persistentPort: 6381,
  persistentVolumeGiB: 8,
  availabilityZone: "us-east-1a",
  subnetId: "subnet-0app",
  fleetName: "all",
  tags: { "mastodon:stack": "p/s/m" },
};

type Options = Map<string, { protect: boolean; retainOnDelete: boolean }>;
/** What each registration asked of the engine beyond its inputs, by logical name (the recorder keeps inputs only). */
function engineOptions(): Options {
  const seen: Options = new Map();
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

/** WHEN: a program that builds one OnHostRedis, and nothing else, runs under mocks. */
async function declare(extra: Partial<OnHostRedisArgs> = {}, name = "m-redis") {
  let redis: OnHostRedis | undefined;
  let options: Options = new Map();
  const run = await runUnderMocks(() => {
    options = engineOptions();
    redis = new OnHostRedis(name, { ...ARGS, ...extra });
    return { volumeId: redis.persistentVolume.id };
  }, OPTS);
  return { run, redis: redis!, options };
}

/** The attach policy the fleet's role gets, parsed. */
async function attachPolicy(redis: OnHostRedis) {
  return JSON.parse(await resolve(redis.placement.dataVolumePolicy)) as {
    Version: string;
    Statement: Record<string, unknown>[];
  };
}

describe("OnHostRedis on its own", () => {
  test("GIVEN the fewest args WHEN it runs THEN two passwords, two SecureStrings and one volume, and nothing that listens on the network: no ElastiCache, instance or security group", async () => {
    const { run } = await declare();
    expect(find(run, "mastodon:index:OnHostRedis").name).toBe("m-redis");
    expect(
      run.resources
        .filter((r) => r.custom)
        .map((r) => `${r.type} ${r.name}`)
        .sort(),
    ).toEqual(
      [
        `${PASSWORD} m-redis-cache-auth`,
        `${PASSWORD} m-redis-persistent-auth`,
        `${SSM} m-redis-cache-auth`,
        `${SSM} m-redis-persistent-auth`,
        `${VOLUME} m-redis-persistent-data`,
      ].sort(),
    );
    for (const r of run.resources.filter((x) => x.custom)) expect(r.parent).toBe("m-redis");
  });

  test("GIVEN a parameter prefix WHEN it runs THEN each server's AUTH password is 64 alphanumeric characters, generated, and kept only in a SecureString named for its role", async () => {
    const { run, redis } = await declare();
    for (const role of ["cache", "persistent"] as const) {
      expect(find(run, PASSWORD, `m-redis-${role}-auth`).inputs).toEqual({ length: 64, special: false });
      expect(find(run, SSM, `m-redis-${role}-auth`).inputs).toMatchObject({
        name: `/m/p/s/m/redis-${role}-password`,
        type: "SecureString",
        value: "[secret]",
      });
      expect(redis[role].passwordParameterName).toBe(`/m/p/s/m/redis-${role}-password`);
    }
    const everything = JSON.stringify(run.resources);
    for (const role of ["cache", "persistent"])
      expect(everything).not.toContain(fakeSecret(`m-redis-${role}-auth`, 64));
  });

  test("GIVEN two ports WHEN it runs THEN each endpoint is loopback on its own port, in plain text, with no ElastiCache member; only the persistent one has a volume, the declared one", async () => {
    const { run, redis } = await declare();
    expect(await resolve(redis.cache.host)).toBe("127.0.0.1");
    expect(await resolve(redis.persistent.host)).toBe("127.0.0.1");
    expect([redis.cache.role, redis.cache.port, redis.cache.tls]).toEqual(["cache", 6380, false]);
    expect([redis.persistent.role, redis.persistent.port, redis.persistent.tls]).toEqual([
      "persistent",
      6381,
      false,
    ]);
    expect(redis.cache.memberClusterIds).toEqual([]);
    expect(redis.persistent.memberClusterIds).toEqual([]);
    expect(redis.cache.dataVolumeId).toBeUndefined();
    expect(await resolve(redis.persistent.dataVolumeId!)).toBe(idOf(run, VOLUME, "m-redis-persistent-data"));
    expect(run.outputs["volumeId"]).toBe(idOf(run, VOLUME, "m-redis-persistent-data"));
  });

  test("GIVEN a zone, a size and the deployment's tags WHEN it runs THEN the volume is encrypted gp3 of that size in that zone, carrying those tags and what it holds; neither protected nor retained, and no final snapshot by default", async () => {
    const { run, options } = await declare();
    expect(find(run, VOLUME, "m-redis-persistent-data").inputs).toEqual({
      availabilityZone: "us-east-1a",
      size: 8,
      type: "gp3",
      encrypted: true,
      finalSnapshot: false,
      tags: {
        "mastodon:stack": "p/s/m",
        "mastodon:redis-volume": "persistent",
        Name: "m-redis-persistent-data",
      },
    });
    expect(options.get("m-redis-persistent-data")).toEqual({ protect: false, retainOnDelete: false });
  });

  test("GIVEN finalSnapshot (production) and another size and zone WHEN it runs THEN the volume is snapshotted on deletion, of the size and in the zone given", async () => {
    const { run } = await declare({
      finalSnapshot: true,
      persistentVolumeGiB: 16,
      availabilityZone: "us-east-1c",
    });
    expect(find(run, VOLUME).inputs).toMatchObject({
      finalSnapshot: true,
      size: 16,
      availabilityZone: "us-east-1c",
    });
  });

  test("GIVEN a subnet, a fleet name and the deployment's tags WHEN it runs THEN the fleet goes in that subnet alone, and its role may attach this volume alone, carrying its tags, to instances carrying the deployment's and the fleet's tags alone, and read volumes' state; never detach", async () => {
    const { run, redis } = await declare();
    // A one-host fleet in the volume's zone only: its replacement lands where the volume is.
    expect(await Promise.all(redis.placement.subnetIds.map(resolve))).toEqual(["subnet-0app"]);
    const volumeArn = arnOf(run, VOLUME, "m-redis-persistent-data");
    expect(await attachPolicy(redis)).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "AttachTheVolume",
          Effect: "Allow",
          Action: "ec2:AttachVolume",
          Resource: volumeArn,
          Condition: {
            StringEquals: {
              "ec2:ResourceTag/mastodon:redis-volume": "persistent",
              "ec2:ResourceTag/mastodon:stack": "p/s/m",
            },
          },
        },
        {
          Sid: "ToOwnInstances",
          Effect: "Allow",
          Action: "ec2:AttachVolume",
          // The volume's own account and region.
          Resource: "arn:aws:ec2:us-east-1:123456789012:instance/*",
          Condition: {
            StringEquals: {
              "ec2:ResourceTag/mastodon:fleet": "all",
              "ec2:ResourceTag/mastodon:stack": "p/s/m",
            },
          },
        },
        { Sid: "ReadVolumes", Effect: "Allow", Action: "ec2:DescribeVolumes", Resource: "*" },
      ],
    });
  });

  test("GIVEN another fleet and deployment WHEN it runs THEN the policy's conditions follow them, so one deployment's fleet cannot take another's volume", async () => {
    const { redis } = await declare({ fleetName: "solo", tags: { "mastodon:stack": "q/prod/m" } });
    const conditions = (await attachPolicy(redis)).Statement.map((s) => s["Condition"]);
    expect(conditions).toEqual([
      {
        StringEquals: {
          "ec2:ResourceTag/mastodon:redis-volume": "persistent",
          "ec2:ResourceTag/mastodon:stack": "q/prod/m",
        },
      },
      {
        StringEquals: {
          "ec2:ResourceTag/mastodon:fleet": "solo",
          "ec2:ResourceTag/mastodon:stack": "q/prod/m",
        },
      },
      undefined,
    ]);
  });

  test("GIVEN two, blue and green, each with its own prefix, in one program WHEN it runs THEN no (type, name) repeats, every resource is named after its own component, and each policy names its own volume", async () => {
    let blue: OnHostRedis | undefined;
    let green: OnHostRedis | undefined;
    const run = await runUnderMocks(() => {
      blue = new OnHostRedis("blue-redis", { ...ARGS, parameterPrefix: "/m/blue" });
      green = new OnHostRedis("green-redis", { ...ARGS, parameterPrefix: "/m/green" });
      return {};
    }, OPTS);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    for (const name of ["blue-redis", "green-redis"])
      for (const r of run.resources.filter((x) => x.parent === name))
        expect(r.name.startsWith(`${name}-`)).toBe(true);
    expect(all(run, SSM).map((p) => p.inputs["name"])).toEqual([
      "/m/blue/redis-cache-password",
      "/m/blue/redis-persistent-password",
      "/m/green/redis-cache-password",
      "/m/green/redis-persistent-password",
    ]);
    expect((await attachPolicy(blue!)).Statement[0]!["Resource"]).toBe(
      arnOf(run, VOLUME, "blue-redis-persistent-data"),
    );
    expect((await attachPolicy(green!)).Statement[0]!["Resource"]).toBe(
      arnOf(run, VOLUME, "green-redis-persistent-data"),
    );
  });
});
