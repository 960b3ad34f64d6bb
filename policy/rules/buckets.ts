/**
 * Every S3 bucket declares its default encryption and a public access block with all four
 * settings on, as the package's buckets do (src/aws/privateBucket.ts). S3 has encrypted new
 * objects with SSE-S3 by default since January 2023 and blocks public access on new buckets by
 * default (Amazon S3 User Guide, "Setting default server-side encryption behavior" and "Blocking
 * public access"); the rule asks for both in the program so neither rests on an account setting
 * that someone can change, and so a review sees them.
 */
import { type StackResource, type Violation, known, label, referenced } from "./resources";

export const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
const ENCRYPTION_TYPES = [
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
  "aws:s3/bucketServerSideEncryptionConfigurationV2:BucketServerSideEncryptionConfigurationV2",
];
const PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock";

/** The buckets `settings` point at (their `bucket` input: the bucket's name or id). */
function coveredBuckets(settings: readonly StackResource[], buckets: readonly StackResource[]): Set<string> {
  const covered = new Set<string>();
  for (const s of settings) {
    const bucket = referenced(s, "bucket", buckets, ["bucket", "id"]);
    if (bucket) covered.add(bucket.urn);
  }
  return covered;
}

export function bucketViolations(resources: readonly StackResource[]): Violation[] {
  const buckets = resources.filter((r) => BUCKET_TYPES.includes(r.type));
  const encrypted = coveredBuckets(
    resources.filter((r) => ENCRYPTION_TYPES.includes(r.type)),
    buckets,
  );
  const blocked = coveredBuckets(
    resources.filter((r) => r.type === PUBLIC_ACCESS_BLOCK),
    buckets,
  );
  const violations: Violation[] = [];
  for (const b of buckets) {
    // The bucket's own (deprecated) inline block counts as declared encryption.
    const inline = known(() => b.props["serverSideEncryptionConfiguration"]);
    if (!encrypted.has(b.urn) && !inline)
      violations.push({
        urn: b.urn,
        message: `${label(b)} declares no default encryption; add an aws.s3.BucketServerSideEncryptionConfiguration for it (sseAlgorithm "AES256" or "aws:kms")`,
      });
    if (!blocked.has(b.urn))
      violations.push({
        urn: b.urn,
        message: `${label(b)} has no public access block; add an aws.s3.BucketPublicAccessBlock for it with blockPublicAcls, blockPublicPolicy, ignorePublicAcls and restrictPublicBuckets all true`,
      });
  }
  return violations;
}
