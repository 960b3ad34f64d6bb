/**
 * docs/moving-media.md's copies run by the real AWS CLI v2 (Debian's awscli) against an S3 stand-in
 * on loopback (test/s3StandIn.ts), each command as the doc writes it (test/mediaStandIns.ts points
 * the CLI there with --endpoint-url): a source install's public/system/ and an old bucket land in
 * the stack's bucket under the keys Mastodon already has, with the headers it gives its own uploads,
 * the other servers' post media left out; the old bucket is only read, with its own credentials.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { BUCKET, docCommands, runDocCommands } from "../../test/mediaStandIns";
import { type S3Object, type S3StandIn, startS3StandIn } from "../../test/s3StandIn";

/** The AWS CLI v2 that Debian's awscli installs; the doc's commands assume v2 (--copy-props). */
const AWS = "/usr/bin/aws";
const version = spawnSync(AWS, ["--version"], { encoding: "utf8" });
const hasCli = version.status === 0 && /^aws-cli\/2\./.test(version.stdout);
if (!hasCli) console.warn(`skipped: no AWS CLI v2 at ${AWS} (Debian package awscli)`);
const describeWithCli = hasCli ? describe : describe.skip;

const IMMUTABLE = "public, max-age=315576000, immutable";
const OLD_BUCKET = "old-mastodon-media";

/** An old instance's files, by key (as under public/system/ or in its bucket), and their types. */
const FILES: Record<string, string> = {
  "media_attachments/files/109/876/543/210/987/654/original/5e4a3b2c1d0f9e8d.png": "image/png",
  "media_attachments/files/109/876/543/210/987/654/small/5e4a3b2c1d0f9e8d.png": "image/png",
  "media_attachments/files/109/876/543/210/987/655/original/0f1e2d3c4b5a6978.mp4": "video/mp4",
  "accounts/avatars/000/000/001/original/a1b2c3d4e5f60718.jpg": "image/jpeg",
  "accounts/headers/000/000/001/original/b2c3d4e5f6071829.jpeg": "image/jpeg",
  "custom_emojis/images/000/000/042/original/blobcat.png": "image/png",
  "site_uploads/files/000/000/001/@1x/thumb.png": "image/png",
  "preview_cards/images/000/000/003/original/c3d4e5f607182930.jpg": "image/jpeg",
  "cache/accounts/avatars/110/222/333/444/555/666/original/d4e5f60718293041.png": "image/png",
  "cache/custom_emojis/images/110/222/333/444/555/667/static/partyparrot.png": "image/png",
  "cache/media_attachments/files/110/222/333/444/555/668/original/e5f6071829304152.webp": "image/webp",
  "cache/media_attachments/files/110/222/333/444/555/668/small/e5f6071829304152.webp": "image/webp",
};
const body = (key: string) => `bytes of ${key}`;
const COPIED = Object.keys(FILES)
  .filter((k) => !k.startsWith("cache/media_attachments/"))
  .sort();

let s3: S3StandIn;
let dir: string;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  if (!hasCli) return;
  s3 = await startS3StandIn();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-moving-media-cli-"));
  // `aws s3 ...` from the doc: the real CLI, pointed at the stand-in whatever endpoint it names.
  const cli = path.join(dir, "aws-s3");
  fs.writeFileSync(
    cli,
    `#!/bin/bash
args=()
while [ $# -gt 0 ]; do
  if [ "$1" = --endpoint-url ]; then shift 2; continue; fi
  args+=("$1"); shift
done
exec ${AWS} "\${args[@]}" --endpoint-url "$S3_ENDPOINT"
`,
    { mode: 0o755 },
  );
  // The stack account's credentials by default; the old provider's in the profile "old".
  fs.writeFileSync(
    path.join(dir, "config"),
    "[default]\nregion = us-east-1\n[profile old]\nregion = us-east-1\n",
  );
  fs.writeFileSync(
    path.join(dir, "credentials"),
    "[default]\naws_access_key_id = AKIASTACKACCOUNT\naws_secret_access_key = stack-secret\n" +
      "[old]\naws_access_key_id = OLDPROVIDERKEY\naws_secret_access_key = old-secret\n",
  );
  env = {
    S3: cli,
    S3_ENDPOINT: s3.endpoint,
    AWS_CONFIG_FILE: path.join(dir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: path.join(dir, "credentials"),
    AWS_EC2_METADATA_DISABLED: "true",
    AWS_PAGER: "",
  };
}, 30_000);

afterAll(async () => {
  if (!hasCli) return;
  await s3.stop();
  fs.rmSync(dir, { recursive: true, force: true });
});

/** Empty buckets: the stack's, and the old one holding FILES as Mastodon uploaded them. */
function resetBuckets(): void {
  s3.buckets.clear();
  s3.requests.length = 0;
  s3.buckets.set(BUCKET, new Map());
  const old = new Map<string, S3Object>();
  for (const [key, contentType] of Object.entries(FILES))
    old.set(key, {
      body: Buffer.from(body(key)),
      contentType,
      cacheControl: IMMUTABLE,
      metadata: {},
      lastModified: new Date("2024-03-01T12:00:00Z"),
    });
  s3.buckets.set(OLD_BUCKET, old);
}

/** The stack's bucket: every key with its bytes, type and Cache-Control. */
const landed = () =>
  [...(s3.buckets.get(BUCKET) ?? new Map<string, S3Object>()).entries()]
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([key, o]) => ({
      key,
      body: o.body.toString(),
      contentType: o.contentType,
      cacheControl: o.cacheControl,
    }));
const expected = () =>
  COPIED.map((key) => ({ key, body: body(key), contentType: FILES[key], cacheControl: IMMUTABLE }));
const oldBucketRequests = () => s3.requests.filter((r) => r.bucket === OLD_BUCKET);

describeWithCli("the copies, by the real AWS CLI", () => {
  beforeEach(resetBuckets);

  test("from a directory: public/system/<key> becomes <key> in the stack's bucket, typed and cached like Mastodon's uploads", async () => {
    const oldLive = Object.fromEntries(
      COPIED.concat(Object.keys(FILES)).map((k) => [`public/system/${k}`, body(k)]),
    );
    const run = await runDocCommands(docCommands("## From a directory"), { oldLive, env });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
    expect(landed()).toEqual(expected());
    expect(
      s3.requests.filter((r) => r.method === "PUT").every((r) => r.accessKey === "AKIASTACKACCOUNT"),
    ).toBe(true);
  }, 60_000);

  test("from a bucket on AWS: copied server-side under the same keys, type and Cache-Control kept, the old bucket only read", async () => {
    const run = await runDocCommands(docCommands("### On AWS"), { env });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
    expect(landed()).toEqual(expected());
    // Copies name their source: no byte went through the machine (no GET of an object).
    expect(new Set(oldBucketRequests().map((r) => `${r.method} ${r.key}`))).toEqual(new Set(["GET "]));
    expect(s3.buckets.get(OLD_BUCKET)?.size).toBe(Object.keys(FILES).length);
  }, 60_000);

  test("from another provider: read with its own profile and endpoint, then uploaded with the stack account's credentials", async () => {
    const run = await runDocCommands(docCommands("### Elsewhere"), { env });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
    expect(landed()).toEqual(expected());
    const old = oldBucketRequests();
    expect(
      old.every((r) => (r.method === "GET" || r.method === "HEAD") && r.accessKey === "OLDPROVIDERKEY"),
    ).toBe(true);
    expect(
      old
        .filter((r) => r.key)
        .map((r) => r.key)
        .sort(),
    ).toEqual(COPIED);
    const puts = s3.requests.filter((r) => r.method === "PUT");
    expect(puts.map((r) => [r.bucket, r.accessKey])).toEqual(COPIED.map(() => [BUCKET, "AKIASTACKACCOUNT"]));
  }, 60_000);
});
