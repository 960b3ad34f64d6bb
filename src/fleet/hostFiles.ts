import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { hostFilesBucketPolicy, hostFilesReadPolicy } from "../aws/policies";
import { HOST_FILES, hostFile } from "./host/hostFiles";
import { privateBucket } from "../aws/privateBucket";
import { providedType, withFormerType } from "../aws/typeToken";

/** A program the hosts fetch; its object key holds the SHA-256 of its content (src/fleet/host/hostFiles.ts). */
export interface HostFileArgs {
  /** Where the host installs it, e.g. /usr/local/lib/mastodon-metrics/mastodon-metrics. */
  path: string;
  /** Its octal mode on the host, e.g. "0755". */
  mode: string;
  /** The file's text, UTF-8. */
  content: string;
}

export interface HostFilesArgs {
  /** The files to hold (@default the package's host programs, HOST_FILES in src/fleet/host/hostFiles.ts). */
  files?: HostFileArgs[];
}

/**
 * The programs the hosts fetch at boot instead of carrying them in user-data (src/fleet/host/hostFiles.ts):
 * a private bucket (public access blocked, SSE-S3, TLS only), one object per file under a key holding
 * its SHA-256. The objects are derived from the package, so the bucket may be emptied on delete.
 */
export class HostFiles extends pulumi.ComponentResource {
  /** The private bucket holding the files (emptied on delete: its objects come from the package). */
  public readonly bucket: aws.s3.Bucket;
  /** The IAM policy the fleets attach: GetObject under host-files/ in this bucket only (JSON). */
  public readonly readPolicy: pulumi.Output<string>;

  constructor(name: string, args: HostFilesArgs = {}, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("HostFiles"), name, {}, withFormerType("mastodon:compute:HostFiles", opts));
    const parent = { parent: this };
    this.bucket = privateBucket(`${name}-bucket`, { forceDestroy: true }, this);
    new aws.s3.BucketPolicy(
      `${name}-bucket`,
      {
        bucket: this.bucket.id,
        policy: this.bucket.arn.apply((arn) => JSON.stringify(hostFilesBucketPolicy(arn))),
      },
      parent,
    );
    const files = args.files?.map((f) => hostFile(f.path, f.content, f.mode)) ?? HOST_FILES;
    // One object per key. An object is named by its file's name, as it always was (so deployed
    // objects keep their URNs); a second file of that name in another directory adds its digest.
    const named = new Set<string>();
    const stored = new Set<string>();
    for (const file of files) {
      if (stored.has(file.key)) continue;
      stored.add(file.key);
      const fileName = file.key.slice(file.key.lastIndexOf("/") + 1);
      const objectName = named.has(fileName) ? `${fileName}-${file.sha256.slice(0, 12)}` : fileName;
      named.add(fileName);
      new aws.s3.BucketObjectv2(
        `${name}-${objectName}`,
        {
          bucket: this.bucket.id,
          key: file.key,
          content: file.content,
          contentType: "text/plain; charset=utf-8",
        },
        parent,
      );
    }
    this.readPolicy = this.bucket.arn.apply((arn) => JSON.stringify(hostFilesReadPolicy(arn)));
    this.registerOutputs({ bucket: this.bucket.bucket });
  }
}
