import * as fs from "fs";
import * as path from "path";
import * as ts from "typescript";
import { SIDEKIQ_QUEUES } from "../src/vocabulary/defaults";
import { parseStackConfig } from "../src/config";
import { ROOT, STACKS, stackConfig } from "./helpers";

/**
 * The warnings a shipped stack is meant to carry, by key: small is production with nobody subscribed
 * to its alarms (a stack for a few users, whose operator adds their own address), and says so.
 */
const EXPECTED_WARNINGS: Readonly<Record<string, readonly string[]>> = {
  // small: production with nobody subscribed, and a 2 GiB host with no room for the retention's tootctl.
  small: ["mastodon:fleets.all.instanceType", "mastodon:alarms.email"],
};

describe.each(STACKS)("stack %s", (stack) => {
  const { config, budget, warnings } = parseStackConfig(stackConfig(stack), stack);

  test("parses with no warnings but the ones it is meant to carry, and fits its budget", () => {
    expect(warnings.map((w) => w.key)).toEqual(EXPECTED_WARNINGS[stack] ?? []);
    expect(budget.total).toBeLessThanOrEqual(budget.limit);
    expect(budget.maxConnections).toBeLessThanOrEqual(512);
    expect(budget.workMemTotalMiB).toBeLessThanOrEqual(budget.workMemCeilingMiB);
  });

  test("serves every Mastodon 4.6 queue, web and streaming", () => {
    const queues = new Set(config.fleets.flatMap((f) => f.sidekiq?.queues ?? []));
    expect([...queues].sort()).toEqual([...SIDEKIQ_QUEUES].sort());
    expect(config.fleets.some((f) => f.web)).toBe(true);
    expect(config.fleets.some((f) => f.streaming)).toBe(true);
  });

  test("runs exactly one scheduler process at maximum size", () => {
    const scheduler = config.fleets.filter((f) => f.sidekiq?.queues.includes("scheduler"));
    expect(scheduler.reduce((n, f) => n + f.maxSize * (f.sidekiq?.processes ?? 0), 0)).toBe(1);
  });
});

test("production's default queue reaches Pawoo's 720 threads at maximum size", () => {
  const { config, budget } = parseStackConfig(stackConfig("production"));
  const defaultThreads = config.fleets
    .filter((f) => f.sidekiq?.queues.includes("default"))
    .reduce((n, f) => n + f.maxSize * (f.sidekiq?.processes ?? 0) * (f.sidekiq?.threads ?? 0), 0);
  expect(defaultThreads).toBe(720);
  // 720 threads cannot each hold a Postgres connection under 1000: PgBouncer carries them.
  expect(budget.pooler).toBe("pgbouncer");
  expect(budget.clientConnections).toBeGreaterThan(1000);
  expect(budget.fleetConnections + budget.surgeConnections + budget.headroom).toBe(budget.total);
  expect(budget.total).toBeLessThanOrEqual(budget.limit);
});

test("production is Pawoo-style: one fleet per role and per queue, all c-family", () => {
  const { config } = parseStackConfig(stackConfig("production"));
  for (const fleet of config.fleets) {
    const services = [fleet.web, fleet.streaming, fleet.sidekiq].filter(Boolean);
    expect(services).toHaveLength(1);
    expect(fleet.sidekiq?.queues.length ?? 1).toBe(1);
    expect(fleet.instanceType).toMatch(/^c\d/);
  }
  expect(config.database.multiAz).toBe(true);
});

test("small runs everything in one fleet (xkcd-network-three-users.txt)", () => {
  const { config } = parseStackConfig(stackConfig("small"));
  expect(config.fleets).toHaveLength(1);
  expect(config.fleets[0]).toMatchObject({
    web: expect.anything(),
    streaming: expect.anything(),
    sidekiq: expect.anything(),
  });
});

/** The calls that list a directory: given the repository's stacks/, they list the user's stacks too. */
const LISTING = new Set([
  "readdirSync",
  "readdir",
  "opendirSync",
  "opendir",
  "globSync",
  "glob",
  "listStacks",
]);

/** `file`'s calls that list the repository's stacks/, by line: the argument, or the variable it names. */
function stacksListings(file: string): number[] {
  const source = ts.createSourceFile(file, fs.readFileSync(file, "utf8"), ts.ScriptTarget.Latest, true);
  const initializers = new Map<string, string>();
  const calls: ts.CallExpression[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isVariableDeclaration(node) && ts.isIdentifier(node.name) && node.initializer)
      initializers.set(node.name.text, node.initializer.getText(source));
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee) ? callee.name.text : callee.getText(source);
      if (LISTING.has(name)) calls.push(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return calls
    .filter((call) => {
      const arg = call.arguments[0];
      if (!arg) return false;
      const text = ts.isIdentifier(arg) ? (initializers.get(arg.text) ?? arg.text) : arg.getText(source);
      return /ROOT|__dirname/.test(text) && /["'`]stacks["'`/]/.test(text);
    })
    .map((call) => source.getLineAndCharacterOfPosition(call.getStart(source)).line + 1);
}

test("no test lists stacks/, where `pulumi stack init` puts the user's own stacks: they name STACKS", () => {
  const tests = ["src", "test", "provider", "policy"]
    .flatMap((dir) =>
      (fs.readdirSync(path.join(ROOT, dir), { recursive: true }) as string[]).map((f) => path.join(dir, f)),
    )
    .filter(
      (f) => f.endsWith(".ts") && !f.split(path.sep).includes("fixtures") && !f.includes("node_modules"),
    )
    .filter((f) => f.endsWith(".test.ts") || f.startsWith(`test${path.sep}`));
  expect(tests.length).toBeGreaterThan(20);
  const listings = tests.flatMap((f) => stacksListings(path.join(ROOT, f)).map((line) => `${f}:${line}`));
  expect(listings).toEqual([]);
});
