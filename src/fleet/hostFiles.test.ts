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
  MASTODON_METRICS_CLOUDWATCH,
  MASTODON_METRICS_SOURCES,
  MASTODON_DATABASE,
  MASTODON_RESTORE,
  MASTODON_DRAIN,
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
import { DRAIN_UNIT, READINESS_PATHS } from "./host/readiness";
import { type HostFileArgs, type HostFilesArgs, HostFiles } from "./hostFiles";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import {
  ALL_PUBLIC_ACCESS_BLOCKED,
  STACKS,
  all,
  arnOf,
  find,
  resolve,
  runStack,
  stateOf,
} from "../../test/helpers";

const OBJECT = "aws:s3/bucketObjectv2:BucketObjectv2";

test("the secrets renderer, the logs agent's installer, the collector and the database's program are host files, each under a key holding its SHA-256", () => {
  const expected = [
    [BOOT_PATHS.renderer, programText(RENDER_SECRETS), "mastodon-render-secrets"],
    [CLOUDWATCH_AGENT_INSTALLER, programText(INSTALL_CLOUDWATCH_AGENT), "mastodon-install-cloudwatch-agent"],
    [METRICS_PATHS.program, programText(MASTODON_METRICS), "mastodon-metrics"],
    // The collector's modules, beside it: imported, never run.
    [METRICS_PATHS.sources, programText(MASTODON_METRICS_SOURCES), "mastodon_metrics_sources.py", "0644"],
    [
      METRICS_PATHS.cloudwatch,
      programText(MASTODON_METRICS_CLOUDWATCH),
      "mastodon_metrics_cloudwatch.py",
      "0644",
    ],
    [DATABASE_PATHS.program, programText(MASTODON_DATABASE), "mastodon-database"],
    [DATABASE_PATHS.restoreProgram, programText(MASTODON_RESTORE), "mastodon-restore"],
    [SEARCH_USER_PATHS.program, programText(MASTODON_SEARCH_USER), "mastodon-search-user"],
    [IMAGE_ROOT_PROGRAM, programText(MASTODON_IMAGE_ROOT), "mastodon-image-root"],
    [REDIS_VOLUME_PATHS.program, programText(MASTODON_REDIS_VOLUME), "mastodon-redis-volume"],
    [READINESS_PATHS.drain, programText(MASTODON_DRAIN), "mastodon-drain"],
  ].map(([path, content, name, mode = "0755"]) => {
    const sha256 = createHash("sha256").update(content!).digest("hex");
    return { path, mode, content, sha256, key: `${HOST_FILES_PREFIX}/${sha256}/${name}` };
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
    ).toMatchObject(ALL_PUBLIC_ACCESS_BLOCKED);
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
      // Every host fetches the installer; the collector and its modules where the host publishes (its timer is there);
      // the database's program on the host that prepares the database.
      const publishes = "mastodon-metrics.timer" in fleet.units;
      const prepares = DATABASE_PATHS.config in fleet.files;
      // Mastodon's OpenSearch user's program where the database's prepare makes that user.
      const makesSearchUser = SEARCH_USER_PATHS.role in fleet.files;
      // The on-host Redis's host: the persistent store's volume program (its unit is there).
      const mountsVolume = REDIS_VOLUME_PATHS.unit in fleet.units;
      // A host running Sidekiq: the drain (its unit is there).
      const drains = DRAIN_UNIT in fleet.units;
      // The archive's restore where the database's config names it (no shipped stack has one).
      const restores = fleet.files[DATABASE_PATHS.config]?.includes("restore_program ") ?? false;
      const wanted = HOST_FILES.filter(
        (f) =>
          (!f.path.startsWith(METRICS_PATHS.dir) || publishes) &&
          (f.path !== DATABASE_PATHS.program || prepares) &&
          (f.path !== SEARCH_USER_PATHS.program || makesSearchUser) &&
          (f.path !== REDIS_VOLUME_PATHS.program || mountsVolume) &&
          (f.path !== READINESS_PATHS.drain || drains) &&
          (f.path !== DATABASE_PATHS.restoreProgram || restores),
      );
      expect(doc.write_files.find((f) => f.path === HOST_FILES_CHECKSUMS)!.content).toBe(
        wanted.map((f) => `${f.sha256}  ${f.path}\n`).join(""),
      );
      const compressed = gzipSync(Buffer.from(fleet.userData), { level: 9 }).length;
      expect([fleet.fleet, compressed <= USER_DATA_LIMIT_BYTES - 4096]).toEqual([fleet.fleet, true]);
    }
  });
});

describe("HostFiles on its own", () => {
  const BUCKET = "aws:s3/bucket:Bucket";
  const REGION = "eu-west-1";
  /** The HostFiles `declare` builds, under mocks; kept for their outputs. */
  async function build(declare: () => HostFiles[]): Promise<{ run: MockRun; components: HostFiles[] }> {
    let components: HostFiles[] = [];
    const run = await runUnderMocks(
      () => {
        components = declare();
        return {};
      },
      { project: "p", stack: "s", config: { "aws:region": REGION } },
    );
    return { run, components };
  }
  const one = async (args?: HostFilesArgs, name = "hf") => {
    const built = await build(() => [new HostFiles(name, args)]);
    return { ...built, hostFiles: built.components[0] as HostFiles };
  };
  const sha256 = (text: string) => createHash("sha256").update(text, "utf8").digest("hex");
  const FILES: HostFileArgs[] = [
    { path: "/usr/local/sbin/greet", mode: "0755", content: "#!/bin/sh\necho hello\n" },
    { path: "/etc/mastodon/greeting.conf", mode: "0644", content: "greeting = hello\n" },
  ];

  test("GIVEN no files WHEN built THEN the bucket is private, encrypted, TLS only and emptied on delete, and holds the package's host programs, each under a key of its SHA-256", async () => {
    const { run } = await one();
    const bucket = find(run, BUCKET, "hf-bucket");
    expect(bucket.inputs["forceDestroy"]).toBe(true);
    expect(
      find(run, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "hf-bucket").inputs,
    ).toMatchObject({
      bucket: bucket.id,
      ...ALL_PUBLIC_ACCESS_BLOCKED,
    });
    expect(
      find(run, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", "hf-bucket").inputs["rule"],
    ).toEqual({ objectOwnership: "BucketOwnerEnforced" });
    expect(
      find(
        run,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "hf-bucket",
      ).inputs["rules"],
    ).toEqual([{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true }]);
    const policy = find(run, "aws:s3/bucketPolicy:BucketPolicy", "hf-bucket").inputs;
    expect(policy["bucket"]).toBe(bucket.id);
    expect(JSON.parse(String(policy["policy"])).Statement).toEqual([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucket.arn, `${bucket.arn}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
    const bucketName = stateOf(run, BUCKET, "hf-bucket")["bucket"];
    const objects = all(run, OBJECT);
    expect(objects.map((o) => o.inputs["key"])).toEqual(
      HOST_FILES.map(
        (f) => `${HOST_FILES_PREFIX}/${sha256(f.content)}/${f.path.slice(f.path.lastIndexOf("/") + 1)}`,
      ),
    );
    for (const o of objects) {
      expect(o.inputs["bucket"]).toBe(bucketName);
      expect(o.inputs["contentType"]).toBe("text/plain; charset=utf-8");
    }
  });

  test("GIVEN files of its own WHEN built THEN it holds those alone, byte for byte, each under host-files/<its SHA-256>/<its file name>", async () => {
    const { run } = await one({ files: FILES });
    expect(all(run, OBJECT).map((o) => [o.name, o.inputs["key"], o.inputs["content"]])).toEqual([
      ["hf-greet", `host-files/${sha256(FILES[0]!.content)}/greet`, FILES[0]!.content],
      ["hf-greeting.conf", `host-files/${sha256(FILES[1]!.content)}/greeting.conf`, FILES[1]!.content],
    ]);
  });

  test("GIVEN an empty list of files WHEN built THEN the bucket holds nothing, not the package's programs", async () => {
    const { run } = await one({ files: [] });
    expect(all(run, OBJECT)).toEqual([]);
    expect(all(run, BUCKET)).toHaveLength(1);
  });

  test("GIVEN a file whose content changes WHEN built again THEN its key changes with it, and the other file's does not", async () => {
    const before = await one({ files: FILES });
    const after = await one({ files: [{ ...FILES[0]!, content: "#!/bin/sh\necho bye\n" }, FILES[1]!] });
    const keys = (run: MockRun) => all(run, OBJECT).map((o) => o.inputs["key"]);
    const [greetBefore, confBefore] = keys(before.run);
    const [greetAfter, confAfter] = keys(after.run);
    expect(greetAfter).not.toBe(greetBefore);
    expect(greetAfter).toBe(`host-files/${sha256("#!/bin/sh\necho bye\n")}/greet`);
    expect(confAfter).toBe(confBefore);
  });

  test("GIVEN the component WHEN built THEN its outputs are the bucket's name and a read policy for the host-files keys of this bucket alone", async () => {
    const { run, hostFiles } = await one({ files: FILES });
    expect(await resolve(hostFiles.bucket.bucket)).toBe(stateOf(run, BUCKET, "hf-bucket")["bucket"]);
    expect(JSON.parse(await resolve(hostFiles.readPolicy))).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "ReadHostFiles",
          Effect: "Allow",
          Action: "s3:GetObject",
          Resource: `${arnOf(run, BUCKET, "hf-bucket")}/${HOST_FILES_PREFIX}/*`,
        },
      ],
    });
  });

  test("GIVEN two components in one program WHEN built THEN every name derives from its component's, none collides, and each bucket holds its own objects", async () => {
    const { run, components } = await build(() => [
      new HostFiles("blue-files", { files: FILES }),
      new HostFiles("green-files", { files: FILES }),
    ]);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    for (const r of run.resources.filter((r) => r.parent !== null))
      expect(r.name.startsWith(`${r.parent}-`)).toBe(true);
    const [blue, green] = await Promise.all(components.map((c) => resolve(c.bucket.bucket)));
    expect(blue).not.toBe(green);
    expect(
      all(run, OBJECT)
        .filter((o) => o.parent === "green-files")
        .map((o) => o.inputs["bucket"]),
    ).toEqual([green, green]);
  });

  test("GIVEN a component name too long for S3 WHEN built THEN the bucket's name is cut to fit, with a hash", async () => {
    const long = `files-${"x".repeat(70)}`;
    const { run } = await one({ files: FILES }, long);
    const bucket = all(run, BUCKET)[0]!;
    expect(bucket.name).not.toBe(`${long}-bucket`);
    expect(String(bucket.inputs["bucket"]).length).toBeLessThanOrEqual(63);
  });

  // An object is named `<component>-<file name>` (deployed objects keep their URNs); a second file of
  // that name in another directory must not take the same logical name.
  test("GIVEN two files of one base name in different directories WHEN built THEN both are held", async () => {
    const { run } = await one({
      files: [
        { path: "/etc/mastodon/a/config", mode: "0644", content: "a\n" },
        { path: "/etc/mastodon/b/config", mode: "0644", content: "b\n" },
      ],
    });
    expect(all(run, OBJECT).map((o) => o.inputs["key"])).toEqual([
      `host-files/${sha256("a\n")}/config`,
      `host-files/${sha256("b\n")}/config`,
    ]);
  });
});
