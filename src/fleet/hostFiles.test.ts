/**
 * The programs hosts fetch at boot instead of carrying them (src/fleet/host/hostFiles.ts): the bucket
 * holds each byte for byte under a key with its digest, the user-data carries that digest and no
 * program text, the fleets may read those keys and nothing else, and every shipped fleet's
 * user-data keeps room under EC2's 16 KiB.
 */
import { createHash } from "crypto";
import { gzipSync } from "zlib";
import { parse } from "yaml";
import {
  CLOUDWATCH_AGENT_INSTALLER,
  HOST_FILES,
  HOST_FILES_CHECKSUMS,
  HOST_FILES_PREFIX,
} from "./host/hostFiles";
import { METRICS_PATHS } from "../monitoring/metrics";
import { BOOT_PATHS } from "../host/boot";
import {
  INSTALL_CLOUDWATCH_AGENT,
  MASTODON_METRICS,
  MASTODON_DATABASE,
  MASTODON_IMAGE_ROOT,
  MASTODON_REDIS_VOLUME,
  MASTODON_SEARCH_USER,
  RENDER_SECRETS,
  programText,
} from "../host/programs";
import { IMAGE_ROOT_PROGRAM } from "../images/imageRoot";
import { SEARCH_USER_PATHS } from "../search/searchUser";
import { USER_DATA_LIMIT_BYTES } from "./userData";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import { DATABASE_PATHS } from "../database/database";
import { REDIS_VOLUME_PATHS } from "../redis/redisVolume";
import { STACKS, all, find, runStack, stateOf } from "../../test/helpers";

const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";

test("the secrets renderer, the logs agent's installer, the collector and the database's program are host files, each under a key holding its SHA-256", () => {
  const expected = [
    [BOOT_PATHS.renderer, programText(RENDER_SECRETS), "mastodon-render-secrets"],
    [CLOUDWATCH_AGENT_INSTALLER, programText(INSTALL_CLOUDWATCH_AGENT), "mastodon-install-cloudwatch-agent"],
    [METRICS_PATHS.program, programText(MASTODON_METRICS), "mastodon-metrics"],
    [DATABASE_PATHS.program, programText(MASTODON_DATABASE), "mastodon-database"],
    [SEARCH_USER_PATHS.program, programText(MASTODON_SEARCH_USER), "mastodon-search-user"],
    [IMAGE_ROOT_PROGRAM, programText(MASTODON_IMAGE_ROOT), "mastodon-image-root"],
    [REDIS_VOLUME_PATHS.program, programText(MASTODON_REDIS_VOLUME), "mastodon-redis-volume"],
  ].map(([path, content, name]) => {
    const sha256 = createHash("sha256").update(content!).digest("hex");
    return { path, mode: "0755", content, sha256, key: `${HOST_FILES_PREFIX}/${sha256}/${name}` };
  });
  expect(HOST_FILES).toEqual(expected);
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
      for (const f of HOST_FILES) expect(doc.write_files.some((w) => w.content === f.content)).toBe(false);
      // Every host fetches the installer; the collector where the host publishes (its timer is there);
      // the database's program on the host that prepares the database.
      const publishes = "mastodon-metrics.timer" in fleet.units;
      const prepares = DATABASE_PATHS.config in fleet.files;
      // Mastodon's OpenSearch user's program where the database's prepare makes that user.
      const makesSearchUser = SEARCH_USER_PATHS.role in fleet.files;
      // The on-host Redis's host: the persistent store's volume program (its unit is there).
      const mountsVolume = REDIS_VOLUME_PATHS.unit in fleet.units;
      const wanted = HOST_FILES.filter(
        (f) =>
          (f.path !== METRICS_PATHS.program || publishes) &&
          (f.path !== DATABASE_PATHS.program || prepares) &&
          (f.path !== SEARCH_USER_PATHS.program || makesSearchUser) &&
          (f.path !== REDIS_VOLUME_PATHS.program || mountsVolume),
      );
      expect(doc.write_files.find((f) => f.path === HOST_FILES_CHECKSUMS)!.content).toBe(
        wanted.map((f) => `${f.sha256}  ${f.path}\n`).join(""),
      );
      const compressed = gzipSync(Buffer.from(fleet.userData), { level: 9 }).length;
      expect([fleet.fleet, compressed <= USER_DATA_LIMIT_BYTES - 4096]).toEqual([fleet.fleet, true]);
    }
  });
});
