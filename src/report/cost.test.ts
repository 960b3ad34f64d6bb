/**
 * The cost model against hand-computed rows, and the README's cost table against what the plan
 * computes for each shipped stack.
 */
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../config";
import { costEstimate } from "./cost";
import { HOURS_PER_MONTH } from "./prices";
import { ROOT, STACKS, stackConfig } from "../../test/helpers";

describe("cost model", () => {
  const production = costEstimate(parseStackConfig(stackConfig("production")).config, "us-east-1");
  const row = (component: string, resource: string) =>
    production.rows.find((r) => r.component === component && r.resource === resource)!;

  test.each([
    // [component, resource, monthly desired, monthly max], each by hand: price x 730 h x count.
    ["fleet web", "c7g.2xlarge", 0.29 * 730 * 4, 0.29 * 730 * 10],
    ["fleet web", "gp3 root 30 GiB", 0.08 * 30 * 4, 0.08 * 30 * 10],
    ["fleet sidekiq-mailers", "c7g.medium", 0.0363 * 730 * 1, 0.0363 * 730 * 2],
    ["database primary", "db.r7g.2xlarge Multi-AZ", 0.956 * 730 * 2, 0.956 * 730 * 2],
    ["database primary", "gp3 500 GiB Multi-AZ", 0.115 * 500 * 2, 0.115 * 2000 * 2],
    ["redis persistent", "valkey cache.r7g.large", 0.219 * 0.8 * 730 * 2, 0.219 * 0.8 * 730 * 2],
    ["edge", "Application Load Balancer", 0.0225 * 730, 0.0225 * 730],
    ["network", "NAT gateway", 0.045 * 730 * 3, 0.045 * 730 * 3],
  ])("%s %s", (component, resource, desired, max) => {
    expect(row(component as string, resource as string).monthlyDesired).toBeCloseTo(desired as number, 2);
    expect(row(component as string, resource as string).monthlyMax).toBeCloseTo(max as number, 2);
  });

  test("EC2 prices are sourced and exact; the rest are flagged as estimates", () => {
    expect(row("fleet web", "c7g.2xlarge")).toMatchObject({ estimated: false, unitPrice: 0.29 });
    expect(row("database primary", "db.r7g.2xlarge Multi-AZ")).toMatchObject({
      estimated: true,
      note: "derived from a listed size of the same family",
    });
    expect(production).toMatchObject({ currency: "USD", priceDate: "2026-11-22", estimated: true });
    const total = production.rows.reduce((s, r) => s + r.monthlyDesired, 0);
    expect(production.monthly.desired).toBeCloseTo(total, 2);
  });

  test("a self-managed Redis is priced as its instance and volume; Spot is noted; another region is flagged", () => {
    const raw = stackConfig("staging") as any;
    raw.redis = {
      ...raw.redis,
      persistent: { mode: "self-managed-aof", instanceType: "c7g.large", volumeGiB: 50 },
    };
    raw.fleets.sidekiq.spot = true;
    const cost = costEstimate(parseStackConfig(raw).config, "eu-west-1");
    const redis = cost.rows.filter((r) => r.component === "redis persistent");
    expect(redis.map((r) => [r.resource, r.monthlyDesired])).toEqual([
      ["c7g.large (self-managed AOF)", Math.round(0.0725 * HOURS_PER_MONTH * 100) / 100],
      ["gp3 data 50 GiB", 4],
    ]);
    expect(
      cost.rows.find((r) => r.component === "fleet sidekiq" && r.resource === "c7g.large")?.note,
    ).toContain("Spot above 1 host(s)");
    expect(cost.rows.every((r) => r.estimated)).toBe(true);
    expect(cost.excluded).toContain("prices are us-east-1's; eu-west-1 is estimated with them");
  });
});

test("the README's cost table matches what the plan computes for each shipped stack", () => {
  // Prettier pads table cells: compare with runs of spaces folded.
  const readme = fs.readFileSync(path.join(ROOT, "README.md"), "utf8").replace(/ +/g, " ");
  for (const stack of STACKS) {
    const cost = costEstimate(parseStackConfig(stackConfig(stack)).config, "us-east-1");
    const usd = (x: number) => `$${x.toFixed(2)}`;
    expect(readme).toContain(`| \`${stack}\` | ${usd(cost.monthly.desired)} | ${usd(cost.monthly.max)} |`);
  }
});
