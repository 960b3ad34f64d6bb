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
  renderTarget,
  SIDEKIQ_STOP_TIMEOUT_SECONDS,
  SIDEKIQ_TAG,
  sidekiqQueueArgs,
  sidekiqUnitPrefix,
} from "./units";
import { RESTART_SEC, startLimits } from "./unitPolicy";
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
} from "./containerImages";
import {
  type ContainerContext,
  type ContainerSpec,
  PODMAN_UNIT_SANDBOX,
  command,
  install,
  mountsFor,
  serviceSection,
  unitSection,
} from "./podman";

export * from "./containerImages";
export * from "./podman";

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
      command: ["bundle", "exec", "sidekiq", "-g", SIDEKIQ_TAG, "-c", "%i", ...queues],
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
