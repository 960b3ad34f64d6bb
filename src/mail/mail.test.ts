/**
 * SES mail under mocks: the SMTP user's access key ID (SMTP_LOGIN) is kept like its password, an
 * SSM SecureString under the stack's path filled in at boot; no launch template, user-data or plan
 * file carries it. Then Mail on its own, SES and SMTP, branch by branch.
 */
import { FAKE_ACCESS_KEY_ID } from "../testing/fakeCloud";
import * as pulumi from "@pulumi/pulumi";
import { spawnSync } from "child_process";
import * as dotenv from "dotenv";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import program from "../../index";
import { MastodonStack } from "../stack/mastodonStack";
import { Mail, type MailArgs, SES_SANDBOX_NOTE } from "./mail";
import { RENDER_SECRETS_PY, placeholdersIn, renderManifest, ssmPlaceholder } from "../host/boot";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import type { MockRun } from "../testing/mocks";
import { runUnderMocks } from "../testing/mocks";
import { planStack } from "../cli/plan";
import { parseStackConfig } from "../config";
import { ROOT, all, decodeUserData, find, resolve, runStack, stackConfig, stateOf } from "../../test/helpers";
import { requireProgram } from "../../test/real/servers";

/** What the fake cloud returns as the id of every aws.iam.AccessKey. */
const ACCESS_KEY_ID = FAKE_ACCESS_KEY_ID;
const SSM = "aws:ssm/parameter:Parameter";
const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const LOGIN_PARAMETER = "/mastodon/mastodon-aws/production/mastodon/smtp-login";

/** The production fleets that run Rails (web or Sidekiq): a streaming-only host sends no mail. */
const RAILS_FLEETS = new Set(
  parseStackConfig(stackConfig("production"))
    .config.fleets.filter((f) => f.web || f.sidekiq)
    .map((f) => f.name),
);

const envTemplates = (run: MockRun) =>
  fleetArtifacts(run.resources)
    .filter((a) => RAILS_FLEETS.has(a.fleet))
    .map((a) => ({
      fleet: a.fleet,
      template: Object.entries(a.files).find(([p]) => p.endsWith("/env.production.template"))![1],
    }));

describe("SES (the production stack)", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack("production");
  });

  test("the login is an SSM SecureString under the stack's path, next to the password", () => {
    expect(find(run, SSM, "mastodon-mail-smtp-login").inputs).toMatchObject({
      name: LOGIN_PARAMETER,
      type: "SecureString",
      value: "[secret]",
    });
    expect(find(run, SSM, "mastodon-mail-smtp-password").inputs["name"]).toBe(
      "/mastodon/mastodon-aws/production/mastodon/smtp-password",
    );
  });

  test("no launch template, user-data or resource input holds the access key ID", () => {
    const templates = all(run, LT);
    expect(templates.length).toBeGreaterThan(1);
    for (const lt of templates) {
      expect(JSON.stringify(lt.inputs)).not.toContain(ACCESS_KEY_ID);
      expect(decodeUserData(lt)).not.toContain(ACCESS_KEY_ID);
    }
    // Where Rails runs, the login is its parameter's placeholder; a streaming-only host has none.
    for (const { template } of envTemplates(run))
      expect(template).toContain(`SMTP_LOGIN=${ssmPlaceholder(LOGIN_PARAMETER)}`);
    expect(JSON.stringify(run.resources)).not.toContain(ACCESS_KEY_ID);
    expect(JSON.stringify(run.outputs)).not.toContain(ACCESS_KEY_ID);
  });

  test("no file of the offline plan (resources.json, user-data, .env.production) holds it", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-mail-plan-"));
    try {
      const result = await planStack({
        stack: "production",
        stacksDir: path.join(ROOT, "stacks"),
        outDir: out,
        program,
      });
      expect(result.files).toContain(path.join(out, "resources.json"));
      expect(result.files.some((f) => f.endsWith("/.env.production"))).toBe(true);
      for (const file of result.files) expect(fs.readFileSync(file, "utf8")).not.toContain(ACCESS_KEY_ID);
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });

  test("every fleet running Rails has the login's placeholder in its env, and the boot renderer fills in the key ID", () => {
    const python = requireProgram("/usr/bin/python3");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-mail-boot-"));
    try {
      const renderer = path.join(dir, "mastodon-render-secrets");
      fs.writeFileSync(renderer, RENDER_SECRETS_PY, { mode: 0o755 });
      const owner = `${os.userInfo().username}:${spawnSync("id", ["-gn"], { encoding: "utf8" }).stdout.trim()}`;
      for (const { fleet, template } of envTemplates(run)) {
        expect(placeholdersIn(template)).toContain(LOGIN_PARAMETER);
        const templateFile = path.join(dir, `${fleet}.template`);
        const target = path.join(dir, `${fleet}.env.production`);
        fs.writeFileSync(templateFile, template);
        const parameters = path.join(dir, `${fleet}.parameters.json`);
        fs.writeFileSync(
          parameters,
          JSON.stringify({
            Parameters: placeholdersIn(template).map((Name) => ({
              Name,
              Value: Name === LOGIN_PARAMETER ? ACCESS_KEY_ID : "s3cr3t",
            })),
          }),
        );
        const manifest = path.join(dir, `${fleet}.manifest.json`);
        fs.writeFileSync(
          manifest,
          renderManifest("/mastodon/mastodon-aws/production/mastodon", "us-east-1", [
            { template: templateFile, target, mode: "0600", owner },
          ]),
        );
        const r = spawnSync(python, [renderer, manifest, "--parameters", parameters], { encoding: "utf8" });
        expect(r.stderr).toBe("");
        expect(dotenv.parse(fs.readFileSync(target, "utf8"))["SMTP_LOGIN"]).toBe(ACCESS_KEY_ID);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

/** A statement of an identity policy, as IAM reads the ones this package writes. */
interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

const list = (v: string | string[]) => (Array.isArray(v) ? v : [v]);
/** IAM's wildcard match (* any run, ? one character), case-sensitive like ARNs and SES's keys. */
const glob = (pattern: string, value: string) =>
  new RegExp(
    `^${pattern
      .replace(/[.+^${}()|[\]\\]/g, "\\$&")
      .replace(/\*/g, ".*")
      .replace(/\?/g, ".")}$`,
  ).test(value);

/**
 * Whether an identity policy allows `action` on `resource` with the request's condition keys: an
 * Allow statement matches action, resource and every StringEquals/StringLike condition (the only
 * operators SES's keys take, Amazon SES Developer Guide, "Sending policy examples"). No Deny here.
 */
function allows(
  policy: { Statement: Statement[] },
  action: string,
  resource: string,
  context: Record<string, string>,
): boolean {
  return policy.Statement.some(
    (st) =>
      st.Effect === "Allow" &&
      list(st.Action).some((a) => glob(a, action)) &&
      list(st.Resource).some((r) => glob(r, resource)) &&
      Object.entries(st.Condition ?? {}).every(([operator, keys]) => {
        if (operator !== "StringEquals" && operator !== "StringLike")
          throw new Error(`the test's evaluator does not know ${operator}`);
        return Object.entries(keys).every(([key, values]) => {
          const actual = context[key];
          return (
            actual !== undefined &&
            list(values).some((v) => (operator === "StringEquals" ? v === actual : glob(v, actual)))
          );
        });
      }),
  );
}

describe("SES in the sandbox: what the SMTP user's policy lets it send", () => {
  let run: MockRun;
  let policy: { Statement: Statement[] };
  const identity = (name: string) => `arn:aws:ses:us-east-1:123456789012:identity/${name}`;
  beforeAll(async () => {
    run = await runStack("production");
    policy = JSON.parse(String(find(run, "aws:iam/userPolicy:UserPolicy").inputs["policy"]));
  });

  test("as the stack's from address to a verified recipient: allowed on the sender's and the recipient's identity", () => {
    const from = `notifications@${String(stackConfig("production")["domain"])}`;
    const domain = from.split("@")[1] as string;
    // SES authorizes against the sending identity and, in the sandbox, the verified recipient's
    // (the known 554 "not authorized to perform ses:SendRawEmail on resource identity/<recipient>").
    for (const resource of [identity(domain), identity("admin@gmail.example"), identity("gmail.example")])
      expect([resource, allows(policy, "ses:SendRawEmail", resource, { "ses:FromAddress": from })]).toEqual([
        resource,
        true,
      ]);
  });

  test("as any other address, or any other action: refused", () => {
    const domain = String(stackConfig("production")["domain"]);
    for (const from of [`admin@${domain}`, "notifications@other.example", `Notifications@${domain}`])
      expect(allows(policy, "ses:SendRawEmail", identity(domain), { "ses:FromAddress": from })).toBe(false);
    expect(allows(policy, "ses:SendRawEmail", identity(domain), {})).toBe(false);
    const from = `notifications@${domain}`;
    for (const action of ["ses:SendEmail", "ses:CreateEmailIdentity", "ses:SendBulkEmail"])
      expect(allows(policy, action, identity(domain), { "ses:FromAddress": from })).toBe(false);
  });

  test("the address it may send as is the SMTP_FROM_ADDRESS every fleet sends as", () => {
    const allowed = policy.Statement.flatMap((st) =>
      list(st.Condition?.["StringEquals"]?.["ses:FromAddress"] ?? []),
    );
    expect(allowed).toHaveLength(1);
    for (const { template } of envTemplates(run))
      expect(dotenv.parse(template)["SMTP_FROM_ADDRESS"]).toBe(allowed[0]);
  });
});

test("the login parameter holds the SMTP user's access key ID, as a Pulumi secret", async () => {
  let mastodon: MastodonStack | undefined;
  await runUnderMocks(
    () => {
      mastodon = new MastodonStack("m", stackConfig("production") as never);
      return {};
    },
    { project: "p", stack: "production", config: { "aws:region": "us-east-1" } },
  );
  const mail = mastodon!.mail;
  expect(mail.loginParameterName).toBe("/mastodon/p/production/m/smtp-login");
  const value = mail.loginParameter!.value;
  expect(await resolve(value)).toBe(ACCESS_KEY_ID);
  expect(await pulumi.isSecret(value)).toBe(true);
  expect((await resolve(mail.env))["SMTP_LOGIN"]).toBe("{{ssm:/mastodon/p/production/m/smtp-login}}");
});

test("external SMTP keeps its configured login in the env and declares no login parameter", async () => {
  const run = await runStack("dev", {
    mail: {
      provider: "smtp",
      fromAddress: "notifications@dev.mastodon.example",
      smtp: { server: "smtp.example.org", port: 587, login: "mastodon", password: "pa#ss word" },
    },
  });
  expect(all(run, SSM).filter((p) => String(p.inputs["name"]).endsWith("/smtp-login"))).toEqual([]);
  for (const { template } of envTemplates(run)) {
    expect(template).toContain("\nSMTP_LOGIN=mastodon\n");
    expect(template).toContain(
      `\nSMTP_PASSWORD=${ssmPlaceholder("/mastodon/mastodon-aws/dev/mastodon/smtp-password")}\n`,
    );
  }
});

describe("Mail on its own", () => {
  const OPTIONS = { project: "p", stack: "s", config: { "aws:region": "eu-west-1" } };
  const ZONE = "Z0123456789TEST";
  const RECORD = "aws:route53/record:Record";
  const IDENTITY = "aws:sesv2/emailIdentity:EmailIdentity";
  const MAIL_FROM = "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes";
  const KEY = "aws:iam/accessKey:AccessKey";
  const ses = (over: Partial<MailArgs> = {}): MailArgs => ({
    provider: "ses",
    fromAddress: "notifications@social.example.org",
    parameterPrefix: "/m/social",
    zone: { zoneId: ZONE, zoneName: "example.org" },
    ...over,
  });
  const smtp = (port: number, password: pulumi.Input<string> = "pa#ss word"): MailArgs => ({
    provider: "smtp",
    fromAddress: "notifications@social.example.org",
    parameterPrefix: "/m/social",
    smtp: { server: "smtp.relay.example.net", port, login: "mastodon", password },
  });
  /**
   * A refused program leaves the component's own registration in flight: let it land before
   * rethrowing, so nothing of this run is still pending when the test file ends.
   */
  const settled = async (error: unknown): Promise<never> => {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    throw error;
  };
  /** WHEN: a program that builds this one Mail runs under the mocks (in eu-west-1). */
  const alone = async (args: MailArgs, name = "mail") => {
    let mail: Mail | undefined;
    const run = await runUnderMocks(() => {
      mail = new Mail(name, args);
      return {};
    }, OPTIONS).catch(settled);
    return { run, mail: mail as Mail };
  };
  const records = (run: MockRun) =>
    Object.fromEntries(
      all(run, RECORD).map((r) => [
        r.name,
        [r.inputs["zoneId"], r.inputs["type"], r.inputs["name"], r.inputs["records"], r.inputs["ttl"]],
      ]),
    );

  test("GIVEN SES and a zone holding the from address's domain, THEN an identity for that domain with MAIL FROM, MX, SPF, DMARC and its three DKIM CNAMEs in the zone", async () => {
    const { run, mail } = await alone(ses());
    expect(find(run, IDENTITY, "mail-identity").inputs).toEqual({ emailIdentity: "social.example.org" });
    expect(find(run, MAIL_FROM, "mail-mail-from").inputs).toEqual({
      emailIdentity: "social.example.org",
      mailFromDomain: "bounce.social.example.org",
      behaviorOnMxFailure: "USE_DEFAULT_VALUE",
    });
    const tokens: string[] = stateOf(run, IDENTITY, "mail-identity")["dkimSigningAttributes"]["tokens"];
    expect(tokens).toHaveLength(3);
    expect(records(run)).toEqual({
      // SES's feedback endpoint in the stack's region.
      "mail-mail-from-mx": [
        ZONE,
        "MX",
        "bounce.social.example.org",
        ["10 feedback-smtp.eu-west-1.amazonses.com"],
        1800,
      ],
      "mail-mail-from-spf": [
        ZONE,
        "TXT",
        "bounce.social.example.org",
        ["v=spf1 include:amazonses.com ~all"],
        1800,
      ],
      "mail-dmarc": [
        ZONE,
        "TXT",
        "_dmarc.social.example.org",
        ["v=DMARC1; p=quarantine; adkim=r; aspf=r"],
        1800,
      ],
      ...Object.fromEntries(
        tokens.map((t, i) => [
          `mail-dkim-${i}`,
          [ZONE, "CNAME", `${t}._domainkey.social.example.org`, [`${t}.dkim.amazonses.com`], 1800],
        ]),
      ),
    });
    expect(mail.mailFromDomain).toBe("bounce.social.example.org");
    // The DKIM records it reports are the ones it published.
    expect(await resolve(mail.dkimRecords!)).toEqual(
      tokens.map((t) => ({ name: `${t}._domainkey.social.example.org`, value: `${t}.dkim.amazonses.com` })),
    );
  });

  test("GIVEN SES and a zone named exactly the from address's domain, THEN the records go in it too", async () => {
    const { run, mail } = await alone(ses({ zone: { zoneId: ZONE, zoneName: "social.example.org" } }));
    expect(all(run, RECORD)).toHaveLength(6);
    expect(all(run, MAIL_FROM)).toHaveLength(1);
    expect(mail.mailFromDomain).toBe("bounce.social.example.org");
  });

  test.each([
    ["no zone", "social.example.org", undefined],
    ["a zone of another domain", "social.example.org", { zoneId: ZONE, zoneName: "other.example" }],
    // badexample.org ends with example.org but is not inside it.
    [
      "a zone whose name is only a suffix of the domain",
      "badexample.org",
      { zoneId: ZONE, zoneName: "example.org" },
    ],
  ])(
    "GIVEN SES and %s, THEN no record and no MAIL FROM are declared, and the DKIM records are reported to publish by hand",
    async (_case, domain, zone) => {
      const { run, mail } = await alone({ ...ses({ fromAddress: `notifications@${domain}` }), zone });
      expect(all(run, RECORD)).toEqual([]);
      expect(all(run, MAIL_FROM)).toEqual([]);
      expect(mail.mailFromDomain).toBeUndefined();
      expect(find(run, IDENTITY, "mail-identity").inputs["emailIdentity"]).toBe(domain);
      const tokens: string[] = stateOf(run, IDENTITY, "mail-identity")["dkimSigningAttributes"]["tokens"];
      expect(await resolve(mail.dkimRecords!)).toEqual(
        tokens.map((t) => ({ name: `${t}._domainkey.${domain}`, value: `${t}.dkim.amazonses.com` })),
      );
    },
  );

  test("GIVEN SES, THEN its SMTP user may only send raw mail as the from address: no other action, no other sender, no managed policy", async () => {
    const { run } = await alone(ses());
    const user = find(run, "aws:iam/user:User");
    expect(user.inputs["path"]).toBe("/mastodon/");
    const policy = find(run, "aws:iam/userPolicy:UserPolicy", "mail-smtp").inputs;
    expect(policy["user"]).toBe(user.inputs["name"]);
    expect(JSON.parse(String(policy["policy"]))).toEqual({
      Version: "2012-10-17",
      Statement: [
        {
          Sid: "SendAsStack",
          Effect: "Allow",
          Action: "ses:SendRawEmail",
          Resource: "*",
          Condition: { StringEquals: { "ses:FromAddress": ["notifications@social.example.org"] } },
        },
      ],
    });
    expect(find(run, KEY, "mail-smtp").inputs).toEqual({ user: user.inputs["name"] });
    expect(
      run.resources
        .filter((r) => r.type.startsWith("aws:iam/"))
        .map((r) => r.type)
        .sort(),
    ).toEqual([KEY, "aws:iam/user:User", "aws:iam/userPolicy:UserPolicy"].sort());
  });

  test("GIVEN SES, THEN the env reaches SES's SMTP endpoint in the stack's region with STARTTLS, the login and password as placeholders of SecureStrings under the prefix", async () => {
    const { run, mail } = await alone(ses());
    expect(await resolve(mail.env)).toEqual({
      SMTP_SERVER: "email-smtp.eu-west-1.amazonaws.com",
      SMTP_PORT: "587",
      SMTP_LOGIN: "{{ssm:/m/social/smtp-login}}",
      SMTP_PASSWORD: "{{ssm:/m/social/smtp-password}}",
      SMTP_FROM_ADDRESS: "notifications@social.example.org",
      SMTP_AUTH_METHOD: "plain",
      SMTP_ENABLE_STARTTLS: "always",
    });
    for (const [logical, name] of [
      ["mail-smtp-login", "/m/social/smtp-login"],
      ["mail-smtp-password", "/m/social/smtp-password"],
    ])
      expect(find(run, SSM, logical).inputs).toMatchObject({ name, type: "SecureString", value: "[secret]" });
    expect(mail.loginParameterName).toBe("/m/social/smtp-login");
    expect(mail.passwordParameterName).toBe("/m/social/smtp-password");
    expect(mail.note).toBe(SES_SANDBOX_NOTE);
  });

  test("GIVEN SES, THEN the login parameter holds the SMTP user's key ID and the password parameter its SES SMTP password, both as secrets", async () => {
    const { run, mail } = await alone(ses());
    const login = mail.loginParameter!.value;
    expect(await resolve(login)).toBe(ACCESS_KEY_ID);
    expect(await pulumi.isSecret(login)).toBe(true);
    const password = mail.passwordParameter.value;
    const derived = stateOf(run, KEY, "mail-smtp")["sesSmtpPasswordV4"];
    expect(typeof derived).toBe("string");
    expect(await resolve(password)).toBe(derived);
    expect(await pulumi.isSecret(password)).toBe(true);
    expect(JSON.stringify(await resolve(mail.env))).not.toContain(derived);
    expect(JSON.stringify(await resolve(mail.env))).not.toContain(ACCESS_KEY_ID);
  });

  test.each([
    [465, { SMTP_TLS: "true" }],
    [587, { SMTP_ENABLE_STARTTLS: "always" }],
  ])(
    "GIVEN an external relay on port %d, THEN the env names the relay, its login as is and the password's placeholder, with the matching TLS mode",
    async (port, tls) => {
      const { mail } = await alone(smtp(port));
      expect(await resolve(mail.env)).toEqual({
        SMTP_SERVER: "smtp.relay.example.net",
        SMTP_PORT: String(port),
        SMTP_LOGIN: "mastodon",
        SMTP_PASSWORD: "{{ssm:/m/social/smtp-password}}",
        SMTP_FROM_ADDRESS: "notifications@social.example.org",
        SMTP_AUTH_METHOD: "plain",
        ...tls,
      });
    },
  );

  test("GIVEN an external relay with a password in plain text, THEN it declares only the password's SecureString, which keeps it as a secret, and nothing of SES or IAM", async () => {
    const { run, mail } = await alone(smtp(587, "pa#ss word"));
    expect(run.resources.filter((r) => r.custom).map((r) => [r.type, r.name])).toEqual([
      [SSM, "mail-smtp-password"],
    ]);
    expect(find(run, SSM, "mail-smtp-password").inputs).toMatchObject({
      name: "/m/social/smtp-password",
      type: "SecureString",
      value: "[secret]",
    });
    expect(await resolve(mail.passwordParameter.value)).toBe("pa#ss word");
    expect(await pulumi.isSecret(mail.passwordParameter.value)).toBe(true);
    expect(JSON.stringify(await resolve(mail.env))).not.toContain("pa#ss word");
    expect(mail.loginParameter).toBeUndefined();
    expect(mail.loginParameterName).toBeUndefined();
    expect(mail.dkimRecords).toBeUndefined();
    expect(mail.mailFromDomain).toBeUndefined();
    expect(mail.note).toBeUndefined();
  });

  test("GIVEN two SES instances with their own domains and prefixes, THEN no logical or physical name collides", async () => {
    const run = await runUnderMocks(() => {
      for (const n of ["blue", "green"])
        new Mail(
          `${n}-mail`,
          ses({ fromAddress: `notifications@${n}.example.org`, parameterPrefix: `/m/${n}` }),
        );
      return {};
    }, OPTIONS);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    const users = all(run, "aws:iam/user:User").map((u) => u.inputs["name"]);
    expect(new Set(users).size).toBe(2);
    expect(
      all(run, SSM)
        .map((p) => p.inputs["name"])
        .sort(),
    ).toEqual([
      "/m/blue/smtp-login",
      "/m/blue/smtp-password",
      "/m/green/smtp-login",
      "/m/green/smtp-password",
    ]);
  });

  test("GIVEN provider smtp without its settings, THEN it refuses", async () => {
    const args = smtp(587);
    delete args.smtp;
    await expect(alone(args)).rejects.toThrow("mail: provider smtp needs smtp settings");
  });
});
