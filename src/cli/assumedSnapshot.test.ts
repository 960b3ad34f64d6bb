/**
 * The offline plan of a stack restored from a snapshot (mastodon:database.restoreFrom.snapshot or
 * .stack): the fake account holds none, so the plan assumes one the query finds and the stack can
 * become, renders the restore `pulumi up` would declare, and warns that it assumed it
 * (src/cli/assumedSnapshot.ts). Without the assumption the lookup finds nothing and the plan fails.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import program from "../../index";
import { readStackFile } from "../config/stackFile";
import { planStack } from "./plan";
import { ASSUMED_STACK_SNAPSHOT, assumedSnapshots } from "./assumedSnapshot";
import { ROOT, shippedStacksDir } from "../../test/helpers";
import { parseStackConfig } from "../config";

const staging = readStackFile(path.join(ROOT, "stacks"), "staging").config;

/** A stacks directory with `drill`: staging's file with database.restoreFrom. */
function withDrill(restoreFrom: Record<string, string>): string {
  const database = { ...JSON.parse(staging["mastodon:database"] ?? "{}"), restoreFrom };
  const config = Object.fromEntries(
    Object.entries(staging).map(([k, v]) => [k, k === "mastodon:database" ? database : tryJson(v)]),
  );
  return shippedStacksDir({ "Pulumi.drill.yaml": stringify({ config }) });
}
const tryJson = (v: string): unknown => {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
};

const plan = (restoreFrom: Record<string, string>) =>
  planStack({
    stack: "drill",
    stacksDir: withDrill(restoreFrom),
    outDir: fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-drill-plan-")),
    program,
  });

test.each([
  ["another stack's newest", { stack: "production" }, ASSUMED_STACK_SNAPSHOT],
  ["a manual snapshot", { snapshot: "before-upgrade" }, "before-upgrade"],
  [
    "an automated one",
    { snapshot: "rds:mastodon-db-primary1a2b3c4-2025-06-01-04-10" },
    "rds:mastodon-db-primary1a2b3c4-2025-06-01-04-10",
  ],
  [
    "another account's, by its ARN",
    { snapshot: "arn:aws:rds:us-east-1:210987654321:snapshot:shared-one" },
    "arn:aws:rds:us-east-1:210987654321:snapshot:shared-one",
  ],
])(
  "%s: the plan renders the restore, and says it assumed the snapshot",
  async (_what, restoreFrom, restored) => {
    const result = await plan(restoreFrom);
    const primary = result.resources.find((r) => r.name === "mastodon-db-primary")!;
    expect(primary.inputs["snapshotIdentifier"]).toBe(restored);
    const leaf = Object.keys(restoreFrom)[0]!;
    expect(result.summary).toContain(
      `mastodon:database.restoreFrom.${leaf}: ${JSON.stringify(Object.values(restoreFrom)[0])} cannot be looked up offline: the plan assumes a snapshot`,
    );
  },
);

test("a stack without restoreFrom, or with a dump, assumes no snapshot", () => {
  const scope = { project: "p", stack: "s", name: "mastodon" };
  const { config } = parseStackConfig(
    Object.fromEntries(
      Object.entries(staging)
        .filter(([k]) => k.startsWith("mastodon:"))
        .map(([k, v]) => [k.slice(9), tryJson(v)]),
    ),
  );
  expect(assumedSnapshots(config, scope)).toEqual([]);
  const dump = { ...config, database: { ...config.database, restoreFrom: { dump: "mastodon.dump" } } };
  expect(assumedSnapshots(dump, scope)).toEqual([]);
});
