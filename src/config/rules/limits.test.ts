/**
 * Config AWS would reject is refused before anything is declared, by its key, all in one pass:
 * shape and cross-field problems together, names that would collide, the storage ceiling, the
 * region, and secrets where the package needs plain values (and the other way round).
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { ConfigError, type Problem, namespaceConfig, parseStackConfig } from "..";
import { runUnderMocks } from "../../testing/mocks";
import { planStack } from "../../cli/plan";
import program from "../../../index";
import { baseConfig, configProblems, stackConfig, withConfig } from "../../../test/helpers";

const errorKeys = (problems: readonly Problem[]) =>
  problems
    .filter((p) => p.severity === "error")
    .map((p) => p.key)
    .sort();

describe("one pass: shape and cross-field problems together", () => {
  test("a shape error no longer hides the cross-field rules", () => {
    const problems = configProblems(
      withConfig((c) => {
        c.environment = "prod"; // shape
        c.fleets.web.spot = true; // cross-field: spot on web
        c.database.storageGiB = 500; // cross-field with the next line
        c.database.maxStorageGiB = 500;
      }),
    );
    expect(errorKeys(problems)).toEqual([
      "mastodon:database.maxStorageGiB",
      "mastodon:environment",
      "mastodon:fleets.web.spot",
    ]);
  });

  test("a malformed fleet is reported, and the rules run on the rest without reporting its consequences", () => {
    const problems = configProblems(
      withConfig((c) => {
        c.fleets.web.instanceType = "t3.large"; // the only web fleet: "no fleet runs web" would follow
        c.fleets.streaming.spot = true; // a real second problem
      }),
    );
    expect(errorKeys(problems)).toEqual([
      "mastodon:fleets.streaming.spot",
      "mastodon:fleets.web.instanceType",
    ]);
  });
});

describe("names and limits AWS enforces", () => {
  test.each([
    ["webDomain", (c: any) => (c.media = { customDomain: "test.example" })],
    [
      "webDomain",
      (c: any) => (
        (c.webDomain = "social.test.example"),
        (c.media = { customDomain: "social.test.example" })
      ),
    ],
  ])("the media domain equal to %s is refused by its key, not by a URN clash", (_what, mutate) => {
    const problem = configProblems(withConfig(mutate)).find((p) => p.key === "mastodon:media.customDomain");
    expect(problem?.message).toContain("one name holds one alias record");
    expect(problem?.message).toContain("files.test.example");
  });

  test("a storage ceiling less than 10% above the allocated storage is refused with the least RDS takes", () => {
    const problem = configProblems(
      withConfig((c) => {
        c.database.storageGiB = 1000;
        c.database.maxStorageGiB = 1099;
      }),
    ).find((p) => p.key === "mastodon:database.maxStorageGiB");
    expect(problem?.value).toBe(1099);
    expect(problem?.message).toMatch(/^is below 1100: RDS refuses/);
    expect(
      configProblems(withConfig((c) => ((c.database.storageGiB = 1000), (c.database.maxStorageGiB = 1100)))),
    ).toEqual([]);
  });

  test("the default ceiling always satisfies RDS's rule (the old default was the storage itself)", () => {
    for (const storageGiB of [20, 150, 200, 500, 4000]) {
      const { config } = parseStackConfig(withConfig((c) => (c.database.storageGiB = storageGiB)));
      expect(config.database.maxStorageGiB).toBeGreaterThanOrEqual(Math.ceil(storageGiB * 1.1));
    }
  });

  test.each([
    ["us-east-7", "is not an AWS Region"],
    ["cn-north-1", "the China Regions (aws-cn) are not supported"],
    ["us-gov-west-1", "GovCloud (aws-us-gov) is not supported"],
    [undefined, "is required"],
  ])("aws:region %s is refused by its key", (region, fragment) => {
    const problem = configProblems(baseConfig() as Record<string, unknown>, { region }).find(
      (p) => p.key === "aws:region",
    );
    expect(problem?.message).toContain(fragment);
  });

  test("a Region of the aws partition passes", () => {
    expect(configProblems(baseConfig() as Record<string, unknown>, { region: "eu-central-1" })).toEqual([]);
  });
});

describe("secrets", () => {
  const smtp = (c: any) => {
    c.mail = { provider: "smtp", smtp: { server: "smtp.example.org", login: "mastodon", password: "pa#ss" } };
  };

  test("a secret where a plain value is required is refused by its key, never showing the value", () => {
    const problems = configProblems(withConfig(smtp), {
      secretPaths: [["domain"], ["database", "instanceClass"], ["mail", "smtp", "password"]],
    });
    expect(errorKeys(problems)).toEqual(["mastodon:database.instanceClass", "mastodon:domain"]);
    for (const p of problems) expect(p.value).toBe("[secret]");
    expect(problems[0]?.message).toContain("Set it without --secret");
  });

  test("a whole secret mastodon:mail (Pulumi marks top-level keys) is fine", () => {
    expect(configProblems(withConfig(smtp), { secretPaths: [["mail"]] })).toEqual([]);
  });

  test("an SMTP password kept in plain text in the stack file is refused, without showing it", () => {
    const problem = configProblems(withConfig(smtp), { secretPaths: [] }).find(
      (p) => p.key === "mastodon:mail.smtp.password",
    );
    expect(problem?.message).toContain("pulumi config set --secret");
    expect(JSON.stringify(problem)).not.toContain("pa#ss");
  });

  test("an SMTP password no dotenv quoting carries is refused at plan time, without showing it", () => {
    const problems = configProblems(
      withConfig((c) => {
        smtp(c);
        c.mail.smtp.password = `it's "$HOME"`;
      }),
    );
    const problem = problems.find((p) => p.key === "mastodon:mail.smtp.password");
    expect(problem?.message).toContain("Ruby's dotenv (Rails) and Node's dotenv (streaming)");
    expect(problem?.value).toBe("[hidden]");
  });

  test("a top-level secret value never crashes the decoding of Pulumi's config map", () => {
    // "[secret]" (the plan's stand-in) and a decrypted value starting with "[" are not JSON.
    expect(namespaceConfig({ "mastodon:domain": "[secret]", "mastodon:webDomain": "[a" })).toEqual({
      domain: "[secret]",
      webDomain: "[a",
    });
  });

  test("under the program, a secret top-level key other than mail is refused before any resource", async () => {
    const config: Record<string, string> = { "aws:region": "us-east-1" };
    for (const [k, v] of Object.entries(stackConfig("dev")))
      config[`mastodon:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    const run = runUnderMocks(program, {
      project: "mastodon-aws",
      stack: "dev",
      config,
      secretKeys: ["mastodon:database"],
    });
    await expect(run).rejects.toThrow('mastodon:database: "[secret]" is stored as a secret');
  });
});

describe("the offline plan reads secure: values anywhere", () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-limits-"));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  function writeStack(name: string, mutate: (config: Record<string, unknown>) => void) {
    const config: Record<string, unknown> = { "aws:region": "us-east-1" };
    for (const [k, v] of Object.entries(stackConfig("dev"))) config[`mastodon:${k}`] = v;
    mutate(config);
    fs.writeFileSync(path.join(dir, `Pulumi.${name}.yaml`), stringify({ config }));
  }
  const plan = (stack: string) =>
    planStack({ stack, stacksDir: dir, outDir: path.join(dir, "out", stack), program });

  test("secure: at the top level and deep inside are refused by their keys, not a crash", async () => {
    writeStack("secrets", (c) => {
      c["mastodon:domain"] = { secure: "v1:AAAA" };
      (c["mastodon:fleets"] as any).app.instanceType = { secure: "v1:BBBB" };
    });
    const error = (await plan("secrets").catch((e: unknown) => e)) as ConfigError;
    expect(error).toBeInstanceOf(ConfigError);
    expect(errorKeys(error.problems)).toEqual(["mastodon:domain", "mastodon:fleets.app.instanceType"]);
    expect(error.message).not.toContain("v1:");
  });

  test("a secure: SMTP password is accepted and stays a secret in the plan", async () => {
    writeStack("smtp", (c) => {
      c["mastodon:mail"] = {
        provider: "smtp",
        smtp: { server: "smtp.example.org", login: "mastodon", password: { secure: "v1:CCCC" } },
      };
    });
    const result = await plan("smtp");
    const parameter = result.resources.find((r) => r.name === "mastodon-mail-smtp-password");
    expect(parameter?.inputs["value"]).toBe("[secret]");
  });

  test("a bad aws:region in the stack file stops the plan before it writes anything", async () => {
    writeStack("region", (c) => (c["aws:region"] = "mars-north-1"));
    await expect(plan("region")).rejects.toThrow('aws:region: "mars-north-1" is not an AWS Region');
    expect(fs.existsSync(path.join(dir, "out", "region"))).toBe(false);
  });
});
