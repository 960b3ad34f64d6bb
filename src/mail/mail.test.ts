/**
 * SES mail under mocks: the SMTP user's access key ID (SMTP_LOGIN) is kept like its password, an
 * SSM SecureString under the stack's path filled in at boot; no launch template, user-data or plan
 * file carries it.
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
import { RENDER_SECRETS_PY, placeholdersIn, renderManifest, ssmPlaceholder } from "../host/boot";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import type { MockRun } from "../testing/mocks";
import { runUnderMocks } from "../testing/mocks";
import { planStack } from "../cli/plan";
import { parseStackConfig } from "../config";
import { ROOT, all, decodeUserData, find, resolve, runStack, stackConfig } from "../../test/helpers";
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
