/**
 * The small stack's two on-host Redis (core/host/onHostRedis.ts), each started by a real
 * redis-server from Debian with its rendered redis.conf and password include (only the data
 * directory and the include's path moved to a temporary directory): both refuse commands without
 * AUTH; the cache evicts under pressure without a failed write and leaves nothing on disk; the
 * persistent store answers OOM at its maxmemory and keeps every acknowledged write across kill -9;
 * filled to maxmemory, each stays under the memory-fit table's figure (core/sizing/memory.ts).
 */
import * as fs from "fs";
import Redis from "ioredis";
import * as path from "path";
import { parseStackConfig } from "../../core/config";
import {
  type OnHostRedisServer,
  onHostRedisPaths,
  renderOnHostRedisAuth,
  renderOnHostRedisConf,
} from "../../core/host/onHostRedis";
import type { RedisRole } from "../../core/host/redis";
import { MIB, redisServerMiB } from "../../core/sizing/memory";
import { stackConfig } from "../helpers";
import { freePort, startRedis, stopAllServers, tempDir } from "./servers";

jest.setTimeout(180000);
afterAll(() => stopAllServers());

const PASSWORD = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y5z6A7b8C9d0E1f2";
const onHost = parseStackConfig(stackConfig("small")).config.redis.onHost!;
const maxmemoryMiB: Record<RedisRole, number> = {
  cache: onHost.cacheMaxmemoryMiB,
  persistent: onHost.persistentMaxmemoryMiB,
};

/** The rendered files, with the data directory and the include moved under `dir`; the placeholder filled. */
function renderedServer(role: RedisRole, port: number, dir: string): { conf: string; dataDir: string } {
  const p = onHostRedisPaths(role);
  const server: OnHostRedisServer = {
    port,
    maxmemoryBytes: maxmemoryMiB[role] * MIB,
    passwordPlaceholder: `{{ssm:/mastodon/small/mastodon/redis-${role}-password}}`,
  };
  const dataDir = path.join(dir, "data");
  const auth = path.join(dir, "auth.conf");
  fs.mkdirSync(dataDir);
  fs.writeFileSync(auth, renderOnHostRedisAuth(server).replace(server.passwordPlaceholder, PASSWORD), {
    mode: 0o600,
  });
  const conf = path.join(dir, "redis.conf");
  const text = renderOnHostRedisConf(role, server).replaceAll(p.dataDir, dataDir).replaceAll(p.auth, auth);
  expect(text).not.toContain("/etc/");
  fs.writeFileSync(conf, text);
  return { conf, dataDir };
}

const client = (port: number, password?: string) =>
  new Redis({
    port,
    host: "127.0.0.1",
    password,
    maxRetriesPerRequest: 0,
    lazyConnect: true,
    enableReadyCheck: false,
    retryStrategy: () => null,
  });

/** Writes 4 KiB values until `bytes` are written or a write fails; the keys acknowledged. */
async function fill(redis: Redis, bytes: number): Promise<{ acknowledged: string[]; refused?: string }> {
  const value = "v".repeat(4096);
  const acknowledged: string[] = [];
  for (let i = 0; i * 4096 < bytes; i += 256) {
    const batch = redis.pipeline();
    for (let j = i; j < i + 256; j++) batch.set(`k${j}`, value);
    const results = (await batch.exec()) ?? [];
    for (const [j, [err]] of results.entries()) {
      if (err) return { acknowledged, refused: err.message };
      acknowledged.push(`k${i + j}`);
    }
  }
  return { acknowledged };
}

const rssMiB = (pid: number) =>
  Number(/^VmRSS:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

test("both servers need AUTH; the cache evicts and keeps nothing on disk, within the table's memory", async () => {
  const port = await freePort();
  const { conf, dataDir } = renderedServer("cache", port, tempDir("onhost-cache-"));
  const server = await startRedis([conf], port, PASSWORD);
  const anonymous = client(port);
  const redis = client(port, PASSWORD);
  try {
    await anonymous.connect();
    await expect(anonymous.get("x")).rejects.toThrow(/NOAUTH/);
    await redis.connect();
    expect(await redis.config("GET", "maxmemory-policy")).toEqual(["maxmemory-policy", "allkeys-lru"]);
    const written = await fill(redis, 2 * maxmemoryMiB.cache * MIB);
    expect(written.refused).toBeUndefined();
    expect(await redis.dbsize()).toBeLessThan(written.acknowledged.length);
    const rss = rssMiB(server.process.pid!);
    expect(rss).toBeLessThanOrEqual(redisServerMiB(maxmemoryMiB.cache));
    console.log(
      `on-host cache redis-server filled past maxmemory ${maxmemoryMiB.cache} MiB: RSS ${rss.toFixed(1)} MiB`,
    );
  } finally {
    anonymous.disconnect();
    redis.disconnect();
    await server.stop();
  }
  expect(fs.readdirSync(dataDir)).toEqual([]);
});

test("the persistent store refuses writes at maxmemory and keeps every acknowledged one across kill -9", async () => {
  const port = await freePort();
  const { conf, dataDir } = renderedServer("persistent", port, tempDir("onhost-persistent-"));
  const first = await startRedis([conf], port, PASSWORD);
  const redis = client(port, PASSWORD);
  let acknowledged: string[];
  try {
    await redis.connect();
    const written = await fill(redis, 2 * maxmemoryMiB.persistent * MIB);
    expect(written.refused).toMatch(/^OOM/);
    acknowledged = written.acknowledged;
    const rss = rssMiB(first.process.pid!);
    expect(rss).toBeLessThanOrEqual(redisServerMiB(maxmemoryMiB.persistent));
    console.log(
      `on-host persistent redis-server at maxmemory ${maxmemoryMiB.persistent} MiB: RSS ${rss.toFixed(1)} MiB`,
    );
    // appendfsync everysec: wait past one fsync before pulling the plug.
    await new Promise((r) => setTimeout(r, 1500));
  } finally {
    redis.disconnect();
  }
  await first.kill9();
  expect(fs.readdirSync(dataDir)).toContain("appendonlydir");
  const second = await startRedis([conf], port, PASSWORD);
  const again = client(port, PASSWORD);
  try {
    await again.connect();
    expect(await again.dbsize()).toBe(acknowledged.length);
    expect(await again.exists(acknowledged[acknowledged.length - 1]!)).toBe(1);
  } finally {
    again.disconnect();
    await second.stop();
  }
});
