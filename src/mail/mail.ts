import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitLogicalName } from "../aws/naming";
import type { MailProvider } from "../vocabulary/configEnums";
import { ssmPlaceholder } from "../host/boot";
import { type Env, smtpEnv } from "../host/env";
import { sesSendPolicy } from "../aws/policies";
import {
  DMARC_POLICY,
  SES_SPF_RECORD,
  dmarcName,
  dmarcRecord,
  mailFromDomain,
  mailFromMx,
} from "./mailRecords";
import { providedType, withFormerType } from "../aws/typeToken";

/** SES: the Route 53 zone DKIM records go in. */
export interface MailZoneArgs {
  /** The Route 53 hosted zone ID. */
  zoneId: pulumi.Input<string>;
  /** The zone's domain: the records go in only when the from address's domain is inside it. */
  zoneName: string;
}

/** An external SMTP server. */
export interface MailSmtpArgs {
  /** The relay's host name (SMTP_SERVER). */
  server: string;
  /** The relay's port (SMTP_PORT): 465 uses SMTPS, others STARTTLS. */
  port: number;
  /** The user name (SMTP_LOGIN), written as is into .env.production. */
  login: string;
  /** The password (SMTP_PASSWORD), a secret: kept as an SSM SecureString, filled in at boot. */
  password: pulumi.Input<string>;
}

/** A DKIM CNAME record the SES identity's domain must publish. */
export interface DkimRecord {
  /** The record's name, <token>._domainkey.<domain>. */
  name: string;
  /** What it points to, <token>.dkim.amazonses.com. */
  value: string;
}

export interface MailArgs {
  /** "ses": an SES domain identity with DKIM and an SMTP user; "smtp": an external server. */
  provider: MailProvider;
  /** SMTP_FROM_ADDRESS; with SES its domain becomes the identity. */
  fromAddress: string;
  /** Where the SMTP password (and SES's login) is stored, e.g. /mastodon/production/mastodon. */
  parameterPrefix: string;
  /** SES: DKIM records go in this zone when the identity's domain is inside zoneName (@default none). */
  zone?: MailZoneArgs;
  /** External SMTP: the server's settings; the password is a Pulumi secret (@default none). */
  smtp?: MailSmtpArgs;
}

/** A new SES account may send 200 messages a day, to verified addresses only. */
export const SES_SANDBOX_NOTE =
  "A new SES account is in the sandbox: 200 messages per 24 hours, to verified recipients only. Ask AWS for production access (SES console > Account dashboard) before opening sign-ups.";

/**
 * Outgoing mail. SES: a domain identity with Easy DKIM, and with it a custom MAIL FROM domain, its
 * MX and SPF records and DMARC (src/mail/mailRecords.ts; records in the zone when it holds the
 * domain), an IAM user allowed only ses:SendRawEmail as the from address, and its SMTP credentials kept as SSM
 * SecureStrings: the login is the access key ID, the password derived from its secret
 * (sesSmtpPasswordV4). External SMTP: the given server, its password kept the same way. Either way
 * `env` carries SMTP_* with the stored values as boot-time placeholders.
 */
export class Mail extends pulumi.ComponentResource {
  /** SMTP_*, the password (and SES's login) as boot-time placeholders of SSM parameters (src/host/boot.ts). */
  public readonly env: pulumi.Output<Env>;
  /** The SSM SecureString parameter holding SMTP_PASSWORD, <parameterPrefix>/smtp-password. */
  public readonly passwordParameterName: string;
  /** That parameter. */
  public readonly passwordParameter: aws.ssm.Parameter;
  /**
   * SES only: SMTP_LOGIN's parameter. The login is the SMTP user's access key ID (SES's "Obtaining
   * Amazon SES SMTP credentials"): half of the credential, and it names the AWS account it belongs
   * to (STS GetAccessKeyInfo). Like the password it never enters user-data, a launch template or
   * the plan's resources.json.
   */
  public readonly loginParameterName?: string;
  /** SES only: that parameter. */
  public readonly loginParameter?: aws.ssm.Parameter;
  /** SES only: the DKIM CNAMEs to publish (already published when a zone was given). */
  public readonly dkimRecords?: pulumi.Output<DkimRecord[]>;
  /** SES with a zone holding the domain: the custom MAIL FROM domain (bounce.<domain>). */
  public readonly mailFromDomain?: string;
  /** SES only: the sandbox reminder (200 messages a day, to verified recipients, until AWS grants production access). */
  public readonly note?: string;

  constructor(name: string, args: MailArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("Mail"), name, {}, withFormerType("mastodon:mail:Mail", opts));
    const parent = { parent: this };
    let server: pulumi.Input<string>;
    let port: number;
    // SES: the placeholder of the login's parameter; external SMTP: the configured user name.
    let login: pulumi.Input<string>;
    let password: pulumi.Output<string>;

    switch (args.provider) {
      case "ses": {
        const domain = args.fromAddress.split("@")[1] as string;
        const identity = new aws.sesv2.EmailIdentity(`${name}-identity`, { emailIdentity: domain }, parent);
        const tokens = identity.dkimSigningAttributes.tokens;
        this.dkimRecords = tokens.apply((ts) =>
          ts.map((t) => ({ name: `${t}._domainkey.${domain}`, value: `${t}.dkim.amazonses.com` })),
        );
        const zone = args.zone;
        const region = aws.getRegionOutput({}, parent).region;
        if (zone && (domain === zone.zoneName || domain.endsWith(`.${zone.zoneName}`))) {
          // SPF, MAIL FROM and DMARC beside DKIM (src/mail/mailRecords.ts): mail that lands.
          const mailFrom = mailFromDomain(domain);
          this.mailFromDomain = mailFrom;
          new aws.sesv2.EmailIdentityMailFromAttributes(
            `${name}-mail-from`,
            {
              emailIdentity: identity.emailIdentity,
              mailFromDomain: mailFrom,
              // Until the MX record resolves, SES sends from amazonses.com rather than bouncing.
              behaviorOnMxFailure: "USE_DEFAULT_VALUE",
            },
            parent,
          );
          const record = (suffix: string, recordName: string, type: string, value: pulumi.Input<string>) =>
            new aws.route53.Record(
              `${name}-${suffix}`,
              { zoneId: zone.zoneId, name: recordName, type, ttl: 1800, records: [value] },
              parent,
            );
          record("mail-from-mx", mailFrom, "MX", region.apply(mailFromMx));
          record("mail-from-spf", mailFrom, "TXT", SES_SPF_RECORD);
          record("dmarc", dmarcName(domain), "TXT", dmarcRecord(DMARC_POLICY));
          // Easy DKIM always issues three tokens.
          for (const i of [0, 1, 2]) {
            new aws.route53.Record(
              `${name}-dkim-${i}`,
              {
                zoneId: zone.zoneId,
                name: tokens.apply((ts) => `${ts[i]}._domainkey.${domain}`),
                type: "CNAME",
                ttl: 1800,
                records: [tokens.apply((ts) => `${ts[i]}.dkim.amazonses.com`)],
              },
              parent,
            );
          }
        }
        // IAM user names hold 64 characters, the provider's random suffix included.
        const user = new aws.iam.User(
          fitLogicalName("aws:iam/user:User", name, "smtp"),
          { path: "/mastodon/" },
          parent,
        );
        // Any identity, as the from address only: in the sandbox SES also authorizes against the
        // recipient's identity (src/aws/policies.ts).
        new aws.iam.UserPolicy(
          `${name}-smtp`,
          { user: user.name, policy: JSON.stringify(sesSendPolicy([args.fromAddress])) },
          parent,
        );
        const key = new aws.iam.AccessKey(`${name}-smtp`, { user: user.name }, parent);
        server = pulumi.interpolate`email-smtp.${region}.amazonaws.com`;
        port = 587;
        this.loginParameterName = `${args.parameterPrefix}/smtp-login`;
        this.loginParameter = new aws.ssm.Parameter(
          `${name}-smtp-login`,
          {
            name: this.loginParameterName,
            type: "SecureString",
            value: pulumi.secret(key.id),
            description: "Mastodon SMTP_LOGIN (the SES SMTP user's access key ID)",
          },
          parent,
        );
        login = ssmPlaceholder(this.loginParameterName);
        password = pulumi.secret(key.sesSmtpPasswordV4);
        this.note = SES_SANDBOX_NOTE;
        break;
      }
      case "smtp": {
        if (!args.smtp) throw new Error(`${name}: provider smtp needs smtp settings`);
        ({ server, port, login } = args.smtp);
        password = pulumi.secret(pulumi.output(args.smtp.password));
        break;
      }
      default: {
        const never: never = args.provider;
        throw new Error(`unknown mail provider ${String(never)}`);
      }
    }

    this.passwordParameterName = `${args.parameterPrefix}/smtp-password`;
    this.passwordParameter = new aws.ssm.Parameter(
      `${name}-smtp-password`,
      {
        name: this.passwordParameterName,
        type: "SecureString",
        value: password,
        description: "Mastodon SMTP_PASSWORD",
      },
      parent,
    );
    const placeholder = ssmPlaceholder(this.passwordParameterName);
    this.env = pulumi
      .all([server, login])
      .apply(([s, l]) =>
        smtpEnv({ server: s, port, login: l, password: placeholder, fromAddress: args.fromAddress }),
      );
    this.registerOutputs({
      passwordParameterName: this.passwordParameter.name,
      loginParameterName: this.loginParameter?.name,
      dkimRecords: this.dkimRecords,
      mailFromDomain: this.mailFromDomain,
    });
  }
}
