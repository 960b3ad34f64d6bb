/**
 * The programs hosts fetch at boot instead of carrying them (core/host/hostFiles.ts): the bucket
 * holds each byte for byte under a key with its digest, the user-data carries that digest and no
 * program text, the fleets may read those keys and nothing else, and every shipped fleet's
 * user-data keeps room under EC2's 16 KiB.
 */
import { createHash } from "crypto";
import { gzipSync } from "zlib";
import { parse } from "yaml";
import { HOST_FILES, HOST_FILES_CHECKSUMS, HOST_FILES_PREFIX } from "../core/host/hostFiles";
import { METRICS_PATHS } from "../core/host/metrics";
import { MASTODON_METRICS, programText } from "../core/host/programs";
import { USER_DATA_LIMIT_BYTES } from "../components/fleet";
import { fleetArtifacts } from "../plan/fleetArtifacts";
import { STACKS, all, find, runStack, stateOf } from "./helpers";

const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";

test("the collector is a host file under a key holding its SHA-256", () => {
  const text = programText(MASTODON_METRICS);
  const sha = createHash("sha256").update(text).digest("hex");
  expect(HOST_FILES).toEqual([
    {
      path: METRICS_PATHS.program,
      mode: "0755",
      content: text,
      sha256: sha,
      key: `${HOST_FILES_PREFIX}/${sha}/mastodon-metrics`,
    },
  ]);
});

describe.each(STACKS)("stack %s", (stack) => {
  test("the bucket holds every host file byte for byte; it is private, encrypted and TLS only", async () => {
    const run = await runStack(stack);
    const objects = all(run, OBJECT);
    expect(objects.map((o) => [o.inputs["key"], o.inputs["content"]])).toEqual(
      HOST_FILES.map((f) => [f.key, f.content]),
    );
    const bucket = find(run, "aws:s3/bucket:Bucket", "mastodon-host-files-bucket");
    const bucketName = stateOf(run, "aws:s3/bucket:Bucket", bucket.name)["bucket"];
    expect(new Set(objects.map((o) => o.inputs["bucket"]))).toEqual(new Set([bucketName]));
    expect(
      find(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "mastodon-host-files-bucket")
        .inputs,
    ).toMatchObject({
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    const policy = JSON.parse(
      String(find(run, "aws:s3/bucketPolicy:BucketPolicy", "mastodon-host-files-bucket").inputs["policy"]),
    );
    expect(policy.Statement[0]).toMatchObject({
      Effect: "Deny",
      Condition: { Bool: { "aws:SecureTransport": "false" } },
    });
  });

  test("each fleet may read the host files' keys, nothing else of the bucket", async () => {
    const run = await runStack(stack);
    const bucketArn = find(run, "aws:s3/bucket:Bucket", "mastodon-host-files-bucket").arn;
    const reads = all(run, "aws:iam/rolePolicy:RolePolicy").filter((p) => p.name.endsWith("-host-files"));
    expect(reads.length).toBe(all(run, "aws:autoscaling/group:Group").length);
    for (const p of reads)
      expect(JSON.parse(String(p.inputs["policy"])).Statement).toEqual([
        {
          Sid: "ReadHostFiles",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: `${bucketArn}/${HOST_FILES_PREFIX}/*`,
        },
      ]);
  });

  test("user-data carries the digests, never the program text, and leaves at least 4 KiB of EC2's 16 KiB", async () => {
    const run = await runStack(stack);
    for (const fleet of fleetArtifacts(run.resources)) {
      const doc = parse(fleet.userData) as { write_files: { path: string; content: string }[] };
      expect(doc.write_files.some((f) => f.content === HOST_FILES[0]!.content)).toBe(false);
      const checksums = doc.write_files.find((f) => f.path === HOST_FILES_CHECKSUMS);
      if (checksums) expect(checksums.content).toBe(`${HOST_FILES[0]!.sha256}  ${METRICS_PATHS.program}\n`);
      const compressed = gzipSync(Buffer.from(fleet.userData), { level: 9 }).length;
      expect([fleet.fleet, compressed <= USER_DATA_LIMIT_BYTES - 4096]).toEqual([fleet.fleet, true]);
    }
  });
});
