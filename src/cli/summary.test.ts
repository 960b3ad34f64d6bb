/**
 * The summary's sections as text, from a shipped stack's config: the data tier names every tier the
 * stack deploys, the cost footer names only what no row prices, and each warning shows once.
 */
import { type Problem, parseStackConfig } from "../config";
import { distinctProblems } from "../config/problems";
import { cloudWatchNotPriced, costEstimate } from "../report/cost";
import { stackConfig } from "../../test/helpers";
import { costSection, dataTierSection, warningsSection } from "./summary";

const production = parseStackConfig(stackConfig("production"), "production").config;

describe("the data tier section", () => {
  test("names OpenSearch when the stack deploys it (production has search on)", () => {
    const lines = dataTierSection(production);
    expect(lines[0]).toBe("Network and data tier:");
    expect(lines).toContain(
      "  OpenSearch Elasticsearch_7.10 r7g.large.search x 3, 200 GiB gp3 each, ES_PRESET small_cluster",
    );
  });

  test("leaves it out when the stack has no search", () => {
    const dev = parseStackConfig(stackConfig("dev"), "dev").config;
    expect(dev.search).toBeUndefined();
    expect(dataTierSection(dev).join("\n")).not.toContain("OpenSearch");
  });
});

describe("the cost footer", () => {
  const cost = costEstimate(production, "us-east-1");
  const footer = () => {
    const line = costSection(cost).find((l) => l.startsWith("  not included: "));
    if (!line) throw new Error("no footer");
    return line;
  };

  test("does not call the CloudWatch metrics and alarms the rows price 'not included'", () => {
    const rows = cost.rows.map((r) => r.resource);
    expect(rows.some((r) => r.startsWith("CloudWatch custom metrics"))).toBe(true);
    expect(rows.some((r) => r.startsWith("CloudWatch alarms"))).toBe(true);
    for (const priced of [
      "CloudWatch alarms",
      "CloudWatch metrics",
      "dashboard and metrics",
      "custom metrics",
    ])
      expect(footer()).not.toContain(priced);
  });

  test("still names what no row prices", () => {
    expect(footer()).toContain("the CloudWatch dashboard, the alarms on the tiers' own AWS metrics");
    for (const left of ["data transfer out", "S3 storage and requests", "CloudFront", "SES", "SSM API calls"])
      expect(footer()).toContain(left);
    expect(footer()).toContain("cached remote media is kept 7 days");
  });

  test("names CloudWatch's metrics and alarms when no row prices them, and always the hosts' logs", () => {
    const unpriced = cost.rows.filter((r) => !r.resource.startsWith("CloudWatch"));
    expect(cloudWatchNotPriced(unpriced)).toBe(
      "the CloudWatch dashboard, CloudWatch alarms, CloudWatch metrics, the hosts' logs in CloudWatch Logs",
    );
    expect(footer()).toContain("the hosts' logs in CloudWatch Logs");
  });

  test("says what cost.json says: one list of what is not included", () => {
    expect(footer()).toBe(`  not included: ${cost.excluded.join("; ")}`);
  });
});

test("a warning found through several fleets is one problem, and the warnings section shows it once", () => {
  const inherited: Problem = {
    severity: "warning",
    key: "mastodon:database.pgbouncer.defaultPoolSize",
    value: 8,
    message: "is more than the 6 client connections one host opens; the budget counts 6",
  };
  const other: Problem = { severity: "warning", key: "mastodon:alarms.email", message: "is not set" };
  const distinct = distinctProblems([inherited, other, { ...inherited }]);
  expect(distinct).toEqual([inherited, other]);
  // An error in the same words is another problem.
  expect(distinctProblems([inherited, { ...inherited, severity: "error" }])).toHaveLength(2);
  expect(warningsSection(distinct)).toEqual([
    "Warnings:",
    "  mastodon:database.pgbouncer.defaultPoolSize: 8 is more than the 6 client connections one host opens; the budget counts 6",
    "  mastodon:alarms.email: is not set",
  ]);
  expect(warningsSection([])).toEqual([]);
});
