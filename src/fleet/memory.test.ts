/**
 * Memory fit per host (src/fleet/memory.ts, src/fleet/rules/memory.ts): every shipped stack is
 * accepted, an overpacked host is refused by the key of its largest service with what fits, and the
 * sums are the table's figures added by hand.
 */
import { parseStackConfig } from "../config";
import { MEMORY_FIGURES, hostContextOf, memoryPlan, redisServerMiB } from "./memory";
import { STACKS, configErrors as errorsOf, stackConfig, withConfig } from "../../test/helpers";

const F = MEMORY_FIGURES;
const AGENTS = F.ssmAgent.mib + F.cloudwatchAgent.mib + F.metricsCollector.mib;

test.each(STACKS)("the shipped stack %s fits every host", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack));
  for (const fleet of config.fleets) {
    const plan = memoryPlan(fleet, hostContextOf(config));
    expect(plan.fits).toBe(true);
    expect(plan.neededMiB).toBeLessThanOrEqual(plan.ramMiB - F.os.mib);
  }
});

test("small's one host, summed by hand from the table: Mastodon, the agents and both Redis", () => {
  const { config } = parseStackConfig(stackConfig("small"));
  const [all] = config.fleets;
  const plan = memoryPlan(all!, hostContextOf(config));
  const onHost = config.redis.onHost!;
  const byHand =
    AGENTS +
    F.pumaMaster.mib +
    1 * F.pumaWorker.mib +
    1 * F.sidekiqProcess.mib +
    1 * F.streamingProcess.mib +
    Math.ceil(onHost.cacheMaxmemoryMiB * 1.25 + F.redisBase.mib) +
    Math.ceil(onHost.persistentMaxmemoryMiB * 1.25 + F.redisBase.mib) +
    onHost.persistentMaxmemoryMiB; // the AOF rewrite's fork
  expect(plan.neededMiB).toBe(byHand);
  expect(plan).toMatchObject({ instanceType: "c6g.medium", ramMiB: 2048, availableMiB: 2048 - F.os.mib });
  expect(redisServerMiB(64)).toBe(96);
});

// [what, mutation of the base config, the key refused, fragments of the message]
const OVERPACKED: [string, (c: any) => void, string, string[]][] = [
  [
    "twelve Puma workers on a c7g.large (the issue's example)",
    (c) => (c.fleets.web.web.processes = 12),
    "mastodon:fleets.web.web.processes",
    [
      "does not fit c7g.large",
      "Puma workers 12 x 300",
      "at most 11 Puma workers",
      "or use c7g.xlarge (8 GiB)",
    ],
  ],
  [
    "eight Sidekiq processes on a c7g.large",
    (c) => (c.fleets.workers.sidekiq.processes = 8),
    "mastodon:fleets.workers.sidekiq.processes",
    ["Sidekiq processes 8 x 512", "at most 7 Sidekiq processes", "or use c7g.xlarge"],
  ],
  [
    "web, streaming and Sidekiq with 3 workers on one c7g.medium",
    (c) => {
      c.fleets = {
        app: {
          instanceType: "c7g.medium",
          maxSize: 1,
          web: { processes: 3 },
          streaming: {},
          sidekiq: { queues: ["default", "ingress", "push", "pull", "mailers", "fasp", "scheduler"] },
        },
      };
    },
    "mastodon:fleets.app.web.processes",
    ["at most 2 Puma workers (fleets.app.web.processes) fit on c7g.medium", "or use c7g.large (4 GiB)"],
  ],
  [
    "on-host Redis too big for its host",
    (c) => {
      c.environment = "dev";
      c.fleets = {
        app: {
          instanceType: "c7g.medium",
          maxSize: 1,
          web: { processes: 1 },
          streaming: {},
          sidekiq: { queues: ["default", "ingress", "push", "pull", "mailers", "fasp", "scheduler"] },
        },
      };
      c.redis = { onHost: { persistentMaxmemoryMiB: 512 } };
    },
    "mastodon:fleets.app.web.processes",
    ["Redis persistent (maxmemory 512 MiB) 656", "lower mastodon:redis.onHost.persistentMaxmemoryMiB"],
  ],
  [
    "a fleet too big for every size of its family",
    (c) => (c.fleets.workers.sidekiq.processes = 64),
    "mastodon:fleets.workers.sidekiq.processes",
    ["or use c7g.8xlarge"],
  ],
];

describe.each(OVERPACKED)("refuses %s", (_what, mutate, key, fragments) => {
  test(`names ${key} and says what fits`, () => {
    const problem = errorsOf(withConfig(mutate)).find((p) => p.key === key);
    expect(problem).toBeDefined();
    for (const fragment of fragments) expect(problem?.message).toContain(fragment);
  });
});

test("what the message offers is what the rule accepts: the most it names fits, one more does not", () => {
  const accepted = errorsOf(withConfig((c) => (c.fleets.web.web.processes = 11)));
  expect(accepted.filter((p) => p.key.startsWith("mastodon:fleets.web"))).toEqual([]);
  expect(errorsOf(withConfig((c) => (c.fleets.web.web.processes = 12))).map((p) => p.key)).toContain(
    "mastodon:fleets.web.web.processes",
  );
  const larger = errorsOf(
    withConfig((c) => {
      c.fleets.web.web.processes = 12;
      c.fleets.web.instanceType = "c7g.xlarge";
    }),
  );
  expect(larger.filter((p) => p.key.startsWith("mastodon:fleets.web"))).toEqual([]);
});

test("PgBouncer counts only where it runs; the image source changes nothing (no runtime beside Mastodon)", () => {
  const { config } = parseStackConfig(withConfig(() => undefined));
  const web = config.fleets.find((f) => f.name === "web")!;
  const direct = memoryPlan(web, { pooled: false });
  const pooled = memoryPlan(web, { pooled: true });
  expect(pooled.neededMiB - direct.neededMiB).toBe(F.pgbouncer.mib);
  const ami = parseStackConfig(
    withConfig((c) => {
      c.image = { source: "ami", amiIds: { arm64: "ami-0123456789abcdef0" } };
    }),
  ).config;
  expect(hostContextOf(ami)).toEqual(hostContextOf(config));
});

test("every figure says where it comes from; only the rows measured here (on-host Redis, the collector) claim it", () => {
  for (const figure of Object.values(MEMORY_FIGURES)) {
    expect(figure.mib).toBeGreaterThan(0);
    expect(figure.source.length).toBeGreaterThan(40);
  }
  expect(
    Object.entries(MEMORY_FIGURES)
      .filter(([, f]) => f.measuredHere)
      .map(([k]) => k),
  ).toEqual(["metricsCollector", "redisBase"]);
});

test("the scheduler's host is warned when a one-off Rails process (retention, migrations) does not fit beside its services", () => {
  const { config, warnings } = parseStackConfig(stackConfig("small"));
  const scheduler = config.fleets.find((f) => f.servesScheduler)!;
  const warned = warnings.find((w) => w.key === `mastodon:fleets.${scheduler.name}.instanceType`)!;
  expect(warned.message).toMatch(/one-off Rails process of about 200 MiB/);
  // The other stacks' scheduler hosts have the room: no such warning.
  for (const stack of ["dev", "staging", "production"])
    expect(parseStackConfig(stackConfig(stack)).warnings.map((w) => w.key)).not.toContainEqual(
      expect.stringMatching(/instanceType$/),
    );
});
