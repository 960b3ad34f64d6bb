/**
 * The whole-host boot's Debian 12 root: built once by test/boot/build-root.sh (debootstrap from
 * Debian's mirror, then the packages a stock host and the fleets' user-data need), cached outside
 * the repository under /var/cache/mastodon-aws-boot/root-<hash of the build inputs>, rebuilt when
 * an input changes. Every way the booted image differs from a stock Debian 12 EC2 host is listed
 * here, in IMAGE_CHANGES, with its reason: the package's units, programs and user-data are never
 * changed.
 */
import { spawnSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";

export const CACHE_DIR = process.env["MASTODON_BOOT_CACHE"] ?? "/var/cache/mastodon-aws-boot";
export const DEBIAN_MIRROR = process.env["MASTODON_BOOT_MIRROR"] ?? "http://deb.debian.org/debian";
const BUILD_SCRIPT = path.join(__dirname, "build-root.sh");

/** The stand-in CloudWatch agent's control script's log, inside the booted host. */
export const AGENT_CTL_LOG = "/var/log/amazon-cloudwatch-agent-ctl.calls";
/** The PID 1 the harness starts (systemd-nspawn runs it; it execs systemd). */
export const INIT_WRAPPER = "/usr/local/sbin/mastodon-boot-init";
/** Where the test CA sits in the image (update-ca-certificates adds it to the system store). */
export const TEST_CA_IN_IMAGE = "/usr/local/share/ca-certificates/mastodon-boot-test-ca.crt";

export interface ImageChange {
  /** What is different from a stock Debian 12 EC2 host. */
  readonly what: string;
  /** Why the test needs it. */
  readonly why: string;
  /** Shell run in the root's chroot at build time (bash -eu), or, with `perBoot`, what the harness writes before each boot. */
  readonly script?: string;
  /** Written into each boot's copy (it depends on the boot's stand-ins), not into the cached root. */
  readonly perBoot?: true;
}

const AGENT_CTL = `#!/bin/sh
# Stand-in for the Amazon CloudWatch agent's control script (test/boot/image.ts, IMAGE_CHANGES).
# Records each call; for fetch-config with file:PATH it does to the files what the agent's own ctl
# does (aws/amazon-cloudwatch-agent, packaging/dependencies/amazon-cloudwatch-agent-ctl, cwa_config
# with multi_config "default"): the config downloader copies PATH to etc/amazon-cloudwatch-agent.d/
# file_<name>.tmp, failing when PATH is missing or is not JSON; then it removes
# etc/amazon-cloudwatch-agent.json (rm -f "\${JSON}") and every earlier config of that directory,
# and renames the new one. A config kept at etc/amazon-cloudwatch-agent.json is thus gone after
# the first fetch-config. It starts no agent: nothing ships logs.
echo "$*" >>${AGENT_CTL_LOG}
etc=/opt/aws/amazon-cloudwatch-agent/etc
config=""
action=""
while [ $# -gt 0 ]; do
  case "$1" in
    -c) config=$2; shift ;;
    -a) action=$2; shift ;;
  esac
  shift
done
[ "$action" = fetch-config ] || exit 0
case "$config" in
  file:*)
    file=\${config#file:}
    python3 -c 'import json, sys; json.load(open(sys.argv[1]))' "$file" || {
      echo "stand-in amazon-cloudwatch-agent-ctl: cannot read the config $file" >&2
      exit 1
    }
    mkdir -p "$etc/amazon-cloudwatch-agent.d"
    cp "$file" "$etc/amazon-cloudwatch-agent.d/file_$(basename "$file").tmp"
    rm -f "$etc/amazon-cloudwatch-agent.json"
    for f in "$etc/amazon-cloudwatch-agent.d"/*; do
      case "$f" in
        *.tmp) mv -f "$f" "\${f%.tmp}" ;;
        *) rm -f "$f" ;;
      esac
    done ;;
esac
`;

const INIT = `#!/bin/sh
# PID 1 of the booted test host (test/boot/image.ts, IMAGE_CHANGES): systemd-nspawn mounts a
# boot id of its own over the kernel's; units with ProtectKernelTunables=, ProtectProc= or
# ProtectControlGroups= see the kernel's instead, so journalctl --follow of "this boot" shows
# nothing there. Without the mount everyone sees the kernel's, as on EC2.
umount /proc/sys/kernel/random/boot_id 2>/dev/null || true
exec /lib/systemd/systemd "$@"
`;

/**
 * Every test-only difference of the booted image from a stock Debian 12 host, in one place.
 * `script`s run at build time (so they are build inputs: changing one rebuilds the root).
 */
export const IMAGE_CHANGES: readonly ImageChange[] = [
  {
    what: "podman runs containers with runc instead of crun (containers.conf [engine] runtime)",
    why: "crun 1.8 raises RLIMIT_MEMLOCK before loading its device filter; this machine's hard limit is 8 MiB and nspawn's container cannot raise it (no CAP_SYS_RESOURCE): crun fails with 'setrlimit (RLIM_MEMLOCK): Operation not permitted'",
    script:
      "mkdir -p /etc/containers/containers.conf.d\nprintf '[engine]\\nruntime = \"runc\"\\n' >/etc/containers/containers.conf.d/50-mastodon-boot-runc.conf",
  },
  {
    what: "podman sets no pids limit (containers.conf [containers] pids_limit = 0)",
    why: "the container's cgroup v2 view has no pids controller delegated here: runc fails with 'openat2 ... pids.max: no such file or directory'",
    script:
      "printf '[containers]\\npids_limit = 0\\n' >/etc/containers/containers.conf.d/50-mastodon-boot-pids.conf",
  },
  {
    what:
      "a stand-in CloudWatch agent is installed: " +
      "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl",
    why: "install-cloudwatch-agent.sh accepts only a package signed by AWS's key, which no stand-in can sign; with the ctl present it skips, as on an operator's AMI. The stand-in records its calls and checks the config file as the real one reads it",
    script: `mkdir -p /opt/aws/amazon-cloudwatch-agent/bin\ncat >/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl <<'CTL'\n${AGENT_CTL}CTL\nchmod 0755 /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl`,
  },
  {
    what: `PID 1 is ${INIT_WRAPPER}, which removes nspawn's fake boot id and execs systemd`,
    why: "sandboxed units (ProtectKernelTunables=, ProtectProc=) read the kernel's boot id, the rest nspawn's: journalctl --follow of the current boot (the journal export) would show nothing. EC2 has one boot id",
    script: `cat >${INIT_WRAPPER} <<'INIT'\n${INIT}INIT\nchmod 0755 ${INIT_WRAPPER}`,
  },
  {
    what: "the en_US.UTF-8 locale is generated",
    why: "cloud-init's locale module sets en_US.UTF-8 (the Debian cloud images have it); without it update-locale fails with 'invalid locale settings'",
    script: "sed -i 's/^# *en_US.UTF-8 UTF-8/en_US.UTF-8 UTF-8/' /etc/locale.gen\nlocale-gen >/dev/null",
  },
  {
    what: "apt has no sources (the root's packages are those of Debian's mirror at build time)",
    why: "the boot's namespace reaches no mirror; every package the user-data names is installed already, so cloud-init's apt-get update reads nothing and its apt-get install finds them installed (a package the user-data names that the root lacks fails that step, as it should)",
    script:
      "rm -f /etc/apt/sources.list /etc/apt/sources.list.d/*\nrm -rf /var/lib/apt/lists/*\nmkdir -p /var/lib/apt/lists/partial",
  },
  {
    what: "cloud-init reads only the NoCloud datasource, keeps apt's (empty) sources and the harness's /etc/hosts, and configures no network",
    why: "the user-data is given as a NoCloud seed (/var/lib/cloud/seed/nocloud) instead of by EC2's metadata service; the namespace's network and the names of the stand-ins are set up by the harness",
    script:
      "cat >/etc/cloud/cloud.cfg.d/90-mastodon-boot.cfg <<'CFG'\ndatasource_list: [NoCloud, None]\nnetwork: {config: disabled}\nmanage_etc_hosts: false\napt:\n  preserve_sources_list: true\nCFG",
  },
  {
    what: "the test CA is trusted (update-ca-certificates)",
    why: "the stand-ins answer for the AWS endpoints, the RDS CA download and the registry (ghcr.io) over TLS with certificates from this CA, as the real services do with theirs",
    // The CA itself is made and written into the root by build-root.sh before the changes run.
    script: "update-ca-certificates >/dev/null",
  },
  {
    what: "/etc/hosts names the AWS endpoints, the registry, the database and Redis at the stand-ins' addresses in the boot's namespace",
    why: "Debian's awscli (2.9.19) predates AWS_ENDPOINT_URL_<SERVICE>, and the units name ghcr.io and the RDS and ElastiCache hosts: the real names are pointed at the stand-ins",
    perBoot: true,
  },
  {
    what: "/var/lib/containers is a directory of the boot's own on the machine's disk (nspawn --bind)",
    why: "the booted root is an overlay of the cached root; podman's overlay storage cannot have an overlay as its upper layer",
    perBoot: true,
  },
];

/** The build's inputs: the script, the changes, the mirror. */
export function rootHash(): string {
  const h = createHash("sha256");
  h.update(fs.readFileSync(BUILD_SCRIPT));
  h.update(JSON.stringify(IMAGE_CHANGES));
  h.update(DEBIAN_MIRROR);
  return h.digest("hex").slice(0, 16);
}

export interface CachedRoot {
  readonly dir: string;
  readonly root: string;
  readonly caCert: string;
  readonly caKey: string;
}

/** The script the build runs in the root's chroot: the test CA written first, then every change's script. */
export function changesScript(): string {
  return IMAGE_CHANGES.filter((c) => c.script)
    .map((c) => `# ${c.what}\n${c.script}`)
    .join("\n");
}

/**
 * The cached root, built now if missing (2-4 minutes; under a lock, so parallel runs build it
 * once, and a build a killed run left is removed by the next).
 */
export function ensureRoot(): CachedRoot {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const dir = path.join(CACHE_DIR, `root-${rootHash()}`);
  if (!fs.existsSync(path.join(dir, "complete"))) {
    const r = spawnSync(
      "flock",
      [path.join(CACHE_DIR, ".build.lock"), "/bin/bash", BUILD_SCRIPT, dir, DEBIAN_MIRROR],
      {
        input: changesScript(),
        encoding: "utf8",
        stdio: ["pipe", "pipe", "pipe"],
        maxBuffer: 64 * 1024 * 1024,
        timeout: 30 * 60 * 1000,
      },
    );
    if (r.status !== 0)
      throw new Error(
        `building the boot root failed (status ${r.status}):\n${(r.stderr ?? "").slice(-6000)}`,
      );
  }
  return {
    dir,
    root: path.join(dir, "root"),
    caCert: path.join(dir, "ca.crt"),
    caKey: path.join(dir, "ca.key"),
  };
}

/** rm -rf that first unmounts anything still mounted inside (a killed run's leftovers). */
export function removeTree(dir: string): void {
  const mounts = fs
    .readFileSync("/proc/self/mounts", "utf8")
    .split("\n")
    .map((l) => l.split(" ")[1] ?? "")
    .filter((m) => m === dir || m.startsWith(`${dir}/`))
    .sort((a, b) => b.length - a.length);
  for (const m of mounts) spawnSync("umount", ["-l", m]);
  fs.rmSync(dir, { recursive: true, force: true });
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/**
 * `fn` under a lock directory holding the holder's pid: another process waits for it (at most
 * 30 minutes); a lock whose holder is gone is taken over.
 */
export function withLock<T>(lock: string, fn: () => T): T {
  const until = Date.now() + 30 * 60 * 1000;
  for (;;) {
    try {
      fs.mkdirSync(lock);
      fs.writeFileSync(path.join(lock, "pid"), String(process.pid));
      break;
    } catch {
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(path.join(lock, "pid"), "utf8"));
      } catch {
        // being created or removed
      }
      if (Number.isInteger(holder) && !alive(holder)) fs.rmSync(lock, { recursive: true, force: true });
      else if (Date.now() > until) throw new Error(`${lock} held by ${holder} for 30 minutes`);
      else spawnSync("sleep", ["1"]);
    }
  }
  try {
    return fn();
  } finally {
    fs.rmSync(lock, { recursive: true, force: true });
  }
}
