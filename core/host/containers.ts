/**
 * A fleet host that runs Mastodon's official release images on a stock Debian 12 AMI with
 * Debian's podman (4.3): the same units as the machine image's (units.ts, after
 * eigenmagic-systemd-template-units.txt): mastodon.target, mastodon-web.service,
 * mastodon-streaming@<port>.service, mastodon-sidekiq-<queues>[-N]@<threads>.service. Each
 * unit's ExecStart runs one container in the shape of podman-generate-systemd(1)'s `--new`
 * units. Pure.
 *
 * What the images are (Mastodon's Dockerfile and streaming/Dockerfile, 4.3 onwards):
 * - `mastodon` (Rails: web and Sidekiq): ENTRYPOINT ["/usr/bin/tini", "--"] with no CMD, so the
 *   unit gives the command (Mastodon's docker-compose.yml: `bundle exec puma -C config/puma.rb`,
 *   `bundle exec sidekiq`). WORKDIR /opt/mastodon, USER mastodon (uid and gid 991), RAILS_ENV
 *   and NODE_ENV production, BIND 0.0.0.0. jemalloc is linked into Ruby itself
 *   (`patchelf --add-needed libjemalloc.so.2 /usr/local/bin/ruby`) and tuned with
 *   MALLOC_CONF=narenas:2,background_thread:true,thp:never,dirty_decay_ms:1000,muzzy_decay_ms:0,
 *   so no LD_PRELOAD is set here. The image pre-creates /opt/mastodon/tmp (owned by mastodon)
 *   and fills it with bootsnap's cache.
 * - `mastodon-streaming`: built FROM node:<major>-<debian>-slim, CMD ["node",
 *   "./streaming/index.js"], WORKDIR /opt/mastodon, USER mastodon (991), PORT 4000, BIND
 *   0.0.0.0, NODE_ENV production. It handles SIGTERM itself (streaming/index.js: onExit).
 * - Both read `/opt/mastodon/.env.production` with dotenv (Rails at boot; streaming/index.js
 *   loads `../.env.production` beside it), and neither parser overrides a variable the process
 *   already has: the per-process variables given with `-e` win, as the units' Environment= do.
 */
import { poolOf } from "../sizing/budget";
import type { Fleet } from "../config/resolve";
import { DEFAULTS } from "../defaults";
import type { WriteFile } from "./cloudInit";
import { type Directive, environment as env, renderUnit, type UnitFile } from "./systemd";
import {
  enabledUnits,
  MASTODON_PATHS,
  MASTODON_TIMEOUT_SEC,
  PGBOUNCER_UNIT,
  renderTarget,
  SIDEKIQ_STOP_TIMEOUT_SECONDS,
  sidekiqQueueArgs,
  sidekiqUnitPrefix,
  type UnitContext,
} from "./units";
import { RESTART_SEC, restartAlways, startLimits } from "./unitPolicy";

/** Where Mastodon publishes its images (Mastodon's docker-compose.yml: ghcr.io/mastodon/...). */
export const OFFICIAL_REGISTRY = DEFAULTS.image.registry;
/** The Rails image (web and Sidekiq) and, since Mastodon 4.3, the streaming server's own image. */
export const OFFICIAL_IMAGE_NAMES = { rails: "mastodon", streaming: "mastodon-streaming" } as const;

/** The two images a container host runs, as fully qualified, pinned references. */
export interface ContainerImages {
  /** `<registry>/mastodon:<version>[@sha256:...]`: web and Sidekiq. */
  readonly rails: string;
  /** `<registry>/mastodon-streaming:<version>[@sha256:...]`: the streaming server. */
  readonly streaming: string;
}

/** Inside the images (Mastodon's Dockerfile and streaming/Dockerfile). */
export const IMAGE_PATHS = {
  home: "/opt/mastodon",
  /** Where both dotenv loaders look (Rails.root and streaming/index.js's `..`). */
  envFile: "/opt/mastodon/.env.production",
  /** libpq's default sslrootcert, ~/.postgresql/root.crt, for the image's mastodon user. */
  libpqRootCert: "/opt/mastodon/.postgresql/root.crt",
  /** Rails' tmp (pids, Sidekiq's ready file, bootsnap's cache): the one place Mastodon writes. */
  tmp: "/opt/mastodon/tmp",
} as const;

/** The image's mastodon user and group (both Dockerfiles: ARG UID="991", ARG GID="991"). */
export const IMAGE_UID = 991;

/** Debian 12's podman. */
export const PODMAN = "/usr/bin/podman";

/** The unit that pulls the pinned images once at boot; every Mastodon unit wants it. */
export const IMAGES_UNIT = "mastodon-images.service";

/** podman's registry credentials when the images come through an ECR pull-through cache. */
export const REGISTRY_AUTH_FILE = "/etc/mastodon/registry-auth.json";

/**
 * podman-generate-systemd(1) gives a unit TimeoutStopSec = the container's stop timeout + 60 s:
 * room for `podman stop` to SIGKILL after the timeout and for `podman rm` to clean up.
 */
export const PODMAN_STOP_MARGIN_SEC = 60;

/** An ECR registry host (a pull-through cache prefix lives under one): pulls need the ECR helper. */
const ECR_HOST = /^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** What a reference may hold: systemd would expand `%` and `$` in ExecStart, split on spaces. */
const REFERENCE =
  /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?$/;

/** A Mastodon release tag with the streaming image: v4.3.0 and later (vMAJOR.MINOR.PATCH). */
const RELEASE = /^v([0-9]+)\.([0-9]+)\.([0-9]+)$/;

export interface OfficialImagesInput {
  /** A Mastodon release tag, e.g. "v4.6.5". */
  readonly version: string;
  /** "ghcr.io/mastodon" (OFFICIAL_REGISTRY), or an ECR pull-through cache prefix holding it. */
  readonly registry?: string;
  /** Optional digests (sha256:...) that pin each image beyond its tag. */
  readonly digests?: { readonly rails?: string; readonly streaming?: string };
}

/** The official images of one release, pinned by tag (and digest when given). */
export function officialImages(input: OfficialImagesInput): ContainerImages {
  const m = RELEASE.exec(input.version);
  if (!m) throw new Error(`${JSON.stringify(input.version)} is not a Mastodon release tag (vX.Y.Z)`);
  const [major, minor] = [Number(m[1]), Number(m[2])];
  if (major < 4 || (major === 4 && minor < 3))
    throw new Error(`${input.version}: the streaming server has its own image only since Mastodon v4.3.0`);
  const registry = (input.registry ?? OFFICIAL_REGISTRY).replace(/\/+$/, "");
  const ref = (name: string, digest?: string) =>
    checkedReference(`${registry}/${name}:${input.version}${digest ? `@${digest}` : ""}`);
  return {
    rails: ref(OFFICIAL_IMAGE_NAMES.rails, input.digests?.rails),
    streaming: ref(OFFICIAL_IMAGE_NAMES.streaming, input.digests?.streaming),
  };
}

/** A fully qualified reference pinned by tag, refused when systemd or podman would read it otherwise. */
export function checkedReference(reference: string): string {
  if (!REFERENCE.test(reference))
    throw new Error(
      `${JSON.stringify(reference)} is not a pinned image reference (registry/name:tag[@sha256:digest])`,
    );
  if (/:latest(@|$)/.test(reference)) throw new Error(`${reference}: "latest" is not a pinned version`);
  return reference;
}

/** The registry host of a reference: its first path segment. */
export function registryHost(reference: string): string {
  return reference.slice(0, reference.indexOf("/"));
}

/** The images this fleet runs: Rails for web and Sidekiq, streaming for streaming. */
export function fleetImages(fleet: Fleet, images: ContainerImages): string[] {
  const refs = [
    ...(fleet.web || fleet.sidekiq ? [checkedReference(images.rails)] : []),
    ...(fleet.streaming ? [checkedReference(images.streaming)] : []),
  ];
  return [...new Set(refs)];
}

export interface ContainerContext extends UnitContext {
  /** The host's rendered .env.production (the boot renderer's target); MASTODON_PATHS.envFile by default. */
  readonly envFile?: string;
}

/** One argument of a podman command line, as systemd reads ExecStart (systemd.service(5)). */
function arg(value: string | number): string {
  const text = String(value);
  // %i, %n, %p, %t are the only specifiers meant; a `$` would be expanded, a space would split.
  if (!/^[A-Za-z0-9_./:=,@+-]*(%[intp][A-Za-z0-9_./:=,@+-]*)*$/.test(text) || text === "")
    throw new Error(`${JSON.stringify(text)} cannot be one ExecStart argument`);
  return text;
}
const command = (args: readonly (string | number)[]) => args.map(arg).join(" ");

interface ContainerSpec {
  /** The container's name: the unit's own (`%p-%i` for a template: podman refuses `@`). */
  readonly name: string;
  readonly image: string;
  /** `-e NAME=value`: what the native unit carries in Environment=. */
  readonly env: readonly (readonly [string, string | number])[];
  /** Host path -> container path, read-only. */
  readonly mounts: readonly (readonly [string, string])[];
  /** Rails writes tmp/; the streaming server writes nothing. */
  readonly writableTmp: boolean;
  readonly stopTimeout: number;
  readonly command: readonly string[];
}

const CIDFILE = "--cidfile=%t/%n.ctr-id";

/**
 * `podman run` as podman-generate-systemd(1) --new writes it (detached, conmon's pid as MAINPID
 * through sd_notify, conmon in the unit's cgroup and the container in its own), with Mastodon's
 * sandbox moved inside the container:
 * - `--pull=never`: the image was pulled by mastodon-images.service; a restart never reaches a
 *   registry, and a missing image fails the start (Restart=always tries again).
 * - `--network host`: the ALB reaches the port on the instance, as with the machine image.
 * - `--read-only` (with podman's default tmpfs on /run, /tmp, /var/tmp) and a tmpfs on
 *   /opt/mastodon/tmp, which podman fills from the image (tmpcopyup, its default): media live in
 *   S3, so Mastodon writes nothing else.
 * - `--cap-drop=all` and `no-new-privileges`: the processes run as the image's mastodon user and
 *   need no capability (Mastodon's dist/ units: CapabilityBoundingSet= empty, NoNewPrivileges).
 * - the host's .env.production mounted read-only where dotenv reads it. Not `--env-file`: podman
 *   takes each line literally, so a secret the boot renderer quoted for dotenv (boot.ts,
 *   dotenvQuote) would reach Mastodon with its quotes (test/real/containers.real.test.ts).
 * - `--log-driver=journald`: conmon runs in the unit's cgroup, so `journalctl -u <unit>` shows
 *   Mastodon's output as it does for the native units.
 */
function podmanRun(spec: ContainerSpec): string {
  return command([
    PODMAN,
    "run",
    CIDFILE,
    "--cgroups=no-conmon",
    "--rm",
    "--sdnotify=conmon",
    "-d",
    "--replace",
    `--name=${spec.name}`,
    "--pull=never",
    "--network=host",
    "--log-driver=journald",
    "--read-only",
    ...(spec.writableTmp ? [`--tmpfs=${IMAGE_PATHS.tmp}:rw,nosuid,nodev`] : []),
    "--cap-drop=all",
    "--security-opt=no-new-privileges",
    `--stop-timeout=${spec.stopTimeout}`,
    ...spec.mounts.map(([host, inside]) => `--volume=${host}:${inside}:ro`),
    ...spec.env.flatMap(([k, v]) => ["-e", `${k}=${v}`]),
    spec.image,
    ...spec.command,
  ]);
}

/**
 * The unit-level sandbox of a podman unit. podman runs as root and builds the container's
 * sandbox itself (namespaces, mounts, seccomp, capabilities: podman-run(1)), so the unit keeps
 * only what cannot get in podman's way. Set, and why podman allows it:
 * - RestrictAddressFamilies AF_INET AF_INET6 AF_NETLINK AF_UNIX: Mastodon's set (unitPolicy.ts);
 *   podman, conmon and crun talk over AF_UNIX (sd_notify, the journal, the attach socket) and
 *   with --network host create no network.
 * - LockPersonality, RestrictRealtime, RestrictSUIDSGID, SystemCallArchitectures=native: seccomp
 *   filters inherited by crun and the container, none of whose calls they deny (podman sets no
 *   personality, schedules nothing in real time, creates no set-id file; the image is the host's
 *   architecture, pulled for it).
 * - SystemCallFilter=~@clock @cpu-emulation @debug @module @obsolete @raw-io @reboot @swap:
 *   groups neither podman, crun nor Ruby and Node call.
 * - CapabilityBoundingSet=~ the capabilities no part of podman uses (kernel modules, clock, raw
 *   I/O, reboot, accounting, ttys, syslog, immutable files, leases, alarms, suspend, perf, BPF
 *   beyond CAP_SYS_ADMIN's, checkpoints); the container itself gets none (--cap-drop=all).
 * Not set, and why:
 * - ProtectSystem, ProtectHome, PrivateTmp, PrivateDevices, PrivateMounts, ProtectKernelTunables,
 *   ProtectKernelModules, ProtectKernelLogs, ProtectControlGroups, ProtectProc, ReadWritePaths:
 *   each puts the unit in its own mount namespace, where podman would mount the container's root
 *   and the host (other podman commands, `podman exec`, its storage's mount counts) would not see
 *   it; podman writes /var/lib/containers and /run/containers, and crun creates cgroups.
 * - ProtectHostname (its filter denies sethostname, which crun calls in the container's UTS
 *   namespace), RestrictNamespaces (crun creates them), SystemCallFilter ~@mount @privileged
 *   @setuid @keyring @ipc (crun mounts, pivots, switches to uid 991 and makes a session keyring),
 *   and PrivateUsers, NoNewPrivileges, CapabilityBoundingSet= empty (a rootful runtime needs root's
 *   capabilities, and NoNewPrivileges on the unit would constrain the AppArmor profile podman
 *   gives the container; the container gets no-new-privileges itself).
 * - MemoryDenyWriteExecute: inherited by the container, it would break Node's JIT and Ruby's YJIT.
 */
export const PODMAN_UNIT_SANDBOX: readonly Directive[] = [
  [
    "CapabilityBoundingSet",
    "~CAP_SYS_MODULE CAP_SYS_TIME CAP_SYS_RAWIO CAP_SYS_BOOT CAP_SYS_PACCT CAP_SYS_TTY_CONFIG CAP_SYSLOG CAP_LINUX_IMMUTABLE CAP_LEASE CAP_WAKE_ALARM CAP_BLOCK_SUSPEND CAP_PERFMON CAP_BPF CAP_CHECKPOINT_RESTORE",
  ],
  ["RestrictAddressFamilies", "AF_INET AF_INET6 AF_NETLINK AF_UNIX"],
  ["LockPersonality", "true"],
  ["RestrictRealtime", "true"],
  ["RestrictSUIDSGID", "true"],
  ["SystemCallArchitectures", "native"],
  ["SystemCallFilter", "~@clock @cpu-emulation @debug @module @obsolete @raw-io @reboot @swap"],
];

/** [Unit] of a container unit: the native one's, plus the image pull it waits for. */
function unitSection(description: string, ctx: ContainerContext): Directive[] {
  return [
    ["Description", description],
    ["Wants", `network-online.target ${IMAGES_UNIT}${ctx.pooled ? ` ${PGBOUNCER_UNIT}` : ""}`],
    ["After", `network-online.target ${IMAGES_UNIT}${ctx.pooled ? ` ${PGBOUNCER_UNIT}` : ""}`],
    // podman-generate-systemd(1): the unit needs %t (/run) for its cidfile and podman's state.
    ["RequiresMountsFor", "%t/containers"],
    ["PartOf", "mastodon.target"],
    ...startLimits,
  ];
}

/**
 * [Service] of a container unit, after podman-generate-systemd(1) --new: Type=notify with
 * conmon as the main process, the cidfile removed before and the container after, and
 * `podman stop -t` the same stop timeout the container was started with.
 */
function serviceSection(spec: ContainerSpec): Directive[] {
  const stop = spec.stopTimeout;
  return [
    ["Type", "notify"],
    ["NotifyAccess", "all"],
    env("PODMAN_SYSTEMD_UNIT", "%n"),
    ["ExecStartPre", "/bin/rm -f %t/%n.ctr-id"],
    ["ExecStart", podmanRun(spec)],
    ["ExecStop", command([PODMAN, "stop", "--ignore", "-t", stop, CIDFILE])],
    ["ExecStopPost", command([PODMAN, "rm", "-f", "--ignore", "-t", stop, CIDFILE])],
    ["TimeoutStopSec", stop + PODMAN_STOP_MARGIN_SEC],
    ...restartAlways,
    ...PODMAN_UNIT_SANDBOX,
  ];
}

const install: Directive[] = [["WantedBy", "mastodon.target"]];

/** Read-only mounts every Rails or streaming container gets: the env file, and RDS's CA when direct. */
function mountsFor(kind: "rails" | "streaming", ctx: ContainerContext): [string, string][] {
  const mounts: [string, string][] = [[ctx.envFile ?? MASTODON_PATHS.envFile, IMAGE_PATHS.envFile]];
  // Direct TLS to RDS is verified (docs/design.md, "Encryption in transit"): libpq reads
  // ~/.postgresql/root.crt, node the bundle NODE_EXTRA_CA_CERTS names.
  if (!ctx.pooled)
    mounts.push(
      kind === "rails"
        ? [MASTODON_PATHS.rdsCaBundle, IMAGE_PATHS.libpqRootCert]
        : [MASTODON_PATHS.rdsCaBundle, MASTODON_PATHS.rdsCaBundle],
    );
  return mounts;
}

export function renderContainerWebUnit(
  fleet: Fleet,
  ctx: ContainerContext,
  images: ContainerImages,
): UnitFile {
  if (!fleet.web) throw new Error(`fleet ${fleet.name} runs no web`);
  const spec: ContainerSpec = {
    name: "mastodon-web",
    image: checkedReference(images.rails),
    // Read by config/puma.rb before .env.production is loaded (units.ts, renderWebUnit).
    env: [
      ["RAILS_ENV", "production"],
      ["PORT", DEFAULTS.web.port],
      ["BIND", "0.0.0.0"],
      ["WEB_CONCURRENCY", fleet.web.processes],
      ["MAX_THREADS", poolOf(fleet, "web")],
    ],
    mounts: mountsFor("rails", ctx),
    writableTmp: true,
    stopTimeout: MASTODON_TIMEOUT_SEC,
    command: ["bundle", "exec", "puma", "-C", "config/puma.rb"],
  };
  return {
    name: "mastodon-web.service",
    content: renderUnit({
      unit: unitSection("mastodon-web (container)", ctx),
      service: serviceSection(spec),
      install,
    }),
  };
}

/** One container per port, %i = port, as mastodon-streaming@.service. */
export function renderContainerStreamingUnit(
  fleet: Fleet,
  ctx: ContainerContext,
  images: ContainerImages,
): UnitFile {
  if (!fleet.streaming) throw new Error(`fleet ${fleet.name} runs no streaming`);
  const spec: ContainerSpec = {
    name: "mastodon-streaming-%i",
    image: checkedReference(images.streaming),
    env: [
      ["NODE_ENV", "production"],
      ["PORT", "%i"],
      ["BIND", "0.0.0.0"],
      ["DB_POOL", poolOf(fleet, "streaming")],
      ...(ctx.pooled ? [] : [["NODE_EXTRA_CA_CERTS", MASTODON_PATHS.rdsCaBundle] as const]),
    ],
    mounts: mountsFor("streaming", ctx),
    writableTmp: false,
    stopTimeout: MASTODON_TIMEOUT_SEC,
    command: ["node", "./streaming/index.js"],
  };
  return {
    name: "mastodon-streaming@.service",
    content: renderUnit({
      unit: unitSection("mastodon-streaming on port %i (container)", ctx),
      service: serviceSection(spec),
      install,
    }),
  };
}

/** One template per Sidekiq process, %i = threads (units.ts, renderSidekiqUnits). */
export function renderContainerSidekiqUnits(
  fleet: Fleet,
  ctx: ContainerContext,
  images: ContainerImages,
): UnitFile[] {
  const sidekiq = fleet.sidekiq;
  if (!sidekiq) throw new Error(`fleet ${fleet.name} runs no sidekiq`);
  const queues = sidekiqQueueArgs(sidekiq.queues).split(" ");
  return Array.from({ length: sidekiq.processes }, (_, i) => {
    const prefix = sidekiqUnitPrefix(fleet, i + 1);
    const spec: ContainerSpec = {
      name: `${prefix}-%i`,
      image: checkedReference(images.rails),
      env: [
        ["RAILS_ENV", "production"],
        ["DB_POOL", "%i"],
        // eigenmagic-systemd-template-units.txt; the image's Ruby allocates with jemalloc
        // (narenas:2 in its MALLOC_CONF), so this bounds only what glibc's malloc still serves.
        ["MALLOC_ARENA_MAX", 2],
      ],
      mounts: mountsFor("rails", ctx),
      writableTmp: true,
      stopTimeout: SIDEKIQ_STOP_TIMEOUT_SECONDS,
      command: ["bundle", "exec", "sidekiq", "-c", "%i", ...queues],
    };
    return {
      name: `${prefix}@.service`,
      content: renderUnit({
        unit: unitSection(
          `mastodon-sidekiq ${sidekiq.queues.join(",")} (process ${i + 1}, %i threads, container)`,
          ctx,
        ),
        service: serviceSection(spec),
        install,
      }),
    };
  });
}

/**
 * mastodon-images.service: pulls this fleet's pinned images once per boot, retried RESTART_SEC
 * apart until it succeeds (Restart=on-failure, allowed for Type=oneshot). The Mastodon units
 * Want it and start After it; should it still be failing, their `--pull=never` start fails and
 * Restart=always retries them until the image is there.
 */
export function renderImagesUnit(fleet: Fleet, images: ContainerImages): UnitFile {
  const refs = fleetImages(fleet, images);
  const ecr = refs.some((r) => ECR_HOST.test(registryHost(r)));
  return {
    name: IMAGES_UNIT,
    content: renderUnit({
      unit: [
        ["Description", "Pull the pinned Mastodon images"],
        ["Wants", "network-online.target"],
        ["After", "network-online.target"],
        ["RequiresMountsFor", "/var/lib/containers"],
        ...startLimits,
      ],
      service: [
        ["Type", "oneshot"],
        ["RemainAfterExit", "yes"],
        ...(ecr ? [env("REGISTRY_AUTH_FILE", REGISTRY_AUTH_FILE)] : []),
        ...refs.map((r): Directive => ["ExecStart", command([PODMAN, "pull", "--quiet", r])]),
        ["Restart", "on-failure"],
        ["RestartSec", RESTART_SEC],
        ...PODMAN_UNIT_SANDBOX,
      ],
    }),
  };
}

/** Every unit file of a container fleet host: the target, the pull, and the fleet's services. */
export function renderContainerUnits(
  fleet: Fleet,
  ctx: ContainerContext,
  images: ContainerImages,
): UnitFile[] {
  return [
    renderTarget(),
    renderImagesUnit(fleet, images),
    ...(fleet.web ? [renderContainerWebUnit(fleet, ctx, images)] : []),
    ...(fleet.streaming ? [renderContainerStreamingUnit(fleet, ctx, images)] : []),
    ...(fleet.sidekiq ? renderContainerSidekiqUnits(fleet, ctx, images) : []),
  ];
}

export interface ContainerHost {
  /** Unit files for /etc/systemd/system (MASTODON_PATHS.unitDir). */
  readonly units: readonly UnitFile[];
  /** Debian packages cloud-init installs first. */
  readonly packages: readonly string[];
  /** Files besides the units (the ECR credential helper's configuration, when pulling from ECR). */
  readonly files: readonly WriteFile[];
  /**
   * Commands for cloud-init's runcmd, to run before the boot renderer (it writes .env.production
   * owned by mastodon) and before `systemctl enable`: the host's mastodon user with the image's
   * uid and gid, so the container reads the 0600 env file, and the env file's directory; when
   * pooled, Debian's own pgbouncer.service stopped.
   */
  readonly runcmd: readonly (readonly string[])[];
  /** `systemctl enable` arguments, in order: the same instances as the machine image's units. */
  readonly enabled: readonly string[];
}

/**
 * Everything a container fleet host needs besides what fleetHost.ts already renders (the env
 * template, the boot renderer, PgBouncer, the RDS CA download): what the caller adds to its
 * cloud-config, in place of the native units.
 */
export function renderContainerHost(
  fleet: Fleet,
  ctx: ContainerContext,
  images: ContainerImages,
): ContainerHost {
  const refs = fleetImages(fleet, images);
  const ecrHosts = [...new Set(refs.map(registryHost).filter((h) => ECR_HOST.test(h)))];
  const envFile = ctx.envFile ?? MASTODON_PATHS.envFile;
  const envDir = envFile.slice(0, envFile.lastIndexOf("/"));
  const id = String(IMAGE_UID);
  return {
    units: renderContainerUnits(fleet, ctx, images),
    packages: [
      "podman",
      ...(ecrHosts.length ? ["amazon-ecr-credential-helper"] : []),
      // The machine image brings PgBouncer; a stock AMI gets Debian's (mastodon-pgbouncer.service
      // runs it with its own configuration: pgbouncer.ts).
      ...(ctx.pooled ? ["pgbouncer"] : []),
    ],
    files: ecrHosts.length
      ? [
          {
            // containers-auth.json(5): credHelpers names docker-credential-<helper> per registry;
            // Debian's amazon-ecr-credential-helper is docker-credential-ecr-login, which signs
            // with the instance role.
            path: REGISTRY_AUTH_FILE,
            content: `${JSON.stringify(
              { credHelpers: Object.fromEntries(ecrHosts.map((h) => [h, "ecr-login"])) },
              null,
              2,
            )}\n`,
            permissions: "0600",
          },
        ]
      : [],
    runcmd: [
      ["groupadd", "--system", "--gid", id, "mastodon"],
      [
        "useradd",
        "--system",
        "--uid",
        id,
        "--gid",
        id,
        "--home-dir",
        MASTODON_PATHS.home,
        "--create-home",
        "--shell",
        "/usr/sbin/nologin",
        "mastodon",
      ],
      ["install", "-d", "-o", "mastodon", "-g", "mastodon", "-m", "0750", envDir],
      // Debian's package starts its own pgbouncer.service on 127.0.0.1:6432 (its pgbouncer.ini),
      // the port mastodon-pgbouncer.service listens on.
      ...(ctx.pooled ? [["systemctl", "disable", "--now", "pgbouncer.service"]] : []),
    ],
    enabled: enabledUnits(fleet, ctx),
  };
}
