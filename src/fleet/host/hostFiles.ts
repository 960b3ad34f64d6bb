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
 * (readiness) stay in the user-data; the secrets renderer, run after it, is fetched too.
 */
import { createHash } from "crypto";
import { BOOT_PATHS, renderSecretsProgram } from "../../host/boot";
import { DATABASE_PATHS } from "../../database/database";
import { METRICS_PATHS } from "../../monitoring/metrics";
import { IMAGE_ROOT_PROGRAM } from "../../images/imageRoot";
import {
  INSTALL_CLOUDWATCH_AGENT,
  MASTODON_DATABASE,
  MASTODON_IMAGE_ROOT,
  MASTODON_METRICS,
  MASTODON_REDIS_VOLUME,
  MASTODON_SEARCH_USER,
  programText,
} from "../../host/programs";
import { REDIS_VOLUME_PATHS } from "../../redis/redisVolume";
import { SEARCH_USER_PATHS } from "../../search/searchUser";
import type { BootStep } from "./bootStep";

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

/** Every file a host may fetch: the bucket holds them all, a host fetches what it runs. */
export const HOST_FILES: readonly HostFile[] = [
  // The boot runs it right after the fetch; a failed fetch fails the boot before it is needed.
  hostFile(BOOT_PATHS.renderer, renderSecretsProgram(), "0755"),
  hostFile(CLOUDWATCH_AGENT_INSTALLER, programText(INSTALL_CLOUDWATCH_AGENT), "0755"),
  hostFile(METRICS_PATHS.program, programText(MASTODON_METRICS), "0755"),
  // The scheduler's host only: the database's lifecycle (database.ts), run after the fetch.
  hostFile(DATABASE_PATHS.program, programText(MASTODON_DATABASE), "0755"),
  // The scheduler's host with search: Mastodon's own OpenSearch user, which the database's prepare makes.
  hostFile(SEARCH_USER_PATHS.program, programText(MASTODON_SEARCH_USER), "0755"),
  // Hosts of the release images: lays out the trees their units run in (imageRoot.ts).
  hostFile(IMAGE_ROOT_PROGRAM, programText(MASTODON_IMAGE_ROOT), "0755"),
  // The on-host Redis's host (redis.onHost): its persistent store's volume, attached and mounted.
  hostFile(REDIS_VOLUME_PATHS.program, programText(MASTODON_REDIS_VOLUME), "0755"),
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
      boundSeconds: 60,
    })),
    { argv: ["/usr/bin/sha256sum", "--check", "--strict", "--quiet", HOST_FILES_CHECKSUMS], boundSeconds: 5 },
    ...[...new Set(files.map((f) => f.mode))].map((mode) => ({
      argv: ["/usr/bin/chmod", mode, ...files.filter((f) => f.mode === mode).map((f) => f.path)],
      boundSeconds: 5,
    })),
  ];
}
