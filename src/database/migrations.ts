/**
 * The SSM Command document that runs Mastodon's database migrations on the scheduler's host
 * (docs/design.md, "Deploys and migrations"): `pre` with SKIP_POST_DEPLOYMENT_MIGRATIONS=true before the fleets roll,
 * `post` after. Both connect straight to PostgreSQL (port 5432, verified TLS), bypassing PgBouncer:
 * migrations take locks and use session features transaction pooling would break. The skip flag
 * lives only in this command's environment, never in a file: Mastodon's `Mastodon::Database`
 * (lib/mastodon/database.rb) skips the post-deployment migrations when the variable is set at all,
 * so any value, even "false", skips.
 *
 * Where the new code comes from (Mastodon's upgrade notes: the pre-deployment migrations run on the
 * NEW version while the old one still serves):
 * - `image` set (image source "official"): the migrations run in a one-off podman container of that
 *   image on the scheduler's host, which keeps serving the old version meanwhile (podman pulls the
 *   new image first). The host's `.env.production` is mounted where the image's Rails reads it
 *   (/opt/mastodon, the image's working directory): the same dotenv parser reads the same file, and
 *   the `-e` variables win over it as they do for the units (dotenv does not override);
 * - `image` empty: the host's own installation under /home/mastodon/live (image source "ami", once the
 *   scheduler's fleet runs the new AMI). With `version` set, the document first asks that
 *   installation its version (`tootctl version`) and refuses to migrate with any other: pre-deployment
 *   migrations run by the old code would do nothing and look like success.
 *
 * `version` is also the record `npm run upgrade` reads back (SSM keeps a command's parameters), to
 * tell which migrations already ran for a release.
 */
import { IMAGE_PATHS, REGISTRY_AUTH_FILE } from "../fleet/host/containers";
import { MASTODON_PATHS } from "../fleet/host/units";

export interface MigrationsInput {
  readonly databaseHost: string;
  readonly databasePort: number;
  /**
   * The image a run uses when none is given: the stack's own release image (source official), so
   * `npm run upgrade`'s `phase=post` needs nothing else. @default "" (the host's installation)
   */
  readonly defaultImage?: string;
  /**
   * Adds phase `search`: `tootctl search deploy`, which creates the search indices and fills them
   * (Mastodon docs, "Configuring full-text search", "Populate the indices"). Run it once the domain
   * exists and after an upgrade whose notes ask for it; it reads ES_* from the host's .env.production.
   * @default false
   */
  readonly search?: boolean;
}

/**
 * SSM substitutes `{{ image }}` and `{{ version }}` into the script as text: the patterns admit only
 * characters with no meaning to the shell (an image reference, a release tag), or nothing.
 */
export const MIGRATION_PARAMETER_PATTERNS = {
  image:
    "^([a-z0-9][a-z0-9.-]*(:[0-9]+)?/)*[a-z0-9][a-z0-9._/-]*(:[A-Za-z0-9_][A-Za-z0-9._-]{0,127})?(@sha256:[a-f0-9]{64})?$|^$",
  version: "^v[0-9]+\\.[0-9]+\\.[0-9]+$|^$",
} as const;

export function renderMigrationsDocument(input: MigrationsInput): string {
  const direct = [
    "RAILS_ENV=production",
    `DB_HOST=${input.databaseHost}`,
    `DB_PORT=${input.databasePort}`,
    "DB_SSLMODE=verify-full",
    "PREPARED_STATEMENTS=true",
  ];
  const bundle = MASTODON_PATHS.bundle;
  const container = [
    "podman run --rm --network host --cap-drop=all --security-opt=no-new-privileges",
    // Where the image's dotenv and libpq look (Rails.root, the image user's ~/.postgresql/root.crt),
    // as the container fleets' own units mount them.
    `-v ${MASTODON_PATHS.envFile}:${IMAGE_PATHS.envFile}:ro`,
    `-v ${MASTODON_PATHS.rdsCaBundle}:${IMAGE_PATHS.libpqRootCert}:ro`,
    ...direct.map((v) => `-e ${v}`),
  ].join(" ");
  const host = `sudo -u mastodon env ${direct.join(" ")}`;
  return JSON.stringify(
    {
      schemaVersion: "2.2",
      description:
        "Mastodon database migrations, straight to PostgreSQL: phase pre (before rolling the fleets) or post (after); from a container image, or from the host's installation.",
      parameters: {
        phase: {
          type: "String",
          allowedValues: ["pre", "post", ...(input.search ? ["search"] : [])],
          description: `pre: SKIP_POST_DEPLOYMENT_MIGRATIONS=true; post: the rest${input.search ? "; search: tootctl search deploy (create and fill the search indices)" : ""}`,
        },
        image: {
          type: "String",
          default: input.defaultImage ?? "",
          allowedPattern: MIGRATION_PARAMETER_PATTERNS.image,
          description:
            "The Mastodon image to migrate with (image source official), e.g. ghcr.io/mastodon/mastodon:v4.6.5; empty: the host's own installation",
        },
        version: {
          type: "String",
          default: "",
          allowedPattern: MIGRATION_PARAMETER_PATTERNS.version,
          description:
            "The release being deployed, e.g. v4.6.5: the host's installation must report it (when image is empty); kept as the record of what ran",
        },
      },
      mainSteps: [
        {
          action: "aws:runShellScript",
          name: "migrate",
          inputs: {
            timeoutSeconds: "7200",
            runCommand: [
              "set -eu",
              'stage="{{ phase }}"',
              'image="{{ image }}"',
              'version="{{ version }}"',
              'if [ -n "$image" ]; then',
              "  command -v podman >/dev/null || { echo 'no podman on this host: is it an official-image host?' >&2; exit 1; }",
              // An ECR pull-through cache: podman reads the credential helper's configuration there.
              `  if [ -r ${REGISTRY_AUTH_FILE} ]; then export REGISTRY_AUTH_FILE=${REGISTRY_AUTH_FILE}; fi`,
              `  set -- ${container}`,
              ...(input.search
                ? ['  if [ "$stage" = "search" ]; then exec "$@" "$image" bin/tootctl search deploy; fi']
                : []),
              '  if [ "$stage" = "pre" ]; then set -- "$@" -e SKIP_POST_DEPLOYMENT_MIGRATIONS=true; fi',
              '  exec "$@" "$image" bundle exec rails db:migrate',
              "fi",
              `cd ${MASTODON_PATHS.live}`,
              'if [ -n "$version" ]; then',
              `  running=$(sudo -u mastodon env RAILS_ENV=production ${bundle} exec bin/tootctl version | tail -n 1)`,
              '  case "$running" in',
              '    "${version#v}" | "${version#v}+"*) ;;',
              `    *) echo "this host runs Mastodon '$running', not $version: its fleet has not rolled onto the new image" >&2; exit 1 ;;`,
              "  esac",
              "fi",
              `set -- ${host}`,
              ...(input.search
                ? [`if [ "$stage" = "search" ]; then exec "$@" ${bundle} exec bin/tootctl search deploy; fi`]
                : []),
              'if [ "$stage" = "pre" ]; then set -- "$@" SKIP_POST_DEPLOYMENT_MIGRATIONS=true; fi',
              `exec "$@" ${bundle} exec rails db:migrate`,
            ],
          },
        },
      ],
    },
    null,
    2,
  );
}
