/**
 * The database inside the deploy (src/database/database.ts), read from what every shipped stack
 * declares: the scheduler's host prepares the database before any Mastodon unit starts, every
 * other group is created only after that host is InService, and each group waits for its capacity
 * as long as its own boot may take. The program itself runs against a real PostgreSQL in
 * src/database/database.real.test.ts.
 */
import { SCHEMA_FROM_TAG } from "../fleet/fleet";
import { parseStackConfig } from "../config";
import { DATABASE_PATHS, SEARCH_DEPLOY_UNIT } from "./database";
import { BOOT_UNIT, INSTANCE_LAUNCH_SECONDS, MAX_LIFECYCLE_HEARTBEAT_SECONDS } from "../fleet/host/readiness";
import { RETENTION_UNITS } from "../media/retention";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import { STACKS, all, runStack, stackConfig } from "../../test/helpers";

const ASG = "aws:autoscaling/group:Group";

const execStarts = (unit: string) => [...unit.matchAll(/^ExecStart=(.*)$/gm)].map((m) => m[1] as string);
const timeoutOf = (unit: string) => Number(/^TimeoutStartSec=(\d+)$/m.exec(unit)?.[1]);

describe.each(STACKS.map((s) => [s] as const))("%s", (stack) => {
  const config = parseStackConfig(stackConfig(stack), stack).config;
  const scheduler = config.fleets.find((f) => f.servesScheduler)!;

  test("the scheduler's host prepares the database after its secrets and before any Mastodon unit starts", async () => {
    const run = await runStack(stack);
    const host = fleetArtifacts(run.resources).find((a) => a.fleet === scheduler.name)!;
    const steps = execStarts(host.units[BOOT_UNIT]!);
    const prepare = steps.indexOf(`${DATABASE_PATHS.program} prepare ${DATABASE_PATHS.config}`);
    const secrets = steps.findIndex((s) => s.includes("mastodon-render-secrets /etc/mastodon"));
    const start = steps.indexOf("/usr/bin/systemctl start mastodon.target");
    const fetched = steps.findIndex((s) =>
      s.includes("/mastodon-database /usr/local/sbin/mastodon-database"),
    );
    expect([fetched, secrets, prepare, start].every((i) => i >= 0)).toBe(true);
    expect(fetched).toBeLessThan(prepare);
    expect(secrets).toBeLessThan(prepare);
    expect(prepare).toBeLessThan(start);
    // Its config names the stack's database and the role's limit from max_connections.
    const conf = host.files[DATABASE_PATHS.config]!;
    expect(conf).toMatch(/^db_port 5432$/m);
    expect(host.files[DATABASE_PATHS.roleSql]).toContain(
      `CONNECTION LIMIT ${parseStackConfig(stackConfig(stack), stack).budget.roleConnectionLimit} `,
    );
    // The daily retention runs here, and only here.
    expect(host.units[RETENTION_UNITS.timer]).toContain("Persistent=true");
    expect(
      steps.some((s) => s.startsWith("/usr/bin/systemctl enable") && s.includes(RETENTION_UNITS.timer)),
    ).toBe(true);
    expect(host.units[SEARCH_DEPLOY_UNIT] !== undefined).toBe(config.search !== undefined);
  });

  test("no other fleet's host prepares the database or runs the retention", async () => {
    const run = await runStack(stack);
    for (const host of fleetArtifacts(run.resources).filter((a) => a.fleet !== scheduler.name)) {
      expect(host.files[DATABASE_PATHS.config]).toBeUndefined();
      expect(host.units[RETENTION_UNITS.timer]).toBeUndefined();
      expect(host.units[BOOT_UNIT]).not.toContain("mastodon-database");
    }
  });

  test("every other group is created after the scheduler's, which is InService only once the schema exists", async () => {
    const run = await runStack(stack);
    const groups = all(run, ASG);
    const schedulerGroup = groups.find((g) => g.name === `mastodon-${scheduler.name}-group`)!;
    const tagOf = (g: (typeof groups)[number]) =>
      (g.inputs["tags"] as { key: string; value: string; propagateAtLaunch: boolean }[]).find(
        (t) => t.key === SCHEMA_FROM_TAG,
      );
    expect(tagOf(schedulerGroup)).toBeUndefined();
    for (const group of groups.filter((g) => g !== schedulerGroup))
      // A reference to the scheduler group's name: the engine resolves it only once that group's
      // creation (its wait for capacity) has finished.
      expect(tagOf(group)).toEqual({
        key: SCHEMA_FROM_TAG,
        value: schedulerGroup.inputs["name"],
        propagateAtLaunch: false,
      });
    expect(groups).toHaveLength(config.fleets.length);
  });

  test("each group's capacity wait covers its own boot: a launch plus the launch hook's heartbeat, which outlasts the boot unit", async () => {
    const run = await runStack(stack);
    const hosts = fleetArtifacts(run.resources);
    for (const fleet of config.fleets) {
      const group = all(run, ASG).find((g) => g.name === `mastodon-${fleet.name}-group`)!;
      const [hook] = group.inputs["initialLifecycleHooks"] as { heartbeatTimeout: number }[];
      const boot = timeoutOf(hosts.find((h) => h.fleet === fleet.name)!.units[BOOT_UNIT]!);
      expect(hook!.heartbeatTimeout).toBeGreaterThan(boot);
      expect(hook!.heartbeatTimeout).toBeLessThanOrEqual(MAX_LIFECYCLE_HEARTBEAT_SECONDS);
      expect(group.inputs["waitForCapacityTimeout"]).toBe(
        `${hook!.heartbeatTimeout + INSTANCE_LAUNCH_SECONDS}s`,
      );
    }
  });
});

test("the budget, the role's limit and the alarm agree in every stack: alarm below the limit, headroom usable", () => {
  for (const stack of STACKS) {
    const { budget } = parseStackConfig(stackConfig(stack), stack);
    expect(budget.alarmThreshold).toBeLessThan(budget.roleConnectionLimit);
    expect(budget.fleetConnections + budget.headroom).toBeLessThanOrEqual(budget.roleConnectionLimit);
    expect(budget.roleConnectionLimit).toBe(budget.limit);
  }
});

test("a change of fleet sizes leaves the role's limit where it was; a change of max_connections moves it", () => {
  const raw = stackConfig("production") as any;
  const before = parseStackConfig(raw, "production").budget;
  const scaled = structuredClone(raw);
  scaled.fleets["sidekiq-default"].maxSize -= 2;
  const after = parseStackConfig(scaled, "production").budget;
  expect(after.fleetConnections).toBeLessThan(before.fleetConnections);
  expect(after.roleConnectionLimit).toBe(before.roleConnectionLimit);
  const resized = structuredClone(raw);
  resized.database.maxConnections = before.maxConnections + 100;
  expect(parseStackConfig(resized, "production").budget.roleConnectionLimit).toBeGreaterThan(
    before.roleConnectionLimit,
  );
});

describe("the owner account (mastodon:owner)", () => {
  const owner = { username: "alice", email: "alice@example.org" };

  test("its first password's parameter is declared beside the stack's path; only the scheduler's role may read and write it", async () => {
    const run = await runStack("staging", { owner });
    const [parameter] = all(run, "aws:ssm/parameter:Parameter").filter(
      (p) => p.name === "mastodon-owner-password",
    );
    expect(parameter!.inputs["name"]).toBe("/mastodon/mastodon-aws/staging/mastodon-admin/owner-password");
    expect(parameter!.inputs["type"]).toBe("SecureString");
    const policies = all(run, "aws:iam/rolePolicy:RolePolicy").filter((p) =>
      p.name.endsWith("-owner-password"),
    );
    expect(policies.map((p) => p.name)).toEqual(["mastodon-scheduler-owner-password"]);
    const statements = JSON.parse(policies[0]!.inputs["policy"] as string).Statement;
    expect(statements[0]).toEqual({
      Sid: "ReadAndWriteParameter",
      Effect: "Allow",
      Action: ["ssm:GetParameter", "ssm:PutParameter"],
      Resource: parameter!.arn,
    });
    // The stack's path, which every fleet reads, does not cover it.
    expect(parameter!.inputs["name"]).not.toMatch(/^\/mastodon\/staging\/mastodon\//);
  });

  test.each(STACKS.map((s) => [s] as const))(
    "%s: with an owner too, the scheduler's boot fits the launch hook's longest heartbeat",
    async (stack) => {
      const run = await runStack(stack, { owner });
      const hooks = all(run, ASG).map(
        (g) => (g.inputs["initialLifecycleHooks"] as { heartbeatTimeout: number }[])[0]!,
      );
      for (const hook of hooks)
        expect(hook.heartbeatTimeout).toBeLessThanOrEqual(MAX_LIFECYCLE_HEARTBEAT_SECONDS);
      expect(hooks).toHaveLength(parseStackConfig(stackConfig(stack), stack).config.fleets.length);
    },
  );

  test("the scheduler's host is told the account and the parameter, never a password; the output says how to read it", async () => {
    const run = await runStack("staging", { owner });
    const host = fleetArtifacts(run.resources).find((a) => a.fleet === "scheduler")!;
    const conf = host.files[DATABASE_PATHS.config]!;
    expect(conf).toContain("\nowner_username alice\n");
    expect(conf).toContain("\nowner_email alice@example.org\n");
    expect(conf).toContain(
      "\nowner_password_parameter /mastodon/mastodon-aws/staging/mastodon-admin/owner-password\n",
    );
    expect(run.outputs["ownerPassword"]).toBe(
      "aws ssm get-parameter --region us-east-1 --with-decryption --name /mastodon/mastodon-aws/staging/mastodon-admin/owner-password --query Parameter.Value --output text",
    );
    // Without mastodon:owner, none of it.
    const plain = await runStack("staging");
    expect(
      fleetArtifacts(plain.resources).find((a) => a.fleet === "scheduler")!.files[DATABASE_PATHS.config],
    ).not.toContain("owner_");
    expect(plain.outputs["ownerPassword"]).toBeUndefined();
  });
});

test.each(STACKS.map((s) => [s] as const))(
  "%s: only fleets running Puma or Sidekiq may touch the media bucket; the streaming server never does",
  async (stack) => {
    const run = await runStack(stack);
    const config = parseStackConfig(stackConfig(stack), stack).config;
    const withMedia = all(run, "aws:iam/rolePolicy:RolePolicy")
      .filter((p) => p.name.endsWith("-media"))
      .map((p) => p.name)
      .sort();
    expect(withMedia).toEqual(
      config.fleets
        .filter((f) => f.web || f.sidekiq)
        .map((f) => `mastodon-${f.name}-media`)
        .sort(),
    );
  },
);
