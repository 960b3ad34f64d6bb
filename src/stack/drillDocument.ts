/**
 * The SSM document `npm run drill` runs on the scheduler's host: the restore drill's checks
 * (src/database/drill.ts renders it, carrying src/database/files/mastodon-drill.py; docs/drill.md).
 */
import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { renderDrillDocument } from "../database/drill";

/**
 * The restore drill's Command document: the schema version, the main tables' rows and a media
 * object through the media host, read-only, as a JSON report. Every stack declares it (it costs
 * nothing): a drill is run on a stack restored from another's snapshot, and a stack that is itself
 * the source can be checked the same way before its snapshot is taken.
 */
export function drillDocument(name: string, parent: pulumi.Resource): aws.ssm.Document {
  return new aws.ssm.Document(
    `${name}-drill`,
    { documentType: "Command", documentFormat: "JSON", content: renderDrillDocument() },
    { parent },
  );
}
