/**
 * The stack's secrets under Pulumi's mocks: SSM SecureStrings under the stack's path, never in
 * clear in any resource's input.
 */
import { createECDH } from "crypto";
import { parseStackConfig } from "../config";
import { MastodonSecrets } from "./secrets";
import { FAKE_ACCESS_KEY_ID, fakeSecret } from "../testing/fakeCloud";
import { runUnderMocks } from "../testing/mocks";
import { STACKS, all, find, resolve, runStack, stackConfig, stateOf } from "../../test/helpers";

const SSM = "aws:ssm/parameter:Parameter";

describe.each(STACKS)("stack %s", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack), stack);
  let run: Awaited<ReturnType<typeof runStack>>;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("secrets are SSM SecureStrings under the stack's path, and never in clear in any input", () => {
    const params = all(run, SSM);
    expect(params.map((p) => p.inputs["name"]).sort()).toEqual(
      [
        "ar-deterministic-key",
        "ar-key-derivation-salt",
        "ar-primary-key",
        "db-password",
        "redis-cache-password",
        "redis-persistent-password",
        // The search domain's master's and Mastodon's own user's.
        ...(config.search ? ["search-app-password", "search-password"] : []),
        "secret-key-base",
        "smtp-login",
        "smtp-password",
        "vapid-private-key",
      ]
        .map((slug) => `/mastodon/mastodon-aws/${stack}/mastodon/${slug}`)
        // The RDS master's, beside the stack's path: no fleet but the scheduler's reads it.
        .concat(`/mastodon/mastodon-aws/${stack}/mastodon-admin/db-admin-password`)
        .sort(),
    );
    for (const p of params) expect(p.inputs).toMatchObject({ type: "SecureString", value: "[secret]" });
    const generated = [
      fakeSecret("mastodon-db-master-password", 40),
      fakeSecret("mastodon-db-admin-password", 40),
      fakeSecret("mastodon-cache-auth", 64),
      fakeSecret("mastodon-persistent-auth", 64),
      fakeSecret("mastodon-secrets-secret-key-base", 128),
      fakeSecret("mastodon-secrets-ar-primary-key", 32),
    ];
    if (config.mail.provider === "ses") generated.push(fakeSecret("mastodon-mail-smtp-smtp", 44));
    // The search domain's master password: in its parameter and the domain's input, as "[secret]" only.
    if (config.search) generated.push(fakeSecret("mastodon-search-master-password", 32));
    if (config.search) generated.push(fakeSecret("mastodon-search-app-password", 32));
    const everything = JSON.stringify(run.resources);
    for (const secret of generated) expect(everything).not.toContain(secret);
    // The SMTP login (the access key's id) reaches the hosts through its parameter only.
    if (config.mail.provider === "ses") {
      // Its id is the key ID: recorded only as "[secret]".
      expect(find(run, "aws:iam/accessKey:AccessKey", "mastodon-mail-smtp").id).toBe("[secret]");
      expect(everything).not.toContain(FAKE_ACCESS_KEY_ID);
    }
  });
});

describe("MastodonSecrets on its own", () => {
  const OPTS = { project: "p", stack: "s", config: { "aws:region": "us-east-1" } };
  const PASSWORD = "random:index/randomPassword:RandomPassword";
  const BYTES = "random:index/randomBytes:RandomBytes";

  /** WHEN: a program that builds one MastodonSecrets from a parameter prefix, and nothing else, runs under mocks. */
  async function declare(parameterPrefix = "/m/p/s/m", name = "m-secrets") {
    let secrets: MastodonSecrets | undefined;
    const run = await runUnderMocks(() => {
      secrets = new MastodonSecrets(name, { parameterPrefix });
      return { vapidPublicKey: secrets.vapidPublicKey };
    }, OPTS);
    return { run, secrets: secrets! };
  }

  /** The value SSM holds for a parameter, as the fake cloud stored it (inputs record only "[secret]"). */
  const storedValue = (run: Awaited<ReturnType<typeof declare>>["run"], name: string): string => {
    const value = stateOf(run, SSM, name)["value"] as unknown;
    return typeof value === "object" && value !== null
      ? String((value as { value: unknown }).value)
      : String(value);
  };

  test("GIVEN a parameter prefix WHEN it runs THEN Rails' four keys are generated alphanumeric at the lengths Rails' own generators give, the VAPID key from 32 random bytes, and nothing else", async () => {
    const { run } = await declare();
    expect(find(run, "mastodon:index:MastodonSecrets").name).toBe("m-secrets");
    expect(Object.fromEntries(all(run, PASSWORD).map((p) => [p.name, p.inputs]))).toEqual({
      // `rails secret`: 128 characters; `rails db:encryption:init`: 32 each.
      "m-secrets-secret-key-base": { length: 128, special: false },
      "m-secrets-ar-deterministic-key": { length: 32, special: false },
      "m-secrets-ar-key-derivation-salt": { length: 32, special: false },
      "m-secrets-ar-primary-key": { length: 32, special: false },
    });
    expect(find(run, BYTES, "m-secrets-vapid").inputs).toEqual({ length: 32 });
    expect(
      run.resources
        .filter((r) => r.custom)
        .map((r) => r.type)
        .sort(),
    ).toEqual([...Array(4).fill(PASSWORD), BYTES, ...Array(5).fill(SSM)].sort());
  });

  test("GIVEN a parameter prefix WHEN it runs THEN each secret is an SSM SecureString under it, and `parameters` maps every env name the hosts fill to its parameter; the public key is not among them", async () => {
    const { run, secrets } = await declare();
    expect(secrets.parameters).toEqual({
      SECRET_KEY_BASE: "/m/p/s/m/secret-key-base",
      ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY: "/m/p/s/m/ar-deterministic-key",
      ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT: "/m/p/s/m/ar-key-derivation-salt",
      ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY: "/m/p/s/m/ar-primary-key",
      VAPID_PRIVATE_KEY: "/m/p/s/m/vapid-private-key",
    });
    // Every name the hosts are given is a parameter the component declared, as a SecureString.
    const declared = all(run, SSM);
    expect(declared.map((p) => p.inputs["name"]).sort()).toEqual(Object.values(secrets.parameters).sort());
    for (const p of declared) {
      expect(p.parent).toBe("m-secrets");
      expect(p.inputs).toMatchObject({ type: "SecureString", value: "[secret]" });
    }
    for (const [env, parameter] of Object.entries(secrets.parameters))
      expect(declared.find((p) => p.inputs["name"] === parameter)?.inputs["description"]).toBe(
        `Mastodon ${env}`,
      );
  });

  test("GIVEN a parameter prefix WHEN it runs THEN no generated value appears in clear in any resource's input", async () => {
    const { run } = await declare();
    const everything = JSON.stringify(run.resources);
    for (const [slug, length] of [
      ["secret-key-base", 128],
      ["ar-deterministic-key", 32],
      ["ar-key-derivation-salt", 32],
      ["ar-primary-key", 32],
    ] as const) {
      const value = fakeSecret(`m-secrets-${slug}`, length);
      // SSM holds it (the fake cloud's record of the stored value)...
      expect(storedValue(run, `m-secrets-${slug}`)).toBe(value);
      // ...and no recorded input does.
      expect(everything).not.toContain(value);
    }
    expect(everything).not.toContain(storedValue(run, "m-secrets-vapid-private-key"));
  });

  test("GIVEN a parameter prefix WHEN it runs THEN the public VAPID key is an output in clear, an uncompressed P-256 point that pairs with the private key SSM holds, both urlsafe base64 as the webpush gem reads them", async () => {
    const { run, secrets } = await declare();
    // Not a secret: browsers receive it.
    const publicKey = await resolve(secrets.vapidPublicKey);
    expect(run.outputs["vapidPublicKey"]).toBe(publicKey);
    const privateKey = storedValue(run, "m-secrets-vapid-private-key");
    for (const key of [publicKey, privateKey]) expect(key).toMatch(/^[A-Za-z0-9_-]+=*$/);
    const publicBytes = Buffer.from(publicKey, "base64url");
    const privateBytes = Buffer.from(privateKey, "base64url");
    expect(publicBytes).toHaveLength(65);
    expect(publicBytes[0]).toBe(0x04);
    expect(privateBytes).toHaveLength(32);
    // A push service's key agreement: a stranger's secret with the public key equals the private key's with the stranger's.
    const vapid = createECDH("prime256v1");
    vapid.setPrivateKey(privateBytes);
    const stranger = createECDH("prime256v1");
    stranger.generateKeys();
    expect(vapid.computeSecret(stranger.getPublicKey()).equals(stranger.computeSecret(publicBytes))).toBe(
      true,
    );
  });

  test("GIVEN two, blue and green, each with its own prefix, in one program WHEN it runs THEN no (type, name) repeats, every resource is named after its own component, and each one's parameters live under its own prefix", async () => {
    let blue: MastodonSecrets | undefined;
    let green: MastodonSecrets | undefined;
    const run = await runUnderMocks(() => {
      blue = new MastodonSecrets("blue-secrets", { parameterPrefix: "/m/blue" });
      green = new MastodonSecrets("green-secrets", { parameterPrefix: "/m/green" });
      return {};
    }, OPTS);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    for (const name of ["blue-secrets", "green-secrets"])
      for (const r of run.resources.filter((x) => x.parent === name))
        expect(r.name.startsWith(`${name}-`)).toBe(true);
    for (const p of Object.values(blue!.parameters)) expect(p.startsWith("/m/blue/")).toBe(true);
    for (const p of Object.values(green!.parameters)) expect(p.startsWith("/m/green/")).toBe(true);
    expect(all(run, SSM)).toHaveLength(10);
  });
});
