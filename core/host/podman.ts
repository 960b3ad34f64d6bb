/**
 * One Mastodon process as one podman container under systemd, in the shape of
 * podman-generate-systemd(1)'s `--new` units: the `podman run` line, the unit sections and the
 * sandbox a podman unit can have (containers.ts renders the units from these).
 */
import { type Directive, environment as env } from "./systemd";
import { MASTODON_PATHS, type UnitContext, localDaemons } from "./units";
import { restartAlways, startLimits } from "./unitPolicy";
import { IMAGE_PATHS, PODMAN, PODMAN_STOP_MARGIN_SEC, IMAGES_UNIT } from "./containerImages";

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
export const command = (args: readonly (string | number)[]) => args.map(arg).join(" ");

export interface ContainerSpec {
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
export function unitSection(description: string, ctx: ContainerContext): Directive[] {
  return [
    ["Description", description],
    ["Wants", ["network-online.target", IMAGES_UNIT, ...localDaemons(ctx)].join(" ")],
    ["After", ["network-online.target", IMAGES_UNIT, ...localDaemons(ctx)].join(" ")],
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
export function serviceSection(spec: ContainerSpec): Directive[] {
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

export const install: Directive[] = [["WantedBy", "mastodon.target"]];

/** Read-only mounts every Rails or streaming container gets: the env file, and RDS's CA when direct. */
export function mountsFor(kind: "rails" | "streaming", ctx: ContainerContext): [string, string][] {
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
