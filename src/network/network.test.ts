import { egressPlan, ipv6Subnet, isAligned, isPrivate, parseIpv4Cidr, subnetLayout } from "./subnets";
import * as pulumi from "@pulumi/pulumi";
import { Network, type NetworkArgs } from "./network";
import type { FakeCloudOptions } from "../testing/fakeCloud";
import { type MockRun, type RecordedResource, runUnderMocks } from "../testing/mocks";
import { all, find, idOf, resolve, stateOf } from "../../test/helpers";

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

describe("Network on its own", () => {
  const VPC = "aws:ec2/vpc:Vpc";
  const SUBNET = "aws:ec2/subnet:Subnet";
  const ROUTE = "aws:ec2/route:Route";
  const ROUTE_TABLE = "aws:ec2/routeTable:RouteTable";
  const ASSOCIATION = "aws:ec2/routeTableAssociation:RouteTableAssociation";
  const NAT = "aws:ec2/natGateway:NatGateway";
  const EIP = "aws:ec2/eip:Eip";
  const IGW = "aws:ec2/internetGateway:InternetGateway";
  const EIGW = "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway";
  const ENDPOINT = "aws:ec2/vpcEndpoint:VpcEndpoint";
  const SG = "aws:ec2/securityGroup:SecurityGroup";
  const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
  const EGRESS = "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule";
  const OPTS = { project: "p", stack: "s", config: { "aws:region": "us-east-1" } };

  /** WHEN: a program that builds one Network, and nothing else, runs under mocks. */
  async function declare(args: NetworkArgs = {}, cloud?: FakeCloudOptions, name = "n") {
    let net: Network | undefined;
    const run = await runUnderMocks(
      () => {
        net = new Network(name, args);
        return {};
      },
      { ...OPTS, ...(cloud && { cloud }) },
    );
    return { run, net: net! };
  }

  /** After a refused run: lets what it registered before the refusal reach its mock monitor. */
  const settle = () =>
    (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs().catch(() => undefined);
  const ids = (run: MockRun, type: string, names: string[]) => names.map((n) => idOf(run, type, n));
  const routesOf = (run: MockRun, table: string) =>
    all(run, ROUTE).filter((r) => r.inputs["routeTableId"] === idOf(run, ROUTE_TABLE, table));

  /**
   * Every security group rule the network declares, as "<group> <in|out> <port[-port]> <peer>": the
   * peer is another group's role or a CIDR. Every rule is TCP.
   */
  function flows(run: MockRun, name = "n"): string[] {
    const roleOf = new Map(
      all(run, SG)
        .filter((g) => g.parent === name)
        .map((g) => [g.id, g.name.slice(name.length + 1)]),
    );
    const line = (direction: string) => (r: RecordedResource) => {
      const i = r.inputs;
      expect(i["ipProtocol"]).toBe("tcp");
      const ports = i["fromPort"] === i["toPort"] ? `${i["fromPort"]}` : `${i["fromPort"]}-${i["toPort"]}`;
      const peer = i["referencedSecurityGroupId"]
        ? roleOf.get(String(i["referencedSecurityGroupId"]))
        : (i["cidrIpv4"] ?? i["cidrIpv6"]);
      return `${roleOf.get(String(i["securityGroupId"]))} ${direction} ${ports} ${peer}`;
    };
    const own = (type: string) => all(run, type).filter((r) => r.parent === name);
    return [...own(INGRESS).map(line("in")), ...own(EGRESS).map(line("out"))].sort();
  }

  /** What the network opens with IPv4 only and the default streaming port, rule by rule. */
  const IPV4_FLOWS = [
    // The internet reaches the ALB only: 443, and 80 to be redirected.
    "alb in 80 0.0.0.0/0",
    "alb in 443 0.0.0.0/0",
    "alb out 3000 web",
    "alb out 4000 streaming",
    "web in 3000 alb",
    "streaming in 4000 alb",
    // The data tier takes its port from the three fleet roles' groups, never from a CIDR.
    "database in 5432 web",
    "database in 5432 streaming",
    "database in 5432 sidekiq",
    "redis in 6379 web",
    "redis in 6379 streaming",
    "redis in 6379 sidekiq",
    "web out 5432 database",
    "web out 6379 redis",
    "web out 443 0.0.0.0/0",
    "web out 80 0.0.0.0/0",
    "streaming out 5432 database",
    "streaming out 6379 redis",
    "streaming out 443 0.0.0.0/0",
    "sidekiq out 5432 database",
    "sidekiq out 6379 redis",
    "sidekiq out 443 0.0.0.0/0",
    "sidekiq out 80 0.0.0.0/0",
    "sidekiq out 587 0.0.0.0/0",
    "sidekiq out 465 0.0.0.0/0",
  ].sort();

  test("GIVEN no args WHEN it runs THEN a DNS-enabled IPv4 VPC of 10.0.0.0/16 over two zones, three tiers each, cut by the subnet layout, no public IP handed out", async () => {
    const { run, net } = await declare();
    // THEN the component registers under the token other languages construct it by, and owns every resource.
    expect(find(run, "mastodon:index:Network").name).toBe("n");
    expect(run.resources.filter((r) => r.custom).every((r) => r.parent === "n")).toBe(true);
    expect(find(run, VPC, "n-vpc").inputs).toMatchObject({
      cidrBlock: "10.0.0.0/16",
      enableDnsHostnames: true,
      enableDnsSupport: true,
      assignGeneratedIpv6CidrBlock: false,
    });
    const layout = subnetLayout("10.0.0.0/16", 2);
    for (const tier of ["public", "app", "data"] as const)
      for (const [i, zone] of ["a", "b"].entries())
        expect(find(run, SUBNET, `n-${tier}-${zone}`).inputs).toEqual({
          vpcId: idOf(run, VPC, "n-vpc"),
          cidrBlock: layout[tier][i],
          availabilityZone: `us-east-1${zone}`,
          mapPublicIpOnLaunch: false,
          tags: { Name: `n-${tier}-${zone}`, "mastodon:tier": tier },
        });
    expect(all(run, SUBNET)).toHaveLength(6);
    // THEN the outputs name those resources, in zone order; fleets go in the app tier, without public IPs.
    expect(net.cidr).toBe("10.0.0.0/16");
    expect(net.ipv6).toBe(false);
    expect(net.fleetsNeedPublicIp).toBe(false);
    expect(await resolve(net.vpcId)).toBe(idOf(run, VPC, "n-vpc"));
    expect(await resolve(net.availabilityZones)).toEqual(["us-east-1a", "us-east-1b"]);
    for (const [tier, outputs] of [
      ["public", net.publicSubnetIds],
      ["app", net.appSubnetIds],
      ["data", net.dataSubnetIds],
      ["app", net.fleetSubnetIds],
    ] as const)
      expect(await Promise.all(outputs.map(resolve))).toEqual(
        ids(run, SUBNET, [`n-${tier}-a`, `n-${tier}-b`]),
      );
  });

  test("GIVEN no args WHEN it runs THEN the public tier goes out through the internet gateway, the app tier through one NAT gateway, and the data tier has no route out", async () => {
    const { run } = await declare();
    expect(routesOf(run, "n-public").map((r) => r.inputs)).toEqual([
      {
        routeTableId: idOf(run, ROUTE_TABLE, "n-public"),
        destinationCidrBlock: "0.0.0.0/0",
        gatewayId: idOf(run, IGW, "n-igw"),
      },
    ]);
    // single-nat: one NAT gateway, on an Elastic IP in the first public subnet, for both app tables.
    expect(find(run, NAT).inputs).toMatchObject({
      allocationId: idOf(run, EIP, "n-nat-a"),
      subnetId: idOf(run, SUBNET, "n-public-a"),
    });
    expect(find(run, EIP).inputs["domain"]).toBe("vpc");
    for (const zone of ["a", "b"])
      expect(routesOf(run, `n-app-${zone}`).map((r) => r.inputs)).toEqual([
        {
          routeTableId: idOf(run, ROUTE_TABLE, `n-app-${zone}`),
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: idOf(run, NAT, "n-nat-a"),
        },
      ]);
    // The data table holds no route (only the VPC-local one AWS gives every table) and serves both data subnets.
    expect(routesOf(run, "n-data")).toEqual([]);
    const dataTable = idOf(run, ROUTE_TABLE, "n-data");
    expect(
      all(run, ASSOCIATION)
        .filter((a) => a.inputs["routeTableId"] === dataTable)
        .map((a) => a.inputs["subnetId"]),
    ).toEqual(ids(run, SUBNET, ["n-data-a", "n-data-b"]));
    // Every subnet has exactly one association: none is left on the VPC's main table.
    expect(
      all(run, ASSOCIATION)
        .map((a) => a.inputs["subnetId"])
        .sort(),
    ).toEqual(
      all(run, SUBNET)
        .map((s) => s.id)
        .sort(),
    );
    // S3 through a gateway endpoint of the run's region, on the tables with a way out; the data tier gets none.
    expect(find(run, ENDPOINT, "n-s3").inputs).toMatchObject({
      vpcId: idOf(run, VPC, "n-vpc"),
      serviceName: "com.amazonaws.us-east-1.s3",
      vpcEndpointType: "Gateway",
      routeTableIds: ids(run, ROUTE_TABLE, ["n-public", "n-app-a", "n-app-b"]),
    });
  });

  test("GIVEN no args WHEN it runs THEN six security groups whose rules open exactly the flows Mastodon needs: the internet reaches the ALB only, the data tier answers the fleets' groups only and opens nothing outward", async () => {
    const { run, net } = await declare();
    const groups = all(run, SG);
    expect(groups.map((g) => g.name).sort()).toEqual(
      ["alb", "database", "redis", "sidekiq", "streaming", "web"].map((r) => `n-${r}`),
    );
    for (const g of groups) expect(g.inputs["vpcId"]).toBe(idOf(run, VPC, "n-vpc"));
    expect(flows(run)).toEqual(IPV4_FLOWS);
    // The groups the other components attach to are these resources.
    expect(await resolve(net.securityGroups.database.id)).toBe(idOf(run, SG, "n-database"));
    expect(await resolve(net.securityGroups.redis.id)).toBe(idOf(run, SG, "n-redis"));
  });

  test("GIVEN several streaming ports, unordered WHEN it runs THEN the ALB reaches the streaming hosts on their span, and no other rule changes", async () => {
    const { run } = await declare({ streamingPorts: [4003, 4000, 4001, 4002] });
    expect(flows(run)).toEqual(
      IPV4_FLOWS.map((f) =>
        f
          .replace("alb out 4000 streaming", "alb out 4000-4003 streaming")
          .replace("streaming in 4000 alb", "streaming in 4000-4003 alb"),
      ).sort(),
    );
  });

  test("GIVEN egress nat-per-az over three zones WHEN it runs THEN each zone's app subnet leaves through its own zone's NAT gateway", async () => {
    const { run, net } = await declare({ availabilityZones: 3, egress: "nat-per-az" });
    expect(await resolve(net.availabilityZones)).toEqual(["us-east-1a", "us-east-1b", "us-east-1c"]);
    expect(all(run, SUBNET)).toHaveLength(9);
    expect(all(run, NAT)).toHaveLength(3);
    for (const zone of ["a", "b", "c"]) {
      expect(find(run, NAT, `n-nat-${zone}`).inputs).toMatchObject({
        allocationId: idOf(run, EIP, `n-nat-${zone}`),
        subnetId: idOf(run, SUBNET, `n-public-${zone}`),
      });
      expect(routesOf(run, `n-app-${zone}`).map((r) => r.inputs["natGatewayId"])).toEqual([
        idOf(run, NAT, `n-nat-${zone}`),
      ]);
    }
  });

  test("GIVEN egress public-subnets WHEN it runs THEN no NAT gateway and no app tier: the fleets go in the public subnets with public IPs, behind the same groups", async () => {
    const { run, net } = await declare({ egress: "public-subnets" });
    expect(all(run, NAT)).toEqual([]);
    expect(all(run, EIP)).toEqual([]);
    expect(all(run, SUBNET).map((s) => s.name)).toEqual(["n-public-a", "n-public-b", "n-data-a", "n-data-b"]);
    expect(all(run, ROUTE_TABLE).map((t) => t.name)).toEqual(["n-public", "n-data"]);
    expect(net.fleetsNeedPublicIp).toBe(true);
    expect(net.appSubnetIds).toEqual([]);
    expect(await Promise.all(net.fleetSubnetIds.map(resolve))).toEqual(
      ids(run, SUBNET, ["n-public-a", "n-public-b"]),
    );
    // Public subnets still hand out no address by default: the launch template asks for one.
    for (const s of all(run, SUBNET)) expect(s.inputs["mapPublicIpOnLaunch"]).toBe(false);
    expect(find(run, ENDPOINT).inputs["routeTableIds"]).toEqual([idOf(run, ROUTE_TABLE, "n-public")]);
    // Nothing from the internet reaches a fleet's group even though its hosts have public addresses.
    expect(flows(run)).toEqual(IPV4_FLOWS);
  });

  test("GIVEN ipv6 WHEN it runs THEN a generated /56, a /64 per subnet by tier and zone, ::/0 out through the internet gateway (public) and the egress-only gateway (app), and the same rules for ::/0 as for 0.0.0.0/0", async () => {
    const { run, net } = await declare({ ipv6: true });
    expect(net.ipv6).toBe(true);
    expect(find(run, VPC).inputs["assignGeneratedIpv6CidrBlock"]).toBe(true);
    expect(stateOf(run, VPC, "n-vpc")["ipv6CidrBlock"]).toBe("2600:1f18:4a3:6e00::/56");
    const v6 = Object.fromEntries(all(run, SUBNET).map((s) => [s.name, s.inputs["ipv6CidrBlock"]]));
    expect(v6).toEqual({
      "n-public-a": "2600:1f18:4a3:6e00::/64",
      "n-public-b": "2600:1f18:4a3:6e01::/64",
      "n-app-a": "2600:1f18:4a3:6e03::/64",
      "n-app-b": "2600:1f18:4a3:6e04::/64",
      "n-data-a": "2600:1f18:4a3:6e06::/64",
      "n-data-b": "2600:1f18:4a3:6e07::/64",
    });
    for (const s of all(run, SUBNET)) expect(s.inputs["assignIpv6AddressOnCreation"]).toBe(true);
    expect(
      routesOf(run, "n-public").map((r) => [r.inputs["destinationIpv6CidrBlock"], r.inputs["gatewayId"]]),
    ).toContainEqual(["::/0", idOf(run, IGW, "n-igw")]);
    for (const zone of ["a", "b"])
      expect(
        routesOf(run, `n-app-${zone}`)
          .filter((r) => r.inputs["destinationIpv6CidrBlock"])
          .map((r) => r.inputs),
      ).toEqual([
        {
          routeTableId: idOf(run, ROUTE_TABLE, `n-app-${zone}`),
          destinationIpv6CidrBlock: "::/0",
          egressOnlyGatewayId: idOf(run, EIGW, "n-eigw"),
        },
      ]);
    expect(routesOf(run, "n-data")).toEqual([]);
    const v4 = flows(run).filter((f) => !f.endsWith("::/0"));
    expect(v4).toEqual(IPV4_FLOWS);
    expect(flows(run).filter((f) => f.endsWith("::/0"))).toEqual(
      IPV4_FLOWS.filter((f) => f.endsWith("0.0.0.0/0"))
        .map((f) => f.replace("0.0.0.0/0", "::/0"))
        .sort(),
    );
  });

  test("GIVEN ipv6 with public-subnets WHEN it runs THEN no egress-only gateway (no app tier to use it) and ::/0 through the internet gateway; GIVEN no ipv6 THEN nothing IPv6 at all", async () => {
    const { run } = await declare({ ipv6: true, egress: "public-subnets" });
    expect(all(run, EIGW)).toEqual([]);
    expect(routesOf(run, "n-public").map((r) => r.inputs["destinationIpv6CidrBlock"] ?? null)).toEqual([
      null,
      "::/0",
    ]);
    const { run: v4 } = await declare({ egress: "nat-per-az" });
    expect(all(v4, EIGW)).toEqual([]);
    expect(find(v4, VPC).inputs["assignGeneratedIpv6CidrBlock"]).toBe(false);
    const v6Inputs = ["ipv6CidrBlock", "assignIpv6AddressOnCreation", "destinationIpv6CidrBlock", "cidrIpv6"];
    expect(v4.resources.filter((r) => v6Inputs.some((k) => k in r.inputs)).map((r) => r.name)).toEqual([]);
  });

  test("GIVEN another CIDR WHEN it runs THEN the VPC and every subnet are cut from it; GIVEN an unaligned CIDR or four zones THEN it refuses", async () => {
    const { run, net } = await declare({ cidr: "172.20.16.0/20" });
    expect(net.cidr).toBe("172.20.16.0/20");
    expect(find(run, VPC).inputs["cidrBlock"]).toBe("172.20.16.0/20");
    expect(Object.fromEntries(all(run, SUBNET).map((s) => [s.name, s.inputs["cidrBlock"]]))).toEqual({
      "n-public-a": "172.20.28.0/25",
      "n-public-b": "172.20.28.128/25",
      "n-app-a": "172.20.16.0/22",
      "n-app-b": "172.20.20.0/22",
      "n-data-a": "172.20.30.0/25",
      "n-data-b": "172.20.30.128/25",
    });
    await expect(declare({ cidr: "10.0.1.0/16" })).rejects.toThrow("10.0.1.0/16 is not an aligned IPv4 CIDR");
    await settle();
    await expect(declare({ availabilityZones: 4 as 2 })).rejects.toThrow("1 to 3 availability zones, not 4");
    await settle();
  });

  test("GIVEN instance types that an account's second zone lacks WHEN it runs THEN the subnets skip that zone; GIVEN none THEN the region's first zones", async () => {
    // An account whose us-east-1b is use1-az3, the zone that offers no Graviton type.
    const cloud: FakeCloudOptions = { zoneIds: { "us-east-1b": "use1-az3", "us-east-1e": "use1-az2" } };
    const zonesOf = (run: MockRun) => all(run, SUBNET).map((s) => s.inputs["availabilityZone"]);
    const plain = await declare({}, cloud);
    expect(await resolve(plain.net.availabilityZones)).toEqual(["us-east-1a", "us-east-1b"]);
    const graviton = await declare({ instanceTypes: ["c7g.large", "c7g.medium"] }, cloud);
    expect(await resolve(graviton.net.availabilityZones)).toEqual(["us-east-1a", "us-east-1c"]);
    expect(new Set(zonesOf(graviton.run))).toEqual(new Set(["us-east-1a", "us-east-1c"]));
    // An x86 type of an older generation is offered in use1-az3 too: the first zones again.
    const older = await declare({ instanceTypes: ["c5.large"] }, cloud);
    expect(await resolve(older.net.availabilityZones)).toEqual(["us-east-1a", "us-east-1b"]);
  });

  test("GIVEN two networks, blue and green, in one program WHEN it runs THEN no (type, name) pair repeats, each owns only resources named after it, and the two VPCs are apart", async () => {
    let blue: Network | undefined;
    let green: Network | undefined;
    const run = await runUnderMocks(() => {
      blue = new Network("blue", { ipv6: true });
      green = new Network("green", { egress: "nat-per-az" });
      return {};
    }, OPTS);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    for (const name of ["blue", "green"]) {
      const owned = run.resources.filter((r) => r.parent === name);
      expect(owned.length).toBeGreaterThan(40);
      for (const r of owned) expect(r.name.startsWith(`${name}-`)).toBe(true);
      // The Name tags the console shows: the resource's own logical name.
      for (const r of owned.filter((o) => o.inputs["tags"]))
        expect((r.inputs["tags"] as Record<string, string>)["Name"]).toBe(r.name);
    }
    expect(await resolve(blue!.vpcId)).not.toBe(await resolve(green!.vpcId));
    // Each network's rules join its own groups only (a group of the other would show as undefined).
    expect(flows(run, "green")).toEqual(IPV4_FLOWS);
    expect(flows(run, "blue").filter((f) => !f.endsWith("::/0"))).toEqual(IPV4_FLOWS);
  });
});
