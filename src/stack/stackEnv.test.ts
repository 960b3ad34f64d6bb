/**
 * The env MastodonStack gives Mastodon, under Pulumi's mocks: what the data tier implies (RDS or
 * the local PgBouncer, the two Redis' URLs) and what the edge implies (S3, SMTP, the instance's
 * domains, the trusted proxy); secrets only as SSM placeholders, and only Mastodon's own names.
 */
import * as pulumi from "@pulumi/pulumi";
import { MastodonStack } from "./mastodonStack";
import { MASTODON_ENV_NAMES } from "../host/env";
import { fakeSecret } from "../testing/fakeCloud";
import { runUnderMocks } from "../testing/mocks";
import { all, arnOf, find, nameOf, resolve, runStack, stackConfig, stateOf } from "../../test/helpers";

const RDS = "aws:rds/instance:Instance";
const REDIS = "aws:elasticache/replicationGroup:ReplicationGroup";
const BUCKET = "aws:s3/bucket:Bucket";
const DISTRIBUTION = "aws:cloudfront/distribution:Distribution";

describe("the Mastodon env the data tier implies", () => {
  async function envOf(stack: string) {
    let env: pulumi.Output<Record<string, string>> | undefined;
    const run = await runUnderMocks(
      () => {
        env = new MastodonStack("m", stackConfig(stack) as never).env;
        return {};
      },
      { project: "p", stack, config: { "aws:region": "us-east-1" } },
    );
    return { run, env: await resolve(env!), secret: await pulumi.isSecret(env!) };
  }

  test("direct (dev): RDS with verified TLS, full rediss:// URLs, the Ruby driver; secrets as SSM placeholders", async () => {
    const { run, env, secret } = await envOf("dev");
    // The endpoints RDS and ElastiCache give the primary and the two replication groups.
    const dbHost = stateOf(run, RDS, "m-db-primary")["address"];
    const persistent = stateOf(run, REDIS, "m-persistent-group")["primaryEndpointAddress"];
    const cache = stateOf(run, REDIS, "m-cache-group")["primaryEndpointAddress"];
    // It holds no secret value, so it may go into user-data.
    expect(secret).toBe(false);
    for (const name of Object.keys(env)) expect(MASTODON_ENV_NAMES.has(name)).toBe(true);
    expect(env).toMatchObject({
      DB_HOST: dbHost,
      DB_PORT: "5432",
      DB_NAME: "mastodon_production",
      DB_USER: "mastodon",
      DB_PASS: "{{ssm:/mastodon/p/dev/m/db-password}}",
      DB_SSLMODE: "verify-full",
      REDIS_URL: `rediss://:{{ssm:/mastodon/p/dev/m/redis-persistent-password}}@${persistent}:6379/0`,
      SIDEKIQ_REDIS_URL: `rediss://:{{ssm:/mastodon/p/dev/m/redis-persistent-password}}@${persistent}:6379/0`,
      CACHE_REDIS_URL: `rediss://:{{ssm:/mastodon/p/dev/m/redis-cache-password}}@${cache}:6379/0`,
      REDIS_DRIVER: "ruby",
      RAILS_ENV: "production",
      NODE_ENV: "production",
    });
    for (const value of Object.values(env)) {
      for (const secret of [
        fakeSecret("m-db-master-password", 40),
        fakeSecret("m-db-admin-password", 40),
        fakeSecret("m-persistent-auth", 64),
        fakeSecret("m-cache-auth", 64),
      ]) {
        expect(value).not.toContain(secret);
      }
    }
  });

  test("pooled (production): the local PgBouncer, no prepared statements", async () => {
    const { env } = await envOf("production");
    expect(env).toMatchObject({
      DB_HOST: "127.0.0.1",
      DB_PORT: "6432",
      DB_SSLMODE: "disable",
      PREPARED_STATEMENTS: "false",
    });
  });

  test("an unknown variable name is refused", () => {
    const { mastodonEnv } = jest.requireActual("../host/env");
    expect(() => mastodonEnv({ DB_HOST: "x", OTP_SECRET: "y" })).toThrow(
      "not Mastodon 4.6 environment variables: OTP_SECRET",
    );
  });
});

describe("the env the edge implies", () => {
  async function envOf(raw: Record<string, unknown>, stack: string) {
    let env: pulumi.Output<Record<string, string>> | undefined;
    let mastodon: MastodonStack | undefined;
    const run = await runUnderMocks(
      () => {
        mastodon = new MastodonStack("m", raw as never);
        env = mastodon.env;
        return {};
      },
      { project: "p", stack, config: { "aws:region": "us-east-1" } },
    );
    return {
      run,
      env: await resolve(env!),
      policy: JSON.parse(await resolve(mastodon!.media.accessPolicy)),
    };
  }

  test("S3, SES SMTP, the instance's domains and the ALB as trusted proxy", async () => {
    const { run, env, policy } = await envOf(stackConfig("production"), "production");
    expect(env).toMatchObject({
      LOCAL_DOMAIN: "mastodon.example",
      LOCAL_HTTPS: "true",
      TRUSTED_PROXY_IP: "10.0.0.0/16",
      S3_ENABLED: "true",
      S3_BUCKET: nameOf(run, BUCKET, "m-media-bucket", "bucket"),
      S3_REGION: "us-east-1",
      S3_PROTOCOL: "https",
      S3_HOSTNAME: "s3.us-east-1.amazonaws.com",
      S3_ALIAS_HOST: "files.mastodon.example",
      S3_PERMISSION: "private",
      SMTP_SERVER: "email-smtp.us-east-1.amazonaws.com",
      SMTP_PORT: "587",
      SMTP_LOGIN: "{{ssm:/mastodon/p/production/m/smtp-login}}",
      SMTP_PASSWORD: "{{ssm:/mastodon/p/production/m/smtp-password}}",
      SMTP_FROM_ADDRESS: "notifications@mastodon.example",
      SMTP_ENABLE_STARTTLS: "always",
    });
    expect(env["WEB_DOMAIN"]).toBeUndefined();
    // The placeholders name the parameters the stack writes.
    expect(nameOf(run, "aws:ssm/parameter:Parameter", "m-mail-smtp-login")).toBe(
      "/mastodon/p/production/m/smtp-login",
    );
    expect(nameOf(run, "aws:ssm/parameter:Parameter", "m-mail-smtp-password")).toBe(
      "/mastodon/p/production/m/smtp-password",
    );
    // The fleets' media policy: objects of this bucket, and listing it. Nothing else.
    expect(policy.Statement).toEqual([
      {
        Sid: "MediaObjects",
        Effect: "Allow",
        Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"],
        Resource: `${arnOf(run, BUCKET, "m-media-bucket")}/*`,
      },
      {
        Sid: "MediaList",
        Effect: "Allow",
        Action: "s3:ListBucket",
        Resource: arnOf(run, BUCKET, "m-media-bucket"),
      },
    ]);
  });

  test("without a media domain, S3_ALIAS_HOST is the CloudFront domain; WEB_DOMAIN when it differs", async () => {
    const raw = { ...stackConfig("staging"), webDomain: "social.mastodon.example" };
    const { run, env } = await envOf(raw, "staging");
    expect(env).toMatchObject({
      S3_ALIAS_HOST: stateOf(run, DISTRIBUTION, "m-media-cdn")["domainName"],
      LOCAL_DOMAIN: "staging.mastodon.example",
      WEB_DOMAIN: "social.mastodon.example",
    });
  });

  test("an external SMTP server: its settings, its password kept secret", async () => {
    const raw = {
      ...stackConfig("dev"),
      mail: {
        provider: "smtp",
        fromAddress: "mastodon@dev.mastodon.example",
        smtp: {
          server: "smtp.example.org",
          port: 465,
          login: "mastodon",
          password: "hunter2-not-in-any-file",
        },
      },
    };
    const { env } = await envOf(raw, "dev");
    expect(env).toMatchObject({
      SMTP_SERVER: "smtp.example.org",
      SMTP_PORT: "465",
      SMTP_TLS: "true",
      SMTP_PASSWORD: "{{ssm:/mastodon/p/dev/m/smtp-password}}",
    });
    const run = await runStack("dev", { mail: raw.mail });
    expect(find(run, "aws:ssm/parameter:Parameter", "mastodon-mail-smtp-password").inputs["value"]).toBe(
      "[secret]",
    );
    expect(JSON.stringify(run.resources)).not.toContain("hunter2-not-in-any-file");
    expect(all(run, "aws:sesv2/emailIdentity:EmailIdentity")).toEqual([]);
  });
});
