/**
 * Each Redis role's rendered settings in a real redis-server from Debian, doing what the role
 * promises: the cache evicts under memory pressure without errors; the persistent store refuses
 * writes at its limit rather than dropping keys; the self-managed AOF config keeps acknowledged
 * writes across kill -9 and a restart.
 */
import { execFileSync } from "child_process";
import * as fs from "fs";
import type Redis from "ioredis";
import * as path from "path";
import {
  elasticacheParameters,
  renderSelfManagedRedisConf,
  renderSelfManagedRedisUnit,
  renderSelfManagedUserData,
} from "./redisServer";
import {
  freePort,
  redisClient as client,
  requireProgram,
  startRedis,
  stopAllServers,
  tempDir,
} from "../../test/real/servers";

const VALUE = "x".repeat(1024);

// Generous bounds for every test and hook here: thousands of keys written one by one, on a machine that
// may be busy.
jest.setTimeout(180000);

// A test that failed before it stopped its server leaves it to this.
afterAll(() => stopAllServers());

/** ElastiCache applies the parameter group; here the same parameters go on the command line. */
function parameterFlags(role: "cache" | "persistent"): string[] {
  return elasticacheParameters(role).flatMap((p) => [`--${p.name}`, p.value]);
}

async function withServer<T>(
  args: string[],
  port: number,
  body: (redis: Redis) => Promise<T>,
  password?: string,
): Promise<T> {
  const server = await startRedis(args, port, password);
  const redis = client(port, password);
  try {
    await redis.connect();
    return await body(redis);
  } finally {
    redis.disconnect();
    await server.stop();
  }
}

/** Writes keys one after another until `count` or the first refusal; returns what was acknowledged. */
async function fill(redis: Redis, count: number): Promise<{ acknowledged: number; refusal?: Error }> {
  for (let i = 0; i < count; i++) {
    try {
      await redis.set(`key:${i}`, VALUE);
    } catch (e) {
      return { acknowledged: i, refusal: e as Error };
    }
  }
  return { acknowledged: count };
}

const memoryLimit = ["--maxmemory", "4mb", "--save", "", "--appendonly", "no"];

test("cache (allkeys-lru): evicts under memory pressure, every write succeeds", async () => {
  const port = await freePort();
  await withServer(
    ["--port", String(port), "--bind", "127.0.0.1", ...memoryLimit, ...parameterFlags("cache")],
    port,
    async (redis) => {
      expect(await redis.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "allkeys-lru"]);
      const { acknowledged, refusal } = await fill(redis, 20000);
      expect(refusal).toBeUndefined();
      expect(acknowledged).toBe(20000);
      // Read both in one transaction: any command may evict again before it runs.
      const [[, size], [, stats]] = (await redis.multi().dbsize().info("stats").exec()) as [
        [null, number],
        [null, string],
      ];
      const evicted = Number(/evicted_keys:(\d+)/.exec(stats)?.[1]);
      expect(evicted).toBeGreaterThan(0);
      expect(size).toBe(20000 - evicted);
    },
  );
});

test("persistent (noeviction): refuses writes at its limit and keeps every acknowledged key", async () => {
  const port = await freePort();
  await withServer(
    ["--port", String(port), "--bind", "127.0.0.1", ...memoryLimit, ...parameterFlags("persistent")],
    port,
    async (redis) => {
      expect(await redis.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "noeviction"]);
      const { acknowledged, refusal } = await fill(redis, 20000);
      expect(refusal?.message).toMatch(/^OOM command not allowed when used memory > 'maxmemory'/);
      expect(acknowledged).toBeGreaterThan(100);
      expect(Number(/evicted_keys:(\d+)/.exec(await redis.info("stats"))?.[1])).toBe(0);
      expect(await redis.dbsize()).toBe(acknowledged);
      // Reads still work, and freeing memory lets writes in again.
      expect(await redis.get("key:0")).toBe(VALUE);
      await expect(redis.set("one-more", VALUE)).rejects.toThrow(/^OOM/);
      await redis.del(...Array.from({ length: 500 }, (_, i) => `key:${i}`));
      expect(await redis.set("after", "ok")).toBe("OK");
    },
  );
});

describe("self-managed AOF (the rendered redis.conf)", () => {
  const dir = tempDir("mastodon-aof-");
  const secrets = path.join(dir, "secrets.conf");
  const password = "a-test-password-0123456789";
  let port: number;
  let conf: string;

  beforeAll(async () => {
    port = await freePort();
    conf = path.join(dir, "redis.conf");
    fs.writeFileSync(
      conf,
      renderSelfManagedRedisConf({
        dir,
        port,
        bind: ["127.0.0.1"],
        maxmemoryBytes: 64 * 1024 ** 2,
        includeFile: secrets,
      }),
    );
    // What the boot script writes on the host: the password, and the private address to bind.
    fs.writeFileSync(secrets, `bind 127.0.0.1\nrequirepass ${password}\n`);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("keeps acknowledged writes across kill -9 and restart", async () => {
    const first = await startRedis([conf], port, password);
    const writer = client(port, password);
    try {
      expect(await writer.config("GET", "appendonly")).toEqual(["appendonly", "yes"]);
      expect(await writer.config("GET", "appendfsync")).toEqual(["appendfsync", "everysec"]);
      const { acknowledged } = await fill(writer, 2000);
      expect(acknowledged).toBe(2000);
      await writer.lpush("queue:default", "job-1", "job-2");
      // A process crash loses only what Redis has not yet written to the AOF file (the kernel keeps
      // what was written, fsynced or not). With everysec, Redis may hold writes back for up to 2 s
      // while a background fsync is slow (a busy machine): wait until its AOF buffer is empty, as
      // any write older than that is on a real host.
      const deadline = Date.now() + 30_000;
      for (;;) {
        const info = await writer.info("persistence");
        const buffered = Number(/aof_buffer_length:(\d+)/.exec(info)?.[1] ?? "0");
        const delayed = Number(/aof_pending_bio_fsync:(\d+)/.exec(info)?.[1] ?? "0");
        if (buffered === 0 && delayed === 0) break;
        if (Date.now() > deadline) throw new Error(`AOF buffer not flushed: ${buffered} bytes`);
        await new Promise((r) => setTimeout(r, 50));
      }
    } finally {
      writer.disconnect();
      await first.kill9();
    }

    // startRedis returns once the server answers PONG: it has read the AOF back (until then, LOADING).
    const second = await startRedis([conf], port, password);
    const reader = client(port, password);
    try {
      expect(await reader.dbsize()).toBe(2001);
      expect(await reader.get("key:1999")).toBe(VALUE);
      expect(await reader.lrange("queue:default", 0, -1)).toEqual(["job-2", "job-1"]);
      expect(fs.existsSync(path.join(dir, "appendonlydir"))).toBe(true);
    } finally {
      reader.disconnect();
      await second.stop();
    }
  });

  test("refuses clients without the password", async () => {
    const server = await startRedis([conf], port, password);
    const anonymous = client(port);
    try {
      await anonymous.connect();
      await expect(anonymous.get("key:1")).rejects.toThrow(/NOAUTH/);
    } finally {
      anonymous.disconnect();
      await server.stop();
    }
  });
});

describe("the self-managed host's rendered files, checked by the programs that consume them", () => {
  const dir = tempDir("mastodon-redis-host-");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("cloud-init accepts the user-data", () => {
    requireProgram("/usr/bin/cloud-init");
    const file = path.join(dir, "user-data.yaml");
    fs.writeFileSync(
      file,
      renderSelfManagedUserData({
        volumeId: "vol-0123456789abcdef0",
        passwordParameter: "/mastodon/p/m/redis-persistent-password",
        region: "us-east-1",
        port: 6379,
        maxmemoryBytes: 2 ** 31,
      }),
    );
    expect(execFileSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" })).toContain(
      "Valid cloud-config",
    );
    // The check has teeth: a write_files entry without its path is refused.
    const broken = path.join(dir, "broken.yaml");
    fs.writeFileSync(broken, "#cloud-config\nwrite_files:\n  - content: x\n");
    expect(() =>
      execFileSync("cloud-init", ["schema", "--config-file", broken], { stdio: "pipe" }),
    ).toThrow();
  });

  test("systemd-analyze verify accepts the unit", () => {
    requireProgram("/usr/bin/systemd-analyze");
    const unit = path.join(dir, "redis-mastodon.service");
    fs.writeFileSync(unit, renderSelfManagedRedisUnit("/etc/redis/mastodon.conf", dir));
    const out = execFileSync("systemd-analyze", ["verify", unit], { encoding: "utf8", stdio: "pipe" });
    expect(out).toBe("");
  });

  test("redis-server refuses a conf it cannot parse: starting it on the rendered one (above) is a real check", () => {
    const bad = path.join(dir, "bad.conf");
    fs.writeFileSync(bad, "appendfsync sometimes\n");
    expect(() => execFileSync("/usr/bin/redis-server", [bad], { stdio: "pipe", timeout: 60000 })).toThrow(
      /appendfsync|Bad directive|argument/i,
    );
  });
});
