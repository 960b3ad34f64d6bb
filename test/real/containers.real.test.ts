/**
 * The container host's units (core/host/containers.ts) checked by the programs that consume them:
 * `systemd-analyze verify` (stand-in executables for podman) and `security --offline=true`, and
 * Debian's podman running each rendered ExecStart against images built here from a minimal root
 * (dash and its libraries from this machine, and stand-in `tini`, `bundle` and `node` scripts that
 * report their arguments, environment, user, and what they can read and write). No registry is
 * reached: the images are imported locally under the references officialImages renders for a
 * `localhost/...` registry, and every command line carries `--pull=never`.
 *
 * This machine's limits, and what the test changes for them (nothing else of the rendered command
 * line is touched):
 * - no systemd as PID 1 and no journal: the run is attached (`-d`, `--sdnotify=conmon` dropped)
 *   and logs to k8s-file (for `--log-driver=journald`); %i, %n and %t are substituted as systemd
 *   would substitute them;
 * - without CAP_SYS_RESOURCE, podman's default RLIMIT_NOFILE (1048576) and crun's RLIMIT_NPROC
 *   fail: `--ulimit` pins them to the current limits;
 * - a hybrid cgroup hierarchy (v1 controllers plus a cgroup2 mount that has controllers) is refused
 *   by crun: podman runs in a private mount namespace without the cgroup2 mount.
 *
 * Measured with systemd 252 (Debian bookworm): every Mastodon container unit 7.1 and the pull
 * 6.9 (the web unit without its unit sandbox: 9.8; Mastodon's own units, sandboxed by systemd, 1.5 to
 * 1.7: test/real/units-security.real.test.ts). A rootful container runtime keeps root's
 * capabilities and the host's mount namespace by necessity (containers.ts, PODMAN_UNIT_SANDBOX);
 * the container's own sandbox (read-only root, no capability, no new privileges, podman's seccomp
 * profile and namespaces, uid 991) is what `systemd-analyze security` cannot see, and what the
 * podman tests below check from inside.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../core/config";
import {
  type ContainerImages,
  IMAGE_UID,
  IMAGES_UNIT,
  officialImages,
  renderContainerUnits,
} from "../../core/host/containers";
import { MASTODON_PATHS } from "../../core/host/units";
import { poolOf } from "../../core/sizing/budget";
import { STACKS, stackConfig } from "../helpers";
import { isRoot, requireProgram, tempDir } from "./servers";
import { exposure, systemdRoot } from "./systemd";

const PODMAN = "/usr/bin/podman";
const VERSION = "v4.6.5";
/** A registry name podman never contacts: the images exist only in local storage. */
const LOCAL_REGISTRY = "localhost/mastodon-aws-test";
const images: ContainerImages = officialImages({ version: VERSION, registry: LOCAL_REGISTRY });

const production = parseStackConfig(stackConfig("production")).config;
const dev = parseStackConfig(stackConfig("dev")).config;
const fleet = (name: string) => production.fleets.find((f) => f.name === name)!;

describe("systemd", () => {
  let root: string;
  let unitDir: string;
  /** Every distinct container unit the shipped stacks render, by name. */
  const units = new Map<string, string>();
  const enabled = new Set<string>();

  beforeAll(() => {
    requireProgram("/usr/bin/systemd-analyze");
    root = systemdRoot("mastodon-containers-", ["usr/bin/podman", "bin/rm", "usr/sbin/pgbouncer"]);
    unitDir = path.join(root, "etc/systemd/system");
    fs.mkdirSync(unitDir, { recursive: true });
    const official = officialImages({ version: VERSION });
    for (const stack of STACKS) {
      const { config } = parseStackConfig(stackConfig(stack));
      const ctx = { pooled: config.database.pooler === "pgbouncer" };
      for (const f of config.fleets) {
        for (const u of renderContainerUnits(f, ctx, official)) {
          // The pull's content depends on the fleet; one fleet's suffices for verify and security.
          units.set(u.name, u.content);
          if (u.name.endsWith(".service") && u.name !== IMAGES_UNIT)
            enabled.add(u.name.replace("@.service", "@10.service"));
        }
      }
    }
    for (const [name, content] of units) fs.writeFileSync(path.join(unitDir, name), content);
  });
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  test("systemd-analyze verify accepts every container unit and the pull, without a warning", () => {
    const r = spawnSync(
      "systemd-analyze",
      ["verify", `--root=${root}`, "mastodon.target", IMAGES_UNIT, ...enabled],
      { cwd: unitDir, encoding: "utf8" },
    );
    expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: "" });
  });

  test("systemd-analyze security: every Mastodon container unit 7.1, the pull 6.9, as measured", () => {
    const byKind = new Map<string, Set<number>>();
    for (const name of [...units.keys()].filter((n) => n.endsWith(".service"))) {
      const kind = name === IMAGES_UNIT ? "pull" : "mastodon";
      byKind.set(kind, new Set([...(byKind.get(kind) ?? []), exposure(path.join(unitDir, name))]));
    }
    expect(Object.fromEntries([...byKind].map(([k, v]) => [k, [...v]]))).toEqual({
      pull: [6.9],
      mastodon: [7.1],
    });
  });

  test("the unit sandbox counts: without it, a podman unit is more exposed", () => {
    const web = units.get("mastodon-web.service")!;
    const bare = web
      .split("\n")
      .filter(
        (l) =>
          !/^(CapabilityBoundingSet|RestrictAddressFamilies|LockPersonality|RestrictRealtime|RestrictSUIDSGID|SystemCallArchitectures|SystemCallFilter)=/.test(
            l,
          ),
      )
      .join("\n");
    const file = path.join(root, "bare-web.service");
    fs.writeFileSync(file, bare);
    expect(exposure(file)).toBe(9.8);
    expect(exposure(path.join(unitDir, "mastodon-web.service"))).toBe(7.1);
  });
});

/** CAP_SYS_RESOURCE (bit 24) in this process's effective set. */
function hasSysResource(): boolean {
  const eff = /^CapEff:\s*([0-9a-f]+)$/m.exec(fs.readFileSync("/proc/self/status", "utf8"))![1]!;
  return (BigInt(`0x${eff}`) & (1n << 24n)) !== 0n;
}

/** A cgroup2 mount beside v1 controllers, which crun refuses when it has controllers of its own. */
function hybridCgroups(): boolean {
  const unified = "/sys/fs/cgroup/unified/cgroup.controllers";
  return fs.existsSync(unified) && fs.readFileSync(unified, "utf8").trim() !== "";
}

/**
 * Runs podman with `args`, working around this machine's limits (see the header); `prefix` runs
 * it under another program first (setpriv).
 */
function podman(args: readonly string[], prefix: readonly string[] = []) {
  const argv = [
    ...(hybridCgroups()
      ? [
          "unshare",
          "-m",
          "--propagation",
          "private",
          "sh",
          "-c",
          'umount /sys/fs/cgroup/unified && exec "$@"',
          "sh",
        ]
      : []),
    ...prefix,
    PODMAN,
    ...args,
  ];
  return spawnSync(argv[0]!, argv.slice(1), { encoding: "utf8", timeout: 60000 });
}

/** setpriv's --bounding-set for a unit's `CapabilityBoundingSet=~CAP_A CAP_B`: `-a,-b`. */
function boundingSetOf(content: string): string[] {
  const line = content.split("\n").find((l) => l.startsWith("CapabilityBoundingSet=~"))!;
  const dropped = line.slice("CapabilityBoundingSet=~".length).split(" ");
  return [
    "setpriv",
    "--bounding-set",
    dropped.map((c) => `-${c.replace(/^CAP_/, "").toLowerCase()}`).join(","),
  ];
}

/** The stand-in for a Mastodon program: what it was given and what it may touch. */
const REPORTER = `#!/bin/sh
for a in "$0" "$@"; do echo "ARG $a"; done
echo "PWD $(pwd)"
while read -r k v _; do [ "$k" = Uid: ] && echo "UID $v"; done < /proc/self/status
export -p | sed 's/^export /ENV /'
if [ -e /opt/mastodon/.env.production ] && read -r l < /opt/mastodon/.env.production; then echo "ENVFILE $l"; fi
if [ -e /opt/mastodon/.postgresql/root.crt ] && read -r l < /opt/mastodon/.postgresql/root.crt; then echo "LIBPQ_CA $l"; fi
if [ -n "$NODE_EXTRA_CA_CERTS" ] && read -r l < "$NODE_EXTRA_CA_CERTS"; then echo "NODE_CA $l"; fi
if (: > /opt/mastodon/tmp/probe) 2>/dev/null; then echo "TMP writable"; else echo "TMP read-only"; fi
if (: > /opt/mastodon/probe) 2>/dev/null; then echo "ROOT writable"; else echo "ROOT read-only"; fi
`;

describe("podman runs the rendered command lines against locally built images", () => {
  const dir = tempDir("mastodon-podman-");
  const envFile = path.join(dir, "env.production");
  const caFile = path.join(dir, "rds-ca.pem");
  const report = (out: string, key: string) =>
    out
      .split("\n")
      .filter((l) => l.startsWith(`${key} `))
      .map((l) => l.slice(key.length + 1));
  const envOf = (out: string) =>
    Object.fromEntries(
      report(out, "ENV").map((l) => {
        const m = /^([A-Za-z_][A-Za-z0-9_]*)='(.*)'$/.exec(l);
        return m ? [m[1]!, m[2]!] : [l, ""];
      }),
    );

  /** A root with dash (and its libraries), the image's mastodon user, and the stand-ins. */
  function buildImage(ref: string, kind: "rails" | "streaming"): void {
    const rootfs = path.join(dir, `root-${kind}`);
    const put = (file: string, content: string | Buffer, mode = 0o644) => {
      fs.mkdirSync(path.dirname(path.join(rootfs, file)), { recursive: true });
      fs.writeFileSync(path.join(rootfs, file), content, { mode });
    };
    put("bin/sh", fs.readFileSync("/bin/dash"), 0o755);
    put("bin/sed", fs.readFileSync("/bin/sed"), 0o755);
    const libs = execFileSync("ldd", ["/bin/dash", "/bin/sed"], { encoding: "utf8" }).match(/\/\S+/g) ?? [];
    // With their modes: the kernel opens the ELF interpreter (ld.so) for execution.
    for (const lib of new Set(libs.filter((l) => !l.endsWith(":"))))
      put(lib.slice(1), fs.readFileSync(lib), fs.statSync(lib).mode & 0o777);
    put(
      "etc/passwd",
      `root:x:0:0:root:/root:/bin/sh\nmastodon:x:${IMAGE_UID}:${IMAGE_UID}::/opt/mastodon:/bin/sh\n`,
    );
    put("etc/group", `root:x:0:\nmastodon:x:${IMAGE_UID}:\n`);
    put("proc/.keep", "");
    put("opt/mastodon/tmp/cache/bootsnap", "precompiled\n");
    fs.chownSync(path.join(rootfs, "opt/mastodon/tmp"), IMAGE_UID, IMAGE_UID);
    const changes =
      kind === "rails"
        ? [
            // Mastodon's Dockerfile: tini as the entry point, no CMD; jemalloc's MALLOC_CONF.
            put("usr/bin/tini", '#!/bin/sh\n[ "$1" = -- ] && shift\nexec "$@"\n', 0o755),
            put("usr/local/bin/bundle", REPORTER, 0o755),
            'ENTRYPOINT ["/usr/bin/tini", "--"]',
            "ENV RAILS_ENV=production",
            "ENV NODE_ENV=production",
            "ENV BIND=0.0.0.0",
            "ENV MALLOC_CONF=narenas:2,background_thread:true,thp:never,dirty_decay_ms:1000,muzzy_decay_ms:0",
          ]
        : [
            // streaming/Dockerfile: no entry point of its own, PORT 4000.
            put("usr/local/bin/node", REPORTER, 0o755),
            'CMD ["node", "./streaming/index.js"]',
            "ENV NODE_ENV=production",
            "ENV BIND=0.0.0.0",
            "ENV PORT=4000",
          ];
    // Whatever this process's umask, the image's files are readable and its programs runnable by 991.
    execFileSync("chmod", ["-R", "u+rwX,go+rX", rootfs]);
    const tar = path.join(dir, `${kind}.tar`);
    execFileSync("tar", ["-C", rootfs, "-cf", tar, "."]);
    const r = podman([
      "import",
      "--change",
      "USER mastodon",
      "--change",
      "WORKDIR /opt/mastodon",
      "--change",
      "ENV PATH=/usr/local/bin:/usr/bin:/bin",
      ...changes.filter((c): c is string => typeof c === "string").flatMap((c) => ["--change", c]),
      tar,
      ref,
    ]);
    if (r.status !== 0) throw new Error(`podman import failed: ${r.stderr}`);
  }

  /** A unit's ExecStart as systemd would run it for `instance`, adjusted as the header says. */
  function execStart(content: string, unit: string, instance: string): string[] {
    const instanceName = unit.replace("@.service", `@${instance}.service`);
    // ExecStartPre first, as systemd runs it: a cidfile left by an earlier run would stop podman.
    expect(content).toContain("\nExecStartPre=/bin/rm -f %t/%n.ctr-id\n");
    fs.rmSync(path.join(dir, `${instanceName}.ctr-id`), { force: true });
    const line = content.split("\n").find((l) => l.startsWith("ExecStart="))!;
    const limits = hasSysResource()
      ? []
      : [
          "--ulimit",
          `nofile=${execFileSync("sh", ["-c", "ulimit -Hn"], { encoding: "utf8" }).trim()}:${execFileSync(
            "sh",
            ["-c", "ulimit -Hn"],
            { encoding: "utf8" },
          ).trim()}`,
          "--ulimit",
          "nproc=32768:32768",
        ];
    const argv = line
      .slice("ExecStart=".length)
      .replaceAll("%i", instance)
      .replaceAll("%n", instanceName)
      .replaceAll("%t", dir)
      .split(" ")
      .filter((a) => a !== "-d" && a !== "--sdnotify=conmon")
      .map((a) => (a === "--log-driver=journald" ? "--log-driver=k8s-file" : a))
      .map((a) =>
        a.startsWith(`--volume=${MASTODON_PATHS.rdsCaBundle}:`)
          ? a
              .replace(MASTODON_PATHS.rdsCaBundle, caFile)
              .replace(`:${caFile}:`, `:${MASTODON_PATHS.rdsCaBundle}:`)
          : a,
      );
    expect(argv[0]).toBe(PODMAN);
    expect(argv[1]).toBe("run");
    return ["run", ...limits, ...argv.slice(2)];
  }

  beforeAll(() => {
    requireProgram(PODMAN);
    if (!isRoot) throw new Error("these tests run rootful podman, as the hosts do: run them as root");
    // The boot renderer's output: 0600, owned by the host's mastodon user (uid 991), quoted for dotenv.
    fs.writeFileSync(envFile, "LOCAL_DOMAIN=example.test\nSMTP_PASSWORD='p#ss w$rd'\n", { mode: 0o600 });
    fs.chownSync(envFile, IMAGE_UID, IMAGE_UID);
    fs.writeFileSync(caFile, "-----BEGIN CERTIFICATE----- rds stand-in\n");
    buildImage(images.rails, "rails");
    buildImage(images.streaming, "streaming");
  }, 120000);
  afterAll(() => {
    podman(["rmi", "--force", images.rails, images.streaming]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("web: Puma's command, the budget's pools, the env file and libpq's CA, read-only but tmp", () => {
    const f = fleet("web");
    const [, , unit] = renderContainerUnits(f, { pooled: false, envFile }, images);
    const r = podman(execStart(unit!.content, unit!.name, ""));
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(report(r.stdout, "ARG")).toEqual([
      "/usr/local/bin/bundle",
      "exec",
      "puma",
      "-C",
      "config/puma.rb",
    ]);
    expect(envOf(r.stdout)).toMatchObject({
      RAILS_ENV: "production",
      PORT: "3000",
      BIND: "0.0.0.0",
      WEB_CONCURRENCY: String(f.web!.processes),
      MAX_THREADS: String(poolOf(f, "web")),
      // From the image, untouched: jemalloc's tuning.
      MALLOC_CONF: "narenas:2,background_thread:true,thp:never,dirty_decay_ms:1000,muzzy_decay_ms:0",
    });
    expect(envOf(r.stdout)).not.toHaveProperty("LD_PRELOAD");
    expect(report(r.stdout, "UID")).toEqual([String(IMAGE_UID)]);
    expect(report(r.stdout, "PWD")).toEqual(["/opt/mastodon"]);
    expect(report(r.stdout, "ENVFILE")).toEqual(["LOCAL_DOMAIN=example.test"]);
    expect(report(r.stdout, "LIBPQ_CA")).toEqual(["-----BEGIN CERTIFICATE----- rds stand-in"]);
    expect(report(r.stdout, "TMP")).toEqual(["writable"]);
    expect(report(r.stdout, "ROOT")).toEqual(["read-only"]);
  });

  test("streaming@4001: its port from %i, its DB_POOL, node's CA", () => {
    const f = fleet("streaming");
    const unit = renderContainerUnits(f, { pooled: false, envFile }, images).find(
      (u) => u.name === "mastodon-streaming@.service",
    )!;
    const r = podman(execStart(unit.content, unit.name, "4001"));
    expect(r.stderr).toBe("");
    expect(report(r.stdout, "ARG")).toEqual(["/usr/local/bin/node", "./streaming/index.js"]);
    expect(envOf(r.stdout)).toMatchObject({
      NODE_ENV: "production",
      PORT: "4001",
      DB_POOL: String(poolOf(f, "streaming")),
      NODE_EXTRA_CA_CERTS: MASTODON_PATHS.rdsCaBundle,
    });
    expect(report(r.stdout, "NODE_CA")).toEqual(["-----BEGIN CERTIFICATE----- rds stand-in"]);
    expect(report(r.stdout, "ENVFILE")).toEqual(["LOCAL_DOMAIN=example.test"]);
    expect(report(r.stdout, "ROOT")).toEqual(["read-only"]);
  });

  test("sidekiq (the combined dev fleet) @5: -c and DB_POOL from %i, every queue weighted", () => {
    const f = dev.fleets[0]!;
    const unit = renderContainerUnits(f, { pooled: true, envFile }, images).find((u) =>
      u.name.startsWith("mastodon-sidekiq-"),
    )!;
    const r = podman(execStart(unit.content, unit.name, String(poolOf(f, "sidekiq"))));
    expect(r.stderr).toBe("");
    const threads = String(poolOf(f, "sidekiq"));
    expect(report(r.stdout, "ARG")).toEqual([
      "/usr/local/bin/bundle",
      "exec",
      "sidekiq",
      // Sidekiq's process tag: how the drain finds these processes (core/host/units.ts, SIDEKIQ_TAG).
      "-g",
      "mastodon",
      "-c",
      threads,
      ..."-q default,8 -q ingress,4 -q push,6 -q pull,1 -q mailers,2 -q scheduler,1 -q fasp,1".split(" "),
    ]);
    expect(envOf(r.stdout)).toMatchObject({
      RAILS_ENV: "production",
      DB_POOL: threads,
      MALLOC_ARENA_MAX: "2",
    });
    // Pooled: PgBouncer speaks TLS to RDS, the container gets no CA.
    expect(report(r.stdout, "LIBPQ_CA")).toEqual([]);
    expect(report(r.stdout, "TMP")).toEqual(["writable"]);
  });

  test("the unit's capability bounding set leaves podman able to run the container (setpriv)", () => {
    requireProgram("/usr/bin/setpriv");
    const [, , unit] = renderContainerUnits(fleet("web"), { pooled: true, envFile }, images);
    const r = podman(execStart(unit!.content, unit!.name, ""), boundingSetOf(unit!.content));
    expect(r.stderr).toBe("");
    expect(report(r.stdout, "ARG")).toEqual([
      "/usr/local/bin/bundle",
      "exec",
      "puma",
      "-C",
      "config/puma.rb",
    ]);
  });

  test("--pull=never: a reference not in local storage fails at once, reaching no registry", () => {
    const unit = renderContainerUnits(
      fleet("web"),
      { pooled: true, envFile },
      {
        ...images,
        rails: `${LOCAL_REGISTRY}/mastodon:v9.9.9`,
      },
    )[2]!;
    const r = podman(execStart(unit.content, unit.name, ""));
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain(`${LOCAL_REGISTRY}/mastodon:v9.9.9: image not known`);
  });

  test("why the env file is mounted, not passed with --env-file: podman keeps dotenv's quotes", () => {
    const r = podman([
      "run",
      "--rm",
      "--pull=never",
      "--network=host",
      ...(hasSysResource() ? [] : ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=32768:32768"]),
      `--env-file=${envFile}`,
      images.streaming,
    ]);
    expect(r.stderr).toBe("");
    // dotenv reads p#ss w$rd; podman hands Mastodon the quotes too.
    expect(report(r.stdout, "ENV")).toContain(`SMTP_PASSWORD=''"'"'p#ss w$rd'"'"`);
  });
});
