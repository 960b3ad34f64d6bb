import { ConfigError, type Problem, namespaceConfig, parseStackConfig } from "../core/config";
import { baseConfig, withConfig } from "./helpers";

function problemsOf(raw: Record<string, unknown>): readonly Problem[] {
  try {
    return parseStackConfig(raw).warnings;
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
}

test("the base config is valid and resolves its defaults", () => {
  const { config, warnings } = parseStackConfig(baseConfig());
  expect(warnings).toEqual([]);
  const web = config.fleets.find((f) => f.name === "web");
  expect(web?.web).toEqual({ processes: 3, threads: 5 }); // round(1.5 x 2 vCPU), MAX_THREADS 5
  expect(config.fleets.find((f) => f.name === "streaming")?.streaming).toEqual({
    processes: 1,
    dbPool: 10,
    ports: [4000],
  });
  expect(config.fleets.find((f) => f.name === "streaming")).toMatchObject({
    minSize: 1,
    desiredSize: 1,
    maxSize: 2,
  });
  expect(config.database).toMatchObject({
    multiAz: false,
    engineVersion: "17",
    pooler: "none",
    adminHeadroom: 15,
  });
  expect(config.database.primary).toMatchObject({ maxConnections: 450, workMemMiB: 9 });
  expect(config.network.egress).toBe("single-nat");
  expect(config.redis.cache).toMatchObject({ engine: "valkey", engineVersion: "8.0", nodes: 1 });
  expect(config.mail.fromAddress).toBe("notifications@test.example");
});

test("production defaults to Multi-AZ and a NAT gateway per AZ", () => {
  const { config } = parseStackConfig(withConfig((c) => (c.environment = "production")));
  expect(config.database.multiAz).toBe(true);
  expect(config.network.egress).toBe("nat-per-az");
});

// Each rule, broken by one change, must name the key to fix and say why.
const BROKEN: [string, (c: any) => void, string, string][] = [
  [
    "a non-c-family instance type",
    (c) => (c.fleets.web.instanceType = "m7g.large"),
    "mastodon:fleets.web.instanceType",
    "is not a c-family instance type",
  ],
  [
    "a c-family size the catalog lacks",
    (c) => (c.fleets.web.instanceType = "c7g.metal"),
    "mastodon:fleets.web.instanceType",
    "not in the c-family catalog",
  ],
  [
    "an unknown queue",
    (c) => c.fleets.workers.sidekiq.queues.push("mail"),
    "mastodon:fleets.workers.sidekiq.queues[6]",
    "is not a Sidekiq queue of Mastodon 4.6",
  ],
  [
    "a queue served by no fleet",
    (c) => c.fleets.workers.sidekiq.queues.splice(5, 1),
    "mastodon:fleets",
    'no fleet serves the Sidekiq queue(s) "fasp"',
  ],
  [
    "no web service",
    (c) => {
      delete c.fleets.web.web;
      c.fleets.web.streaming = {};
    },
    "mastodon:fleets",
    "no fleet runs web",
  ],
  [
    "scheduler on two hosts",
    (c) => (c.fleets.scheduler.maxSize = 2),
    "mastodon:fleets.scheduler.maxSize",
    "would run 2 scheduler processes at maximum size",
  ],
  [
    "scheduler in two processes",
    (c) => (c.fleets.scheduler.sidekiq.processes = 2),
    "mastodon:fleets.scheduler.sidekiq.processes",
    "would run 2 scheduler processes",
  ],
  [
    "scheduler in two fleets",
    (c) => c.fleets.workers.sidekiq.queues.push("scheduler"),
    "mastodon:fleets.scheduler.sidekiq.queues",
    'Fleet workers already serves it; remove "scheduler" here',
  ],
  [
    "threads over 50",
    (c) => (c.fleets.workers.sidekiq.threads = 80),
    "mastodon:fleets.workers.sidekiq.threads",
    "exceeds 50 threads per Sidekiq process",
  ],
  [
    "the 90% budget",
    (c) => (c.fleets.workers.maxSize = 20),
    "mastodon:fleets",
    "fleets hold 455 connections at maximum size (+ 15 headroom = 470) but the database (db.t4g.medium, max_connections 450) allows 400",
  ],
  [
    "max_connections over 1000",
    (c) => (c.database = { instanceClass: "db.r7g.xlarge", maxConnections: 1200 }),
    "mastodon:database.maxConnections",
    "exceeds 1000",
  ],
  [
    "work_mem x max_connections over 2 x RAM",
    (c) => (c.database.workMemMiB = 64),
    "mastodon:database.workMemMiB",
    "more than 2 x the 4 GiB of db.t4g.medium",
  ],
  [
    "the replica's own budget",
    (c) => (c.database.replica = { instanceClass: "db.t4g.micro" }),
    "mastodon:fleets",
    "the read replica (db.t4g.micro, max_connections 112) allows 96",
  ],
  [
    "desired below min",
    (c) => Object.assign(c.fleets.web, { minSize: 2, desiredSize: 1 }),
    "mastodon:fleets.web.desiredSize",
    "is below minSize 2",
  ],
  [
    "max below desired",
    (c) => Object.assign(c.fleets.web, { desiredSize: 3, maxSize: 2 }),
    "mastodon:fleets.web.maxSize",
    "is below desiredSize 3",
  ],
  [
    "a fleet with no service",
    (c) => (c.fleets.idle = { instanceType: "c7g.large" }),
    "mastodon:fleets.idle",
    "runs no service",
  ],
  [
    "a misspelt key",
    (c) => (c.fleets.web.maxsize = 3),
    "mastodon:fleets.web.maxsize",
    "did you mean maxSize?",
  ],
  [
    "a bad fleet name",
    (c) => (c.fleets["Web_1"] = c.fleets.web),
    "mastodon:fleets.Web_1",
    "fleet names are 2-32 characters",
  ],
  [
    "a missing database class",
    (c) => delete c.database.instanceClass,
    "mastodon:database.instanceClass",
    "is required",
  ],
  [
    "an unknown RDS class",
    (c) => (c.database.instanceClass = "db.t3.micro"),
    "mastodon:database.instanceClass",
    "is not a known RDS class",
  ],
  [
    "single-AZ in production",
    (c) => {
      c.environment = "production";
      c.database.multiAz = false;
    },
    "mastodon:database.multiAz",
    "allowSingleAz true",
  ],
  [
    "AOF asked of ElastiCache",
    (c) => (c.redis = { persistent: { appendOnly: true } }),
    "mastodon:redis.persistent.appendOnly",
    "mode self-managed-aof",
  ],
  [
    "one persistent Redis node in production",
    (c) => {
      c.environment = "production";
      c.redis = { persistent: { nodes: 1 } };
    },
    "mastodon:redis.persistent.nodes",
    "automatic failover",
  ],
  [
    "an operator's AMI missing for an architecture a fleet runs",
    (c) => {
      c.image = { source: "ami", amiIds: { arm64: "ami-0123456789abcdef0" } };
      c.fleets.web.instanceType = "c7i.large";
    },
    "mastodon:image.amiIds.x86_64",
    "fleets web run x86_64 instances",
  ],
  [
    "AMI ids with the official images",
    (c) => (c.image = { amiIds: { arm64: "ami-0123456789abcdef0" } }),
    "mastodon:image.amiIds",
    "is read only with mastodon:image.source ami",
  ],
  [
    "a version that is not a Mastodon 4.6 release tag",
    (c) => (c.version = "latest"),
    "mastodon:version",
    "is not a release: a stack pins one Mastodon release",
  ],
  ["no version", (c) => delete c.version, "mastodon:version", "is required"],
  [
    "a media domain without a certificate or a zone",
    (c) => {
      delete c.dns;
      c.loadBalancer = { certificateArn: "arn:aws:acm:us-east-1:123456789012:certificate/0b4e2f3a-1c2d" };
      c.media = { customDomain: "media.test.example" };
    },
    "mastodon:media.certificateArn",
    "issued in us-east-1",
  ],
  [
    "an ALB without a certificate or a zone",
    (c) => delete c.dns,
    "mastodon:loadBalancer.certificateArn",
    "the HTTPS listener needs a certificate for test.example",
  ],
  [
    "a web domain outside the zone",
    (c) => (c.dns.zoneName = "other.example"),
    "mastodon:domain",
    "is not inside mastodon:dns.zoneName other.example",
  ],
  [
    "a media domain outside the zone",
    (c) => (c.media = { customDomain: "files.elsewhere.example" }),
    "mastodon:media.customDomain",
    "is not inside mastodon:dns.zoneName test.example",
  ],
  [
    "more streaming processes than one forward action reaches",
    (c) => (c.fleets.streaming.streaming = { processes: 6 }),
    "mastodon:fleets.streaming.streaming.processes",
    "exceeds 5: the ALB reaches each streaming port through its own target group",
  ],
  [
    "streaming fleets with different process counts",
    (c) => (c.fleets.web.streaming = { processes: 2 }),
    "mastodon:fleets.streaming.streaming.processes",
    "every streaming host must run the same number of processes",
  ],
  [
    "SMTP without settings",
    (c) => (c.mail = { provider: "smtp" }),
    "mastodon:mail.smtp",
    "is required with mastodon:mail.provider smtp",
  ],
  [
    "an engine version RDS lacks",
    (c) => (c.database.engineVersion = "15"),
    "mastodon:database.engineVersion",
    'must be "16" or "17"',
  ],
  ["a domain with capitals", (c) => (c.domain = "Test.Example"), "mastodon:domain", "lower-case DNS name"],
];

describe.each(BROKEN)("refuses %s", (_name, mutate, key, fragment) => {
  test(`names ${key}`, () => {
    const problems = problemsOf(withConfig(mutate)).filter((p) => p.severity === "error");
    const match = problems.find((p) => p.key === key);
    expect(match).toBeDefined();
    expect(match?.message).toContain(fragment);
  });
});

describe("warnings do not stop the deployment", () => {
  test.each([
    [
      "threads over 25",
      (c: any) => (c.fleets.workers.sidekiq.threads = 30),
      "mastodon:fleets.workers.sidekiq.threads",
      "above 25 threads",
    ],
    [
      "max_connections over 512",
      (c: any) => (c.database = { instanceClass: "db.r7g.large", maxConnections: 600 }),
      "mastodon:database.maxConnections",
      "is above 512",
    ],
    [
      "max_connections above RDS's formula",
      (c: any) => (c.database.maxConnections = 480),
      "mastodon:database.maxConnections",
      "above what RDS's memory formula gives db.t4g.medium (450)",
    ],
  ])("%s", (_name, mutate, key, fragment) => {
    const { warnings } = parseStackConfig(withConfig(mutate));
    expect(warnings.find((w) => w.key === key)?.message).toContain(fragment);
  });
});

test("every problem is reported at once, each with its key and value", () => {
  const raw = withConfig((c) => {
    c.fleets.web.instanceType = "t3.large";
    c.fleets.workers.sidekiq.threads = 80;
    c.fleets.workers.maxsize = 3;
    c.database.instanceClass = "db.t3.micro";
    c.environment = "prod";
  });
  const error = (() => {
    try {
      parseStackConfig(raw, "broken");
    } catch (e) {
      return e as ConfigError;
    }
  })();
  expect(error).toBeInstanceOf(ConfigError);
  expect(error?.problems.map((p) => p.key).sort()).toEqual([
    "mastodon:database.instanceClass",
    "mastodon:environment",
    "mastodon:fleets.web.instanceType",
    "mastodon:fleets.workers.maxsize",
    "mastodon:fleets.workers.sidekiq.threads",
  ]);
  const text = error?.message.split("\n") ?? [];
  expect(text[0]).toBe('invalid config of stack "broken": 5 problems');
  expect(text).toContain(
    '  mastodon:environment: "prod" is not allowed; use one of "dev", "staging", "production"',
  );
  expect(
    text.some((l) =>
      l.startsWith("  mastodon:fleets.workers.sidekiq.threads: 80 exceeds 50 threads per Sidekiq process"),
    ),
  ).toBe(true);
  expect(text.some((l) => l.includes("sidekiq.processes 4 with sidekiq.threads 20"))).toBe(true);
});

describe("namespaceConfig reads Pulumi's config map", () => {
  test("objects arrive as JSON text, top-level scalars as strings, other namespaces ignored", () => {
    expect(
      namespaceConfig({
        "aws:region": "us-east-1",
        "mastodon:environment": "dev",
        "mastodon:fleets": '{"app":{"maxSize":2,"web":{}}}',
        "mastodon:image": '{"amiId":"ami-12345678"}',
      }),
    ).toEqual({
      environment: "dev",
      fleets: { app: { maxSize: 2, web: {} } },
      image: { amiId: "ami-12345678" },
    });
  });
});
