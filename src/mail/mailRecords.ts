/**
 * The DNS records that make SES mail land (pure), beside Easy DKIM's CNAMEs (src/mail/mail.ts):
 *
 * - a custom MAIL FROM domain, so the envelope sender (Return-Path) is the instance's own subdomain
 *   rather than amazonses.com, and SPF aligns with the From domain under DMARC's relaxed alignment
 *   (Amazon SES Developer Guide, "Using a custom MAIL FROM domain": an MX record pointing at
 *   feedback-smtp.<region>.amazonses.com with priority 10, and an SPF TXT record
 *   "v=spf1 include:amazonses.com ~all" on that subdomain);
 * - DMARC at _dmarc.<domain> (RFC 7489 section 6.1): with DKIM signed by the domain (Easy DKIM) and
 *   SPF aligned through the MAIL FROM subdomain, both identifiers align, so receivers may quarantine
 *   what fails (RFC 7489 section 6.3, p=quarantine); relaxed alignment (adkim=r, aspf=r) lets the
 *   subdomain count. Large mailbox providers require a DMARC record of bulk senders.
 */

/** The MAIL FROM subdomain: bounces and complaints come back here (SES's feedback endpoint). */
export function mailFromDomain(identityDomain: string): string {
  return `bounce.${identityDomain}`;
}

/** The MX record value of the MAIL FROM domain (SES's feedback endpoint in the sending Region). */
export function mailFromMx(region: string): string {
  return `10 feedback-smtp.${region}.amazonses.com`;
}

/** SPF (RFC 7208): SES's sending addresses, soft-fail the rest, as SES documents it. */
export const SES_SPF_RECORD = "v=spf1 include:amazonses.com ~all";

export type DmarcPolicy = "none" | "quarantine" | "reject";

/** A DMARC record (RFC 7489 section 6.4's grammar: v first, then p, tags separated by "; "). */
export function dmarcRecord(policy: DmarcPolicy): string {
  return `v=DMARC1; p=${policy}; adkim=r; aspf=r`;
}

/** The DMARC record's owner name. */
export function dmarcName(identityDomain: string): string {
  return `_dmarc.${identityDomain}`;
}

export const DMARC_POLICY: DmarcPolicy = "quarantine";
