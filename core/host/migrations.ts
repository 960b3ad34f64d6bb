/**
 * The SSM Command document that runs Mastodon's database migrations on the scheduler's host
 * (docs/design.md, "Deploys and migrations"): `pre` with SKIP_POST_DEPLOYMENT_MIGRATIONS=true before the fleets roll,
 * `post` after. Both connect straight to PostgreSQL (port 5432, verified TLS), bypassing PgBouncer:
 * migrations take locks and use session features transaction pooling would break. The skip flag
 * lives only in this command's environment, never in a file (any value, even "false", skips).
 */
import { MASTODON_PATHS } from "./units";

export interface MigrationsInput {
  readonly databaseHost: string;
  readonly databasePort: number;
}

export function renderMigrationsDocument(input: MigrationsInput): string {
  const direct = [
    "RAILS_ENV=production",
    `DB_HOST=${input.databaseHost}`,
    `DB_PORT=${input.databasePort}`,
    "DB_SSLMODE=verify-full",
    "PREPARED_STATEMENTS=true",
  ].join(" ");
  const migrate = (extra: string) =>
    `sudo -u mastodon env ${direct}${extra} ${MASTODON_PATHS.bundle} exec rails db:migrate`;
  return JSON.stringify(
    {
      schemaVersion: "2.2",
      description:
        "Mastodon database migrations, straight to PostgreSQL: phase pre (before rolling the fleets) or post (after).",
      parameters: {
        phase: {
          type: "String",
          allowedValues: ["pre", "post"],
          description: "pre: SKIP_POST_DEPLOYMENT_MIGRATIONS=true; post: the rest",
        },
      },
      mainSteps: [
        {
          action: "aws:runShellScript",
          name: "migrate",
          inputs: {
            timeoutSeconds: "7200",
            workingDirectory: MASTODON_PATHS.live,
            runCommand: [
              "set -eu",
              `cd ${MASTODON_PATHS.live}`,
              'if [ "{{ phase }}" = "pre" ]; then',
              `  ${migrate(" SKIP_POST_DEPLOYMENT_MIGRATIONS=true")}`,
              "else",
              `  ${migrate("")}`,
              "fi",
            ],
          },
        },
      ],
    },
    null,
    2,
  );
}
