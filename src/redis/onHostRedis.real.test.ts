/**
 * The small stack's two on-host Redis (src/redis/onHostRedisUnits.ts), each started by a real
 * redis-server from Debian with its rendered redis.conf and password include (only the data
 * directory and the include's path moved to a temporary directory): both refuse commands without
 * AUTH; the cache evicts under pressure without a failed write and leaves nothing on disk; the
 * persistent store answers OOM at its maxmemory and keeps every acknowledged write across kill -9;
 * filled to maxmemory, each stays under the memory-fit table's figure (src/fleet/memory.ts). And
 * across a host replacement: the persistent store on its own volume (a loop device, attached and
 * mounted by the real volume program: test/real/volumeStandIns.ts), its host killed, the next host
 * attaching the same volume once the old one has let it go, and a new redis-server there finding
 * every queued job.
 */
import * as fs from "fs";
import type Redis from "ioredis";
import * as path from "path";
import { parseStackConfig } from "../config";
import {
  type OnHostRedisServer,
  onHostRedisPaths,
  renderOnHostRedisAuth,
  renderOnHostRedisConf,
} from "./onHostRedisUnits";
import type { RedisRole } from "./redisServer";
import { MIB, redisServerMiB } from "../fleet/memory";
import { stackConfig } from "../../test/helpers";
import {
  freePort,
  redisClient as client,
  startRedis,
  stopAllServers,
  tempDir,
} from "../../test/real/servers";
import {
  type LoopDevice,
  ec2StandIn,
  isMountPoint,
  loopDevice,
  loopSupport,
  metadataService,
  probe,
  runVolumeProgram,
  unmount,
} from "../../test/real/volumeStandIns";

jest.setTimeout(180000);
afterAll(() => stopAllServers());

const PASSWORD = "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0U1v2W3x4Y5z6A7b8C9d0E1f2";
const onHost = parseStackConfig(stackConfig("small")).config.redis.onHost!;
const maxmemoryMiB: Record<RedisRole, number> = {
  cache: onHost.cacheMaxmemoryMiB,
  persistent: onHost.persistentMaxmemoryMiB,
};

/**
 * The rendered files, with the data directory and the include moved under `dir` (the data directory
 * to `dataDirIn` when given: a mount point); the placeholder filled.
 */
function renderedServer(
  role: RedisRole,
  port: number,
  dir: string,
  dataDirIn?: string,
): { conf: string; dataDir: string } {
  const p = onHostRedisPaths(role);
  const server: OnHostRedisServer = {
    port,
    maxmemoryBytes: maxmemoryMiB[role] * MIB,
    passwordPlaceholder: `{{ssm:/mastodon/small/mastodon/redis-${role}-password}}`,
  };
  const dataDir = dataDirIn ?? path.join(dir, "data");
  const auth = path.join(dir, "auth.conf");
  fs.mkdirSync(dataDir, { recursive: true });
  fs.writeFileSync(auth, renderOnHostRedisAuth(server).replace(server.passwordPlaceholder, PASSWORD), {
    mode: 0o600,
  });
  const conf = path.join(dir, "redis.conf");
  const text = renderOnHostRedisConf(role, server).replaceAll(p.dataDir, dataDir).replaceAll(p.auth, auth);
  expect(text).not.toContain("/etc/");
  fs.writeFileSync(conf, text);
  return { conf, dataDir };
}

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

const unsupported = loopSupport();
if (unsupported) console.warn(`on-host Redis across a host replacement SKIPPED: ${unsupported}`);

/**
 * Issue #20: small keeps its queues across a host replacement. Host 1 attaches the blank volume
 * (the program makes its filesystem), its persistent Redis takes Sidekiq's queued, scheduled and
 * retrying jobs and a home feed, and the host dies (kill -9: no clean stop at all). EC2 still shows
 * the volume on host 1 for a few reads; then host 2, another instance with another root, attaches
 * it, finds the filesystem (never formatted again) and its redis-server reads every job back.
 */
(unsupported ? test.skip : test)(
  "the persistent store's data outlives its host: the next host attaches the volume and finds every queued job",
  async () => {
    const volumeId = "vol-0fedcba9876543210";
    const volume: LoopDevice = loopDevice(64);
    const ec2 = ec2StandIn(volumeId, volume.device);
    const persistentDir = onHostRedisPaths("persistent").dataDir;
    const host = (n: number) => {
      const root = tempDir(`onhost-host${n}-`);
      return { root, dataDir: path.join(root, persistentDir) };
    };
    const [one, two] = [host(1), host(2)];
    const identity = (instanceId: string) => ({ instanceId, zone: "us-east-1a", region: "us-east-1" });
    const input = (dataDir: string) => ({ volumeId, dataDir, owner: "redis:redis" });
    const jobs = Array.from({ length: 50 }, (_, i) =>
      JSON.stringify({ class: "ActivityPub::DeliveryWorker", args: [`payload-${i}`], jid: `jid${i}` }),
    );
    try {
      // Host 1: a new stack's first boot.
      ec2.set({ state: "available", zone: "us-east-1a" });
      const imds1 = await metadataService(identity("i-0aaaaaaaaaaaaaaa1"));
      const attached1 = await runVolumeProgram(input(one.dataDir), { imds: imds1.url, ec2 });
      await imds1.close();
      expect(attached1.stderr).toContain("is blank: making an ext4 filesystem");
      expect(attached1.status).toBe(0);
      const uuid = probe(volume.device)["UUID"];

      const port = await freePort();
      const { conf } = renderedServer("persistent", port, one.root, one.dataDir);
      const first = await startRedis([conf], port, PASSWORD);
      const redis = client(port, PASSWORD);
      try {
        await redis.connect();
        await redis.lpush("queue:push", ...jobs);
        // Sidekiq's scores are epoch seconds; any future instant will do (2100-01-01).
        await redis.zadd("schedule", 4102444800, jobs[0]!);
        await redis.zadd("retry", 4102444800, jobs[1]!);
        await redis.zadd("feed:home:1", 1, "113000000000000001");
        // appendfsync everysec: written within about a second; on a busy machine Redis may hold a
        // write back while a background fsync is slow, so wait until nothing is buffered.
        // Bounded by attempts, not by a clock: at most 600 reads 50 ms apart.
        for (let attempt = 0; ; attempt++) {
          const info = await redis.info("persistence");
          const buffered = Number(/aof_buffer_length:(\d+)/.exec(info)?.[1] ?? "0");
          const pending = Number(/aof_pending_bio_fsync:(\d+)/.exec(info)?.[1] ?? "0");
          if (buffered === 0 && pending === 0) break;
          if (attempt >= 600) throw new Error(`AOF buffer not flushed: ${buffered} bytes`);
          await new Promise((r) => setTimeout(r, 50));
        }
      } finally {
        redis.disconnect();
      }
      await first.kill9();
      // Host 1 is gone: its termination unmounts and detaches the volume; EC2 says so a little later.
      unmount(one.dataDir);
      ec2.detach();
      ec2.set({ state: "in-use", zone: "us-east-1a", holder: "i-0aaaaaaaaaaaaaaa1", attachment: "attached" });
      ec2.holdFor(2);

      // Host 2: the replacement, another instance.
      const imds2 = await metadataService(identity("i-0bbbbbbbbbbbbbbb2"));
      const attached2 = await runVolumeProgram(input(two.dataDir), { imds: imds2.url, ec2 });
      await imds2.close();
      expect(attached2.stderr).toContain("waiting until it is free");
      expect(attached2.stderr).toContain("holds an ext4 filesystem: keeping its data");
      expect(attached2.status).toBe(0);
      expect(probe(volume.device)["UUID"]).toBe(uuid);
      expect(fs.readdirSync(two.dataDir)).toContain("appendonlydir");

      const { conf: conf2 } = renderedServer("persistent", port, two.root, two.dataDir);
      const second = await startRedis([conf2], port, PASSWORD);
      const again = client(port, PASSWORD);
      try {
        await again.connect();
        expect(await again.lrange("queue:push", 0, -1)).toEqual([...jobs].reverse());
        expect(await again.zrange("schedule", 0, -1)).toEqual([jobs[0]]);
        expect(await again.zrange("retry", 0, -1)).toEqual([jobs[1]]);
        expect(await again.zrange("feed:home:1", 0, -1)).toEqual(["113000000000000001"]);
      } finally {
        again.disconnect();
        await second.stop();
      }
    } finally {
      for (const dir of [one.dataDir, two.dataDir]) if (isMountPoint(dir)) unmount(dir);
      volume.detach();
    }
  },
);
