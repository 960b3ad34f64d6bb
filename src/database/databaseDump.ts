import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { policyDocument, tlsOnlyBucketPolicy } from "../aws/policies";
import { privateBucket } from "../aws/privateBucket";
import { dumpBytes, dumpPath } from "./restoreDump";

/** The archive's key in its bucket. */
export const DUMP_KEY = "database/mastodon.dump";

/** A pg_dump archive on its way into the database (DatabaseDump's resources are its caller's). */
export interface DatabaseDump {
  /** s3://<bucket>/<key>: where the scheduler's host fetches the archive. */
  readonly url: pulumi.Output<string>;
  /** The archive's size in bytes when the program ran: the restore step's bound. */
  readonly bytes: number;
  /** The IAM policy (JSON) the scheduler's fleet attaches: GetObject on the archive alone. */
  readonly readPolicy: pulumi.Output<string>;
}

/**
 * A pg_dump archive on its way into a new stack's database (mastodon:database.restoreFrom.dump,
 * src/database/restoreDump.ts): a private bucket (public access blocked, SSE-S3, TLS only) holding
 * the archive, uploaded by `pulumi up` from the operator's machine (`path` from the project's
 * directory), and the policy that lets the scheduler's host read that one object
 * (src/database/files/mastodon-restore.sh restores it). The archive holds every account's data: no
 * other fleet may read it. A changed file is uploaded again, but restored only into an empty
 * database; the bucket is emptied on delete (the archive is the operator's, kept where it came from).
 * A plain function, as privateBucket: its resources belong to the caller's component.
 */
export function databaseDump(name: string, path: string, parent: pulumi.Resource): DatabaseDump {
  const bucket = privateBucket(`${name}-bucket`, { forceDestroy: true }, parent);
  new aws.s3.BucketPolicy(
    `${name}-bucket`,
    { bucket: bucket.id, policy: bucket.arn.apply((arn) => JSON.stringify(tlsOnlyBucketPolicy(arn))) },
    { parent },
  );
  const object = new aws.s3.BucketObjectv2(
    `${name}-archive`,
    {
      bucket: bucket.id,
      key: DUMP_KEY,
      source: new pulumi.asset.FileAsset(dumpPath(path)),
      contentType: "application/octet-stream",
    },
    { parent },
  );
  return {
    url: pulumi.interpolate`s3://${object.bucket}/${object.key}`,
    bytes: dumpBytes(path),
    readPolicy: pulumi.all([bucket.arn, object.key]).apply(([arn, key]) =>
      JSON.stringify(
        policyDocument({
          Sid: "ReadDatabaseDump",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: `${arn}/${key}`,
        }),
      ),
    ),
  };
}
