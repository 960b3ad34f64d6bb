/**
 * What a fleet's warm pool adds to the monthly estimate (./cost.ts), against hand-computed figures:
 * a stopped pool its volumes, a running one its instance hours too, the same at desired and maximum
 * size (the pool's size is absolute), and nothing without one; and the README's trade for production.
 */
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../config";
import { costEstimate } from "../report/cost";
import { ROOT, stackConfig } from "../../test/helpers";

/** Production with sidekiq-default's and sidekiq-ingress's warm pools set by `pools` (undefined: none). */
function production(pools: Record<string, { size: number; state?: string } | undefined>) {
  const raw = stackConfig("production") as { fleets: Record<string, Record<string, unknown>> };
  for (const [fleet, pool] of Object.entries(pools)) {
    const shipped = { ...raw.fleets[fleet] };
    delete shipped["warmPool"];
    raw.fleets[fleet] = pool ? { ...shipped, warmPool: pool } : shipped;
  }
  return costEstimate(parseStackConfig(raw, "production").config, "us-east-1");
}

const NONE = { "sidekiq-default": undefined, "sidekiq-ingress": undefined };
const poolRows = (cost: ReturnType<typeof costEstimate>) =>
  cost.rows
    .filter((r) => r.resource.startsWith("warm pool"))
    .map((r) => [r.component, r.resource, r.monthlyDesired, r.monthlyMax]);

// By hand: gp3 $0.08 per GB-month, 30 GiB roots; c7g.2xlarge $0.29 and c7g.xlarge $0.145 an hour x 730.
test.each([
  [
    "the shipped pools, stopped: their root volumes only",
    undefined,
    [
      ["fleet sidekiq-default", "warm pool: 2 stopped, gp3 root 30 GiB", 2 * 30 * 0.08, 2 * 30 * 0.08],
      ["fleet sidekiq-ingress", "warm pool: 1 stopped, gp3 root 30 GiB", 1 * 30 * 0.08, 1 * 30 * 0.08],
    ],
  ],
  [
    "a running pool: its instance hours and its volumes",
    { "sidekiq-default": { size: 2, state: "Running" }, "sidekiq-ingress": undefined },
    [
      ["fleet sidekiq-default", "warm pool: 2 running, c7g.2xlarge", 2 * 0.29 * 730, 2 * 0.29 * 730],
      ["fleet sidekiq-default", "warm pool: 2 running, gp3 root 30 GiB", 2 * 30 * 0.08, 2 * 30 * 0.08],
    ],
  ],
  ["no pool: no row", NONE, []],
])("%s", (_name, pools, expected) => {
  const cost = pools
    ? production(pools)
    : costEstimate(parseStackConfig(stackConfig("production")).config, "us-east-1");
  const rows = poolRows(cost);
  expect(rows.map((r) => r.slice(0, 2))).toEqual(expected.map((r) => r.slice(0, 2)));
  rows.forEach((row, i) => {
    expect(row[2]).toBeCloseTo(expected[i]![2] as number, 2);
    expect(row[3]).toBeCloseTo(expected[i]![3] as number, 2);
  });
});

test("a pool adds exactly its rows to both totals, and the rows sit with their fleet's", () => {
  const without = production(NONE);
  const shipped = costEstimate(parseStackConfig(stackConfig("production")).config, "us-east-1");
  const added = shipped.rows.filter((r) => r.resource.startsWith("warm pool"));
  const sum = (key: "monthlyDesired" | "monthlyMax") => added.reduce((s, r) => s + r[key], 0);
  expect(shipped.monthly.desired - without.monthly.desired).toBeCloseTo(sum("monthlyDesired"), 2);
  expect(shipped.monthly.max - without.monthly.max).toBeCloseTo(sum("monthlyMax"), 2);
  // Each pool's row follows its fleet's own instance and volume rows in the summary.
  const index = (component: string, prefix: string) =>
    shipped.rows.findIndex((r) => r.component === component && r.resource.startsWith(prefix));
  expect(index("fleet sidekiq-default", "warm pool")).toBe(index("fleet sidekiq-default", "gp3 root") + 1);
  // The stopped pool's row says why only volumes are billed; its gp3 price is an estimate, as the fleet's.
  expect(added.every((r) => r.estimated && r.note?.includes("only their volumes"))).toBe(true);
});

test("the README's trade for production states what the plan computes for its warm pools", () => {
  // Prettier pads table cells: compare with runs of spaces folded.
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").replace(/ +/g, " ");
  const usd = (x: number) => `$${x.toFixed(2)}`;
  const stopped = costEstimate(parseStackConfig(stackConfig("production")).config, "us-east-1");
  const running = production({
    "sidekiq-default": { size: 2, state: "Running" },
    "sidekiq-ingress": { size: 1, state: "Running" },
  });
  const pools = (cost: ReturnType<typeof costEstimate>, fleet?: string) =>
    cost.rows
      .filter((r) => r.resource.startsWith("warm pool") && (!fleet || r.component === `fleet ${fleet}`))
      .reduce((s, r) => s + r.monthlyDesired, 0);
  for (const fleet of ["sidekiq-default", "sidekiq-ingress"])
    expect(readme).toMatch(
      new RegExp(
        `\\| \`${fleet}\` \\|[^|]*\\| \\${usd(pools(stopped, fleet))}[^|]*\\| \\${usd(pools(running, fleet))} \\|`,
      ),
    );
  const share = ((100 * pools(stopped)) / stopped.monthly.desired).toFixed(2);
  expect(readme).toContain(
    `**${usd(pools(stopped))}** (${share}% of the estimate) | ${usd(pools(running))} |`,
  );
  expect(readme).toContain(`What the ${usd(pools(stopped))} buys`);
});
