/**
 * The on-host persistent Redis's volume program (src/redis/files/mastodon-redis-volume.sh) run for
 * real, with its rendered command line (src/redis/redisVolume.ts), against a real block device (a
 * loop device over a file image), real blkid, mkfs.ext4 and mount from Debian, an IMDSv2 stand-in and
 * a stand-in AWS CLI playing EC2 (test/real/volumeStandIns.ts): it waits while another instance
 * holds the volume and retries VolumeInUse, makes a filesystem on a blank device only, never formats
 * or mounts a device that holds anything else, refuses a volume in another zone at once, gives up
 * when the volume is not freed within its wait, and asks EC2 nothing when the device is already here
 * (a reboot). src/redis/onHostRedis.real.test.ts runs Redis on what it mounts, across two hosts.
 *
 * Needs root (losetup, mount): skipped with the reason printed otherwise.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { onHostRedisPaths } from "./onHostRedisUnits";
import { DRAIN } from "../fleet/host/readiness";
import { nvmeDevicePath, REDIS_VOLUME_BOUNDS } from "./redisVolume";
import { requireProgram, tempDir } from "../../test/real/servers";
import {
  type Ec2StandIn,
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

const unsupported = loopSupport();
if (unsupported) console.warn(`volume program tests SKIPPED: ${unsupported}`);
const realTest = unsupported ? test.skip : test;

const VOLUME_ID = "vol-0123456789abcdef0";
const ZONE = "us-east-1a";
const HOST = { instanceId: "i-0aaaaaaaaaaaaaaa1", zone: ZONE, region: "us-east-1" };

const devices: LoopDevice[] = [];
const mounts: string[] = [];
afterAll(() => {
  for (const m of mounts) unmount(m);
  for (const d of devices) d.detach();
});

/** A fresh volume (a loop device) and EC2 stand-in; the data directory a new host would mount it at. */
function fresh(mib = 64): { volume: LoopDevice; ec2: Ec2StandIn; dataDir: string } {
  const volume = loopDevice(mib);
  devices.push(volume);
  const ec2 = ec2StandIn(VOLUME_ID, volume.device);
  const dataDir = path.join(tempDir("mastodon-host-"), onHostRedisPaths("persistent").dataDir);
  mounts.push(dataDir);
  return { volume, ec2, dataDir };
}

const input = (dataDir: string) => ({ volumeId: VOLUME_ID, dataDir, owner: "redis:redis" });
const actions = (ec2: Ec2StandIn) =>
  ec2.calls().map((c) => c.split(" ").find((w) => /^(describe-volumes|attach-volume)$/.test(w)));

test("the stand-in AWS CLI passes shellcheck", () => {
  requireProgram("/usr/bin/shellcheck");
  const ec2 = ec2StandIn(VOLUME_ID, "/dev/null");
  const r = spawnSync("shellcheck", [path.join(ec2.dir, "bin", "aws")], { encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
});

test("the device is the NVMe name udev gives the volume: its ID without the dash", () => {
  expect(nvmeDevicePath(VOLUME_ID)).toBe(
    "/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0",
  );
});

realTest(
  "a blank volume: VolumeInUse retried, then attached, given ext4 and mounted, owned by redis",
  async () => {
    const { volume, ec2, dataDir } = fresh();
    ec2.set({ state: "available", zone: ZONE });
    ec2.inUseFor(2);
    const imds = await metadataService(HOST);
    try {
      const r = await runVolumeProgram(input(dataDir), { imds: imds.url, ec2 });
      expect(r.stderr).toContain("is blank: making an ext4 filesystem");
      expect(r.status).toBe(0);
      // Read, attach refused twice (VolumeInUse), attach, then read until attached.
      expect(actions(ec2)).toEqual([
        "describe-volumes",
        "attach-volume",
        "describe-volumes",
        "attach-volume",
        "describe-volumes",
        "attach-volume",
        "describe-volumes",
        "describe-volumes",
      ]);
      expect(ec2.calls()).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^--region us-east-1 .*ec2 attach-volume --volume-id ${VOLUME_ID} --instance-id ${HOST.instanceId} --device /dev/sdf$`,
          ),
        ),
      );
      expect(probe(volume.device)).toMatchObject({ TYPE: "ext4", LABEL: "mastodon-redis" });
      expect(isMountPoint(dataDir)).toBe(true);
      const stat = fs.statSync(dataDir);
      expect(stat.uid).toBe(Number(execFileSync("id", ["-u", "redis"], { encoding: "utf8" })));
      expect((stat.mode & 0o777).toString(8)).toBe("750");
      // Run again while mounted (the unit restarted): nothing to do, nothing asked.
      const again = await runVolumeProgram(input(dataDir), { imds: imds.url, ec2 });
      expect(again.status).toBe(0);
      expect(again.stderr).toContain("mounted at");
      expect(ec2.calls()).toHaveLength(8);
    } finally {
      unmount(dataDir);
      await imds.close();
    }
  },
);

realTest("a volume with a filesystem is never formatted: its files are there on the next host", async () => {
  const { volume, ec2, dataDir } = fresh();
  execFileSync("mkfs.ext4", ["-q", "-L", "restored", volume.device]);
  const uuid = probe(volume.device)["UUID"];
  const scratch = tempDir("mastodon-write-");
  execFileSync("mount", [volume.device, scratch]);
  fs.writeFileSync(path.join(scratch, "written-by-host-1"), "queue");
  execFileSync("umount", [scratch]);
  // The old instance still holds it for three reads, then its termination detaches it.
  ec2.set({ state: "in-use", zone: ZONE, holder: "i-0bbbbbbbbbbbbbbb2", attachment: "attached" });
  ec2.holdFor(3);
  const imds = await metadataService(HOST);
  try {
    const r = await runVolumeProgram(input(dataDir), { imds: imds.url, ec2 });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("holds an ext4 filesystem: keeping its data");
    expect(r.stderr).not.toContain("making");
    expect(actions(ec2).slice(0, 4)).toEqual(Array(4).fill("describe-volumes"));
    expect(r.stderr).toContain("i-0bbbbbbbbbbbbbbb2 attached): waiting until it is free");
    expect(probe(volume.device)).toMatchObject({ TYPE: "ext4", UUID: uuid, LABEL: "restored" });
    expect(fs.readFileSync(path.join(dataDir, "written-by-host-1"), "utf8")).toBe("queue");
  } finally {
    unmount(dataDir);
    await imds.close();
  }
});

realTest("a device holding anything but ext4 is neither formatted nor mounted", async () => {
  const imds = await metadataService(HOST);
  try {
    // Another filesystem's signature (swap), and data no probe recognises.
    for (const [what, prepare, expected] of [
      [
        "swap",
        (d: string) => execFileSync("mkswap", ["-q", d]),
        "holds swap, not ext4: refusing to format or mount it",
      ],
      [
        "unknown data",
        (d: string) => {
          const fd = fs.openSync(d, "r+");
          fs.writeSync(fd, Buffer.from("someone's data, no filesystem".repeat(10)), 0, undefined, 4096);
          fs.closeSync(fd);
        },
        "holds data but no filesystem blkid knows: refusing to format it",
      ],
    ] as const) {
      const { volume, ec2, dataDir } = fresh();
      prepare(volume.device);
      const before = fs.readFileSync(volume.image).subarray(0, 1 << 20);
      ec2.set({ state: "available", zone: ZONE });
      const r = await runVolumeProgram(input(dataDir), { imds: imds.url, ec2 });
      expect(`${what}: ${r.status} ${r.stderr}`).toContain(expected);
      expect(r.status).toBe(1);
      expect(isMountPoint(dataDir)).toBe(false);
      expect(
        fs
          .readFileSync(volume.image)
          .subarray(0, 1 << 20)
          .equals(before),
      ).toBe(true);
    }
  } finally {
    await imds.close();
  }
});

realTest("a volume in another zone fails at once, without an attach", async () => {
  const { ec2, dataDir } = fresh();
  ec2.set({ state: "available", zone: "us-east-1b" });
  const imds = await metadataService(HOST);
  try {
    const r = await runVolumeProgram(input(dataDir), { imds: imds.url, ec2 });
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("is in us-east-1b, this instance in us-east-1a");
    expect(actions(ec2)).toEqual(["describe-volumes"]);
  } finally {
    await imds.close();
  }
});

realTest(
  "a volume never freed: the program gives up after its wait, so the boot fails (ABANDON)",
  async () => {
    const { ec2, dataDir } = fresh();
    ec2.set({ state: "in-use", zone: ZONE, holder: "i-0bbbbbbbbbbbbbbb2", attachment: "attached" });
    ec2.holdFor(1_000_000);
    const imds = await metadataService(HOST);
    try {
      const r = await runVolumeProgram(input(dataDir), { imds: imds.url, ec2 }, { waitSeconds: 2 });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(`was not attached to ${HOST.instanceId} within 2s`);
      expect(actions(ec2).every((a) => a === "describe-volumes")).toBe(true);
      expect(isMountPoint(dataDir)).toBe(false);
    } finally {
      await imds.close();
    }
    // On a host the wait outlasts the old host's drain, the longest it holds the volume before its shutdown.
    expect(REDIS_VOLUME_BOUNDS.untilUptimeSeconds).toBeGreaterThanOrEqual(DRAIN.heartbeatSeconds);
  },
);

realTest("a reboot (the device already here) asks EC2 nothing and mounts the same filesystem", async () => {
  const { volume, ec2, dataDir } = fresh();
  execFileSync("mkfs.ext4", ["-q", volume.device]);
  const uuid = probe(volume.device)["UUID"];
  fs.symlinkSync(volume.device, path.join(ec2.byId, path.basename(nvmeDevicePath(VOLUME_ID))));
  const r = await runVolumeProgram(input(dataDir), { imds: "http://127.0.0.1:9", ec2 });
  try {
    expect(r.status).toBe(0);
    expect(r.stderr).toContain("is attached here already");
    expect(ec2.calls()).toEqual([]);
    expect(probe(volume.device)["UUID"]).toBe(uuid);
    expect(isMountPoint(dataDir)).toBe(true);
  } finally {
    unmount(dataDir);
  }
});
