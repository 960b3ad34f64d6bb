import { computeBudget, fleetRows, pgbouncerRow, poolOf } from "./budget";
import { rdsClassSpec } from "../vocabulary/catalog";
import { ConfigError, type DatabaseInstance, type Fleet, parseStackConfig } from "../config";
import { configProblems } from "../../test/helpers";

const c7gLarge = {
  instanceType: "c7g.large",
  family: "c7g",
  size: "large",
  vcpu: 2,
  memoryGiB: 4,
  architecture: "arm64",
  usdPerHour: 0.0725,
} as const;

function fleet(name: string, services: Partial<Fleet>, maxSize = 1): Fleet {
  return {
    name,
    instanceType: "c7g.large",
    instance: c7gLarge,
    spot: false,
    rootVolumeGiB: 30,
    minSize: 1,
    desiredSize: 1,
    maxSize,
    servesScheduler: services.sidekiq?.queues.includes("scheduler") ?? false,
    configured: new Set(),
    ...services,
  };
}
const sidekiq = (queues: string[], threads: number, processes = 1) => ({
  sidekiq: { queues: queues as never, processes, threads },
});

function database(instanceClass: string, maxConnections: number, workMemMiB = 4): DatabaseInstance {
  return {
    instanceClass,
    spec: rdsClassSpec(instanceClass)!,
    maxConnections,
    maxConnectionsOverridden: true,
    workMemMiB,
  };
}

/**
 * scaling-mastodon-compendium.txt, 200 max_connections: web 3 x 10 = 30, streaming 3 x 15 = 45,
 * four Sidekiq at 25 = 100, push-scheduler 5, push-mailers 5: 185, "15 loose connections".
 */
const compendiumFleets: Fleet[] = [
  fleet("web", { web: { processes: 3, threads: 10 } }),
  fleet("streaming", { streaming: { processes: 3, dbPool: 15, ports: [4000, 4001, 4002] } }),
  fleet("sidekiq-default-push-pull", sidekiq(["default", "push", "pull"], 25)),
  fleet("sidekiq-default-pull-push", sidekiq(["default", "pull", "push"], 25)),
  fleet("sidekiq-pull-default-push", sidekiq(["pull", "default", "push"], 25)),
  fleet("sidekiq-push-default-pull", sidekiq(["push", "default", "pull"], 25)),
  fleet("sidekiq-push-scheduler", sidekiq(["push", "scheduler"], 5)),
  fleet("sidekiq-push-mailers", sidekiq(["push", "mailers"], 5)),
];

describe("the compendium's worked example", () => {
  const budget = computeBudget({
    fleets: compendiumFleets,
    database: database("db.t4g.small", 200),
    pooler: "none",
    headroom: 15,
  });

  test("rows carry the compendium's per-service numbers", () => {
    expect(budget.rows.map((r) => [r.fleet, r.service, r.processes, r.pool, r.connections])).toEqual([
      ["web", "web", 3, 10, 30],
      ["streaming", "streaming", 3, 15, 45],
      ["sidekiq-default-push-pull", "sidekiq", 1, 25, 25],
      ["sidekiq-default-pull-push", "sidekiq", 1, 25, 25],
      ["sidekiq-pull-default-push", "sidekiq", 1, 25, 25],
      ["sidekiq-push-default-pull", "sidekiq", 1, 25, 25],
      ["sidekiq-push-scheduler", "sidekiq", 1, 5, 5],
      ["sidekiq-push-mailers", "sidekiq", 1, 5, 5],
    ]);
  });

  test("185 connections, 15 left of 200", () => {
    expect(budget.clientConnections).toBe(185);
    expect(budget.maxConnections - budget.clientConnections).toBe(15);
  });

  test("and one more web and streaming host while each launches its replacement first: 75", () => {
    expect(budget.rows.filter((r) => r.surgeHosts > 0).map((r) => [r.fleet, r.surgeConnections])).toEqual([
      ["web", 30],
      ["streaming", 45],
    ]);
    expect(budget.surgeConnections).toBe(75);
    expect(budget.total).toBe(185 + 75 + 15);
  });

  test("it does not fit our 90% rule: 275 > 175 (90% of 195 usable)", () => {
    expect(budget.usable).toBe(195);
    expect(budget.limit).toBe(175);
    expect(budget.spare).toBe(-100);
  });

  test("as stack config it is refused by the budget rule, with the figures and the keys to change", () => {
    const fleets: Record<string, unknown> = {};
    for (const f of compendiumFleets) {
      fleets[f.name] = {
        instanceType: "c7g.large",
        maxSize: 1,
        ...(f.web && { web: { processes: f.web.processes, threads: f.web.threads } }),
        ...(f.streaming && { streaming: { processes: f.streaming.processes, dbPool: f.streaming.dbPool } }),
        ...(f.sidekiq && { sidekiq: { queues: [...f.sidekiq.queues], threads: f.sidekiq.threads } }),
      };
    }
    // The compendium predates the ingress and fasp queues; give them to the mailers process.
    (fleets["sidekiq-push-mailers"] as { sidekiq: { queues: string[] } }).sidekiq.queues.push(
      "ingress",
      "fasp",
    );
    const raw = {
      environment: "staging",
      domain: "test.example",
      dns: { zoneId: "Z0123456789TEST", zoneName: "test.example" },
      version: "v4.6.5",
      database: { instanceClass: "db.t4g.small", maxConnections: 200 },
      fleets,
    };
    expect(() => parseStackConfig(raw)).toThrow(ConfigError);
    const problems = configProblems(raw);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ severity: "error", key: "mastodon:fleets" });
    expect(problems[0]?.message).toContain(
      "fleets hold 185 connections at maximum size and 75 more while replacements launch first (+ 15 headroom = 275)",
    );
    expect(problems[0]?.message).toContain(
      "allows 175: 90% of 195 usable (200 - 3 superuser - 2 rds_superuser reserved)",
    );
    expect(problems[0]?.message).toContain("mastodon:database.pooler pgbouncer");
  });
});

describe("maximum size, not desired size, is what the budget counts", () => {
  test.each([
    [1, 1, 20],
    [1, 5, 100],
    [3, 10, 200],
  ])("desired %d, max %d -> %d connections", (desired, max, connections) => {
    const f = { ...fleet("w", sidekiq(["default"], 10, 2), max), desiredSize: desired };
    expect(fleetRows(f)[0]?.connections).toBe(connections);
  });
});

describe("pools: the single source later tiers read", () => {
  const f = fleet("all", {
    web: { processes: 3, threads: 5 },
    streaming: { processes: 2, dbPool: 10, ports: [4000, 4001] },
    ...sidekiq(["default"], 12, 2),
  });
  test.each([
    ["web", 5],
    ["streaming", 10],
    ["sidekiq", 12],
  ] as const)("%s pool is %d", (service, pool) => expect(poolOf(f, service)).toBe(pool));
  test("asking for a service the fleet does not run is a programming error", () => {
    expect(() => poolOf(fleet("x", sidekiq(["default"], 5)), "web")).toThrow("runs no web");
  });
});

describe("PgBouncer: Postgres sees hosts x default_pool_size", () => {
  test.each([
    // clients per host 4 x 15 = 60; pool 12; 12 hosts
    [4, 15, 12, 12, 60, 12, 144],
    // pool larger than the clients that could use it is capped at the clients
    [1, 5, 20, 3, 5, 5, 15],
  ])("%d x %d threads, pool %d, %d hosts", (processes, threads, pool, hosts, clients, poolSize, server) => {
    const f = { ...fleet("d", sidekiq(["default"], threads, processes), hosts), pgbouncerPoolSize: pool };
    expect(pgbouncerRow(f)).toEqual({
      fleet: "d",
      maxSize: hosts,
      clientConnectionsPerHost: clients,
      poolSize,
      serverConnections: server,
      // A queue fleet terminates before it launches: no host beside maxSize.
      surgeHosts: 0,
      surgeServerConnections: 0,
    });
  });

  test("the budget checks server connections, rows keep what processes hold", () => {
    const fleets = [
      { ...fleet("d", sidekiq(["default"], 15, 4), 12), pgbouncerPoolSize: 12 },
      { ...fleet("w", { web: { processes: 12, threads: 5 } }, 10), pgbouncerPoolSize: 12 },
    ];
    const b = computeBudget({
      fleets,
      database: database("db.r7g.2xlarge", 500),
      pooler: "pgbouncer",
      headroom: 15,
    });
    expect(b.clientConnections).toBe(720 + 600);
    expect(b.fleetConnections).toBe(144 + 120);
    // The web fleet's one replacement launched first opens its PgBouncer's pool beside the ten.
    expect(b.surgeConnections).toBe(12);
    expect(b.total).toBe(144 + 120 + 12 + 15);
    expect(b.limit).toBe(445);
  });

  test("work_mem x max_connections is reported against 2 x RAM", () => {
    const b = computeBudget({
      fleets: [],
      database: database("db.t4g.micro", 112, 9),
      pooler: "none",
      headroom: 15,
    });
    expect([b.workMemTotalMiB, b.workMemCeilingMiB]).toEqual([1008, 2048]);
  });
});
