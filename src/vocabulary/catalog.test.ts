import { cacheNodeSpec, ec2InstanceSpec, rdsClassSpec } from "./catalog";
import { maxConnectionsFor, rdsDefaultMaxConnections, workMemMiBFor } from "../database/postgres";

describe("EC2 c-family catalog", () => {
  test.each([
    ["c7g.medium", 1, 2, "arm64", 0.0363],
    ["c7g.large", 2, 4, "arm64", 0.0725],
    ["c7g.2xlarge", 8, 16, "arm64", 0.29],
    ["c7i.xlarge", 4, 8, "x86_64", 0.1785],
    ["c6a.12xlarge", 48, 96, "x86_64", 1.836],
    ["c5n.xlarge", 4, 10.5, "x86_64", 0.216],
    ["c7i-flex.large", 2, 4, "x86_64", 0.08479],
    ["c8gn.medium", 1, 2, "arm64", 0.0593],
  ])("%s: %d vCPU, %d GiB, %s, $%d/h", (type, vcpu, mem, arch, price) => {
    expect(ec2InstanceSpec(type)).toMatchObject({
      vcpu,
      memoryGiB: mem,
      architecture: arch,
      usdPerHour: price,
    });
  });

  test.each(["t3.large", "m7g.large", "c4.large", "c7g.metal", "c5.9xlarge", "c7g", "C7G.LARGE"])(
    "%s is not in the catalog",
    (type) => expect(ec2InstanceSpec(type)).toBeUndefined(),
  );
});

describe("RDS classes and RDS's default max_connections (RAM / 9531392, at most 5000)", () => {
  test.each([
    ["db.t4g.micro", 1, 112],
    ["db.t4g.small", 2, 225],
    ["db.t4g.medium", 4, 450],
    ["db.t4g.large", 8, 901],
    ["db.m7g.large", 8, 901],
    ["db.m7g.xlarge", 16, 1802],
    ["db.r7g.large", 16, 1802],
    ["db.r7g.2xlarge", 64, 5000],
    ["db.r6g.4xlarge", 128, 5000],
  ])("%s: %d GiB -> %d", (cls, gib, max) => {
    const spec = rdsClassSpec(cls);
    expect(spec?.memoryGiB).toBe(gib);
    expect(rdsDefaultMaxConnections(spec!)).toBe(max);
  });

  test.each(["db.t3.micro", "db.x2g.large", "r7g.large", "db.r7g.32xlarge"])("%s is unknown", (cls) =>
    expect(rdsClassSpec(cls)).toBeUndefined(),
  );

  test("the package caps the formula at 500 unless overridden", () => {
    expect(maxConnectionsFor(rdsClassSpec("db.t4g.medium")!)).toBe(450);
    expect(maxConnectionsFor(rdsClassSpec("db.r7g.large")!)).toBe(500);
    expect(maxConnectionsFor(rdsClassSpec("db.r7g.large")!, 800)).toBe(800);
  });

  test.each([
    ["db.t4g.micro", 112, 9], // 1024 MiB / 112
    ["db.t4g.medium", 450, 9],
    ["db.r7g.large", 500, 32],
    ["db.r7g.2xlarge", 500, 64], // 131 clamped to 64
    ["db.t4g.micro", 1000, 4], // 1 clamped up to PostgreSQL's default 4
  ])("work_mem for %s at %d connections is %d MiB", (cls, max, mib) => {
    expect(workMemMiBFor(rdsClassSpec(cls)!, max)).toBe(mib);
  });
});

describe("ElastiCache node memory", () => {
  test.each([
    ["cache.t4g.micro", 0.5],
    ["cache.t4g.small", 1.37],
    ["cache.r7g.large", 13.07],
    ["cache.m7g.xlarge", 12.94],
  ])("%s: %d GiB", (type, gib) => expect(cacheNodeSpec(type)?.memoryGiB).toBe(gib));
  test("unknown node types", () => expect(cacheNodeSpec("cache.r5.large")).toBeUndefined());
});
