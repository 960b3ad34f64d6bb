/**
 * The parts of a fleet host that differ by how Mastodon runs (pure): the machine image's own
 * installation, or the official release images under podman on stock Debian; and the two on-host
 * Redis of redis.onHost. src/fleet/host/fleetHost.ts assembles them into the host's cloud-config.
 */
import type { RenderedFile } from "../../host/boot";
import type { WriteFile } from "../../host/cloudInit";
import type { Fleet } from "../../config/stackConfig";
import { type ContainerImages, renderContainerHost } from "./containers";
import { IMAGES_UNIT } from "../../images/containerImages";
import {
  DEBIAN_REDIS_UNIT,
  ON_HOST_REDIS_ROLES,
  type OnHostRedisInput,
  onHostRedisPaths,
  renderOnHostRedisAuth,
  renderOnHostRedisConf,
  renderOnHostRedisUnit,
} from "../../redis/onHostRedisUnits";
import { INSTALL_SSM_AGENT, programText } from "../../host/programs";
import type { BootStep } from "./bootStep";
import { redisVolumeStep, renderRedisVolumeUnit } from "../../redis/redisVolume";
import type { UnitFile } from "../../host/systemd";
import { enabledUnits, renderFleetUnits } from "./units";

/**
 * How Mastodon runs on the host: installed in the machine image (an operator's AMI), or the
 * official release images run by podman on stock Debian (containers.ts).
 */
export type HostRuntime =
  { readonly kind: "native" } | { readonly kind: "containers"; readonly images: ContainerImages };

/** What differs between the runtimes: units, packages, files, the first boot steps, the start bound. */
export interface RuntimePart {
  readonly units: readonly UnitFile[];
  readonly enabled: readonly string[];
  readonly packages: readonly string[];
  readonly files: readonly WriteFile[];
  readonly setup: readonly BootStep[];
  /** `systemctl start mastodon.target` waits for the start jobs: with containers, the image pulls. */
  readonly startBoundSeconds: number;
  /** Units a warm pool host runs ahead of need, before it enters the pool: the images' pull. */
  readonly prepared: readonly string[];
}

/** A first boot pulls the release images (about 1 GB for the Rails image) before any unit starts. */
export const CONTAINER_START_BOUND_SECONDS = 900;
export const NATIVE_START_BOUND_SECONDS = 120;
/** Where cloud-init's commands live on Debian: the boot unit runs them by absolute path. */
const ABSOLUTE: Readonly<Record<string, string>> = {
  groupadd: "/usr/sbin/groupadd",
  useradd: "/usr/sbin/useradd",
  install: "/usr/bin/install",
  systemctl: "/usr/bin/systemctl",
};

/** Debian packages a stock Debian 12 host needs besides the container runtime. */
export const STOCK_DEBIAN_PACKAGES = ["awscli", "postgresql-client", "gpg", "logrotate"] as const;
/** Where a stock Debian host keeps the SSM agent installer (programs.ts, INSTALL_SSM_AGENT). */
export const SSM_AGENT_INSTALLER = "/usr/local/sbin/mastodon-install-ssm-agent";
/** The installer's download (60 s an attempt, retried for at most 180 s) and dpkg. */
const SSM_AGENT_BOUND_SECONDS = 360;

export function runtimePart(
  fleet: Fleet,
  runtimeIn: HostRuntime | undefined,
  ctx: { pooled: boolean },
): RuntimePart {
  const runtime = runtimeIn ?? { kind: "native" };
  switch (runtime.kind) {
    case "native":
      return {
        units: renderFleetUnits(fleet, ctx),
        enabled: enabledUnits(fleet, ctx),
        packages: [],
        files: [],
        setup: [],
        startBoundSeconds: NATIVE_START_BOUND_SECONDS,
        prepared: [],
      };
    case "containers": {
      const host = renderContainerHost(fleet, ctx, runtime.images);
      return {
        units: host.units,
        enabled: host.enabled,
        // What the machine image would bring and a stock Debian lacks: the AWS CLI (the secrets
        // renderer, readiness, the migrations document) and psql (the database role's setup).
        packages: [...host.packages, ...STOCK_DEBIAN_PACKAGES],
        files: [
          ...host.files,
          { path: SSM_AGENT_INSTALLER, content: programText(INSTALL_SSM_AGENT), permissions: "0755" },
        ],
        setup: [
          { argv: [SSM_AGENT_INSTALLER], boundSeconds: SSM_AGENT_BOUND_SECONDS },
          ...host.runcmd.map(([command, ...args]) => {
            const path = ABSOLUTE[command as string];
            if (!path) throw new Error(`no absolute path for ${String(command)}`);
            return { argv: [path, ...args], boundSeconds: 10 };
          }),
        ],
        startBoundSeconds: CONTAINER_START_BOUND_SECONDS,
        // The pull and lay-out (about 1 GB for the Rails image) a warm start then finds done.
        prepared: [IMAGES_UNIT],
      };
    }
    default: {
      const unknown: never = runtime;
      throw new Error(`unknown runtime ${JSON.stringify(unknown)}`);
    }
  }
}

/**
 * The two on-host Redis: Debian's redis-server, a config, a password include and a unit each; the
 * persistent store's volume and the unit that attaches and mounts it (redisVolume.ts; its program
 * is fetched from the host-files bucket, hostFiles.ts). Their first
 * boot steps: Debian's own redis-server on 6379 stopped (it is not ours, and its memory is not
 * budgeted; empty, it stops at once), then the volume mounted, before any Redis starts.
 */
export function onHostRedisPart(input: OnHostRedisInput) {
  const roles = ON_HOST_REDIS_ROLES;
  const volume = renderRedisVolumeUnit({
    volumeId: input.persistentVolumeId,
    dataDir: onHostRedisPaths("persistent").dataDir,
    owner: "redis:redis",
  });
  return {
    units: [
      ...roles.map((role) => renderOnHostRedisUnit(role, role === "persistent" ? volume.name : undefined)),
      volume,
    ],
    enabled: roles.map((role) => onHostRedisPaths(role).unit),
    setup: [
      { argv: ["/usr/bin/systemctl", "disable", "--now", DEBIAN_REDIS_UNIT], boundSeconds: 10 },
      redisVolumeStep(),
    ] satisfies BootStep[],
    files: roles.flatMap((role): WriteFile[] => [
      {
        path: onHostRedisPaths(role).conf,
        content: renderOnHostRedisConf(role, input[role]),
        permissions: "0640",
        owner: "root:redis",
        // The redis user exists once the package is installed.
        defer: true,
      },
      {
        path: onHostRedisPaths(role).authTemplate,
        content: renderOnHostRedisAuth(input[role]),
        permissions: "0600",
      },
    ]),
    rendered: roles.map((role): RenderedFile => ({
      template: onHostRedisPaths(role).authTemplate,
      target: onHostRedisPaths(role).auth,
      mode: "0640",
      owner: "root:redis",
    })),
  };
}
