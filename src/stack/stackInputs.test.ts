/**
 * MastodonStack with Outputs at the leaves that may hold them (src/stack/stackInputs.ts), as another
 * Pulumi language passes a zone ID from a zone resource or a password from secret config: the same
 * resources as with the plain values, the credentials still secret. An Output where the stack needs
 * a plain value is refused by its key; a resolved value its leaf refuses fails with the key, never
 * with the value.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "../config";
import { runUnderMocks } from "../testing/mocks";
import { baseArgs } from "../../test/helpers";
import { MastodonStack, type MastodonStackArgs } from "./mastodonStack";
import { INPUT_LEAVES, checkedInput, splitInputs } from "./stackInputs";

const ZONE_ID = "Z0123456789TEST";
const WEB_CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/11111111-2222-3333-4444-555555555555";
const MEDIA_CERTIFICATE =
  "arn:aws:acm:us-east-1:123456789012:certificate/66666666-7777-8888-9999-000000000000";
const SMTP_PASSWORD = "correct horse $battery";
const DEEPL_KEY = "0123abcd-4567-89ef-0123-456789abcdef:fx";
const CREDENTIAL = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:ecr-pullthroughcache/ghcr-AbCdEf";

/** Every leaf that may be an Output, set; `wrap` gives each its value (plain, or an Output). */
function argsWith(wrap: (path: string, value: string) => pulumi.Input<string>): MastodonStackArgs {
  const args = baseArgs();
  return {
    ...args,
    dns: { zoneId: wrap("dns.zoneId", ZONE_ID), zoneName: "test.example" },
    loadBalancer: { certificateArn: wrap("loadBalancer.certificateArn", WEB_CERTIFICATE) },
    media: {
      customDomain: "files.test.example",
      certificateArn: wrap("media.certificateArn", MEDIA_CERTIFICATE),
    },
    mail: {
      provider: "smtp",
      smtp: {
        server: "smtp.test.example",
        login: "mastodon",
        password: wrap("mail.smtp.password", SMTP_PASSWORD),
      },
    },
    translation: { provider: "deepl", apiKey: wrap("translation.apiKey", DEEPL_KEY) },
    image: { pullThroughCache: { credentialArn: wrap("image.pullThroughCache.credentialArn", CREDENTIAL) } },
  };
}

/** The stack declared under mocks; its resources as the engine would record them. */
async function declared(args: () => MastodonStackArgs) {
  const run = await runUnderMocks(
    () => {
      new MastodonStack("mastodon", args());
      return {};
    },
    { project: "other-language", stack: "staging", config: { "aws:region": "eu-west-1" } },
  );
  // In the order of their URNs: a resource waiting on an Output registers later, not otherwise.
  return run.resources
    .map((r) => ({ urn: r.urn, type: r.type, inputs: r.inputs }))
    .sort((a, b) => a.urn.localeCompare(b.urn));
}

const promiseOf = (output: pulumi.Output<string>) =>
  (output as unknown as { promise(): Promise<string> }).promise();

test("each leaf given as an Output (a Promise, a secret) declares what its plain value declares", async () => {
  const plain = await declared(() => argsWith((_path, value) => value));
  const eventual = await declared(() =>
    argsWith((path, value) =>
      path === "mail.smtp.password" || path === "translation.apiKey"
        ? pulumi.secret(value)
        : path === "loadBalancer.certificateArn"
          ? Promise.resolve(value)
          : pulumi.output(value),
    ),
  );
  expect(eventual).toEqual(plain);
  const text = JSON.stringify(eventual);
  // The values reached the resources, the stand-ins never did, and no Output was made a string.
  for (const value of [ZONE_ID, WEB_CERTIFICATE, MEDIA_CERTIFICATE, CREDENTIAL])
    expect(text).toContain(value);
  for (const leaf of INPUT_LEAVES) expect(text).not.toContain(leaf.standIn);
  expect(text).not.toContain("Calling [toString]");
  // The credentials are secrets wherever they went.
  expect(text).not.toContain(SMTP_PASSWORD);
  expect(text).not.toContain(DEEPL_KEY);
  const parameters = eventual.filter((r) => r.type === "aws:ssm/parameter:Parameter");
  expect(
    parameters
      .filter((p) => /smtp-password|translation-api-key/.test(String(p.inputs["name"])))
      .map((p) => p.inputs["value"]),
  ).toEqual(["[secret]", "[secret]"]);
}, 120_000);

test("an Output where the stack needs a plain value is refused by its key, with the rest", async () => {
  let caught: unknown;
  await runUnderMocks(
    () => {
      const args = baseArgs();
      const web = args.fleets["web"];
      try {
        new MastodonStack("mastodon", {
          ...args,
          domain: pulumi.output("test.example") as unknown as string,
          dns: pulumi.output(args.dns) as unknown as MastodonStackArgs["dns"],
          fleets: { ...args.fleets, web: { ...web!, maxSize: pulumi.output(2) as unknown as number } },
          database: { instanceClass: "db.t4g.tiny" },
        });
      } catch (e) {
        caught = e;
      }
      return {};
    },
    { project: "other-language", stack: "staging", config: {} },
  );
  expect(caught).toBeInstanceOf(ConfigError);
  const problems = (caught as ConfigError).problems;
  const byKey = (key: string) => problems.find((p) => p.key === key)?.message ?? "";
  expect(byKey("mastodon:domain")).toMatch(
    /^is an Output .* pass a plain value\. Only mastodon:dns\.zoneId, /,
  );
  expect(byKey("mastodon:fleets.web.maxSize")).toMatch(/^is an Output /);
  expect(byKey("mastodon:dns")).toMatch(/pass a plain value, an object whose zoneId may be an Output/);
  // Reported with the other problems of the same pass.
  expect(byKey("mastodon:database.instanceClass")).toMatch(/is not a known RDS class/);
});

/**
 * The message a refused value rejects its Output with, every promise behind the Output settled (the
 * Pulumi runtime reports such a rejection as the program's error: the RunError's message alone).
 */
async function refusalOf(output: pulumi.Output<string>): Promise<string> {
  const o = output as unknown as { isKnown: Promise<boolean>; isSecret: Promise<boolean> };
  const [value] = await Promise.allSettled([promiseOf(output), o.isKnown, o.isSecret]);
  if (value?.status !== "rejected") throw new Error("the value was not refused");
  return (value.reason as Error).message;
}

test("a resolved value its leaf refuses fails with the key and the leaf's own message, never the value", async () => {
  expect(await refusalOf(checkedInput(["dns", "zoneId"], pulumi.output("zone-1")))).toMatch(
    /^mastodon:dns\.zoneId must be a Route 53 hosted zone ID/,
  );
  expect(
    await refusalOf(checkedInput(["media", "certificateArn"], Promise.resolve(WEB_CERTIFICATE))),
  ).toMatch(/^mastodon:media\.certificateArn must be an ACM certificate ARN in us-east-1/);
  const password = 'it\'s "quoted"';
  const message = await refusalOf(checkedInput(["mail", "smtp", "password"], pulumi.secret(password)));
  expect(message).toMatch(/^mastodon:mail\.smtp\.password cannot be written into \.env\.production/);
  expect(message).not.toContain(password);
});

test("each stand-in passes its leaf's check, and args with no Output are validated as given", async () => {
  for (const leaf of INPUT_LEAVES)
    await expect(promiseOf(checkedInput(leaf.path, leaf.standIn))).resolves.toBe(leaf.standIn);
  const args = baseArgs() as unknown as Record<string, unknown>;
  expect(splitInputs(args)).toEqual({ plain: args, deferred: [], problems: [] });
  expect(splitInputs(args).plain).toBe(args);
});
