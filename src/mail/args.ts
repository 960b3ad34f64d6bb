/**
 * mastodon:mail written out for Pulumi's component analyzer: MastodonStack's `mail` arg, how
 * Mastodon sends mail. Only what the analyzer reads (interfaces, `as const` enums, doc comments
 * with `(@default ...)`); src/config/args.ts says why.
 */
import type * as pulumi from "@pulumi/pulumi";

/** How Mastodon sends mail. */
export const MailProvider = {
  /** Amazon SES, with a domain identity, DKIM and an SMTP user of the package's own. */
  Ses: "ses",
  /** An external SMTP relay (mail.smtp). */
  Smtp: "smtp",
} as const;
export type MailProvider = (typeof MailProvider)[keyof typeof MailProvider];

/** mastodon:mail.smtp */
export interface StackSmtpArgs {
  /** The relay's host name (SMTP_SERVER). */
  server: string;
  /** The relay's port (SMTP_PORT): 465 uses SMTPS, others STARTTLS (@default 587). */
  port?: number;
  /** The user name (SMTP_LOGIN), written as is into .env.production: no spaces, quotes, #, $ or backslashes. */
  login: string;
  /**
   * The password (SMTP_PASSWORD), a secret (pass a secret value): kept as an SSM SecureString and
   * filled into .env.production at boot, never into user-data.
   */
  password: pulumi.Input<string>;
}

/** mastodon:mail */
export interface StackMailArgs {
  /** How Mastodon sends mail (@default "ses"). */
  provider?: MailProvider;
  /** The sender of Mastodon's mail (SMTP_FROM_ADDRESS); with SES its domain is the identity (@default notifications@<domain>). */
  fromAddress?: string;
  /** provider smtp: the relay (@default none). */
  smtp?: StackSmtpArgs;
}
