/**
 * What the on-host persistent Redis's volume program (src/redis/files/mastodon-redis-volume.sh) is
 * run against in the real tests: a real block device (a loop device over a file image: losetup,
 * needs root), an instance metadata service (IMDSv2, on loopback), and a stand-in AWS CLI that
 * plays EC2's part for one volume. The stand-in keeps the volume's state in files, records every
 * call, and, as EC2 and udev would, makes the device appear under the by-id directory once the
 * volume is attached to the calling instance and disappear when it is detached.
 */
import { execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { MASTODON_LIFECYCLE, programPath } from "../../src/host/programs";
import { type RedisVolumeInput, redisVolumeCommand } from "../../src/redis/redisVolume";
import { isRoot, tempDir } from "./servers";

export const VOLUME_PROGRAM = programPath("mastodon-redis-volume.sh");

/** Why the volume tests cannot run here, or undefined: they need root and a working losetup. */
export function loopSupport(): string | undefined {
  if (!isRoot) return "not root (losetup and mount need it)";
  const probe = spawnSync("losetup", ["--find"], { encoding: "utf8" });
  if (probe.status !== 0) return `losetup --find fails: ${probe.stderr.trim()}`;
  return undefined;
}

export interface LoopDevice {
  readonly device: string;
  readonly image: string;
  detach(): void;
}

/** A loop device over a new, sparse (all zeros) file image of `mib` MiB, as a new EBS volume reads. */
export function loopDevice(mib: number): LoopDevice {
  const dir = tempDir("mastodon-volume-image-");
  const image = path.join(dir, "volume.img");
  fs.writeFileSync(image, "");
  fs.truncateSync(image, mib * 1024 * 1024);
  const device = execFileSync("losetup", ["--find", "--show", image], { encoding: "utf8" }).trim();
  return {
    device,
    image,
    detach: () => {
      spawnSync("losetup", ["-d", device]);
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** IMDSv2 on loopback: a token from PUT, then instance-id and placement with it. */
export async function metadataService(identity: { instanceId: string; zone: string; region: string }) {
  const server = http.createServer((req, res) => {
    if (req.method === "PUT" && req.url === "/latest/api/token") return res.end("token");
    if (req.headers["x-aws-ec2-metadata-token"] !== "token") return res.writeHead(401).end();
    const answers: Record<string, string> = {
      "/latest/meta-data/instance-id": identity.instanceId,
      "/latest/meta-data/placement/availability-zone": identity.zone,
      "/latest/meta-data/placement/region": identity.region,
    };
    const answer = answers[req.url ?? ""];
    return answer === undefined ? res.writeHead(404).end() : res.end(answer);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    identity,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/**
 * The stand-in `aws`: EC2's DescribeVolumes and AttachVolume for one volume, answering as the AWS
 * CLI prints them (`--output text` of the query the program asks; errors as "An error occurred
 * (Code) when calling the Action operation: ..." on stderr, exit status 254).
 *
 * State, in files under `dir`: `volume` holds "State Zone Holder Attachment" (the query's four
 * columns, None where there is no attachment); `held` how many more DescribeVolumes still show the
 * holder before its termination detaches the volume; `in-use` how many AttachVolume calls answer
 * VolumeInUse before one succeeds (another instance took it meanwhile). An attachment shows
 * "attaching" once, then "attached", and only then does the device appear under `byId`.
 */
const AWS_STANDIN = `#!/bin/bash
set -euo pipefail
VOLUME_ID=__VOLUME_ID__
DEVICE=__DEVICE__
dir=$(dirname "$(dirname "$0")")
echo "$*" >>"$dir/aws.log"
read -r state zone holder attachment <"$dir/volume"
count() { cat "$dir/$1" 2>/dev/null || echo 0; }
link="$dir/by-id/nvme-Amazon_Elastic_Block_Store_\${VOLUME_ID/-/}"
case " $* " in
  *" describe-volumes "*)
    held=$(count held)
    if [ "$holder" != None ] && [ "$held" -le 0 ] && [ "$holder" != "$(cat "$dir/owner" 2>/dev/null)" ]; then
      # The old instance is gone: EC2 detached the volume, udev removed its device.
      state=available holder=None attachment=None
      rm -f "$link"
    fi
    [ "$held" -gt 0 ] && echo $((held - 1)) >"$dir/held"
    printf '%s\\t%s\\t%s\\t%s\\n' "$state" "$zone" "$holder" "$attachment"
    if [ "$attachment" = attaching ]; then
      attachment=attached
      ln -sf "$DEVICE" "$link"
    fi
    echo "$state $zone $holder $attachment" >"$dir/volume"
    ;;
  *" attach-volume "*)
    args=("$@")
    for i in "\${!args[@]}"; do [ "\${args[$i]}" = --instance-id ] && instance=\${args[$((i + 1))]}; done
    in_use=$(count in-use)
    if [ "$in_use" -gt 0 ] || [ "$state" != available ]; then
      [ "$in_use" -gt 0 ] && echo $((in_use - 1)) >"$dir/in-use"
      printf '\\nAn error occurred (VolumeInUse) when calling the AttachVolume operation: %s is already attached to an instance\\n' "$VOLUME_ID" >&2
      exit 254
    fi
    echo "in-use $zone $instance attaching" >"$dir/volume"
    echo "$instance" >"$dir/owner"
    printf '{"VolumeId": "%s", "InstanceId": "%s", "State": "attaching"}\\n' "$VOLUME_ID" "$instance"
    ;;
  *)
    echo "stand-in aws: no $*" >&2
    exit 252
    ;;
esac
`;

export interface Ec2StandIn {
  readonly dir: string;
  /** Where the stand-in puts the device's by-id name (MASTODON_BY_ID_DIR). */
  readonly byId: string;
  /** The volume as DescribeVolumes shows it now, and who attached it last. */
  set(volume: { state: string; zone: string; holder?: string; attachment?: string }): void;
  /** The next `n` DescribeVolumes show the holder still there; then its termination detaches it. */
  holdFor(n: number): void;
  /** The next `n` AttachVolume calls answer VolumeInUse. */
  inUseFor(n: number): void;
  /** Every call, its arguments. */
  calls(): string[];
  /** The instance's device node went away (its termination detached the volume). */
  detach(): void;
}

export function ec2StandIn(volumeId: string, device: string): Ec2StandIn {
  const dir = tempDir("mastodon-ec2-standin-");
  const bin = path.join(dir, "bin");
  const byId = path.join(dir, "by-id");
  fs.mkdirSync(bin);
  fs.mkdirSync(byId);
  fs.writeFileSync(
    path.join(bin, "aws"),
    AWS_STANDIN.replace("__VOLUME_ID__", volumeId).replace("__DEVICE__", device),
    { mode: 0o755 },
  );
  const write = (file: string, text: string) => fs.writeFileSync(path.join(dir, file), text);
  return {
    dir,
    byId,
    set: (v) => {
      write("volume", `${v.state} ${v.zone} ${v.holder ?? "None"} ${v.attachment ?? "None"}\n`);
      write("owner", `${v.holder ?? ""}\n`);
    },
    holdFor: (n) => {
      write("held", `${n}\n`);
      write("owner", "\n");
    },
    inUseFor: (n) => write("in-use", `${n}\n`),
    calls: () =>
      fs.existsSync(path.join(dir, "aws.log"))
        ? fs.readFileSync(path.join(dir, "aws.log"), "utf8").split("\n").filter(Boolean)
        : [],
    detach: () => {
      for (const f of fs.readdirSync(byId)) fs.rmSync(path.join(byId, f), { force: true });
    },
  };
}

/**
 * Runs the program as its unit does (redisVolumeCommand: the rendered command line), with the
 * pause between reads shortened and the wait set, against `imds` and `ec2`. Asynchronous: the
 * metadata service answers from this process.
 */
export function runVolumeProgram(
  input: RedisVolumeInput,
  env: { imds: string; ec2: Ec2StandIn },
  opts: { waitSeconds?: number } = {},
): Promise<{ status: number | null; stderr: string }> {
  const argv = redisVolumeCommand(input).slice(1);
  const set = (flag: string, value: string) => {
    const i = argv.indexOf(flag);
    if (i < 0) throw new Error(`no ${flag} in the rendered command`);
    argv[i + 1] = value;
  };
  set("--interval", "0.1");
  if (opts.waitSeconds !== undefined) set("--wait-seconds", String(opts.waitSeconds));
  const child = spawn("/bin/bash", [VOLUME_PROGRAM, ...argv], {
    stdio: ["ignore", "ignore", "pipe"],
    env: {
      PATH: `${path.join(env.ec2.dir, "bin")}:/usr/sbin:/usr/bin:/sbin:/bin`,
      MASTODON_IMDS_URL: env.imds,
      MASTODON_BY_ID_DIR: env.ec2.byId,
      // The library it sources from beside it on a host.
      MASTODON_LIFECYCLE_LIBRARY:
        process.env["MASTODON_LIFECYCLE_LIBRARY"] ?? programPath(MASTODON_LIFECYCLE),
    },
  });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
  const timer = setTimeout(() => child.kill("SIGKILL"), 120000);
  return new Promise((resolve) =>
    child.on("close", (status) => {
      clearTimeout(timer);
      resolve({ status, stderr });
    }),
  );
}

/** What blkid's low-level probe sees on `device`: its TYPE, UUID and LABEL. */
export function probe(device: string): Record<string, string> {
  const r = spawnSync("blkid", ["-p", "-o", "export", device], { encoding: "utf8" });
  return Object.fromEntries(
    r.stdout
      .split("\n")
      .filter((l) => l.includes("="))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

export const isMountPoint = (dir: string) => spawnSync("mountpoint", ["-q", dir]).status === 0;

/** Unmounts `dir` if it is mounted (the host went away: its termination unmounts and detaches). */
export function unmount(dir: string): void {
  if (isMountPoint(dir)) execFileSync("umount", [dir]);
}
