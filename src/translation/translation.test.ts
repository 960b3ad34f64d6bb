/**
 * Translation: DeepL or LibreTranslate refused by key with the fix, their env on the hosts, and
 * DeepL's key as an SSM secret in the showcase fixture stack (beside search on two zones).
 */
import type { MockRun } from "../testing/mocks";
import {
  configProblems,
  find,
  fleetEnv,
  keysAndMessages,
  runFixtureStack,
  runStack,
  withConfig,
} from "../../test/helpers";

const DOMAIN = "aws:opensearch/domain:Domain";

describe("translation: bad input refused by key with the fix", () => {
  test("a DeepL key in clear text in the stack file", () => {
    const config = withConfig((c) => (c.translation = { provider: "deepl", apiKey: "0123-key:fx" }));
    expect(keysAndMessages(configProblems(config, { secretPaths: [] }))).toEqual([
      {
        key: "mastodon:translation.apiKey",
        message: expect.stringContaining("pulumi config set --secret --path 'mastodon:translation.apiKey'"),
      },
    ]);
    // Kept as a secret (the leaf, or the whole top-level key as Pulumi marks it): accepted.
    expect(keysAndMessages(configProblems(config, { secretPaths: [["translation", "apiKey"]] }))).toEqual([]);
    expect(keysAndMessages(configProblems(config, { secretPaths: [["translation"]] }))).toEqual([]);
  });

  test("DeepL without its key, LibreTranslate without its endpoint or with an http one", () => {
    expect(
      keysAndMessages(configProblems(withConfig((c) => (c.translation = { provider: "deepl" })))),
    ).toEqual([
      {
        key: "mastodon:translation.apiKey",
        message: expect.stringContaining("required with translation.provider deepl"),
      },
    ]);
    expect(
      keysAndMessages(configProblems(withConfig((c) => (c.translation = { provider: "libretranslate" })))),
    ).toEqual([
      {
        key: "mastodon:translation.endpoint",
        message: expect.stringContaining("required with translation.provider libretranslate"),
      },
    ]);
    expect(
      keysAndMessages(
        configProblems(
          withConfig(
            (c) => (c.translation = { provider: "libretranslate", endpoint: "http://translate.example" }),
          ),
        ),
      ),
    ).toEqual([{ key: "mastodon:translation.endpoint", message: expect.stringContaining("https://") }]);
  });
});

describe("translation env", () => {
  test("DeepL: a key written in clear text reaches the program refused by key, before any resource", async () => {
    const run = await runStack("staging", {
      translation: { provider: "deepl", apiKey: "k", deeplPlan: "pro" },
    }).catch((e) => e);
    // The override writes the key in clear text: refused by key, before any resource.
    expect(String(run)).toContain("mastodon:translation.apiKey");
  });

  test("LibreTranslate: its endpoint, and no key when none is given", async () => {
    const run = await runStack("staging", {
      translation: { provider: "libretranslate", endpoint: "https://translate.example.org" },
    });
    const env = fleetEnv(run, "web");
    expect(env["LIBRE_TRANSLATE_ENDPOINT"]).toBe("https://translate.example.org");
    expect(env["LIBRE_TRANSLATE_API_KEY"]).toBeUndefined();
    expect(env["DEEPL_API_KEY"]).toBeUndefined();
  });
});

describe("the showcase fixture stack: DeepL, beside search on two zones", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runFixtureStack("showcase");
  });

  test("search on two zones (small_cluster) and DeepL with its key from SSM", () => {
    const inputs = find(run, DOMAIN).inputs as Record<string, any>;
    expect(inputs["clusterConfig"]).toMatchObject({
      instanceCount: 2,
      zoneAwarenessConfig: { availabilityZoneCount: 2 },
    });
    expect(inputs["vpcOptions"].subnetIds).toHaveLength(2);
    const env = fleetEnv(run, "sidekiq");
    expect(env["ES_PRESET"]).toBe("small_cluster");
    expect(env["DEEPL_API_KEY"]).toBe("{{ssm:/mastodon/mastodon-aws/showcase/mastodon/translation-api-key}}");
    expect(env["DEEPL_PLAN"]).toBe("free");
    const key = find(run, "aws:ssm/parameter:Parameter", "mastodon-translation-api-key");
    expect(key.inputs).toMatchObject({ type: "SecureString", value: "[secret]" });
  });
});
