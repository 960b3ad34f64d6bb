/**
 * One Mastodon process of a release image as a systemd service that runs in the image's own tree
 * (RootDirectory=), laid out at boot by mastodon-image-root (src/images/files/mastodon-image-root.sh)
 * from the image podman pulled, the way systemd's portable services run an image: systemd gives the
 * process the sandbox of Mastodon's own dist/ units (unitPolicy.ts, mastodonSandbox), which it
 * measures (`systemd-analyze security`: 1.3 to 1.5, src/fleet/host/containers.real.test.ts), where a
 * unit running `podman run` had to keep root's capabilities and the host's mount namespace for the
 * runtime and scored 7.1. podman only pulls and lays out; no container runtime runs Mastodon.
 */
import { type Directive, environment as env } from "../host/systemd";
import { MASTODON_PATHS, type UnitContext, localDaemons } from "../fleet/host/units";
import { mastodonSandbox, restartAlways, type Runtime, startLimits } from "../host/unitPolicy";
import { IMAGE_PATHS, IMAGES_UNIT } from "./containerImages";

export interface ContainerContext extends UnitContext {
  /** The host's rendered .env.production (the boot renderer's target); MASTODON_PATHS.envFile by default. */
  readonly envFile?: string;
}

/** One argument of a command line, as systemd reads ExecStart (systemd.service(5)). */
function arg(value: string | number): string {
  const text = String(value);
  // %i, %n, %p, %t are the only specifiers meant; a `$` would be expanded, a space would split.
  if (!/^[A-Za-z0-9_./:=,@+-]*(%[intp][A-Za-z0-9_./:=,@+-]*)*$/.test(text) || text === "")
    throw new Error(`${JSON.stringify(text)} cannot be one ExecStart argument`);
  return text;
}
export const command = (args: readonly (string | number)[]) => args.map(arg).join(" ");

/** The image trees: Rails (web and Sidekiq) and the streaming server. */
export type ImageRoot = "rails" | "streaming";
/** Where mastodon-image-root binds each tree and writes its environment: /run, so every boot anew. */
export const IMAGE_ROOTS = "/run/mastodon/root";
export const imageRootDir = (root: ImageRoot) => `${IMAGE_ROOTS}/${root}`;
export const imageRootEnvFile = (root: ImageRoot) => `${IMAGE_ROOTS}/${root}.env`;

/** Inside the images, where the official images' Dockerfiles install Ruby's and Node's programs. */
export const IMAGE_PROGRAMS = { bundle: "/usr/local/bin/bundle", node: "/usr/local/bin/node" } as const;

export interface RootedSpec {
  readonly root: ImageRoot;
  readonly runtime: Runtime;
  /** Environment= of the unit: wins over the image's own (mastodon-image-root leaves these out). */
  readonly env: readonly (readonly [string, string | number])[];
  /** Host path -> path inside the image, read-only. */
  readonly mounts: readonly (readonly [string, string])[];
  /** Rails writes tmp/ (pids, bootsnap's cache); the streaming server writes nothing. */
  readonly writableTmp: boolean;
  /** TimeoutSec= or TimeoutStopSec=, as the machine image's unit of the same process. */
  readonly timeouts: readonly Directive[];
  /** Each an ExecStart=, the program absolute inside the image; a service has one. */
  readonly commands: readonly (readonly string[])[];
  /**
   * A one-off (tootctl's retention, the search deploy): Type=oneshot, its commands in order, never
   * restarted. @default false: a service that serves, restarted always.
   */
  readonly oneshot?: boolean;
}

/** What podman's `--network host` bound into a container: the host's resolver configuration and hosts file. */
const HOST_NETWORK_FILES = ["/etc/resolv.conf", "/etc/hosts"] as const;

/**
 * Where a unit binds files inside the tree: systemd needs each target to exist there, so
 * mastodon-image-root makes the missing ones.
 */
export function bindTargets(spec: RootedSpec): string[] {
  return [...HOST_NETWORK_FILES, ...spec.mounts.map(([, inside]) => inside)];
}

/**
 * The variables a unit sets for itself: HOME (the image's mastodon user lives in /opt/mastodon, so
 * libpq finds ~/.postgresql/root.crt there; systemd would set the host user's), then the spec's.
 */
export function unitEnvironment(spec: RootedSpec): (readonly [string, string | number])[] {
  return [["HOME", IMAGE_PATHS.home], ...spec.env];
}

/** [Unit] of a Mastodon service from an image: the native one's, after the pull and lay-out. */
export function unitSection(description: string, ctx: ContainerContext): Directive[] {
  return [
    ["Description", description],
    ["Wants", ["network-online.target", IMAGES_UNIT, ...localDaemons(ctx)].join(" ")],
    ["After", ["network-online.target", IMAGES_UNIT, ...localDaemons(ctx)].join(" ")],
    ["PartOf", "mastodon.target"],
    ...startLimits,
  ];
}

/**
 * [Service] of a Mastodon service from an image: the machine image's unit (units.ts) with the
 * image's tree as its root. What podman's `run` gave the container, and what gives it now:
 * - the image's tree, its user (uid 991, the host's mastodon user: containers.ts), its working
 *   directory and its environment: RootDirectory=, User=, WorkingDirectory=, EnvironmentFile=;
 * - `--network host` and the host's resolver and hosts file: no PrivateNetwork=, BindReadOnlyPaths=;
 * - `--read-only` with a writable tmp/: ProtectSystem=strict and a BindPaths= of tmp/ (which lives in
 *   the tree's own writable layer, shared by the host's Rails processes as on a machine image);
 * - `--cap-drop=all`, no-new-privileges, seccomp: Mastodon's dist/ sandbox, which systemd-analyze
 *   can see; /proc, /sys and a minimal /dev: MountAPIVFS=, PrivateDevices=.
 */
export function serviceSection(spec: RootedSpec): Directive[] {
  return [
    ["Type", spec.oneshot ? "oneshot" : "simple"],
    ["User", "mastodon"],
    ["RootDirectory", imageRootDir(spec.root)],
    ["MountAPIVFS", "true"],
    // "-": a host without one of them (it resolves by its hosts file alone) gives the process none.
    ["BindReadOnlyPaths", HOST_NETWORK_FILES.map((f) => `-${f}`).join(" ")],
    ...spec.mounts.map(([host, inside]): Directive => ["BindReadOnlyPaths", `${host}:${inside}`]),
    ["EnvironmentFile", imageRootEnvFile(spec.root)],
    ...unitEnvironment(spec).map(([k, v]) => env(k, v)),
    ["WorkingDirectory", IMAGE_PATHS.home],
    ...spec.commands.map((c): Directive => ["ExecStart", command(c)]),
    ...spec.timeouts,
    ...(spec.oneshot ? [] : restartAlways),
    ...mastodonSandbox(spec.runtime),
    // The image's /home is empty and its user's home is /opt/mastodon.
    ["ProtectHome", "true"],
    // Writable from the host's side of the tree: with RootDirectory=, ReadWritePaths=/opt/mastodon/tmp
    // left it read-only under ProtectSystem=strict (systemd 252, found by booting a whole host:
    // the stand-in Puma's probe), where a bind of the tree's own tmp/ onto itself is writable.
    ...(spec.writableTmp
      ? [["BindPaths", `${imageRootDir(spec.root)}${IMAGE_PATHS.tmp}:${IMAGE_PATHS.tmp}`] as Directive]
      : []),
  ];
}

export const install: Directive[] = [["WantedBy", "mastodon.target"]];

/** Read-only mounts every Rails or streaming process gets: the env file, and RDS's CA when direct. */
export function mountsFor(kind: ImageRoot, ctx: ContainerContext): [string, string][] {
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

/**
 * The sandbox of mastodon-images.service, which pulls the images and lays out their trees as root:
 * podman needs root's capabilities for its storage and mounts, and the trees must be mounted in the
 * host's mount namespace, where the Mastodon units' RootDirectory= finds them. So no ProtectSystem,
 * PrivateTmp, PrivateMounts or other setting that gives the unit a mount namespace of its own, no
 * RestrictNamespaces (podman makes them), no ~@mount @privileged @setuid. Set, and why podman allows it:
 * - RestrictAddressFamilies AF_INET AF_INET6 AF_NETLINK AF_UNIX: the registry, and podman's sockets;
 * - LockPersonality, RestrictRealtime, RestrictSUIDSGID, SystemCallArchitectures=native;
 * - SystemCallFilter=~@clock @cpu-emulation @debug @module @obsolete @raw-io @reboot @swap: groups
 *   podman does not call;
 * - CapabilityBoundingSet=~ the capabilities no part of podman uses (kernel modules, clock, raw I/O,
 *   reboot, accounting, ttys, syslog, immutable files, leases, alarms, suspend, perf, BPF beyond
 *   CAP_SYS_ADMIN's, checkpoints).
 * It runs no Mastodon code: the trees' programs run only under the units above.
 */
export const IMAGES_UNIT_SANDBOX: readonly Directive[] = [
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

/** Where every official-image host keeps mastodon-image-root (fetched: hostFiles.ts). */
export const IMAGE_ROOT_PROGRAM = "/usr/local/sbin/mastodon-image-root";
