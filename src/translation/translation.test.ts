/**
 * Translation: DeepL or LibreTranslate refused by key with the fix, their env on the hosts, and
 * DeepL's key as an SSM secret in the showcase fixture stack (beside search on two zones); then the
 * component on its own, each provider and each optional arg.
 */
import * as pulumi from "@pulumi/pulumi";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import { Translation, type TranslationArgs } from "./translation";
import {
  all,
  configProblems,
  find,
  fleetEnv,
  keysAndMessages,
  runFixtureStack,
  runStack,
  stateOf,
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

describe("Translation on its own", () => {
  const OPTIONS = { project: "p", stack: "s", config: { "aws:region": "eu-west-1" } };
  const SSM = "aws:ssm/parameter:Parameter";
  const KEY = "0123abcd-4567-89ef-0123-456789abcdef:fx";
  /**
   * A refused program leaves the component's own registration in flight: let it land before
   * rethrowing, so nothing of this run is still pending when the test file ends.
   */
  const settled = async (error: unknown): Promise<never> => {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    throw error;
  };
  /** WHEN: a program that builds this one Translation runs under the mocks. */
  const alone = async (args: TranslationArgs, name = "translation") => {
    let translation: Translation | undefined;
    const run = await runUnderMocks(() => {
      translation = new Translation(name, args);
      return {};
    }, OPTIONS).catch(settled);
    return { run, translation: translation as Translation };
  };
  /** What the SSM parameter was given, unwrapped from Pulumi's secret wire form (the recorded inputs say "[secret]"). */
  const storedValue = (run: MockRun, logical: string) => {
    const value = stateOf(run, SSM, logical)["value"];
    return value?.["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270"
      ? value.value
      : value;
  };

  test("GIVEN DeepL and its key, THEN the key is stored as a SecureString under the prefix, and the env holds only its placeholder and the free plan", async () => {
    const { run, translation } = await alone({
      provider: "deepl",
      apiKey: KEY,
      parameterPrefix: "/m/social",
    });
    expect(all(run, SSM)).toHaveLength(1);
    expect(find(run, SSM, "translation-api-key").inputs).toEqual({
      name: "/m/social/translation-api-key",
      type: "SecureString",
      value: "[secret]",
      description: "Mastodon DEEPL_API_KEY",
    });
    expect(storedValue(run, "translation-api-key")).toBe(KEY);
    expect(translation.env).toEqual({
      DEEPL_API_KEY: "{{ssm:/m/social/translation-api-key}}",
      DEEPL_PLAN: "free",
    });
    expect(translation.apiKeyParameterName).toBe("/m/social/translation-api-key");
  });

  test("GIVEN DeepL's pro plan and a key already secret, THEN DEEPL_PLAN is pro and the key is still stored, never in the env", async () => {
    const { run, translation } = await alone({
      provider: "deepl",
      apiKey: pulumi.secret(KEY),
      deeplPlan: "pro",
      parameterPrefix: "/m/social",
    });
    expect(translation.env["DEEPL_PLAN"]).toBe("pro");
    expect(storedValue(run, "translation-api-key")).toBe(KEY);
    expect(JSON.stringify(translation.env)).not.toContain(KEY);
  });

  test("GIVEN LibreTranslate with its endpoint and no key, THEN nothing is declared and the env names the endpoint alone", async () => {
    const { run, translation } = await alone({
      provider: "libretranslate",
      endpoint: "https://translate.example.org",
      parameterPrefix: "/m/social",
    });
    expect(run.resources.filter((r) => r.custom)).toEqual([]);
    expect(translation.env).toEqual({ LIBRE_TRANSLATE_ENDPOINT: "https://translate.example.org" });
    expect(translation.apiKeyParameterName).toBeUndefined();
  });

  test("GIVEN LibreTranslate with a key, THEN the key is stored as a SecureString and the env holds its placeholder as LIBRE_TRANSLATE_API_KEY", async () => {
    const { run, translation } = await alone({
      provider: "libretranslate",
      endpoint: "https://translate.example.org",
      apiKey: KEY,
      parameterPrefix: "/m/social",
    });
    expect(find(run, SSM, "translation-api-key").inputs).toMatchObject({
      name: "/m/social/translation-api-key",
      type: "SecureString",
      description: "Mastodon LIBRE_TRANSLATE_API_KEY",
    });
    expect(storedValue(run, "translation-api-key")).toBe(KEY);
    expect(translation.env).toEqual({
      LIBRE_TRANSLATE_ENDPOINT: "https://translate.example.org",
      LIBRE_TRANSLATE_API_KEY: "{{ssm:/m/social/translation-api-key}}",
    });
  });

  test("GIVEN two instances with their own prefixes, THEN their parameters' logical names and SSM names differ", async () => {
    const run = await runUnderMocks(() => {
      for (const n of ["blue", "green"])
        new Translation(`${n}-translation`, { provider: "deepl", apiKey: KEY, parameterPrefix: `/m/${n}` });
      return {};
    }, OPTIONS);
    expect(all(run, SSM).map((p) => [p.name, p.inputs["name"]])).toEqual([
      ["blue-translation-api-key", "/m/blue/translation-api-key"],
      ["green-translation-api-key", "/m/green/translation-api-key"],
    ]);
  });

  test("GIVEN DeepL without a key, or LibreTranslate without its endpoint, THEN it refuses", async () => {
    await expect(alone({ provider: "deepl", parameterPrefix: "/m/social" })).rejects.toThrow(
      "translation: DeepL needs an API key",
    );
    await expect(
      alone({ provider: "libretranslate", apiKey: KEY, parameterPrefix: "/m/social" }),
    ).rejects.toThrow("translation: LibreTranslate needs its endpoint");
  });
});
