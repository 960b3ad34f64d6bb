/**
 * mastodon:search refused by key with the fix: nodes that cannot spread over the network's zones,
 * a volume over the node type's ceiling, an unknown node type.
 */
import { configProblems, keysAndMessages, withConfig } from "../../test/helpers";

describe("search: bad input refused by key with the fix", () => {
  test("3 nodes on a 2-zone network", () => {
    const found = keysAndMessages(configProblems(withConfig((c) => (c.search = { nodes: 3 }))));
    expect(found).toEqual([
      {
        key: "mastodon:search.nodes",
        message: expect.stringMatching(
          /cannot be spread evenly.*availabilityZones 2.*or mastodon:network\.availabilityZones 3/,
        ),
      },
    ]);
  });

  test("a volume over the node type's ceiling, and an unknown node type", () => {
    expect(
      keysAndMessages(
        configProblems(withConfig((c) => (c.search = { instanceType: "t3.small.search", volumeGiB: 500 }))),
      ),
    ).toEqual([{ key: "mastodon:search.volumeGiB", message: expect.stringContaining("exceeds 100 GiB") }]);
    expect(
      keysAndMessages(configProblems(withConfig((c) => (c.search = { instanceType: "r5.large.search" })))),
    ).toEqual([{ key: "mastodon:search.instanceType", message: expect.stringContaining("t3.small.search") }]);
  });
});
