/** What runs on the scheduler's host besides Mastodon's processes: the owner account and retention. */
import { z } from "zod";
import { DEFAULTS, RESERVED_USERNAMES } from "../../vocabulary/defaults";
import { argsType, documented } from "./keyDoc";

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

export const ownerSchema = argsType(
  z.strictObject({
    username: documented(username, {
      description:
        "The owner's handle (tootctl accounts create USERNAME ... --confirmed --role Owner): 1-30 letters, digits or underscores, not a username Mastodon blocks at sign-up (admin, root, support, ...).",
    }),
    email: documented(z.email({ error: "must be an e-mail address, e.g. you@example.org" }), {
      description:
        "The owner's e-mail address, where Mastodon sends the owner's mail (confirmed at creation: no confirmation mail is needed).",
    }),
  }),
  {
    name: "StackOwnerArgs",
    folder: "database",
    description: "mastodon:owner: the owner account, created once by the scheduler's host after the schema.",
  },
);

const days = (what: string) =>
  z.int({ error: `must be a whole number of days (${what})` }).min(1, { error: "must be at least 1 day" });

export const retentionSchema = argsType(
  z.strictObject({
    mediaDays: documented(days("tootctl media remove --days").default(DEFAULTS.retention.mediaDays), {
      description:
        "Cached remote media older than this many days is removed, daily on the scheduler's host (tootctl media remove --days); whole days, at least 1.",
    }),
    previewCardsDays: documented(
      days("tootctl preview_cards remove --days").default(DEFAULTS.retention.previewCardsDays),
      {
        description:
          "Link preview cards older than this many days are removed, daily on the scheduler's host (tootctl preview_cards remove --days); whole days, at least 1 (tootctl's help advises not below 14).",
      },
    ),
  }),
  {
    name: "StackRetentionArgs",
    folder: "media",
    description: "mastodon:retention: what the scheduler's host removes of cached remote content, daily.",
  },
);
