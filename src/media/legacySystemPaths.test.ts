/**
 * Old media URLs (`https://<web domain>/system/<key>`) kept working: the CloudFront Function run by
 * node's JavaScript engine against a viewer-request event of each kind of old URL, in a context
 * with none of Node's globals (CloudFront Functions have no require, process or timers); then the
 * ALB rule, the cache behavior and the function under mocks, with the ALB's listener as edgeTiers
 * gives it, and without them when the option is off.
 */
import * as vm from "vm";
import * as pulumi from "@pulumi/pulumi";
import { LoadBalancer } from "../edge/loadBalancer";
import { LISTENER_RULE_PRIORITIES } from "../edge/rules";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import { parseStackConfig } from "../config";
import { all, arnOf, configProblems, find, keysAndMessages, stateOf, withConfig } from "../../test/helpers";
import { CACHING_OPTIMIZED_POLICY_ID, MediaStorage, type MediaStorageArgs } from "./mediaStorage";
import { LEGACY_SYSTEM_FUNCTION_CODE, LEGACY_SYSTEM_PATTERN, legacySystemRedirect } from "./legacyPaths";

const FUNCTION = "aws:cloudfront/function:Function";
const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";
const RULE = "aws:lb/listenerRule:ListenerRule";
const LISTENER = "aws:lb/listener:Listener";

interface ViewerRequest {
  method: string;
  uri: string;
  querystring: Record<string, { value: string }>;
  headers: Record<string, { value: string }>;
  cookies: Record<string, { value: string }>;
}

/** The function's handler, compiled by V8 in a context of its own: only the language's built-ins. */
const handler = vm.runInNewContext(`${LEGACY_SYSTEM_FUNCTION_CODE}\nhandler;`, Object.create(null), {
  filename: "legacy-system-paths.js",
}) as (event: unknown) => ViewerRequest;

/** A viewer-request event as CloudFront hands it to a function (event structure, version 1.0). */
const event = (
  uri: string,
): { version: string; context: object; viewer: object; request: ViewerRequest } => ({
  version: "1.0",
  context: { eventType: "viewer-request", distributionDomainName: "d111111abcdef8.cloudfront.net" },
  viewer: { ip: "198.51.100.7" },
  request: {
    method: "GET",
    uri,
    querystring: { v: { value: "2" } },
    headers: { host: { value: "d111111abcdef8.cloudfront.net" }, accept: { value: "image/*" } },
    cookies: {},
  },
});

describe("the CloudFront Function, run by node against old URLs", () => {
  test.each([
    // A local post's attachment, original and small (Paperclip: :class/:attachment/:id_partition/:style/:filename).
    [
      "/system/media_attachments/files/109/876/543/210/987/654/original/5e4a3b2c1d0f9e8d.png",
      "/media_attachments/files/109/876/543/210/987/654/original/5e4a3b2c1d0f9e8d.png",
    ],
    [
      "/system/media_attachments/files/109/876/543/210/987/654/small/5e4a3b2c1d0f9e8d.png",
      "/media_attachments/files/109/876/543/210/987/654/small/5e4a3b2c1d0f9e8d.png",
    ],
    // A local account's avatar, a custom emoji, the server thumbnail, a remote copy under cache/.
    [
      "/system/accounts/avatars/000/000/001/original/a1b2c3d4e5f60718.jpg",
      "/accounts/avatars/000/000/001/original/a1b2c3d4e5f60718.jpg",
    ],
    [
      "/system/custom_emojis/images/000/000/042/static/blobcat.png",
      "/custom_emojis/images/000/000/042/static/blobcat.png",
    ],
    ["/system/site_uploads/files/000/000/001/@1x/thumb.png", "/site_uploads/files/000/000/001/@1x/thumb.png"],
    [
      "/system/cache/media_attachments/files/110/1/2/3/4/5/original/x.jpeg",
      "/cache/media_attachments/files/110/1/2/3/4/5/original/x.jpeg",
    ],
    // A percent-encoded name stays as it came.
    [
      "/system/media_attachments/files/000/000/007/original/my%20photo.webp",
      "/media_attachments/files/000/000/007/original/my%20photo.webp",
    ],
  ])("%s reads the key %s, the rest of the request untouched", (uri, key) => {
    const given = event(uri);
    const out = handler(given);
    expect(out).toEqual({ ...given.request, uri: key });
  });

  test.each(["/media_attachments/files/1/original/a.png", "/systems/a.png", "/system", "/System/a.png", "/"])(
    "%s, not under /system/, is left as it is",
    (uri) => {
      expect(handler(event(uri)).uri).toBe(uri);
    },
  );

  test("it is small, strict-mode clean and uses no Node or browser global", () => {
    expect(Buffer.byteLength(LEGACY_SYSTEM_FUNCTION_CODE)).toBeLessThan(1024);
    expect(() => new vm.Script(`"use strict";\n${LEGACY_SYSTEM_FUNCTION_CODE}`)).not.toThrow();
    expect(LEGACY_SYSTEM_FUNCTION_CODE).not.toMatch(/\b(require|process|setTimeout|console|let|const|=>)\b/);
  });
});

describe("under mocks", () => {
  const OPTIONS = { project: "p", stack: "s", config: { "aws:region": "eu-west-1" } };
  const settled = async (error: unknown): Promise<never> => {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    throw error;
  };
  /** The ALB and the media storage, wired as src/stack/edgeTiers.ts does with the option on. */
  const edge = (media: Omit<MediaStorageArgs, "legacySystemPaths"> = {}, legacy = true): Promise<MockRun> =>
    runUnderMocks(() => {
      const lb = new LoadBalancer("edge", {
        vpcId: "vpc-0a1b2c3d",
        publicSubnetIds: ["subnet-a", "subnet-b"],
        securityGroupId: "sg-alb",
        webDomain: "social.example.org",
        zoneId: "Z0123456789TEST",
        streamingPorts: [4000, 4001],
      });
      new MediaStorage("media", {
        zoneId: "Z0123456789TEST",
        ...media,
        ...(legacy && { legacySystemPaths: { listenerArn: lb.httpsListener.arn } }),
      });
      return {};
    }, OPTIONS).catch(settled);
  const httpsListener = (run: MockRun) => arnOf(run, LISTENER, "edge-https");

  test("GIVEN legacySystemPaths, THEN the HTTPS listener redirects /system/* for good to the media host, path and query kept", async () => {
    const run = await edge();
    const cdnDomain = String(stateOf(run, DISTRIBUTION, "media-cdn")["domainName"]);
    const rule = find(run, RULE, "media-system-paths").inputs;
    expect(rule).toEqual({
      listenerArn: httpsListener(run),
      priority: LISTENER_RULE_PRIORITIES.legacySystemPaths,
      conditions: [{ pathPattern: { values: [LEGACY_SYSTEM_PATTERN] } }],
      actions: [{ type: "redirect", redirect: legacySystemRedirect(cdnDomain) }],
    });
    expect(rule["actions"]).toEqual([
      {
        type: "redirect",
        redirect: {
          protocol: "HTTPS",
          port: "443",
          host: expect.stringMatching(/^d[0-9a-f]{13}\.cloudfront\.net$/),
          path: "/#{path}",
          query: "#{query}",
          statusCode: "HTTP_301",
        },
      },
    ]);
    // The streaming rule keeps its own priority on the same listener.
    const priorities = all(run, RULE).map((r) => [r.name, r.inputs["priority"], r.inputs["listenerArn"]]);
    expect(priorities).toEqual([
      ["edge-streaming", LISTENER_RULE_PRIORITIES.streaming, httpsListener(run)],
      ["media-system-paths", LISTENER_RULE_PRIORITIES.legacySystemPaths, httpsListener(run)],
    ]);
  });

  test("GIVEN legacySystemPaths and a custom domain, THEN the redirect goes to that domain", async () => {
    const run = await edge({ customDomain: "files.example.org" });
    const rule = find(run, RULE, "media-system-paths").inputs as any;
    expect(rule.actions[0].redirect.host).toBe("files.example.org");
  });

  test("GIVEN legacySystemPaths, THEN /system/* has its own cache behavior, the default one's with the function at viewer request", async () => {
    const run = await edge();
    const fn = find(run, FUNCTION);
    expect(fn.inputs).toEqual({
      name: expect.stringMatching(/^media-system-paths-[0-9a-f]{7}$/),
      runtime: "cloudfront-js-2.0",
      comment: "Mastodon media: /system/<key> (a source install's URL) reads <key>",
      code: LEGACY_SYSTEM_FUNCTION_CODE,
      publish: true,
    });
    expect(fn.parent).toBe("media");
    const cdn = find(run, DISTRIBUTION).inputs as any;
    expect(cdn.defaultCacheBehavior).not.toHaveProperty("functionAssociations");
    expect(cdn.orderedCacheBehaviors).toEqual([
      {
        ...cdn.defaultCacheBehavior,
        pathPattern: "/system/*",
        functionAssociations: [{ eventType: "viewer-request", functionArn: arnOf(run, FUNCTION, fn.name) }],
      },
    ]);
    expect(cdn.defaultCacheBehavior.cachePolicyId).toBe(CACHING_OPTIMIZED_POLICY_ID);
  });

  test("GIVEN no legacySystemPaths, THEN no function, no rule and no ordered behavior", async () => {
    const run = await edge({}, false);
    expect(all(run, FUNCTION)).toEqual([]);
    expect(all(run, RULE).map((r) => r.name)).toEqual(["edge-streaming"]);
    expect(find(run, DISTRIBUTION).inputs).not.toHaveProperty("orderedCacheBehaviors");
  });
});

describe("mastodon:media.legacySystemPaths", () => {
  test("is off unless set, and takes true", () => {
    expect(parseStackConfig(withConfig(() => {})).config.media.legacySystemPaths).toBe(false);
    expect(
      parseStackConfig(withConfig((c) => (c.media = { legacySystemPaths: true }))).config.media
        .legacySystemPaths,
    ).toBe(true);
  });

  test("anything but a boolean is refused by its key", () => {
    const problems = configProblems(withConfig((c) => (c.media = { legacySystemPaths: "yes" })));
    expect(keysAndMessages(problems)).toEqual([
      { key: "mastodon:media.legacySystemPaths", message: expect.stringMatching(/boolean/) },
    ]);
  });
});
