/**
 * The rendered units and host files, exactly: the lines that matter, and the pools they carry,
 * which must be the pools the budget counted.
 */
import { fleetRows } from "../../budget/budget";
import { renderEnvFile } from "../../host/boot";
import { parseStackConfig } from "../../config";
import { SIDEKIQ_QUEUE_WEIGHTS, SIDEKIQ_QUEUES } from "../../vocabulary/defaults";
import { MAX_CLIENT_CONN_HEADROOM, renderPgbouncerIni, renderPgbouncerUnit } from "../../database/pgbouncer";
import { renderSelfManagedRedisUnit } from "../../redis/redisServer";
import {
  enabledUnits,
  renderFleetUnits,
  renderSidekiqUnits,
  renderStreamingUnit,
  renderWebUnit,
  sidekiqQueueArgs,
} from "./units";
import { RESTART_SEC, START_LIMIT_BURST, START_LIMIT_INTERVAL_SEC } from "../../host/unitPolicy";
import { STACKS, stackConfig } from "../../../test/helpers";

const production = parseStackConfig(stackConfig("production")).config;
const fleet = (name: string) => production.fleets.find((f) => f.name === name)!;
const lines = (content: string) => content.split("\n");
const envOf = (content: string) =>
  Object.fromEntries(
    lines(content)
      .filter((l) => l.startsWith("Environment="))
      .map((l) => /^Environment="([A-Z_]+)=(.*)"$/.exec(l)!.slice(1, 3) as [string, string]),
  );

describe("production units, line by line", () => {
  test("web: Puma with its per-process environment in the unit", () => {
    const unit = renderWebUnit(fleet("web"), { pooled: true });
    expect(unit.name).toBe("mastodon-web.service");
    expect(envOf(unit.content)).toEqual({
      RAILS_ENV: "production",
      PORT: "3000",
      BIND: "0.0.0.0",
      WEB_CONCURRENCY: "12",
      MAX_THREADS: "5",
      // libjemalloc2's soname: the seed's libjemalloc.so exists only with libjemalloc-dev.
      LD_PRELOAD: "libjemalloc.so.2",
    });
    expect(lines(unit.content)).toEqual(
      expect.arrayContaining([
        "ExecStart=/home/mastodon/.rbenv/shims/bundle exec puma -C config/puma.rb",
        "After=network.target mastodon-pgbouncer.service",
        "Wants=mastodon-pgbouncer.service",
        "Restart=always",
        "User=mastodon",
        "NoNewPrivileges=true",
        "ProtectSystem=strict",
        "SystemCallFilter=~@cpu-emulation @debug @keyring @ipc @mount @obsolete @privileged @setuid",
        "ReadWritePaths=/home/mastodon/live",
        "WantedBy=mastodon.target",
      ]),
    );
  });

  test("streaming: a template, %i = port, its own DB_POOL", () => {
    const unit = renderStreamingUnit(fleet("streaming"), { pooled: true });
    expect(unit.name).toBe("mastodon-streaming@.service");
    expect(envOf(unit.content)).toEqual({
      NODE_ENV: "production",
      PORT: "%i",
      BIND: "0.0.0.0",
      DB_POOL: "10",
    });
    expect(lines(unit.content)).toContain("ExecStart=/usr/bin/node ./streaming/index.js");
    expect(unit.content).not.toContain("STREAMING_CLUSTER_NUM"); // removed in Mastodon 4.2
    expect(enabledUnits(fleet("streaming"), { pooled: true })).toEqual([
      "mastodon-pgbouncer.service",
      "mastodon-streaming@4000.service",
      "mastodon-streaming@4001.service",
      "mastodon.target",
    ]);
  });

  test("direct to RDS, streaming trusts the RDS CA bundle", () => {
    const unit = renderStreamingUnit(fleet("streaming"), { pooled: false });
    expect(envOf(unit.content)["NODE_EXTRA_CA_CERTS"]).toBe("/etc/ssl/certs/rds-global-bundle.pem");
    expect(unit.content).not.toContain("pgbouncer");
  });

  test("sidekiq: one template per process, %i = threads, one -q per queue, MALLOC_ARENA_MAX, 30 s to stop", () => {
    const units = renderSidekiqUnits(fleet("sidekiq-default"), { pooled: true });
    expect(units.map((u) => u.name)).toEqual([
      "mastodon-sidekiq-default@.service",
      "mastodon-sidekiq-default-2@.service",
      "mastodon-sidekiq-default-3@.service",
      "mastodon-sidekiq-default-4@.service",
    ]);
    for (const unit of units) {
      expect(envOf(unit.content)).toEqual({
        RAILS_ENV: "production",
        DB_POOL: "%i",
        MALLOC_ARENA_MAX: "2",
        LD_PRELOAD: "libjemalloc.so.2",
      });
      expect(lines(unit.content)).toEqual(
        expect.arrayContaining([
          "ExecStart=/home/mastodon/.rbenv/shims/bundle exec sidekiq -g mastodon -c %i -q default",
          "TimeoutStopSec=30",
          "Restart=always",
        ]),
      );
    }
    expect(enabledUnits(fleet("sidekiq-default"), { pooled: true })).toEqual([
      "mastodon-pgbouncer.service",
      "mastodon-sidekiq-default@15.service",
      "mastodon-sidekiq-default-2@15.service",
      "mastodon-sidekiq-default-3@15.service",
      "mastodon-sidekiq-default-4@15.service",
      "mastodon.target",
    ]);
  });

  test("a fleet serving several queues weights each -q as Mastodon's config/sidekiq.yml does, never strict order", () => {
    const dev = parseStackConfig(stackConfig("dev")).config.fleets[0]!;
    const [unit] = renderSidekiqUnits(dev, { pooled: false });
    expect(unit?.name).toBe("mastodon-sidekiq-default-ingress-push-pull-mailers-scheduler-fasp@.service");
    // Was `-q default -q ingress ... -q scheduler -q fasp`: strict priority, a default backlog
    // starved every queue after it (src/fleet/host/sidekiq.real.test.ts runs both in real Sidekiq).
    expect(lines(unit!.content)).toContain(
      "ExecStart=/home/mastodon/.rbenv/shims/bundle exec sidekiq -g mastodon -c %i -q default,8 -q ingress,4 -q push,6 -q pull,1 -q mailers,2 -q scheduler,1 -q fasp,1",
    );
  });

  test("queue weights: Mastodon's config/sidekiq.yml; one queue alone needs none; several all carry one", () => {
    // Every queue of Mastodon 4.6 has a weight, and default outweighs every other (sidekiq.yml).
    expect(Object.keys(SIDEKIQ_QUEUE_WEIGHTS).sort()).toEqual([...SIDEKIQ_QUEUES].sort());
    for (const [queue, weight] of Object.entries(SIDEKIQ_QUEUE_WEIGHTS)) {
      expect(weight).toBeGreaterThanOrEqual(1);
      if (queue !== "default") expect(weight).toBeLessThan(SIDEKIQ_QUEUE_WEIGHTS.default);
    }
    expect(sidekiqQueueArgs(["scheduler"])).toBe("-q scheduler");
    // Unweighted, Sidekiq would take these two in strict order; with weights 1 and 1 it alternates.
    expect(sidekiqQueueArgs(["pull", "scheduler"])).toBe("-q pull,1 -q scheduler,1");
    for (const stack of STACKS) {
      for (const f of parseStackConfig(stackConfig(stack)).config.fleets) {
        if (!f.sidekiq || f.sidekiq.queues.length < 2) continue;
        for (const unit of renderSidekiqUnits(f, { pooled: false })) {
          const args = /exec sidekiq -g mastodon -c %i (.*)$/m.exec(unit.content)![1]!.split(" ");
          for (let i = 0; i < args.length; i += 2) {
            expect([stack, f.name, args[i], args[i + 1]]).toEqual([
              stack,
              f.name,
              "-q",
              expect.stringMatching(/^[a-z]+,[1-9][0-9]*$/),
            ]);
          }
        }
      }
    }
  });

  test("snapshots", () => {
    expect(
      renderFleetUnits(fleet("sidekiq-default"), { pooled: true })
        .map((u) => `--- ${u.name}\n${u.content}`)
        .join("\n"),
    ).toMatchSnapshot();
    expect(
      renderFleetUnits(fleet("web"), { pooled: true })
        .map((u) => `--- ${u.name}\n${u.content}`)
        .join("\n"),
    ).toMatchSnapshot();
    expect(
      renderFleetUnits(fleet("streaming"), { pooled: true })
        .map((u) => `--- ${u.name}\n${u.content}`)
        .join("\n"),
    ).toMatchSnapshot();
    expect(renderPgbouncerUnit().content).toMatchSnapshot("mastodon-pgbouncer.service");
    expect(renderSelfManagedRedisUnit("/etc/redis/mastodon.conf", "/var/lib/redis-mastodon")).toMatchSnapshot(
      "redis-mastodon.service",
    );
  });
});

describe.each(STACKS)("stack %s: every unit's pool is the pool the budget counted", (stack) => {
  const { config, budget } = parseStackConfig(stackConfig(stack));
  const ctx = { pooled: config.database.pooler === "pgbouncer" };
  test.each(config.fleets.map((f) => [f.name, f] as const))("fleet %s", (_name, f) => {
    const rows = budget.rows.filter((r) => r.fleet === f.name);
    expect(rows).toEqual(fleetRows(f));
    for (const row of rows) {
      switch (row.service) {
        case "web":
          expect(envOf(renderWebUnit(f, ctx).content)["MAX_THREADS"]).toBe(String(row.pool));
          expect(envOf(renderWebUnit(f, ctx).content)["WEB_CONCURRENCY"]).toBe(String(row.processes));
          break;
        case "streaming":
          expect(envOf(renderStreamingUnit(f, ctx).content)["DB_POOL"]).toBe(String(row.pool));
          expect(enabledUnits(f, ctx).filter((u) => u.startsWith("mastodon-streaming@"))).toHaveLength(
            row.processes,
          );
          break;
        case "sidekiq": {
          // DB_POOL=%i and -c %i, with %i the thread count every instance is enabled with.
          const instances = enabledUnits(f, ctx).filter((u) => u.startsWith("mastodon-sidekiq-"));
          expect(instances).toHaveLength(row.processes);
          for (const instance of instances) expect(instance).toMatch(new RegExp(`@${row.pool}\\.service$`));
          break;
        }
      }
    }
  });
  if (ctx.pooled) {
    test("PgBouncer pools are the budget's server pools", () => {
      for (const p of budget.pgbouncer ?? []) {
        const f = config.fleets.find((x) => x.name === p.fleet)!;
        const ini = renderPgbouncerIni({
          fleet: f,
          primaryHost: "db.example",
          databaseName: "mastodon_production",
        });
        expect(ini).toContain(`default_pool_size = ${p.poolSize}\n`);
        expect(ini).toContain(`max_db_connections = ${p.poolSize}\n`);
        // Every client the processes open, and the named headroom above them.
        expect(ini).toContain(`max_client_conn = ${p.clientConnectionsPerHost + MAX_CLIENT_CONN_HEADROOM}\n`);
        expect(ini).toContain("pool_mode = transaction\n");
        expect(ini).toContain("server_tls_sslmode = verify-full\n");
      }
    });
  }
});

describe("the env file", () => {
  test("sorted KEY=value lines", () => {
    expect(renderEnvFile({ B: "2", A: "{{ssm:/x/y}}" }, "header")).toBe("# header\nA={{ssm:/x/y}}\nB=2\n");
  });
  test.each(["a b", 'a"b', "a#b", "a$b", "a\\b"])(
    "refuses %j, which dotenv could read differently",
    (value) => {
      expect(() => renderEnvFile({ K: value }, "h")).toThrow("would need quoting");
    },
  );
});

describe("restarts: Restart=always never exhausts the start limit while a dependency is down", () => {
  test("START_LIMIT_BURST x RESTART_SEC > START_LIMIT_INTERVAL_SEC", () => {
    expect(START_LIMIT_BURST * RESTART_SEC).toBeGreaterThan(START_LIMIT_INTERVAL_SEC);
    // Starts RESTART_SEC apart: at most this many fall in one interval, within the burst.
    expect(Math.floor(START_LIMIT_INTERVAL_SEC / RESTART_SEC) + 1).toBeLessThanOrEqual(START_LIMIT_BURST);
  });

  const dev = parseStackConfig(stackConfig("dev")).config.fleets[0]!;
  const services = [
    ...renderFleetUnits(dev, { pooled: true }).filter((u) => u.name.endsWith(".service")),
    renderPgbouncerUnit(),
    {
      name: "redis-mastodon.service",
      content: renderSelfManagedRedisUnit("/etc/redis/m.conf", "/var/lib/r"),
    },
  ];
  test("the services are web, streaming, sidekiq, pgbouncer and redis", () => {
    expect(services.map((u) => u.name)).toEqual([
      "mastodon-web.service",
      "mastodon-streaming@.service",
      "mastodon-sidekiq-default-ingress-push-pull-mailers-scheduler-fasp@.service",
      "mastodon-pgbouncer.service",
      "redis-mastodon.service",
    ]);
  });
  test.each(services.map((u) => [u.name, u.content] as const))(
    "%s: Restart=always, RestartSec and the start limit from the named constants",
    (_name, content) => {
      const unitPart = content.slice(content.indexOf("[Unit]"), content.indexOf("[Service]"));
      const servicePart = content.slice(content.indexOf("[Service]"), content.indexOf("[Install]"));
      expect(lines(unitPart)).toEqual(
        expect.arrayContaining([
          `StartLimitIntervalSec=${START_LIMIT_INTERVAL_SEC}`,
          `StartLimitBurst=${START_LIMIT_BURST}`,
        ]),
      );
      expect(lines(servicePart)).toEqual(
        expect.arrayContaining(["Restart=always", `RestartSec=${RESTART_SEC}`]),
      );
    },
  );
});
