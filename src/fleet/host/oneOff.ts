/**
 * One-off Rails commands on the scheduler's host (pure): where the database's program lives
 * (src/database/files/mastodon-database.sh: the role, the schema, the seeds, the owner, run as root in
 * the prepare step), where Rails comes from, and the sandboxed oneshot units that run tootctl
 * (the retention timer's, the search deploy's).
 */
import { IMAGES_UNIT, IMAGE_PATHS } from "../../images/containerImages";
import { IMAGE_PROGRAMS, type RootedSpec, command, serviceSection } from "../../images/imageRoot";
import { type Directive, environment, renderUnit, type UnitFile } from "../../host/systemd";
import { mastodonSandbox } from "../../host/unitPolicy";
import { JEMALLOC_PRELOAD, MASTODON_PATHS } from "./units";

export const DATABASE_PATHS = {
  program: "/usr/local/sbin/mastodon-database",
  /** restoreFrom.dump's archive, restored by mastodon-database prepare (src/database/restoreDump.ts). */
  restoreProgram: "/usr/local/sbin/mastodon-restore",
  config: "/etc/mastodon/database.conf",
  roleSql: "/etc/mastodon/database-role.sql",
} as const;

/** Where the one-off Rails commands come from: the release image, or the host's installation. */
export type RailsSource =
  { readonly kind: "image"; readonly image: string } | { readonly kind: "installation" };

/** Where the one-off Rails processes connect: PostgreSQL itself, not the host's PgBouncer. */
export interface DirectDatabase {
  readonly host: string;
  readonly port: number;
}

/**
 * What a one-off Rails process gets besides .env.production, as mastodon-database.sh's rails() gives
 * its own: straight to PostgreSQL with verified TLS (a long tootctl run holds its connections, which
 * the budget's admin headroom counts, and PgBouncer's transaction pooling would not suit it).
 */
function directEnv(db: DirectDatabase): [string, string | number][] {
  return [
    ["RAILS_ENV", "production"],
    ["DB_HOST", db.host],
    ["DB_PORT", db.port],
    ["DB_SSLMODE", "verify-full"],
    ["PREPARED_STATEMENTS", "true"],
  ];
}

/**
 * A one-off in the release image's tree: what the images unit's lay-out must also honour on the
 * scheduler's host (containers.ts: the variables it sets, the files it binds).
 */
export function oneOffSpec(
  tootctl: readonly (readonly string[])[],
  timeoutSeconds: number,
  db: DirectDatabase,
): RootedSpec {
  return {
    root: "rails",
    runtime: "ruby",
    env: directEnv(db),
    // Direct TLS to RDS: libpq reads the image user's ~/.postgresql/root.crt.
    mounts: [
      [MASTODON_PATHS.envFile, IMAGE_PATHS.envFile],
      [MASTODON_PATHS.rdsCaBundle, IMAGE_PATHS.libpqRootCert],
    ],
    writableTmp: true,
    timeouts: [["TimeoutStartSec", timeoutSeconds]],
    commands: tootctl.map((args) => [IMAGE_PROGRAMS.bundle, "exec", "bin/tootctl", ...args]),
    oneshot: true,
  };
}

/**
 * A oneshot that runs tootctl commands in order as the mastodon user, with the sandbox of the
 * Mastodon units (the retention timer's, the search deploy's), logged to the journal (hence to the
 * fleet's log group), bounded by TimeoutStartSec. Not enabled: a timer or the prepare step starts
 * it. From the release image: in the tree the boot laid out, as its services run (imageRoot.ts);
 * from the machine image: in the installation, as its own units run (units.ts).
 */
export function renderOneOffUnit(
  name: string,
  description: string,
  tootctl: readonly (readonly string[])[],
  timeoutSeconds: number,
  source: RailsSource,
  db: DirectDatabase,
): UnitFile {
  const env = directEnv(db);
  let service: Directive[];
  switch (source.kind) {
    case "image":
      service = serviceSection(oneOffSpec(tootctl, timeoutSeconds, db));
      break;
    case "installation":
      service = [
        ["Type", "oneshot"],
        ["User", "mastodon"],
        ["WorkingDirectory", MASTODON_PATHS.live],
        ...env.map(([k, v]) => environment(k, v)),
        // libpq's CA for verify-full, wherever the AMI keeps the mastodon user's home.
        environment("PGSSLROOTCERT", MASTODON_PATHS.rdsCaBundle),
        environment("LD_PRELOAD", JEMALLOC_PRELOAD),
        ...tootctl.map((args): Directive => [
          "ExecStart",
          command([MASTODON_PATHS.bundle, "exec", "bin/tootctl", ...args]),
        ]),
        ["TimeoutStartSec", timeoutSeconds],
        ...mastodonSandbox("ruby"),
        ["ReadWritePaths", MASTODON_PATHS.live],
      ];
      break;
    default: {
      const unknown: never = source;
      throw new Error(`unknown Rails source ${JSON.stringify(unknown)}`);
    }
  }
  return {
    name,
    content: renderUnit({
      unit: [
        ["Description", description],
        ["Wants", `network-online.target ${source.kind === "image" ? IMAGES_UNIT : ""}`.trim()],
        ["After", `network-online.target ${source.kind === "image" ? IMAGES_UNIT : ""}`.trim()],
      ],
      service,
    }),
  };
}
