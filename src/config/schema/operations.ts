/** What runs on the scheduler's host besides Mastodon's processes: the owner account and retention. */
import { z } from "zod";
import { DEFAULTS, RESERVED_USERNAMES } from "../../vocabulary/defaults";

/**
 * A username Mastodon accepts for a local account (app/models/account.rb: `/\A[a-z0-9_]+\z/i`, at
 * most USERNAME_LENGTH_LIMIT 30) and does not block (db/seeds/05_blocked_usernames.rb, 4.4 on).
 */
const username = z
  .string()
  .regex(/^[A-Za-z0-9_]{1,30}$/, {
    error: "must be 1 to 30 letters, digits or underscores, as Mastodon's local usernames are",
  })
  .refine((name) => !RESERVED_USERNAMES.includes(name.toLowerCase()), {
    error: `is a username Mastodon blocks at sign-up (${RESERVED_USERNAMES.join(", ")}); pick your own handle, e.g. your name`,
  });

export const ownerSchema = z.strictObject({
  /** The owner's handle (tootctl accounts create USERNAME ... --role Owner). */
  username,
  /** Where Mastodon sends the owner's mail (confirmed at creation: no confirmation mail is needed). */
  email: z.email({ error: "must be an e-mail address, e.g. you@example.org" }),
});

const days = (what: string) =>
  z.int({ error: `must be a whole number of days (${what})` }).min(1, { error: "must be at least 1 day" });

export const retentionSchema = z.strictObject({
  /** Cached remote media older than this many days is removed (tootctl media remove --days). @default 7 */
  mediaDays: days("tootctl media remove --days").default(DEFAULTS.retention.mediaDays),
  /** Link preview cards older than this many days are removed (tootctl preview_cards remove --days). @default 180 */
  previewCardsDays: days("tootctl preview_cards remove --days").default(DEFAULTS.retention.previewCardsDays),
});
