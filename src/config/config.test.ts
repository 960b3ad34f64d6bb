import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, type Problem, formatProblem, namespaceConfig, parseStackConfig } from "./index";
import { planStack } from "../cli/plan";
import program from "../../index";
import { ROOT, baseConfig, configErrors, configProblems, withConfig } from "../../test/helpers";

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
    "fleets hold 455 connections at maximum size and 25 more while replacements launch first (+ 15 headroom = 495) but the database (db.t4g.medium, max_connections 450) allows 400",
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
    const problems = configErrors(withConfig(mutate));
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

// ---------------------------------------------------------------------------------------------
// Issue 20: config read as written, every key's problems at once, settings nothing reads.

const keysOf = (problems: readonly Problem[], severity: Problem["severity"] = "error") =>
  problems
    .filter((p) => p.severity === severity)
    .map((p) => p.key)
    .sort();

describe("one pass, whatever is malformed", () => {
  test("a stack whose only fleet is malformed still reports every other key's problems", () => {
    const problems = configProblems(
      withConfig((c) => {
        c.fleets = {
          app: {
            instanceType: "t3.large", // the stack's only fleet, malformed
            web: {},
            streaming: {},
            sidekiq: { queues: ["default", "push", "ingress", "mailers", "pull", "scheduler", "fasp"] },
          },
        };
        c.database.storageGiB = 500; // a problem of its own, elsewhere
        c.database.maxStorageGiB = 500;
      }),
    );
    expect(keysOf(problems)).toEqual(["mastodon:database.maxStorageGiB", "mastodon:fleets.app.instanceType"]);
  });

  test("an unknown key is set aside alone: the rules still run on its parent and everything else", () => {
    const problems = configProblems(
      withConfig((c) => {
        c.domian = "typo.example"; // unknown at the top
        c.database.storageGiB = 500;
        c.database.maxStorageGiB = 500; // same parent as the next unknown key
        c.database.maxConnection = 100;
        c.fleets.web.spot = true;
      }),
    );
    expect(keysOf(problems)).toEqual([
      "mastodon:database.maxConnection",
      "mastodon:database.maxStorageGiB",
      "mastodon:domian",
      "mastodon:fleets.web.spot",
    ]);
    expect(problems.find((p) => p.key === "mastodon:domian")?.message).toContain("did you mean domain?");
  });

  test("a required value missing takes its parent aside, and no rule reports what follows from that", () => {
    const problems = configProblems(
      withConfig((c) => {
        delete c.database.instanceClass;
        c.fleets.workers.maxSize = 20; // over db.t4g.medium's budget: not a finding without a database
        c.fleets.web.spot = true;
      }),
    );
    expect(keysOf(problems)).toEqual(["mastodon:database.instanceClass", "mastodon:fleets.web.spot"]);
  });
});

describe("values as written", () => {
  test("a latency target is shown as written, not in seconds", () => {
    const problems = configProblems(
      withConfig((c) => {
        c.fleets.workers.minSize = 2; // one size: nothing to act on
        c.fleets.workers.queueLatencyTarget = "2m";
      }),
    );
    const refusal = problems.find(
      (p) =>
        p.key === "mastodon:fleets.workers.queueLatencyTarget" && p.message.includes("nothing to act on"),
    );
    expect(refusal?.value).toBe("2m");
    expect(formatProblem(refusal as Problem)).toMatch(
      /^mastodon:fleets\.workers\.queueLatencyTarget: "2m" has/,
    );
  });

  test("against an alarm, the target and the alarm's threshold as written", () => {
    const problems = configProblems(
      withConfig((c) => {
        c.alarms = { queueLatency: { default: "60s" } };
        c.fleets.workers.queueLatencyTarget = "120s";
      }),
    );
    const refusal = problems.find((p) => p.message.includes("the default queue's latency alarm"));
    expect(refusal?.value).toBe("120s");
    expect(refusal?.message).toContain("(alarms.queueLatency.default, 60s)");
  });

  test("an unknown queue under alarms.queueLatency lists the queues", () => {
    const problems = configProblems(withConfig((c) => (c.alarms = { queueLatency: { federation: "1m" } })));
    expect(problems.find((p) => p.key === "mastodon:alarms.queueLatency.federation")?.message).toBe(
      "is not a known key; known keys here: default, push, ingress, mailers, pull, scheduler, fasp",
    );
  });
});

describe("settings nothing reads are warned about, by key, value and what to do", () => {
  test("PgBouncer's settings without the pooler", () => {
    const { warnings } = parseStackConfig(
      withConfig((c) => {
        c.database.pgbouncer = { defaultPoolSize: 10 };
        c.fleets.workers.pgbouncerPoolSize = 5;
        c.alarms = { pgbouncerMaxWait: "3s" };
      }),
    );
    expect(warnings.map((w) => [w.key, w.value])).toEqual([
      ["mastodon:database.pgbouncer.defaultPoolSize", 10],
      ["mastodon:fleets.workers.pgbouncerPoolSize", 5],
      ["mastodon:alarms.pgbouncerMaxWait", "3s"],
    ]);
    for (const w of warnings) {
      expect(w.severity).toBe("warning");
      expect(w.message).toContain("is read only with mastodon:database.pooler pgbouncer");
      expect(w.message).toContain("Set mastodon:database.pooler pgbouncer to pool connections, or remove it");
    }
    // With the pooler they are read: not this warning.
    const pooled = parseStackConfig(
      withConfig((c) => {
        c.database.pooler = "pgbouncer";
        c.database.pgbouncer = { defaultPoolSize: 5 };
        c.fleets.workers.pgbouncerPoolSize = 5;
      }),
    );
    expect(pooled.warnings.filter((w) => w.message.includes("is read only with"))).toEqual([]);
  });

  test("the persistent Redis's settings of the mode not chosen", () => {
    const elasticache = parseStackConfig(
      withConfig((c) => (c.redis = { persistent: { instanceType: "c7g.large", volumeGiB: 40 } })),
    );
    expect(elasticache.warnings.map((w) => [w.key, w.value])).toEqual([
      ["mastodon:redis.persistent.instanceType", "c7g.large"],
      ["mastodon:redis.persistent.volumeGiB", 40],
    ]);
    expect(elasticache.warnings[0]!.message).toContain(
      "is read only with mastodon:redis.persistent.mode self-managed-aof, and the mode here is elasticache",
    );
    const selfManaged = parseStackConfig(
      withConfig(
        (c) =>
          (c.redis = {
            persistent: { mode: "self-managed-aof", nodeType: "cache.t4g.small", volumeGiB: 40 },
          }),
      ),
    );
    expect(selfManaged.warnings.map((w) => [w.key, w.value])).toEqual([
      ["mastodon:redis.persistent.nodeType", "cache.t4g.small"],
    ]);
    // Each mode's own keys: no such warning.
    const own = parseStackConfig(
      withConfig((c) => (c.redis = { persistent: { nodeType: "cache.t4g.small" } })),
    );
    expect(own.warnings.filter((w) => w.key.startsWith("mastodon:redis."))).toEqual([]);
  });

  test("an SMTP block under provider ses, never showing its login or password", () => {
    const { warnings } = parseStackConfig(
      withConfig((c) => {
        c.mail = {
          provider: "ses",
          smtp: { server: "smtp.example.org", login: "mailer-user", password: "pa55-w0rd" },
        };
      }),
    );
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatchObject({ severity: "warning", key: "mastodon:mail.smtp" });
    expect(warnings[0]?.value).toEqual({
      server: "smtp.example.org",
      login: "[hidden]",
      password: "[hidden]",
    });
    expect(warnings[0]?.message).toContain("Set mastodon:mail.provider smtp");
    expect(JSON.stringify(warnings)).not.toMatch(/mailer-user|pa55-w0rd/);
  });

  test("a production stack whose alarms reach nobody", () => {
    const production = (email?: string) =>
      withConfig((c) => {
        c.environment = "production";
        c.database.multiAz = true;
        c.redis = { persistent: { nodes: 2 } };
        if (email) c.alarms = { email };
      });
    const { warnings } = parseStackConfig(production());
    expect(warnings).toEqual([
      {
        severity: "warning",
        key: "mastodon:alarms.email",
        value: undefined,
        message: expect.stringContaining(
          "alarms go to an SNS topic nobody is subscribed to. Set mastodon:alarms.email",
        ),
      },
    ]);
    expect(parseStackConfig(production("ops@test.example")).warnings).toEqual([]);
    // Outside production nobody is paged anyway: no warning.
    expect(parseStackConfig(baseConfig()).warnings).toEqual([]);
  });

  test("the shipped small stack (production, no alarms.email) plans with that warning in its summary", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-small-"));
    const result = await planStack({
      stack: "small",
      stacksDir: path.join(ROOT, "stacks"),
      outDir: out,
      program,
    });
    expect(result.validated.warnings.map((w) => w.key)).toContain("mastodon:alarms.email");
    expect(result.summary).toContain(
      "\n  mastodon:alarms.email: is not set: this production stack's alarms go to an SNS topic nobody is subscribed to",
    );
    fs.rmSync(out, { recursive: true, force: true });
  });
});

describe("docs/config.md states the range the rules enforce", () => {
  // The reference table's row for the key, its meaning cell's first "lo-hi".
  const stated = (key: string): [number, number] => {
    const row = fs
      .readFileSync(path.join(ROOT, "docs", "config.md"), "utf8")
      .split("\n")
      .find((l) => l.startsWith(`| \`${key}\``));
    const match = /(\d+)-(\d+)/.exec(row?.split("|")[3] ?? "");
    if (!match) throw new Error(`docs/config.md states no range for ${key}`);
    return [Number(match[1]), Number(match[2])];
  };

  test.each([["database.maxConnections"]])("%s", (key) => {
    const [lo, hi] = stated(key);
    // A class whose memory takes any of these, so only the range itself can refuse.
    const errorsAt = (value: number) =>
      configProblems(
        withConfig((c) => (c.database = { instanceClass: "db.r7g.16xlarge", maxConnections: value })),
      )
        .filter((p) => p.severity === "error" && p.key === `mastodon:${key}`)
        .map((p) => p.message);
    expect(errorsAt(lo)).toEqual([]);
    expect(errorsAt(hi)).toEqual([]);
    expect(errorsAt(lo - 1)).not.toEqual([]);
    expect(errorsAt(hi + 1)).not.toEqual([]);
  });
});
