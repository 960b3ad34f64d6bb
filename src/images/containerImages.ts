/**
 * The official release images a container host runs: their references, pinned by tag (and digest
 * when given), and what is inside them (containers.ts has the facts, from Mastodon's Dockerfiles).
 */
import type { Fleet } from "../config/stackConfig";
import { DEFAULTS } from "../vocabulary/defaults";
import { parseTag } from "../vocabulary/release";

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

/** An ECR registry host (a pull-through cache prefix lives under one): pulls need the ECR helper. */
export const ECR_HOST = /^[0-9]{12}\.dkr\.ecr\.[a-z0-9-]+\.amazonaws\.com(\.cn)?$/;

/** What a reference may hold: systemd would expand `%` and `$` in ExecStart, split on spaces. */
const REFERENCE =
  /^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+:[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}(@sha256:[0-9a-f]{64})?$/;

/** A Mastodon release tag with the streaming image: v4.3.0 and later (vMAJOR.MINOR.PATCH). */

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
  const release = parseTag(input.version);
  if (!release) throw new Error(`${JSON.stringify(input.version)} is not a Mastodon release tag (vX.Y.Z)`);
  const { major, minor } = release;
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
