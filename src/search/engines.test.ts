/**
 * What follows from the search domain's size: Mastodon's ES_PRESET, the zone layout, and the
 * domain name's rule.
 */
import { nameProblems, namingRule } from "../aws/naming";
import { searchPreset, searchZones } from "./engines";

const DOMAIN = "aws:opensearch/domain:Domain";

describe("search: facts derived from the size", () => {
  test("ES_PRESET follows Mastodon's documented thresholds", () => {
    expect([1, 2, 5, 6, 12].map(searchPreset)).toEqual([
      "single_node_cluster",
      "small_cluster",
      "small_cluster",
      "large_cluster",
      "large_cluster",
    ]);
  });

  test("zone layout: one subnet for one node, 3 zones for multiples of 3 on 3, else 2 for even counts", () => {
    expect(searchZones(1, 3)).toEqual({ kind: "single", zones: 1 });
    expect(searchZones(3, 3)).toEqual({ kind: "zone-aware", zones: 3 });
    expect(searchZones(4, 3)).toEqual({ kind: "zone-aware", zones: 2 });
    expect(searchZones(3, 2)).toEqual({ kind: "uneven", nodes: 3, vpcZones: 2 });
  });

  test("the naming row refuses what AWS refuses (3-28, lower-case start, a-z0-9-)", () => {
    const rule = namingRule(DOMAIN)!;
    expect(nameProblems(rule, "ab")).toEqual(["is 2 characters, under the minimum 3"]);
    expect(nameProblems(rule, `a${"b".repeat(28)}`)).toEqual(["is 29 characters, over the maximum 28"]);
    expect(nameProblems(rule, "1abc")).toEqual(["must begin with a letter"]);
    expect(nameProblems(rule, "Mastodon-es")).toEqual([
      "has characters outside lower-case letters, digits and -",
    ]);
    expect(nameProblems(rule, "mastodon-search-es-a8f37c7")).toEqual([]);
  });
});
