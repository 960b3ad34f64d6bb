/**
 * redis.onHost (docs/design.md, "Redis on the host"): refused where it cannot work, and on the
 * small stack's one host two separate servers, each with its own config, unit and password, which
 * the Mastodon units wait for and the env points at.
 */
import { parseStackConfig } from "../core/config";
import { renderFleetHost } from "../core/host/fleetHost";
import { onHostRedisPaths } from "../core/host/onHostRedis";
import { configErrors as errorsOf, stackConfig, withConfig } from "./helpers";

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
    "production without accepting the loss of queued jobs",
    () => {
      const c = small();
      delete c.redis.onHost.acceptJobLoss;
      return c;
    },
    "mastodon:redis.onHost.acceptJobLoss",
    "loses the queued, scheduled and retrying Sidekiq jobs",
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
    },
  });
  const file = (path: string) => host.files.find((f) => f.path === path);

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
