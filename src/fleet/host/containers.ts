/**
 * A fleet host that runs Mastodon's official release images on a stock Debian 12 AMI with
 * Debian's podman (4.3): the same units as the machine image's (units.ts, after
 * eigenmagic-systemd-template-units.txt): mastodon.target, mastodon-web.service,
 * mastodon-streaming@<port>.service, mastodon-sidekiq-<queues>[-N]@<threads>.service. Each
 * unit runs its process in the image's own tree under systemd's sandbox (imageRoot.ts); podman
 * pulls the images and lays the trees out at boot (mastodon-images.service). Pure.
 *
 * What the images are (Mastodon's Dockerfile and streaming/Dockerfile, 4.3 onwards):
 * - `mastodon` (Rails: web and Sidekiq): ENTRYPOINT ["/usr/bin/tini", "--"] with no CMD; the units
 *   run the command without tini (systemd reaps and signals) and give it (Mastodon's docker-compose.yml: `bundle exec puma -C config/puma.rb`,
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
 *   already has: the units' Environment= win, as on the machine image.
 */
import type { Fleet } from "../../config/stackConfig";
import type { WriteFile } from "../../host/cloudInit";
import { type Directive, environment as env, renderUnit, type UnitFile } from "../../host/systemd";
import { enabledUnits, MASTODON_PATHS, renderTarget, sidekiqUnitPrefix } from "./units";
import { RESTART_SEC, startLimits } from "../../host/unitPolicy";
import {
  type ContainerImages,
  ECR_HOST,
  IMAGES_UNIT,
  IMAGE_UID,
  PODMAN,
  REGISTRY_AUTH_FILE,
  checkedReference,
  fleetImages,
  registryHost,
} from "../../images/containerImages";
import {
  type ContainerContext,
  type ImageRoot,
  IMAGES_UNIT_SANDBOX,
  IMAGE_ROOT_PROGRAM,
  bindTargets,
  command,
  install,
  serviceSection,
  unitEnvironment,
  unitSection,
} from "../../images/imageRoot";
import { fleetSpecs, sidekiqSpec, streamingSpec, webSpec } from "./processSpecs";
import { oneOffSpec } from "./oneOff";

export * from "../../images/containerImages";
export * from "../../images/imageRoot";

export function renderContainerWebUnit(fleet: Fleet, ctx: ContainerContext): UnitFile {
  return {
    name: "mastodon-web.service",
    content: renderUnit({
      unit: unitSection("mastodon-web (release image)", ctx),
      service: serviceSection(webSpec(fleet, ctx)),
      install,
    }),
  };
}

export function renderContainerStreamingUnit(fleet: Fleet, ctx: ContainerContext): UnitFile {
  return {
    name: "mastodon-streaming@.service",
    content: renderUnit({
      unit: unitSection("mastodon-streaming on port %i (release image)", ctx),
      service: serviceSection(streamingSpec(fleet, ctx)),
      install,
    }),
  };
}

export function renderContainerSidekiqUnits(fleet: Fleet, ctx: ContainerContext): UnitFile[] {
  const sidekiq = fleet.sidekiq;
  if (!sidekiq) throw new Error(`fleet ${fleet.name} runs no sidekiq`);
  const spec = sidekiqSpec(fleet, ctx);
  return Array.from({ length: sidekiq.processes }, (_, i) => ({
    name: `${sidekiqUnitPrefix(fleet, i + 1)}@.service`,
    content: renderUnit({
      unit: unitSection(
        `mastodon-sidekiq ${sidekiq.queues.join(",")} (process ${i + 1}, %i threads, release image)`,
        ctx,
      ),
      service: serviceSection(spec),
      install,
    }),
  }));
}

/**
 * mastodon-images.service: pulls this fleet's pinned images and lays out each tree its units run
 * in (mastodon-image-root, given the variables the units set themselves), once per boot, retried
 * RESTART_SEC apart until it succeeds (Restart=on-failure, allowed for Type=oneshot). The Mastodon
 * units Want it and start After it; should it still be failing, their start fails (no tree at
 * their RootDirectory=) and Restart=always retries them until it is there.
 */
export function renderImagesUnit(fleet: Fleet, images: ContainerImages, ctx: ContainerContext): UnitFile {
  const refs = fleetImages(fleet, images);
  const ecr = refs.some((r) => ECR_HOST.test(registryHost(r)));
  // The scheduler's host also runs the one-offs in the Rails tree (oneOff.ts); only the names they
  // set and the files they bind matter here, not the database they reach.
  const oneOffs = fleet.servesScheduler ? [oneOffSpec([], 1, { host: "localhost", port: 5432 })] : [];
  const specs = [...fleetSpecs(fleet, ctx), ...oneOffs];
  const roots = [...new Set(specs.map((s) => s.root))];
  const ofRoot = (root: ImageRoot) => specs.filter((s) => s.root === root);
  // The targets its units bind (made in the tree when missing), the variables they set (left out
  // of the image's).
  const layOutArgs = (root: ImageRoot) => [
    ...[...new Set(ofRoot(root).flatMap(bindTargets))].flatMap((p) => ["-m", p]),
    ...[...new Set(ofRoot(root).flatMap((s) => unitEnvironment(s).map(([k]) => k)))].flatMap((k) => [
      "-e",
      k,
    ]),
  ];
  const reference = (root: ImageRoot) => checkedReference(root === "rails" ? images.rails : images.streaming);
  return {
    name: IMAGES_UNIT,
    content: renderUnit({
      unit: [
        ["Description", "Pull the pinned Mastodon images and lay out their trees"],
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
        ...roots.map((root): Directive => [
          "ExecStart",
          command([IMAGE_ROOT_PROGRAM, root, reference(root), ...layOutArgs(root)]),
        ]),
        ["Restart", "on-failure"],
        ["RestartSec", RESTART_SEC],
        ...IMAGES_UNIT_SANDBOX,
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
    renderImagesUnit(fleet, images, ctx),
    ...(fleet.web ? [renderContainerWebUnit(fleet, ctx)] : []),
    ...(fleet.streaming ? [renderContainerStreamingUnit(fleet, ctx)] : []),
    ...(fleet.sidekiq ? renderContainerSidekiqUnits(fleet, ctx) : []),
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
