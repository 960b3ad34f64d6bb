/**
 * The SSM document `npm run upgrade` runs on the scheduler's host: the post-deployment migrations
 * and the search deploy (src/database/migrations.ts renders it). The one resource the wiring declares.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { renderMigrationsDocument } from "../database/migrations";
import type { PostgresDatabase } from "../database/postgresDatabase";

/**
 * The SSM document that runs Mastodon's post-deployment migrations (and the search deploy) on the
 * scheduler's host for `npm run upgrade` (src/database/migrations.ts): straight to PostgreSQL, its
 * default image the stack's release image.
 */
export function migrationsDocument(
  name: string,
  database: PostgresDatabase,
  releaseImage: pulumi.Output<string> | undefined,
  parent: pulumi.Resource,
  /** Whether the stack has a search domain: adds phase `search` (tootctl search deploy). @default false */
  search = false,
): aws.ssm.Document {
  return new aws.ssm.Document(
    `${name}-migrations`,
    {
      documentType: "Command",
      documentFormat: "JSON",
      content: pulumi
        .all([database.address, database.port, pulumi.output(releaseImage)])
        .apply(([databaseHost, databasePort, image]) =>
          renderMigrationsDocument({
            databaseHost,
            databasePort,
            ...(image && { defaultImage: image }),
            search,
          }),
        ),
    },
    { parent },
  );
}
