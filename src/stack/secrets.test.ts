/**
 * The stack's secrets under Pulumi's mocks: SSM SecureStrings under the stack's path, never in
 * clear in any resource's input.
 */
import { parseStackConfig } from "../config";
import { FAKE_ACCESS_KEY_ID, fakeSecret } from "../testing/fakeCloud";
import { STACKS, all, find, runStack, stackConfig } from "../../test/helpers";

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
