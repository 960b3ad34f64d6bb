/**
 * Files a host fetches at boot from the stack's host-files bucket instead of carrying them in its
 * user-data (pure). EC2 takes at most 16 KiB of user-data (gzip-compressed here, fleet.ts), and the
 * programs are most of it: the metrics collector alone is about 5 KiB compressed, which left small's
 * one host some 400 bytes short, and the logs agent's installer came after it. Each file is stored under a key holding its SHA-256, and the host
 * checks what it fetched against the digest its user-data carries: a changed program is a new key
 * and a new digest, so it rolls the fleets like any user-data change, and a file altered in the
 * bucket fails the boot (the group replaces the host) rather than run.
 *
 * The boot's programs that run before the fetch (the SSM agent installer) or report its failure
 * (readiness, and the library it sources) stay in the user-data; the secrets renderer, run after
 * it, is fetched too, and so is the drain, which runs once the boot is done.
 */
import { createHash } from "crypto";
import { BOOT_PATHS, renderSecretsProgram } from "../../host/boot";
import { DATABASE_PATHS } from "../../database/database";
import { METRICS_PATHS } from "../../monitoring/metrics";
import { IMAGE_ROOT_PROGRAM } from "../../images/imageRoot";
import {
  INSTALL_CLOUDWATCH_AGENT,
  MASTODON_DATABASE,
  MASTODON_DRAIN,
  MASTODON_RESTORE,
  MASTODON_IMAGE_ROOT,
  MASTODON_METRICS,
  MASTODON_METRICS_CLOUDWATCH,
  MASTODON_METRICS_SOURCES,
  MASTODON_REDIS_VOLUME,
  MASTODON_SEARCH_USER,
  programText,
} from "../../host/programs";
import { REDIS_VOLUME_PATHS } from "../../redis/redisVolume";
import { SEARCH_USER_PATHS } from "../../search/searchUser";
import type { BootStep } from "./bootStep";
import { READINESS_PATHS } from "./readiness";

export const HOST_FILES_PREFIX = "host-files";
/** Where every fleet host keeps the CloudWatch agent installer (programs.ts, INSTALL_CLOUDWATCH_AGENT). */
export const CLOUDWATCH_AGENT_INSTALLER = "/usr/local/sbin/mastodon-install-cloudwatch-agent";
/** The digests the host checks its fetched files against (`sha256sum --check` format). */
export const HOST_FILES_CHECKSUMS = "/etc/mastodon/host-files.sha256";

export interface HostFile {
  /** Where the host installs it. */
  readonly path: string;
  readonly mode: string;
  readonly content: string;
  readonly sha256: string;
  /** The object key: `host-files/<sha256>/<file name>`. */
  readonly key: string;
}

export function hostFile(path: string, content: string, mode: string): HostFile {
  const sha256 = createHash("sha256").update(content, "utf8").digest("hex");
  const name = path.slice(path.lastIndexOf("/") + 1);
  return { path, mode, content, sha256, key: `${HOST_FILES_PREFIX}/${sha256}/${name}` };
}

/** The bound of one file's fetch (aws s3 cp, its connection and reads bounded, the CLI's retries). */
export const FETCH_SECONDS = 60;

/** Every file a host may fetch: the bucket holds them all, a host fetches what it runs. */
export const HOST_FILES: readonly HostFile[] = [
  // The boot runs it right after the fetch; a failed fetch fails the boot before it is needed.
  hostFile(BOOT_PATHS.renderer, renderSecretsProgram(), "0755"),
  hostFile(CLOUDWATCH_AGENT_INSTALLER, programText(INSTALL_CLOUDWATCH_AGENT), "0755"),
  hostFile(METRICS_PATHS.program, programText(MASTODON_METRICS), "0755"),
  hostFile(METRICS_PATHS.sources, programText(MASTODON_METRICS_SOURCES), "0644"),
  hostFile(METRICS_PATHS.cloudwatch, programText(MASTODON_METRICS_CLOUDWATCH), "0644"),
  // The scheduler's host only: the database's lifecycle (database.ts), run after the fetch.
  hostFile(DATABASE_PATHS.program, programText(MASTODON_DATABASE), "0755"),
  // The scheduler's host with restoreFrom.dump: the archive's restore, which the database's prepare runs.
  hostFile(DATABASE_PATHS.restoreProgram, programText(MASTODON_RESTORE), "0755"),
  // The scheduler's host with search: Mastodon's own OpenSearch user, which the database's prepare makes.
  hostFile(SEARCH_USER_PATHS.program, programText(MASTODON_SEARCH_USER), "0755"),
  // Hosts of the release images: lays out the trees their units run in (imageRoot.ts).
  hostFile(IMAGE_ROOT_PROGRAM, programText(MASTODON_IMAGE_ROOT), "0755"),
  // The on-host Redis's host (redis.onHost): its persistent store's volume, attached and mounted.
  hostFile(REDIS_VOLUME_PATHS.program, programText(MASTODON_REDIS_VOLUME), "0755"),
  // Hosts running Sidekiq: the drain (bootUnits.ts), enabled once the boot is done; it sources the
  // library the user-data carries beside it (readiness.ts, readinessFiles).
  hostFile(READINESS_PATHS.drain, programText(MASTODON_DRAIN), "0755"),
];

/** `sha256sum --check` input: the digest, two spaces, the path. */
export function renderChecksums(files: readonly HostFile[]): string {
  return files.map((f) => `${f.sha256}  ${f.path}\n`).join("");
}

/**
 * The boot steps that fetch `files` from `bucket` (AWS CLI, the instance role), check them against
 * HOST_FILES_CHECKSUMS and set their modes. A fetch is one GET of a few KiB in the host's own
 * region: 5 s to connect and 10 s to read an attempt, the CLI's own retries inside a 60 s bound.
 */
export function hostFilesSteps(bucket: string, region: string, files: readonly HostFile[]): BootStep[] {
  if (files.length === 0) return [];
  return [
    ...files.map((f) => ({
      argv: [
        "/usr/bin/aws",
        "s3",
        "cp",
        "--region",
        region,
        "--only-show-errors",
        "--cli-connect-timeout",
        "5",
        "--cli-read-timeout",
        "10",
        `s3://${bucket}/${f.key}`,
        f.path,
      ],
      boundSeconds: FETCH_SECONDS,
    })),
    { argv: ["/usr/bin/sha256sum", "--check", "--strict", "--quiet", HOST_FILES_CHECKSUMS], boundSeconds: 5 },
    ...[...new Set(files.map((f) => f.mode))].map((mode) => ({
      argv: ["/usr/bin/chmod", mode, ...files.filter((f) => f.mode === mode).map((f) => f.path)],
      boundSeconds: 5,
    })),
  ];
}
