/**
 * A stack given an existing instance's secrets (mastodon:existingSecrets): under `pulumi up` (the
 * values decrypted, the key a secret), in the offline plan (the values encrypted, `secure:`), and
 * from another language (the values Outputs). SSM holds exactly the old instance's values under the
 * parameters the hosts already read, no random resource makes them, the hosts' env carries the old
 * VAPID public key, and no secret appears in any resource's input, output, warning or file.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";
import * as pulumi from "@pulumi/pulumi";
import program from "../../index";
import { readStackFile } from "../config/stackFile";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import { MastodonStack } from "../stack/mastodonStack";
import { MastodonSecrets, checked, checkedVapidPrivateKey } from "../stack/secrets";
import {
  PROJECT,
  ROOT,
  all,
  baseArgs,
  fleetEnv,
  runPlan,
  runStack,
  stateOf,
  userDataOf,
} from "../../test/helpers";
import { VAPID_MISMATCH } from "./rules";
import { vapidKeysFromPrivate } from "./vapid";

const SSM = "aws:ssm/parameter:Parameter";
const PASSWORD = "random:index/randomPassword:RandomPassword";
const BYTES = "random:index/randomBytes:RandomBytes";

const seeded = (seed: string) => createHash("sha512").update(seed).digest();
/** The old instance's .env.production, as `rails secret`, `rails db:encryption:init` and the webpush gem write it. */
const OLD = {
  SECRET_KEY_BASE: seeded("old secret-key-base").toString("hex"),
  ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY: seeded("old deterministic").toString("hex").slice(0, 32),
  ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT: seeded("old salt").toString("hex").slice(0, 32),
  ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY: seeded("old primary").toString("hex").slice(0, 32),
  ...(() => {
    const pair = vapidKeysFromPrivate(seeded("old vapid").subarray(0, 32).toString("base64"));
    return { VAPID_PRIVATE_KEY: pair.privateKey, VAPID_PUBLIC_KEY: pair.publicKey };
  })(),
};
const SECRET_VALUES = Object.entries(OLD)
  .filter(([env]) => env !== "VAPID_PUBLIC_KEY")
  .map(([, value]) => value);

/** mastodon:existingSecrets as the operator sets it; `wrap` makes each secret what the caller passes. */
function slice<T>(wrap: (value: string) => T) {
  return {
    secretKeyBase: wrap(OLD.SECRET_KEY_BASE),
    activeRecordEncryption: {
      deterministicKey: wrap(OLD.ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY),
      keyDerivationSalt: wrap(OLD.ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT),
      primaryKey: wrap(OLD.ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY),
    },
    vapid: { privateKey: wrap(OLD.VAPID_PRIVATE_KEY), publicKey: OLD.VAPID_PUBLIC_KEY },
  };
}

/** The env name -> parameter slug of each secret the stack keeps (src/stack/secrets.ts). */
const SLUGS: Record<string, string> = {
  SECRET_KEY_BASE: "secret-key-base",
  ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY: "ar-deterministic-key",
  ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT: "ar-key-derivation-salt",
  ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY: "ar-primary-key",
  VAPID_PRIVATE_KEY: "vapid-private-key",
};

/** The value SSM holds for a parameter, as the fake cloud stored it (inputs record only "[secret]"). */
function stored(run: MockRun, name: string): string {
  const value = stateOf(run, SSM, name)["value"] as unknown;
  return typeof value === "object" && value !== null
    ? String((value as { value: unknown }).value)
    : String(value);
}

/** Everything a run shows: inputs, outputs, warnings, and the hosts' decoded user-data. */
const shown = (run: MockRun, fleets: readonly string[]) =>
  JSON.stringify([run.resources, run.outputs, run.warnings ?? []]) +
  fleets.map((f) => userDataOf(run, f)).join("\n");

describe("under pulumi up: the values decrypted, mastodon:existingSecrets a secret key", () => {
  let run: MockRun;
  let generated: MockRun;
  beforeAll(async () => {
    const file = readStackFile(path.join(ROOT, "stacks"), "small");
    const config = { ...file.config, "mastodon:existingSecrets": JSON.stringify(slice((v) => v)) };
    // Pulumi marks the whole top-level key a secret when a leaf of it is one.
    const secretKeys = [...file.secretKeys, "mastodon:existingSecrets"];
    run = await runUnderMocks(program, { project: PROJECT, stack: "small", config, secretKeys });
    generated = await runStack("small");
  }, 120_000);

  test("each SSM parameter holds exactly the old instance's value, as a SecureString and a secret input", () => {
    for (const [env, slug] of Object.entries(SLUGS)) {
      const name = `mastodon-secrets-${slug}`;
      const parameter = all(run, SSM).find((p) => p.name === name);
      expect({ env, inputs: parameter?.inputs }).toEqual({
        env,
        inputs: expect.objectContaining({
          name: `/mastodon/${PROJECT}/small/mastodon/${slug}`,
          type: "SecureString",
          // The recorder writes "[secret]" for a secret input: the value is one in the state.
          value: "[secret]",
          description: `Mastodon ${env}`,
        }),
      });
      expect({ env, value: stored(run, name) }).toEqual({ env, value: OLD[env as keyof typeof OLD] });
    }
  });

  test("no random resource makes them, and every parameter is where the generated one was", () => {
    const names = (r: MockRun, type: string) => all(r, type).map((p) => p.name);
    expect(names(run, PASSWORD).filter((n) => n.startsWith("mastodon-secrets-"))).toEqual([]);
    expect(names(run, BYTES)).toEqual([]);
    // The generated stack's are there, and nothing else changed in what the hosts read.
    expect(names(generated, PASSWORD).filter((n) => n.startsWith("mastodon-secrets-"))).toHaveLength(4);
    const parameters = (r: MockRun) => all(r, SSM).map((p) => p.inputs["name"]);
    expect(parameters(run).sort()).toEqual(parameters(generated).sort());
  });

  test("the hosts' env carries the old VAPID public key, and every secret as its SSM placeholder", () => {
    const env = fleetEnv(run, "all");
    expect(env["VAPID_PUBLIC_KEY"]).toBe(OLD.VAPID_PUBLIC_KEY);
    for (const [name, slug] of Object.entries(SLUGS))
      expect(env[name]).toBe(`{{ssm:/mastodon/${PROJECT}/small/mastodon/${slug}}}`);
  });

  test("no secret value anywhere: inputs, outputs, warnings, user-data", () => {
    const everything = shown(run, ["all"]);
    for (const secret of SECRET_VALUES) expect(everything).not.toContain(secret);
  });
});

test("in plain text (not a secret key), the program stops before any resource, showing none of them", async () => {
  const file = readStackFile(path.join(ROOT, "stacks"), "small");
  const config = { ...file.config, "mastodon:existingSecrets": JSON.stringify(slice((v) => v)) };
  const caught = await runUnderMocks(program, {
    project: PROJECT,
    stack: "small",
    config,
    secretKeys: file.secretKeys,
  }).catch((e: Error) => e);
  expect(caught).toBeInstanceOf(Error);
  const message = (caught as Error).message;
  expect(message).toContain(
    'mastodon:existingSecrets.secretKeyBase: "[hidden]" is in plain text in the stack file',
  );
  for (const secret of SECRET_VALUES) expect(message).not.toContain(secret);
});

describe("the offline plan: the secrets encrypted in the stack file, which it cannot decrypt", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-existing-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  const stacksDir = path.join(dir, "stacks");
  const out = path.join(dir, "out");
  /** `pulumi config set --secret --path` writes a ciphertext; the plan sees only that it is one. */
  const secure = (env: string) => ({
    secure: `v1:${Buffer.from(`ciphertext of ${env}`).toString("base64")}`,
  });
  let result: ReturnType<typeof runPlan>;
  beforeAll(() => {
    fs.mkdirSync(stacksDir);
    const small = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.small.yaml"), "utf8");
    const block = [
      "  mastodon:existingSecrets:",
      `    secretKeyBase: { secure: ${secure("SECRET_KEY_BASE").secure} }`,
      "    activeRecordEncryption:",
      `      deterministicKey: { secure: ${secure("DETERMINISTIC").secure} }`,
      `      keyDerivationSalt: { secure: ${secure("SALT").secure} }`,
      `      primaryKey: { secure: ${secure("PRIMARY").secure} }`,
      "    vapid:",
      `      privateKey: { secure: ${secure("VAPID").secure} }`,
      `      publicKey: ${OLD.VAPID_PUBLIC_KEY}`,
      "",
    ].join("\n");
    fs.writeFileSync(path.join(stacksDir, "Pulumi.moved.yaml"), `${small}${block}`);
    result = runPlan(["--stack", "moved", "--stacks-dir", stacksDir, "--out", out]);
  }, 120_000);

  test("it plans, and says which values it could check only for presence", () => {
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    expect(result.stdout).toContain(
      "mastodon:existingSecrets: holds secretKeyBase, activeRecordEncryption.deterministicKey, activeRecordEncryption.keyDerivationSalt, activeRecordEncryption.primaryKey, vapid.privateKey encrypted (secure:), which the offline plan cannot decrypt",
    );
  });

  test("the parameters are there as secrets, no random resource makes them, the env has the old public key", () => {
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8")) as {
      type: string;
      name: string;
      inputs: Record<string, unknown>;
    }[];
    for (const slug of Object.values(SLUGS)) {
      const parameter = resources.find((r) => r.type === SSM && r.name === `mastodon-secrets-${slug}`);
      expect(parameter?.inputs).toMatchObject({ type: "SecureString", value: "[secret]" });
    }
    expect(resources.filter((r) => r.type === PASSWORD && r.name.startsWith("mastodon-secrets-"))).toEqual(
      [],
    );
    expect(resources.filter((r) => r.type === BYTES)).toEqual([]);
    const envFile = fs.readFileSync(path.join(out, "fleets", "all", "files", ".env.production"), "utf8");
    expect(envFile).toContain(`\nVAPID_PUBLIC_KEY=${OLD.VAPID_PUBLIC_KEY}\n`);
  });

  test("no ciphertext in any file it wrote, or in what it printed", () => {
    const files = fs.readdirSync(out, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
    expect(files.length).toBeGreaterThan(5);
    const texts = [
      result.stdout,
      ...files.map((f) => fs.readFileSync(path.join(f.parentPath, f.name), "utf8")),
    ];
    for (const text of texts) expect(text).not.toContain("v1:");
  });
});

describe("from another language: the secrets given as Outputs", () => {
  const OPTS = { project: "other-language", stack: "staging", config: { "aws:region": "us-east-1" } };

  test("MastodonStack takes them as secret Outputs and stores exactly their values", async () => {
    const run = await runUnderMocks(() => {
      new MastodonStack("mastodon", { ...baseArgs(), existingSecrets: slice((v) => pulumi.secret(v)) });
      return {};
    }, OPTS);
    for (const [env, slug] of Object.entries(SLUGS))
      expect({ env, value: stored(run, `mastodon-secrets-${slug}`) }).toEqual({
        env,
        value: OLD[env as keyof typeof OLD],
      });
    expect(all(run, BYTES)).toEqual([]);
    const everything = JSON.stringify([run.resources, run.outputs, run.warnings ?? []]);
    for (const secret of SECRET_VALUES) expect(everything).not.toContain(secret);
  });

  /**
   * The message a refused value rejects its Output with, every promise behind the Output settled (the
   * Pulumi runtime reports such a rejection as the program's error: the RunError's message alone).
   */
  async function refusalOf(output: pulumi.Output<string>): Promise<string> {
    const o = output as unknown as {
      promise(): Promise<string>;
      isKnown: Promise<boolean>;
      isSecret: Promise<boolean>;
    };
    const [value] = await Promise.allSettled([o.promise(), o.isKnown, o.isSecret]);
    if (value?.status !== "rejected") throw new Error("the value was not refused");
    return (value.reason as Error).message;
  }

  test("a private key whose public key is another fails the deployment by key once it resolves, never showing it", async () => {
    const other = vapidKeysFromPrivate(seeded("another vapid").subarray(0, 32).toString("base64"));
    const message = await refusalOf(
      checkedVapidPrivateKey(pulumi.secret(other.privateKey), OLD.VAPID_PUBLIC_KEY),
    );
    expect(message).toBe(`mastodon:existingSecrets.vapid.publicKey ${VAPID_MISMATCH}`);
    expect(message).not.toContain(other.privateKey);
    // Its own pair passes, unchanged.
    const own = checkedVapidPrivateKey(pulumi.secret(OLD.VAPID_PRIVATE_KEY), OLD.VAPID_PUBLIC_KEY);
    await expect((own as unknown as { promise(): Promise<string> }).promise()).resolves.toBe(
      OLD.VAPID_PRIVATE_KEY,
    );
  });

  test("a malformed value fails by key once it resolves, never showing it", async () => {
    const quoted = `'${OLD.SECRET_KEY_BASE}'`;
    const message = await refusalOf(
      checked(["existingSecrets", "secretKeyBase"], "SECRET_KEY_BASE", pulumi.secret(quoted)),
    );
    expect(message).toMatch(/^mastodon:existingSecrets\.secretKeyBase is wrapped in quotes/);
    expect(message).not.toContain(OLD.SECRET_KEY_BASE);
  });

  test("MastodonSecrets alone refuses half a set before it registers anything", async () => {
    let caught: unknown;
    const run = await runUnderMocks(() => {
      try {
        new MastodonSecrets("m-secrets", {
          parameterPrefix: "/m/p/s/m",
          existing: { activeRecordEncryption: { primaryKey: OLD.ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY } },
        });
      } catch (e) {
        caught = e;
      }
      return {};
    }, OPTS);
    expect((caught as Error).message).toContain(
      "mastodon:existingSecrets.activeRecordEncryption.deterministicKey: is missing while primaryKey is given",
    );
    expect((caught as Error).message).not.toContain(OLD.ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY);
    expect(run.resources).toEqual([]);
  });
});
