/**
 * One-off Rails commands on the scheduler's host (pure): where the program that runs them lives
 * (core/host/files/mastodon-database.sh), where Rails comes from, and the oneshot unit that runs
 * tootctl through it (the retention timer's, the search deploy's).
 */
import { IMAGES_UNIT } from "./containerImages";
import { execLine } from "./readiness";
import { type Directive, renderUnit, type UnitFile } from "./systemd";

export const DATABASE_PATHS = {
  program: "/usr/local/sbin/mastodon-database",
  config: "/etc/mastodon/database.conf",
  roleSql: "/etc/mastodon/database-role.sql",
} as const;

/** Where the one-off Rails commands come from: the release image, or the host's installation. */
export type RailsSource =
  { readonly kind: "image"; readonly image: string } | { readonly kind: "installation" };

/** The ExecStart of a unit that runs one tootctl command through the program. */
export function tootctlExec(args: readonly string[]): string[] {
  return [DATABASE_PATHS.program, "run", DATABASE_PATHS.config, "bin/tootctl", ...args];
}

/**
 * A oneshot that runs one-off tootctl commands as root (podman, or sudo to the mastodon user),
 * logged to the journal (hence to the fleet's log group), bounded by TimeoutStartSec. Not enabled:
 * a timer or the prepare step starts it. The image is the one the boot pulled (the program runs it
 * with --pull=never). No NoNewPrivileges (sudo is set-uid) and, with podman, no private mounts
 * (podman builds its container's sandbox itself: podman-run(1)).
 */
export function renderOneOffUnit(
  name: string,
  description: string,
  commands: readonly (readonly string[])[],
  timeoutSeconds: number,
  source: RailsSource,
): UnitFile {
  return {
    name,
    content: renderUnit({
      unit: [
        ["Description", description],
        ["Wants", "network-online.target"],
        ["After", `network-online.target ${source.kind === "image" ? IMAGES_UNIT : ""}`.trim()],
      ],
      service: [
        ["Type", "oneshot"],
        ["TimeoutStartSec", timeoutSeconds],
        ...commands.map((c): Directive => ["ExecStart", execLine(c)]),
        ...(source.kind === "installation" ? ([["PrivateTmp", "true"]] as Directive[]) : []),
      ],
    }),
  };
}
