/**
 * The whole-host boot harness: a fleet's rendered user-data, unchanged, booted by real systemd
 * and cloud-init on the cached Debian 12 root (image.ts), under systemd-nspawn, in a network
 * namespace of its own that holds every stand-in the host reaches:
 *
 *   169.254.169.254:80   instance metadata (IMDSv2)                          aws-standin.py
 *   10.254.0.10:443      SSM, S3, Auto Scaling, CloudWatch, the RDS CA        aws-standin.py
 *   10.254.0.20:443      the release images' registry (ghcr.io)               Debian's docker-registry
 *   10.254.0.30:5432     the RDS primary, TLS                                 Debian's PostgreSQL 15
 *   10.254.0.4x:6379     each ElastiCache group, TLS (stacks without on-host Redis)   redis-server
 *
 * With redis.onHost, the persistent Redis's EBS volume is a loop device over a file image in the
 * boot's work directory: EC2's stand-in makes its node appear under by-id/<instance id>/ once the
 * volume is attached to that instance, and the copy booted as that instance has the directory at
 * /dev/disk/by-id, where udev would name the NVMe device. It outlives the copies, as the volume
 * outlives instances: the next host (`nextHost`) attaches the same device.
 *
 * The image's /etc/hosts points the real names (from the user-data) at those addresses, and its
 * CA store trusts the test CA that signs every stand-in's certificate. Every process here is
 * started by this module and stopped by its PID; everything is named `mboot-<pid>-<n>` (the
 * namespace, the cgroups, the work directory under /var/tmp/mastodon-aws-boot), and
 * `cleanStale()` removes what a run that is gone left behind.
 *
 * Machine needs (checked by `bootSupport()`): root with CAP_SYS_ADMIN, `ip netns`,
 * systemd-nspawn, overlayfs, a cgroup2 hierarchy at /sys/fs/cgroup/unified or /sys/fs/cgroup.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import { randomBytes } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { HOST_FILES } from "../../src/fleet/host/hostFiles";
import { ABANDON_UNIT, BOOT_UNIT } from "../../src/fleet/host/readiness";
import { POOL_UNIT, PREPARE_UNIT } from "../../src/fleet/host/warmPoolUnits";
import { REDIS_VOLUME_PATHS } from "../../src/redis/redisVolume";
import { RDS_MASTER_SQL } from "../real/servers";
import { type CachedRoot, INIT_WRAPPER, ensureRoot, removeTree } from "./image";
import { type CachedImages, ensureImages, pushImages } from "./images";
import { booted, lifecycleConfig, setTarget } from "./lifecycle";
import { serverCertificate } from "./tls";

export const WORK_ROOT = "/var/tmp/mastodon-aws-boot";
const PREFIX = "mboot-";
const STANDIN = path.join(__dirname, "aws-standin.py");
const PG_BIN = "/usr/lib/postgresql/15/bin";

export const ADDRESSES = {
  imds: "169.254.169.254",
  aws: "10.254.0.10",
  registry: "10.254.0.20",
  database: "10.254.0.30",
  redisBase: "10.254.0.4",
} as const;

/** What the role's credentials are in the stand-in IMDS, and what every AWS request must be signed with. */
const CREDENTIALS = {
  AccessKeyId: "ASIASTANDIN000000001",
  SecretAccessKey: "standinSecretKey0000000000000000000000000",
  Token: "standin-session-token",
};

/** The units a boot runs in (a warm pool host's prepare and pool, then every host's boot), and its abandon. */
const BOOT_UNITS = [PREPARE_UNIT, POOL_UNIT, BOOT_UNIT, ABANDON_UNIT];

const cgroupTrees = () =>
  ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"].filter((t) =>
    fs.existsSync(path.join(t, "cgroup.procs")),
  );

/** Why this machine cannot boot a host here, or undefined when it can. */
export function bootSupport(): string | undefined {
  if (process.getuid?.() !== 0) return "not root";
  const status = fs.readFileSync("/proc/self/status", "utf8");
  const eff = /CapEff:\s*([0-9a-f]+)/.exec(status)?.[1];
  if (!eff || (BigInt(`0x${eff}`) & (1n << 21n)) === 0n) return "no CAP_SYS_ADMIN";
  for (const program of [
    "/usr/bin/systemd-nspawn",
    "/usr/sbin/debootstrap",
    "/usr/bin/docker-registry",
    "/bin/busybox",
  ])
    if (!fs.existsSync(program)) return `${program} is missing (scripts/ensure-deps.sh --debian installs it)`;
  if (!fs.readFileSync("/proc/filesystems", "utf8").includes("overlay")) return "no overlayfs";
  const probe = `${PREFIX}probe-${process.pid}`;
  const r = spawnSync("ip", ["netns", "add", probe], { encoding: "utf8" });
  if (r.status !== 0) return `ip netns add fails: ${r.stderr.trim()}`;
  spawnSync("ip", ["netns", "del", probe]);
  return undefined;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

const ownerPid = (name: string) => Number(/^mboot-(\d+)-/.exec(name)?.[1] ?? NaN);

/** PIDs in a cgroup directory and every cgroup below it. */
function cgroupPids(dir: string): number[] {
  if (!fs.existsSync(dir)) return [];
  const pids: number[] = [];
  const walk = (d: string) => {
    try {
      for (const l of fs.readFileSync(path.join(d, "cgroup.procs"), "utf8").split("\n"))
        if (l) pids.push(Number(l));
      for (const e of fs.readdirSync(d, { withFileTypes: true }))
        if (e.isDirectory()) walk(path.join(d, e.name));
    } catch {
      // removed meanwhile
    }
  };
  walk(dir);
  return pids;
}

/** rmdir of a cgroup tree, deepest first (a cgroup without processes can be removed). */
function removeCgroup(dir: string): void {
  if (!fs.existsSync(dir)) return;
  for (const e of fs.readdirSync(dir, { withFileTypes: true }))
    if (e.isDirectory()) removeCgroup(path.join(dir, e.name));
  try {
    fs.rmdirSync(dir);
  } catch {
    // still busy: left for cleanStale
  }
}

function killPids(pids: number[]): void {
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {
      // gone
    }
  }
}

/**
 * Removes what a boot of a process that is gone left behind: its namespace (and the stand-ins still
 * in it), its container's cgroups (and the processes in them), its mounts and its work directory.
 */
export function cleanStale(): string[] {
  const removed: string[] = [];
  const netns = spawnSync("ip", ["netns", "list"], { encoding: "utf8" })
    .stdout.split("\n")
    .map((l) => l.split(" ")[0] ?? "")
    .filter((n) => n.startsWith(PREFIX));
  const work = fs.existsSync(WORK_ROOT) ? fs.readdirSync(WORK_ROOT).filter((n) => n.startsWith(PREFIX)) : [];
  const cgroups = cgroupTrees().flatMap((t) =>
    fs
      .readdirSync(t)
      .filter((n) => n.startsWith(PREFIX))
      .map((n) => ({ n, dir: path.join(t, n) })),
  );
  const names = new Set([...netns, ...work, ...cgroups.map((c) => c.n)]);
  for (const name of names) {
    const owner = ownerPid(name);
    if (Number.isInteger(owner) && alive(owner) && owner !== process.pid) continue;
    if (owner === process.pid) continue;
    for (const c of cgroups.filter((c) => c.n === name)) killPids(cgroupPids(c.dir));
    if (netns.includes(name)) {
      const pids = spawnSync("ip", ["netns", "pids", name], { encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean);
      killPids(pids.map(Number));
    }
    spawnSync("sleep", ["0.5"]);
    for (const c of cgroups.filter((c) => c.n === name)) removeCgroup(c.dir);
    if (netns.includes(name)) spawnSync("ip", ["netns", "del", name]);
    if (work.includes(name)) {
      // The loop devices over its volume images (redis.onHost), then the files.
      for (const line of spawnSync("losetup", ["--list", "--noheadings", "--raw", "-O", "NAME,BACK-FILE"], {
        encoding: "utf8",
      }).stdout.split("\n")) {
        const [device, file] = line.split(" ");
        if (device && file?.startsWith(`${path.join(WORK_ROOT, name)}/`))
          spawnSync("losetup", ["-d", device]);
      }
      removeTree(path.join(WORK_ROOT, name));
    }
    removed.push(name);
  }
  return removed;
}

/** One request the stand-ins served, as aws-standin.py records it. */
export interface Recorded {
  readonly n: number;
  readonly t: number;
  readonly service: string;
  readonly action?: string;
  readonly method?: string;
  readonly path?: string;
  readonly status?: number;
  readonly [field: string]: unknown;
}

/** What the harness reads out of a fleet's user-data: every name and parameter the host will use. */
export interface HostInputs {
  readonly region: string;
  readonly parameterPath: string;
  readonly parameters: string[];
  readonly buckets: string[];
  readonly images: { rails: string[]; streaming: string[] };
  readonly registryHosts: string[];
  readonly database?: { host: string; port: number; name: string; master: string; adminParameter: string };
  readonly redis: { host: string; port: number; passwordParameter: string }[];
  /** The search domain's security API the scheduler's host makes Mastodon's user through (its database.conf). */
  readonly search?: { host: string; api: string; masterUser: string; passwordParameter: string };
  /** redis.onHost: the persistent Redis's EBS volume, which the host attaches at boot. */
  readonly volumeId?: string;
  readonly units: Record<string, string>;
  readonly files: Record<string, string>;
}

interface UserData {
  write_files: { path: string; content: string }[];
}

export function hostInputs(userData: string): HostInputs {
  // An empty #cloud-config (the boot bench's floor) names nothing.
  const writeFiles = (parse(userData) as UserData | null)?.write_files ?? [];
  const files = Object.fromEntries(writeFiles.map((f) => [f.path, f.content]));
  const units = Object.fromEntries(
    writeFiles
      .filter((f) => f.path.startsWith("/etc/systemd/system/"))
      .map((f) => [path.basename(f.path), f.content]),
  );
  const manifest = JSON.parse(
    files["/etc/mastodon/secrets-manifest.json"] ?? '{"parameterPath": "", "region": "us-east-1"}',
  ) as { parameterPath: string; region: string };
  const parameters = new Set([...userData.matchAll(/\{\{ssm:([A-Za-z0-9_.\-/]+)\}\}/g)].map((m) => m[1]!));
  const dbConf = files["/etc/mastodon/database.conf"];
  const conf = Object.fromEntries(
    (dbConf ?? "")
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => [l.split(" ")[0]!, l.slice(l.indexOf(" ") + 1)]),
  );
  // The owner's first password: declared by the stack with a placeholder (version 1).
  for (const k of [
    "admin_password_parameter",
    "app_password_parameter",
    "owner_password_parameter",
    "search_master_password_parameter",
    "search_app_password_parameter",
  ])
    if (conf[k]) parameters.add(conf[k]);
  // The host files' bucket, wherever the boot fetches them (mastodon-boot, or a warm pool host's mastodon-prepare).
  const bootUnits = Object.values(units).join("\n");
  // And the bucket of a pg_dump archive the scheduler's host restores (database.conf's restore_url).
  const buckets = [
    ...new Set(
      [...`${bootUnits}\n${conf["restore_url"] ?? ""}`.matchAll(/s3:\/\/([a-z0-9.-]+)\//g)].map((m) => m[1]!),
    ),
  ];
  const pulls = [...(units["mastodon-images.service"] ?? "").matchAll(/podman pull --quiet (\S+)/g)].map(
    (m) => m[1]!,
  );
  const images = {
    rails: pulls.filter((r) => !/mastodon-streaming:/.test(r)),
    streaming: pulls.filter((r) => /mastodon-streaming:/.test(r)),
  };
  const volumeId = /--volume-id (vol-[0-9a-f]+) /.exec(units[REDIS_VOLUME_PATHS.unit] ?? "")?.[1];
  const env = files["/etc/mastodon/env.production.template"] ?? "";
  const redis = new Map<string, { host: string; port: number; passwordParameter: string }>();
  for (const m of env.matchAll(/rediss?:\/\/:\{\{ssm:([^}]+)\}\}@([a-z0-9.-]+):(\d+)/g)) {
    if (m[2] === "127.0.0.1" || m[2] === "localhost") continue;
    redis.set(`${m[2]}:${m[3]}`, { host: m[2]!, port: Number(m[3]), passwordParameter: m[1]! });
  }
  return {
    region: manifest.region,
    parameterPath: manifest.parameterPath,
    parameters: [...parameters].sort(),
    buckets,
    images,
    registryHosts: [...new Set(pulls.map((r) => r.split("/")[0]!))],
    ...(dbConf && {
      database: {
        host: conf["db_host"]!,
        port: Number(conf["db_port"]),
        name: conf["db_name"]!,
        master: conf["master_user"]!,
        adminParameter: conf["admin_password_parameter"]!,
      },
    }),
    redis: [...redis.values()],
    ...(volumeId && { volumeId }),
    ...(conf["search_url"] && {
      search: {
        host: new URL(conf["search_url"]).hostname,
        api: conf["search_api"]!,
        masterUser: conf["search_master_user"]!,
        passwordParameter: conf["search_master_password_parameter"]!,
      },
    }),
    units,
    files,
  };
}

/**
 * What the stand-ins answer for when hosts of several fleets boot against them in turn: every
 * parameter, bucket, image and Redis of each, the database of the one that has it (the scheduler's).
 */
export function servedInputs(all: readonly HostInputs[]): HostInputs {
  const [first, ...rest] = all;
  if (!first) throw new Error("no user-data");
  for (const x of rest)
    if (x.region !== first.region || x.parameterPath !== first.parameterPath)
      throw new Error(`fleets of different stacks: ${x.parameterPath} and ${first.parameterPath}`);
  const union = (f: (x: HostInputs) => readonly string[]) => [...new Set(all.flatMap(f))].sort();
  const redis = new Map(all.flatMap((x) => x.redis.map((r) => [`${r.host}:${r.port}`, r] as const)));
  const database = all.find((x) => x.database)?.database;
  const volumeId = all.find((x) => x.volumeId)?.volumeId;
  const search = all.find((x) => x.search)?.search;
  return {
    ...first,
    parameters: union((x) => x.parameters),
    buckets: union((x) => x.buckets),
    images: { rails: union((x) => x.images.rails), streaming: union((x) => x.images.streaming) },
    registryHosts: union((x) => x.registryHosts),
    ...(database && { database }),
    ...(volumeId && { volumeId }),
    ...(search && { search }),
    redis: [...redis.values()],
  };
}

export interface BootOptions {
  /** A label for the work directory and logs. */
  readonly label: string;
  readonly userData: string;
  /** Host files left out of the bucket (their GetObject answers 404). */
  readonly missingObjects?: readonly string[];
  /** Other objects S3 holds: "bucket/key" -> the local file (a pg_dump archive to restore). */
  readonly objects?: Readonly<Record<string, string>>;
  /** aws-standin.py's `fail`: {"Service:Action": n}. */
  readonly fail?: Record<string, number>;
  readonly instanceId?: string;
  readonly group?: string;
  /**
   * Other fleets' user-data (of the same stack) that hosts booted later against the same stand-ins
   * use (`nextHost`): their parameters, images and Redis are served too, and the database of the
   * one that has it (the scheduler's).
   */
  readonly serves?: readonly string[];
}

let sequence = 0;

const newInstanceId = () => `i-0${randomBytes(8).toString("hex").slice(0, 16)}`;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function ns(netns: string, args: string[]): string[] {
  return ["netns", "exec", netns, ...args];
}

/**
 * The complete lines of a JSON-lines file the stand-ins append to while the host runs: a last line
 * still being written (no newline yet) is left for the next read.
 */
function jsonLines<T>(file: string): T[] {
  if (!fs.existsSync(file)) return [];
  const text = fs.readFileSync(file, "utf8");
  return text
    .slice(0, text.lastIndexOf("\n") + 1)
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as T);
}

/** A booted (or bootable) host and its stand-ins. */
export class HostBoot {
  readonly name: string;
  readonly work: string;
  /** What the booted host's user-data names (the current host's: see `nextHost`). */
  inputs: HostInputs;
  /** What the stand-ins answer for: this host's inputs and those of `serves`. */
  readonly served: HostInputs;
  readonly parameters: Record<string, string> = {};
  instanceId: string;
  userData: string;
  readonly group: string;
  /** When the container was started (ms since the epoch), for boot-to-ready. */
  startedAt = 0;
  private readonly processes: { what: string; child: ChildProcess; signal: NodeJS.Signals }[] = [];
  private nspawn?: ChildProcess;
  private mounted = false;
  private netnsAdded = false;

  private constructor(
    readonly options: BootOptions,
    readonly root: CachedRoot,
    readonly images: CachedImages,
  ) {
    this.name = `${PREFIX}${process.pid}-${++sequence}`;
    this.work = path.join(WORK_ROOT, this.name);
    this.userData = options.userData;
    this.inputs = hostInputs(options.userData);
    this.served = servedInputs([this.inputs, ...(options.serves ?? []).map(hostInputs)]);
    this.instanceId = options.instanceId ?? newInstanceId();
    this.group = options.group ?? "mastodon-standin-group";
  }

  static async prepare(options: BootOptions): Promise<HostBoot> {
    const root = ensureRoot();
    const images = ensureImages();
    const boot = new HostBoot(options, root, images);
    try {
      await boot.setUp();
    } catch (e) {
      await boot.tearDown();
      throw e;
    }
    return boot;
  }

  get requestsFile(): string {
    return path.join(this.work, "requests.jsonl");
  }

  requests(): Recorded[] {
    return jsonLines<Recorded>(this.requestsFile);
  }

  private get merged(): string {
    return path.join(this.work, "merged");
  }

  /** What each PutParameter stored, in order (the test's view: values are never in the record). */
  storedParameters(): { Name: string; Value: string; Version: number }[] {
    return jsonLines<{ Name: string; Value: string; Version: number }>(
      path.join(this.work, "put-values.jsonl"),
    );
  }

  private async setUp(): Promise<void> {
    const { served: inputs, work } = this;
    fs.mkdirSync(work, { recursive: true });
    const certs = path.join(work, "certs");
    fs.mkdirSync(certs);
    // The namespace and its addresses, all on its loopback.
    execFileSync("ip", ["netns", "add", this.name]);
    this.netnsAdded = true;
    const ip = (...args: string[]) => execFileSync("ip", ["-n", this.name, ...args]);
    ip("link", "set", "lo", "up");
    const redisAddresses = inputs.redis.map((_, i) => `${ADDRESSES.redisBase}${i}`);
    for (const a of [
      ADDRESSES.imds,
      ADDRESSES.aws,
      ADDRESSES.registry,
      ADDRESSES.database,
      ...redisAddresses,
    ])
      ip("addr", "add", `${a}/32`, "dev", "lo");

    // Every parameter the host reads: alphanumeric, as the stack's generated secrets are.
    for (const p of inputs.parameters) this.parameters[p] = randomBytes(18).toString("hex");

    // The AWS endpoints' names, as the CLI and the collector reach them in this region.
    const r = inputs.region;
    const awsNames = [
      `ssm.${r}.amazonaws.com`,
      `autoscaling.${r}.amazonaws.com`,
      `monitoring.${r}.amazonaws.com`,
      `logs.${r}.amazonaws.com`,
      `sts.${r}.amazonaws.com`,
      `ec2.${r}.amazonaws.com`,
      `s3.${r}.amazonaws.com`,
      "s3.amazonaws.com",
      ...inputs.buckets.flatMap((b) => [`${b}.s3.${r}.amazonaws.com`, `${b}.s3.amazonaws.com`]),
      "truststore.pki.rds.amazonaws.com",
      // The search domain's endpoint: its security API answers there too (aws-standin.py).
      ...(inputs.search ? [inputs.search.host] : []),
    ];
    const awsCert = serverCertificate(certs, "aws", this.root, awsNames);

    // S3: the host files by digest key, as HostFiles fills the bucket, and the SSM agent package.
    const objects: Record<string, string> = {};
    const objectsDir = path.join(work, "objects");
    fs.mkdirSync(objectsDir);
    for (const bucket of inputs.buckets) {
      for (const f of HOST_FILES) {
        if (this.options.missingObjects?.includes(f.key)) continue;
        const file = path.join(objectsDir, f.sha256);
        fs.writeFileSync(file, f.content);
        objects[`${bucket}/${f.key}`] = file;
      }
    }
    objects[`amazon-ssm-${r}/latest/debian_amd64/amazon-ssm-agent.deb`] = this.images.ssmAgentDeb;
    Object.assign(objects, this.options.objects);
    fs.writeFileSync(path.join(work, "lifecycle-state"), "InService\n");
    fs.writeFileSync(path.join(work, "instance-id"), `${this.instanceId}\n`);
    const config = {
      record: this.requestsFile,
      imds: {
        address: ADDRESSES.imds,
        port: 80,
        instanceId: this.instanceId,
        region: r,
        availabilityZone: `${r}a`,
        group: this.group,
        role: "mastodon-standin-role",
        lifecycleStateFile: path.join(work, "lifecycle-state"),
        instanceIdFile: path.join(work, "instance-id"),
      },
      aws: { address: ADDRESSES.aws, port: 443, ...awsCert },
      credentials: CREDENTIALS,
      parameters: this.parameters,
      objects,
      rdsCaBundle: this.root.caCert,
      fail: this.options.fail ?? {},
      putValues: path.join(work, "put-values.jsonl"),
      lifecycle: lifecycleConfig(work),
      ...(inputs.search && { search: inputs.search }),
      ...(inputs.volumeId && { volumes: { [inputs.volumeId]: this.makeVolume(`${r}a`) } }),
    };
    fs.writeFileSync(path.join(work, "standin.json"), JSON.stringify(config, null, 2));
    fs.writeFileSync(this.requestsFile, "");
    await this.startProcess(
      "aws-standin",
      "/usr/bin/python3",
      ["-B", STANDIN, path.join(work, "standin.json")],
      /listening/,
    );

    if (inputs.database) await this.startPostgres(certs);
    for (const [i, redis] of inputs.redis.entries()) await this.startRedis(certs, redis, redisAddresses[i]!);
    await this.startRegistry(certs);

    this.hostsFile = [
      "127.0.0.1 localhost",
      "::1 localhost ip6-localhost ip6-loopback",
      `${ADDRESSES.aws} ${awsNames.join(" ")}`,
      ...(inputs.registryHosts.length > 0 ? [`${ADDRESSES.registry} ${inputs.registryHosts.join(" ")}`] : []),
      ...(inputs.database ? [`${ADDRESSES.database} ${inputs.database.host}`] : []),
      ...inputs.redis.map((x, i) => `${redisAddresses[i]} ${x.host}`),
      "",
    ].join("\n");
    this.makeCopy();
  }

  private hostsFile = "";

  /** The loop device standing for the persistent Redis's EBS volume, when the stack has one. */
  private volumeDevice?: string;

  /** A blank volume (a sparse image, as a new EBS volume reads zeros) and where its node appears per instance. */
  private makeVolume(availabilityZone: string) {
    const image = path.join(this.work, "redis-volume.img");
    fs.writeFileSync(image, "");
    fs.truncateSync(image, 256 * 1024 * 1024);
    this.volumeDevice = execFileSync("losetup", ["--find", "--show", image], { encoding: "utf8" }).trim();
    return { availabilityZone, device: this.volumeDevice, byIdRoot: this.byIdRoot, releaseAfter: 2 };
  }

  private get byIdRoot(): string {
    return path.join(this.work, "by-id");
  }

  /** A fresh copy of the root for the current host: an overlay, its podman storage, its seed. */
  private makeCopy(): void {
    const { work } = this;
    // The copy: an overlay on the cached root, and podman's storage on the machine's disk.
    for (const d of ["upper", "overlay-work", "merged", "containers"]) fs.mkdirSync(path.join(work, d));
    execFileSync("mount", [
      "-t",
      "overlay",
      "overlay",
      "-o",
      `lowerdir=${this.root.root},upperdir=${path.join(work, "upper")},workdir=${path.join(work, "overlay-work")}`,
      this.merged,
    ]);
    this.mounted = true;
    this.write("/etc/hosts", this.hostsFile);
    this.write("/etc/hostname", "ip-10-0-1-23\n");
    const seed = "/var/lib/cloud/seed/nocloud";
    this.write(`${seed}/user-data`, this.userData);
    this.write(`${seed}/meta-data`, `instance-id: ${this.instanceId}\nlocal-hostname: ip-10-0-1-23\n`);
  }

  /**
   * Replaces the host by a new one, as the group launches the next instance: the current copy is
   * halted and removed, a fresh copy of the root gets `userData` (this fleet's, or another of those
   * in `serves`) and a new instance id, which IMDS answers from now on. The stand-ins, their
   * state (the database, the parameters put) and the record go on. Call `boot()` next.
   */
  async nextHost(userData: string = this.userData): Promise<void> {
    const next = hostInputs(userData);
    const missing = [
      ...next.parameters.filter((p) => !this.served.parameters.includes(p)),
      ...next.images.rails.filter((i) => !this.served.images.rails.includes(i)),
      ...next.images.streaming.filter((i) => !this.served.images.streaming.includes(i)),
      ...next.redis.filter((r) => !this.served.redis.some((s) => s.host === r.host)).map((r) => r.host),
    ];
    if (missing.length > 0)
      throw new Error(`the stand-ins do not serve ${missing.join(", ")}: give this user-data in serves`);
    await this.halt();
    if (this.mounted) {
      if (spawnSync("umount", [this.merged]).status !== 0) spawnSync("umount", ["-l", this.merged]);
      this.mounted = false;
    }
    for (const d of ["upper", "overlay-work", "merged", "containers"])
      fs.rmSync(path.join(this.work, d), { recursive: true, force: true });
    this.userData = userData;
    this.inputs = next;
    this.instanceId = newInstanceId();
    fs.writeFileSync(path.join(this.work, "instance-id"), `${this.instanceId}\n`);
    this.setLifecycleState("InService");
    this.makeCopy();
  }

  /** Writes a file into the booted copy (its overlay's upper layer). */
  write(file: string, content: string, mode = 0o644): void {
    const target = path.join(this.merged, file);
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, content, { mode });
  }

  read(file: string): string | undefined {
    const target = path.join(this.merged, file);
    return fs.existsSync(target) ? fs.readFileSync(target, "utf8") : undefined;
  }

  private async startProcess(
    what: string,
    cmd: string,
    args: string[],
    ready: RegExp | (() => boolean),
    options: { signal?: NodeJS.Signals; uid?: number; gid?: number } = {},
  ): Promise<ChildProcess> {
    const log = path.join(this.work, `${what}.log`);
    // setns needs root: the namespace is entered first, then setpriv drops to the server's user (both exec).
    const asUser =
      options.uid !== undefined
        ? ["/usr/bin/setpriv", `--reuid=${options.uid}`, `--regid=${options.gid}`, "--clear-groups", "--"]
        : [];
    const child = spawn("ip", ns(this.name, [...asUser, cmd, ...args]), {
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.processes.push({ what, child, signal: options.signal ?? "SIGTERM" });
    let output = "";
    const out = fs.createWriteStream(log);
    for (const s of [child.stdout!, child.stderr!])
      s.on("data", (d: Buffer) => {
        output += d.toString();
        out.write(d);
      });
    const until = Date.now() + 60000;
    while (Date.now() < until) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new Error(`${what} exited (${child.exitCode ?? child.signalCode}): ${output.slice(-2000)}`);
      if (typeof ready === "function" ? ready() : ready.test(output)) return child;
      await sleep(100);
    }
    throw new Error(`${what} did not come up in 60 s: ${output.slice(-2000)}`);
  }

  private inNs(args: string[]): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync("ip", ns(this.name, args), { encoding: "utf8", timeout: 30000 });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
  }

  private async startPostgres(certs: string): Promise<void> {
    const db = this.served.database!;
    const dir = path.join(this.work, "pg");
    fs.mkdirSync(dir);
    const uid = Number(execFileSync("id", ["-u", "postgres"], { encoding: "utf8" }));
    const gid = Number(execFileSync("id", ["-g", "postgres"], { encoding: "utf8" }));
    const cert = serverCertificate(certs, "database", this.root, [db.host]);
    for (const f of [cert.cert, cert.key]) {
      fs.copyFileSync(f, path.join(dir, path.basename(f)));
      fs.chownSync(path.join(dir, path.basename(f)), uid, gid);
      fs.chmodSync(path.join(dir, path.basename(f)), 0o600);
    }
    fs.chownSync(dir, uid, gid);
    execFileSync(
      `${PG_BIN}/initdb`,
      ["-D", path.join(dir, "data"), "-A", "trust", "-U", "postgres", "--no-sync"],
      {
        uid,
        gid,
        cwd: dir,
        stdio: "ignore",
        timeout: 120000,
      },
    );
    // As RDS: every TCP client over TLS with its password (scram-sha-256).
    fs.writeFileSync(
      path.join(dir, "data", "pg_hba.conf"),
      "local all all trust\nhostssl all all 0.0.0.0/0 scram-sha-256\n",
    );
    const settings = {
      listen_addresses: ADDRESSES.database,
      port: String(db.port),
      unix_socket_directories: dir,
      ssl: "on",
      ssl_cert_file: path.join(dir, "database.crt"),
      ssl_key_file: path.join(dir, "database.key"),
      fsync: "off",
      password_encryption: "scram-sha-256",
    };
    await this.startProcess(
      "postgres",
      `${PG_BIN}/postgres`,
      ["-D", path.join(dir, "data"), ...Object.entries(settings).flatMap(([k, v]) => ["-c", `${k}=${v}`])],
      /ready to accept connections/,
      { signal: "SIGINT", uid, gid },
    );
    const masterPassword = this.parameters[db.adminParameter]!;
    for (const sql of RDS_MASTER_SQL(db.master, masterPassword, db.name)) this.psql("postgres", sql);
  }

  /** SQL as the server's superuser over its socket (the test's own view of the database). */
  psql(database: string, sql: string): string {
    return execFileSync(
      `${PG_BIN}/psql`,
      [
        "-X",
        "-q",
        "-tA",
        "-v",
        "ON_ERROR_STOP=1",
        "-h",
        path.join(this.work, "pg"),
        "-p",
        String(this.served.database!.port),
        "-U",
        "postgres",
        "-d",
        database,
        "-c",
        sql,
      ],
      { encoding: "utf8", timeout: 30000 },
    ).trim();
  }

  private async startRedis(
    certs: string,
    redis: HostInputs["redis"][number],
    address: string,
  ): Promise<void> {
    const label = `redis-${address.split(".").at(-1)}`;
    const cert = serverCertificate(certs, label, this.root, [redis.host]);
    const dir = path.join(this.work, label);
    fs.mkdirSync(dir);
    const conf = path.join(dir, "redis.conf");
    // As ElastiCache with in-transit encryption and an AUTH token: TLS only, a password.
    fs.writeFileSync(
      conf,
      [
        `bind ${address}`,
        "port 0",
        `tls-port ${redis.port}`,
        `tls-cert-file ${cert.cert}`,
        `tls-key-file ${cert.key}`,
        `tls-ca-cert-file ${this.root.caCert}`,
        "tls-auth-clients no",
        `requirepass ${this.parameters[redis.passwordParameter]}`,
        'save ""',
        "appendonly no",
        `dir ${dir}`,
        "",
      ].join("\n"),
    );
    await this.startProcess(label, "/usr/bin/redis-server", [conf], /Ready to accept connections/);
  }

  private async startRegistry(certs: string): Promise<void> {
    const cert = serverCertificate(certs, "registry", this.root, this.served.registryHosts, [
      ADDRESSES.registry,
    ]);
    const dir = path.join(this.work, "registry");
    fs.mkdirSync(dir);
    const conf = path.join(dir, "config.yml");
    fs.writeFileSync(
      conf,
      [
        "version: 0.1",
        "log:",
        "  level: info",
        "  accesslog:",
        "    disabled: false",
        "storage:",
        "  filesystem:",
        `    rootdirectory: ${path.join(dir, "storage")}`,
        "http:",
        `  addr: ${ADDRESSES.registry}:443`,
        "  tls:",
        `    certificate: ${cert.cert}`,
        `    key: ${cert.key}`,
        "",
      ].join("\n"),
    );
    await this.startProcess("registry", "/usr/bin/docker-registry", ["serve", conf], () => {
      const r = this.inNs([
        "curl",
        "-fsS",
        "-o",
        "/dev/null",
        "--cacert",
        this.root.caCert,
        `https://${ADDRESSES.registry}/v2/`,
      ]);
      return r.status === 0;
    });
    pushImages(this.images, this.name, ADDRESSES.registry, this.served.images);
  }

  /** This instance's /dev/disk/by-id: where its attached volumes' nodes appear. */
  private instanceById(): string {
    const dir = path.join(this.byIdRoot, this.instanceId);
    fs.mkdirSync(dir, { recursive: true });
    return dir;
  }

  /** Boots the copy (again, after a stop: a reboot of the same disk). */
  async boot(): Promise<void> {
    if (this.nspawn && this.nspawn.exitCode === null && this.nspawn.signalCode === null)
      throw new Error("already booted");
    const trees = cgroupTrees();
    // nspawn makes its own /payload and /supervisor cgroups where it starts: in one of ours.
    const enter = trees
      .map((t) => `mkdir -p ${t}/${this.name} && echo $$ > ${t}/${this.name}/cgroup.procs`)
      .join(" && ");
    const args = [
      "--quiet",
      "--register=no",
      "--keep-unit",
      `--directory=${this.merged}`,
      `--machine=${this.name}`,
      `--network-namespace-path=/run/netns/${this.name}`,
      "--resolv-conf=off",
      "--timezone=off",
      "--link-journal=no",
      "--console=pipe",
      "--kill-signal=SIGRTMIN+3",
      // runc joins a session keyring and queries the device cgroup's BPF program.
      "--system-call-filter=keyctl bpf",
      `--bind=${path.join(this.work, "containers")}:/var/lib/containers`,
      // The instance's attached EBS volumes, by udev's names (aws-standin.py makes them appear).
      ...(this.volumeDevice ? [`--bind=${this.instanceById()}:/dev/disk/by-id`] : []),
      INIT_WRAPPER,
    ];
    const console = fs.openSync(path.join(this.work, "console.log"), "a");
    booted(this.work, this.instanceId);
    this.startedAt = Date.now();
    this.nspawn = spawn("/bin/sh", ["-c", `${enter} && exec systemd-nspawn "$@"`, "sh", ...args], {
      stdio: ["ignore", console, console],
      env: { ...process.env, SYSTEMD_NSPAWN_UNIFIED_HIERARCHY: "1" },
    });
    fs.closeSync(console);
  }

  get running(): boolean {
    return this.nspawn !== undefined && this.nspawn.exitCode === null && this.nspawn.signalCode === null;
  }

  /** The container's PID 1, as the machine sees it. */
  private leader(): number | undefined {
    const nspawn = this.nspawn?.pid;
    if (!nspawn) return undefined;
    for (const p of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
      try {
        const stat = fs.readFileSync(`/proc/${p}/stat`, "utf8");
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === nspawn) return Number(p);
      } catch {
        // gone
      }
    }
    return undefined;
  }

  /** A command inside the booted host (all its namespaces), to completion. */
  exec(args: string[], timeoutMs = 60000): { status: number | null; stdout: string; stderr: string } {
    const leader = this.leader();
    if (!leader) return { status: null, stdout: "", stderr: "the host is not running" };
    const r = spawnSync("nsenter", ["--target", String(leader), "--all", "--", ...args], {
      encoding: "utf8",
      timeout: timeoutMs,
      env: { PATH: "/usr/sbin:/usr/bin:/sbin:/bin", LANG: "C.UTF-8" },
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** Waits for a recorded request that `match` accepts; its record, or undefined after `ms`. */
  async waitForRequest(match: (r: Recorded) => boolean, ms: number): Promise<Recorded | undefined> {
    const until = Date.now() + ms;
    while (Date.now() < until) {
      const found = this.requests().find(match);
      if (found) return found;
      if (!this.running) return this.requests().find(match);
      await sleep(500);
    }
    return undefined;
  }

  /** What the host printed on its console (systemd's and cloud-init's output), every boot. */
  consoleLog(): string {
    const file = path.join(this.work, "console.log");
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8") : "";
  }

  /** Sets what IMDS answers at autoscaling/target-lifecycle-state. */
  setLifecycleState(state: string): void {
    setTarget(this.work, this.instanceId, state);
  }

  /** The boot's diagnostics: the boot units' journal (a warm pool host's three) and the failed units. */
  diagnostics(): string {
    // Failed units, and those restarting (Restart=always keeps a crashing service "activating").
    const failed = this.exec([
      "systemctl",
      "--no-pager",
      "--state=failed,activating",
      "--plain",
      "--no-legend",
    ])
      .stdout.split("\n")
      .map((l) => l.trim().split(/\s+/)[0]!)
      .filter((u) => u && !BOOT_UNITS.includes(u));
    const parts = [
      this.exec(["systemctl", "--no-pager", "--failed"]).stdout,
      // What the failed units said, each (a failed pull or lay-out shows here, not in the boot's).
      ...failed.map((u) =>
        this.exec(["journalctl", "--no-pager", "-o", "short-monotonic", "-u", u]).stdout.slice(-3000),
      ),
      this.exec([
        "journalctl",
        "--no-pager",
        "-o",
        "short-monotonic",
        ...BOOT_UNITS.flatMap((u) => ["-u", u]),
        // The pull and lay-out the Mastodon units wait for: retried, so never listed as failed.
        "-u",
        "mastodon-images.service",
      ]).stdout.slice(-8000),
      this.exec(["cloud-init", "status", "--long"]).stdout,
    ];
    return parts.join("\n----\n");
  }

  /** Halts the host as systemd does (SIGRTMIN+3 through nspawn), then kills what is left of it. */
  async halt(graceMs = 120000): Promise<void> {
    const nspawn = this.nspawn;
    if (nspawn && nspawn.exitCode === null && nspawn.signalCode === null) {
      const exited = new Promise<void>((r) => nspawn.once("exit", () => r()));
      nspawn.kill("SIGTERM");
      const timer = setTimeout(() => nspawn.kill("SIGKILL"), graceMs);
      await exited;
      clearTimeout(timer);
    }
    for (const t of cgroupTrees()) {
      const dir = path.join(t, this.name);
      killPids(cgroupPids(dir));
    }
    await sleep(200);
    for (const t of cgroupTrees()) removeCgroup(path.join(t, this.name));
  }

  /** Stops everything this boot started, by PID, and removes its namespace, mounts and files. */
  async tearDown(keep = process.env["MASTODON_BOOT_KEEP"] === "1"): Promise<void> {
    await this.halt();
    for (const p of [...this.processes].reverse()) {
      const { child } = p;
      if (child.exitCode !== null || child.signalCode !== null) continue;
      const exited = new Promise<void>((r) => child.once("exit", () => r()));
      child.kill(p.signal);
      const timer = setTimeout(() => child.kill("SIGKILL"), 30000);
      await exited;
      clearTimeout(timer);
    }
    if (this.mounted) {
      spawnSync("umount", [this.merged]);
      this.mounted = false;
    }
    if (this.volumeDevice) {
      spawnSync("losetup", ["-d", this.volumeDevice]);
      this.volumeDevice = undefined;
    }
    if (this.netnsAdded) {
      // Anything still in the namespace was started by this boot.
      killPids(
        this.inNs(["true"]).status === 0
          ? spawnSync("ip", ["netns", "pids", this.name], { encoding: "utf8" })
              .stdout.split("\n")
              .filter(Boolean)
              .map(Number)
          : [],
      );
      spawnSync("ip", ["netns", "del", this.name]);
      this.netnsAdded = false;
    }
    if (!keep) removeTree(this.work);
  }
}
