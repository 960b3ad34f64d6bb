/**
 * mastodon:owner and mastodon:retention refused by key, value and fix before anything is declared
 * (src/config/schema/operations.ts), all at once; and what a valid one becomes.
 */
import { parseStackConfig } from "../config";
import { DEFAULTS } from "../vocabulary/defaults";
import { configErrors, withConfig } from "../../test/helpers";

test.each([
  [
    "an owner e-mail that is not an address",
    { owner: { username: "alice", email: "alice at example" } },
    "mastodon:owner.email",
    "alice at example",
    /e-mail address/,
  ],
  [
    "a username with a dot",
    { owner: { username: "alice.b", email: "a@example.org" } },
    "mastodon:owner.username",
    "alice.b",
    /letters, digits or underscores/,
  ],
  [
    "a username over 30 characters",
    { owner: { username: "a".repeat(31), email: "a@example.org" } },
    "mastodon:owner.username",
    "a".repeat(31),
    /1 to 30/,
  ],
  [
    "a username Mastodon blocks",
    { owner: { username: "Admin", email: "a@example.org" } },
    "mastodon:owner.username",
    "Admin",
    /blocks at sign-up.*pick your own handle/,
  ],
  [
    "media days below 1",
    { retention: { mediaDays: 0 } },
    "mastodon:retention.mediaDays",
    0,
    /at least 1 day/,
  ],
  [
    "preview card days not an integer",
    { retention: { previewCardsDays: 1.5 } },
    "mastodon:retention.previewCardsDays",
    1.5,
    /whole number of days/,
  ],
  [
    "days as a string",
    { retention: { mediaDays: "7d" } },
    "mastodon:retention.mediaDays",
    "7d",
    /whole number of days/,
  ],
])("refuses %s by its key, its value and the fix", (_what, change, key, value, message) => {
  const problems = configErrors(withConfig((c) => Object.assign(c, change)));
  expect(problems).toEqual([
    expect.objectContaining({ key, value, message: expect.stringMatching(message) }),
  ]);
});

test("every owner and retention problem at once, beside any other", () => {
  const problems = configErrors(
    withConfig((c) => {
      c.owner = { username: "root", email: "nope" };
      c.retention = { mediaDays: -1, previewCardsDays: 0 };
      c.fleets.web.maxSize = 0;
    }),
  );
  expect([...new Set(problems.map((p) => p.key))].sort()).toEqual(
    [
      "mastodon:fleets.web.maxSize",
      "mastodon:owner.email",
      "mastodon:owner.username",
      "mastodon:retention.mediaDays",
      "mastodon:retention.previewCardsDays",
    ].sort(),
  );
});

test("a valid owner is kept as written; retention defaults to tootctl's own days", () => {
  const { config } = parseStackConfig(
    withConfig((c) => (c.owner = { username: "Alice_1", email: "alice@example.org" })),
  );
  expect(config.owner).toEqual({ username: "Alice_1", email: "alice@example.org" });
  expect(config.retention).toEqual({
    mediaDays: DEFAULTS.retention.mediaDays,
    previewCardsDays: DEFAULTS.retention.previewCardsDays,
  });
  expect(parseStackConfig(withConfig(() => {})).config.owner).toBeUndefined();
});
