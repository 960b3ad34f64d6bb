/**
 * mastodon:mail written out for Pulumi's component analyzer: MastodonStack's `mail` arg, how
 * Mastodon sends mail. Only what the analyzer reads (interfaces, `as const` enums, doc comments
 * with `(@default ...)`); src/config/args.ts says why.
 */
/** How Mastodon sends mail. */
export const MailProvider = { Ses: "ses", Smtp: "smtp" } as const;
export type MailProvider = (typeof MailProvider)[keyof typeof MailProvider];

/** mastodon:mail.smtp */
export interface StackSmtpArgs {
  server: string;
  /** (@default 587) */
  port?: number;
  /** Written as is into .env.production. */
  login: string;
  /** A secret: filled into .env.production at boot, never in user-data. */
  password: string;
}

/** mastodon:mail */
export interface StackMailArgs {
  /** (@default "ses") */
  provider?: MailProvider;
  /** (@default notifications@<domain>) */
  fromAddress?: string;
  /** provider smtp: the relay (@default none). */
  smtp?: StackSmtpArgs;
}
