import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitName } from "./naming";

export interface PrivateBucketArgs {
  /**
   * "BucketOwnerEnforced" disables ACLs; "BucketOwnerPreferred" keeps them for the owner (Mastodon
   * sets object ACLs), with public ACLs still blocked. @default "BucketOwnerEnforced"
   */
  objectOwnership?: "BucketOwnerEnforced" | "BucketOwnerPreferred";
  /** @default false */
  versioning?: boolean;
  /** Delete objects after this many days (logs). @default never */
  expireDays?: number;
  /** @default false */
  forceDestroy?: boolean;
  /** @default false */
  protect?: boolean;
}

/**
 * A private S3 bucket with the settings every bucket here shares: all four Block Public Access
 * switches on, object ownership set, SSE-S3 encryption, incomplete multipart uploads aborted after
 * 7 days. A plain function, not a component: its resources belong to the caller's component.
 */
export function privateBucket(name: string, args: PrivateBucketArgs, parent: pulumi.Resource): aws.s3.Bucket {
  const opts = { parent };
  // Bucket names hold 63 characters with the provider's random suffix: a long name is cut to fit.
  const bucket = new aws.s3.Bucket(
    fitName("aws:s3/bucket:Bucket", name),
    { forceDestroy: args.forceDestroy ?? false, tags: { Name: name } },
    // Set only when asked: an explicit false would undo the protection a protected parent passes on to
    // its children (Pulumi docs, "Resource options: protect").
    { parent, ...(args.protect ? { protect: true } : {}) },
  );
  const publicAccess = new aws.s3.BucketPublicAccessBlock(
    name,
    {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    },
    opts,
  );
  new aws.s3.BucketOwnershipControls(
    name,
    { bucket: bucket.id, rule: { objectOwnership: args.objectOwnership ?? "BucketOwnerEnforced" } },
    { parent, dependsOn: [publicAccess] },
  );
  // SSE-S3: ALB access logs accept no other key, and CloudFront's OAC reads it without a KMS grant.
  new aws.s3.BucketServerSideEncryptionConfiguration(
    name,
    {
      bucket: bucket.id,
      rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }],
    },
    opts,
  );
  new aws.s3.BucketLifecycleConfiguration(
    name,
    {
      bucket: bucket.id,
      rules: [
        {
          id: "abort-incomplete-multipart-uploads",
          status: "Enabled",
          filter: {},
          abortIncompleteMultipartUpload: { daysAfterInitiation: 7 },
        },
        ...(args.expireDays
          ? [{ id: "expire", status: "Enabled", filter: {}, expiration: { days: args.expireDays } }]
          : []),
        ...(args.versioning
          ? [
              {
                id: "expire-noncurrent",
                status: "Enabled",
                filter: {},
                noncurrentVersionExpiration: { noncurrentDays: 30 },
              },
            ]
          : []),
      ],
    },
    opts,
  );
  if (args.versioning) {
    new aws.s3.BucketVersioning(
      name,
      { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } },
      opts,
    );
  }
  return bucket;
}
