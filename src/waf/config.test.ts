/**
 * mastodon:waf refused by key, value and fix: rate limits outside AWS WAF's bounds, an evaluation
 * window AWS does not offer, a block list entry that is no CIDR (or /0, or a host address written as
 * a range), a range listed twice, more ranges than an IP set holds. And the defaults it fills in.
 */
import { ConfigError, parseStackConfig } from "../config";
import { configProblems, withConfig } from "../../test/helpers";
import { parseWaf } from "./config";

const refused = (waf: unknown) =>
  configProblems(withConfig((c) => (c.waf = waf))).map(({ key, value, message }) => ({
    key,
    value,
    message,
  }));

describe("mastodon:waf: bad input refused by key, value and fix", () => {
  test("rate limits under 10 or over 2,000,000,000, or not whole, each by its key", () => {
    expect(refused({ rateLimits: { signUp: 5, signIn: 12.5, apiWrites: 3_000_000_000 } })).toEqual([
      {
        key: "mastodon:waf.rateLimits.signUp",
        value: 5,
        message: expect.stringMatching(/is below 10, the lowest limit AWS WAF takes .*; use 10 or more/),
      },
      { key: "mastodon:waf.rateLimits.signIn", value: 12.5, message: "must be a whole number of requests" },
      {
        key: "mastodon:waf.rateLimits.apiWrites",
        value: 3_000_000_000,
        message: expect.stringContaining("is above 2000000000"),
      },
    ]);
  });

  test("an evaluation window AWS WAF does not offer", () => {
    expect(refused({ evaluationWindowSeconds: 90 })).toEqual([
      {
        key: "mastodon:waf.evaluationWindowSeconds",
        value: 90,
        message: "must be 60, 120, 300, 600 seconds, the evaluation windows AWS WAF offers a rate-based rule",
      },
    ]);
  });

  test("block list entries that are not CIDRs AWS WAF takes, a host written as a range, a repeat", () => {
    const found = refused({
      blockList: [
        "203.0.113.0/24",
        "not-an-address",
        "0.0.0.0/0",
        "2001:db8::/129",
        "203.0.113.7/24",
        "203.0.113.0/24",
      ],
    });
    expect(found.map((p) => [p.key, p.value])).toEqual([
      ["mastodon:waf.blockList[1]", "not-an-address"],
      ["mastodon:waf.blockList[2]", "0.0.0.0/0"],
      ["mastodon:waf.blockList[3]", "2001:db8::/129"],
      ["mastodon:waf.blockList[4]", "203.0.113.7/24"],
      ["mastodon:waf.blockList[5]", "203.0.113.0/24"],
    ]);
    expect(found[0]?.message).toMatch(
      /CIDR notation from \/1 \(AWS WAF takes no \/0\); write a single address as 203\.0\.113\.7\/32/,
    );
    expect(found[3]?.message).toBe("has bits set past its /24 prefix; write the range's network address");
    expect(found[4]?.message).toBe("is listed twice; list each range once");
  });

  test("more ranges of one version than an IP set holds; 10,000 of each version pass", () => {
    const v4 = (n: number) => Array.from({ length: n }, (_, i) => `10.${i >> 8}.${i & 255}.0/24`);
    const v6 = (n: number) => Array.from({ length: n }, (_, i) => `2001:db8:${i.toString(16)}::/48`);
    expect(refused({ blockList: [...v4(10_000), ...v6(10_000)] })).toEqual([]);
    const over = refused({ blockList: [...v4(10_001), ...v6(3)] });
    expect(over).toEqual([
      {
        key: "mastodon:waf.blockList",
        value: expect.any(Array),
        message: expect.stringMatching(
          /^holds 10001 IPv4 ranges; an IP set holds at most 10000 .*Merge neighbouring ranges/,
        ),
      },
    ]);
  });

  test("an unknown key, with the one it resembles", () => {
    expect(refused({ rateLimit: { signUp: 50 } })).toEqual([
      {
        key: "mastodon:waf.rateLimit",
        value: { signUp: 50 },
        message: "is not a known key; did you mean rateLimits?",
      },
    ]);
  });
});

describe("mastodon:waf resolved", () => {
  test("defaults: limits above Mastodon's own throttles, a 5-minute window, no block list", () => {
    const { config } = parseStackConfig(
      withConfig((c) => (c.waf = {})),
      "test",
    );
    expect(config.waf).toEqual({
      rateLimits: { signUp: 100, signIn: 100, apiWrites: 3000 },
      evaluationWindowSeconds: 300,
      blockList: { ipv4: [], ipv6: [] },
      blockedRequestsAlarm: 1000,
    });
  });

  test("the block list split by IP version, as the two IP sets take it", () => {
    expect(
      parseWaf({ blockList: ["2001:db8::/32", "198.51.100.7/32", "::ffff:198.51.100.0/120"] }).blockList,
    ).toEqual({
      ipv4: ["198.51.100.7/32"],
      ipv6: ["2001:db8::/32", "::ffff:198.51.100.0/120"],
    });
  });

  test("absent: no WAF at all", () => {
    expect(
      parseStackConfig(
        withConfig(() => {}),
        "test",
      ).config.waf,
    ).toBeUndefined();
  });

  test("a WebAcl declared on its own refuses its args by the same keys", () => {
    let caught: unknown;
    try {
      parseWaf({ rateLimits: { signIn: 1 }, evaluationWindowSeconds: 30 });
    } catch (e) {
      caught = e;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems.map((p) => p.key)).toEqual([
      "mastodon:waf.rateLimits.signIn",
      "mastodon:waf.evaluationWindowSeconds",
    ]);
  });
});
