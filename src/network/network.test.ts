import { egressPlan, ipv6Subnet, isAligned, isPrivate, parseIpv4Cidr, subnetLayout } from "./subnets";

function range(cidr: string): [number, number] {
  const c = parseIpv4Cidr(cidr)!;
  return [c.base, c.base + 2 ** (32 - c.prefix) - 1];
}

describe("subnet layout", () => {
  test.each([
    [
      "10.0.0.0/16",
      3,
      {
        app: ["10.0.0.0/18", "10.0.64.0/18", "10.0.128.0/18"],
        public: ["10.0.192.0/21", "10.0.200.0/21", "10.0.208.0/21"],
        data: ["10.0.224.0/21", "10.0.232.0/21", "10.0.240.0/21"],
      },
    ],
    [
      "10.0.0.0/16",
      2,
      {
        app: ["10.0.0.0/18", "10.0.64.0/18"],
        public: ["10.0.192.0/21", "10.0.200.0/21"],
        data: ["10.0.224.0/21", "10.0.232.0/21"],
      },
    ],
    [
      "172.20.16.0/20",
      3,
      {
        app: ["172.20.16.0/22", "172.20.20.0/22", "172.20.24.0/22"],
        public: ["172.20.28.0/25", "172.20.28.128/25", "172.20.29.0/25"],
        data: ["172.20.30.0/25", "172.20.30.128/25", "172.20.31.0/25"],
      },
    ],
  ])("%s over %d AZs", (cidr, azs, expected) => {
    expect(subnetLayout(cidr, azs)).toEqual(expected);
  });

  test.each([
    ["10.0.0.0/16", 3],
    ["10.8.0.0/18", 2],
    ["192.168.0.0/20", 3],
  ])("%s x %d: every subnet inside the VPC, none overlapping", (cidr, azs) => {
    const layout = subnetLayout(cidr, azs);
    const all = [...layout.public, ...layout.app, ...layout.data].map(range);
    const [lo, hi] = range(cidr);
    for (const [a, b] of all) expect(a >= lo && b <= hi).toBe(true);
    const sorted = [...all].sort((x, y) => x[0] - y[0]);
    for (let i = 1; i < sorted.length; i++) expect(sorted[i]![0]).toBeGreaterThan(sorted[i - 1]![1]);
  });

  test("refuses an unaligned CIDR", () => {
    expect(() => subnetLayout("10.0.1.0/16", 2)).toThrow("not an aligned IPv4 CIDR");
  });

  test.each([
    ["10.0.0.0/16", true, true],
    ["10.0.1.0/16", false, true],
    ["172.31.0.0/16", true, true],
    ["172.32.0.0/16", true, false],
    ["8.8.0.0/16", true, false],
  ])("%s: aligned %s, private %s", (cidr, aligned, priv) => {
    const c = parseIpv4Cidr(cidr)!;
    expect(isAligned(c)).toBe(aligned);
    expect(isPrivate(c)).toBe(priv);
  });
});

describe("IPv6 /64s of the VPC's /56", () => {
  test.each([
    ["2600:1f18:4a3:6e00::/56", 0, "2600:1f18:4a3:6e00::/64"],
    ["2600:1f18:4a3:6e00::/56", 3, "2600:1f18:4a3:6e03::/64"],
    ["2600:1f18:4a3:6e00::/56", 8, "2600:1f18:4a3:6e08::/64"],
    ["2a05:d018:a:ff00::/56", 255, "2a05:d018:a:ffff::/64"],
  ])("%s #%d -> %s", (block, index, expected) => expect(ipv6Subnet(block, index)).toBe(expected));
  test("refuses what is not a /56", () =>
    expect(() => ipv6Subnet("2600::/48", 1)).toThrow("expected an IPv6 /56"));
});

describe("egressPlan: one answer for the network and the bill", () => {
  test.each([
    ["nat-per-az", 3, { natGateways: 3, fleetsInPublicSubnets: false }],
    ["single-nat", 3, { natGateways: 1, fleetsInPublicSubnets: false }],
    ["public-subnets", 2, { natGateways: 0, fleetsInPublicSubnets: true }],
  ] as const)("%s over %d AZs", (egress, azs, plan) => {
    expect(egressPlan(egress, azs)).toEqual(plan);
  });
});
