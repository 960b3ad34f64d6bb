/**
 * Names scoped by project as well as stack (src/aws/naming/scope.ts): two Pulumi projects with a
 * stack of the same name deploy into one account and Region without taking each other's names, as
 * the fake cloud judges them with the account's names shared between the two runs
 * (src/testing/fake/names.ts); and the plan runs under Pulumi.yaml's project, as `pulumi up` does.
 */
import * as fs from "fs";
import * as path from "path";
import * as aws from "@pulumi/aws";
import { parse } from "yaml";
import { MastodonStack } from "../../stack/mastodonStack";
import { NAMING_RULES, type NamingRule, PROPERTY_NAMING_RULES, nameProblems } from "./index";
import { deploymentScope, scopedName, scopedTag } from "./scope";
import { fleetLogGroupName } from "../../monitoring/logs";
import type { AccountNames } from "../../testing/fakeCloud";
import { type MockRun, NameRefusedError, runUnderMocks } from "../../testing/mocks";
import { PROJECT } from "../../cli/plan";
import { ROOT, all, find, runStack, stackConfig } from "../../../test/helpers";

const SSM = NAMING_RULES["aws:ssm/parameter:Parameter"] as NamingRule;
const LOG_GROUP = NAMING_RULES["aws:cloudwatch/logGroup:LogGroup"] as NamingRule;

/** The MastodonStack "mastodon" with the production config, deployed as `project`/production. */
const deploy = (project: string, accountNames: AccountNames, region = "us-east-1") =>
  runUnderMocks(
    () => {
      new MastodonStack("mastodon", stackConfig("production") as never);
      return {};
    },
    { project, stack: "production", config: { "aws:region": region }, cloud: { accountNames } },
  );

/** Every name a run gives explicitly or derives per deployment, by type and property. */
function scopedNames(run: MockRun): string[] {
  const out: string[] = [];
  for (const r of run.resources) {
    const rules = [NAMING_RULES[r.type], ...(PROPERTY_NAMING_RULES[r.type] ?? [])];
    for (const rule of rules) {
      const value = rule ? r.inputs[rule.property] : undefined;
      // Autonamed names start with the logical name (then the provider's random hex); the rest are explicit.
      if (rule && typeof value === "string" && !value.toLowerCase().startsWith(r.name.toLowerCase()))
        out.push(`${r.type} ${rule.property} ${value}`);
    }
  }
  return out.sort();
}

describe("two projects with a stack called production, in one account and Region", () => {
  let alpha: MockRun;
  let beta: MockRun;
  beforeAll(async () => {
    const account: AccountNames = new Map();
    alpha = await deploy("alpha", account);
    // On the stack-only scheme this run is refused: the SSM parameters, log groups and dashboard are alpha's.
    beta = await deploy("beta", account);
  });

  test("neither takes the other's names: SSM parameters, log groups, dashboard, final snapshots", () => {
    const a = scopedNames(alpha);
    const b = scopedNames(beta);
    expect(a.filter((n) => b.includes(n))).toEqual([]);
    const kinds = (names: string[]) => [...new Set(names.map((n) => n.split(" ").slice(0, 2).join(" ")))];
    expect(kinds(a)).toEqual([
      "aws:cloudwatch/dashboard:Dashboard dashboardName",
      "aws:cloudwatch/logGroup:LogGroup name",
      "aws:elasticache/replicationGroup:ReplicationGroup finalSnapshotIdentifier",
      "aws:rds/instance:Instance finalSnapshotIdentifier",
      "aws:ssm/parameter:Parameter name",
    ]);
    expect(find(alpha, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardName"]).toBe(
      "alpha-production-mastodon-monitoring",
    );
    expect(find(beta, "aws:ssm/parameter:Parameter", "mastodon-db-master-password").inputs["name"]).toBe(
      "/mastodon/beta/production/mastodon/db-password",
    );
  });

  test("each fleet role's lifecycle condition matches its own project's groups only", () => {
    const tagOf = (run: MockRun) =>
      (find(run, "aws:autoscaling/group:Group", "mastodon-web-group").inputs["tags"] as any[]).find(
        (t) => t.key === "mastodon:stack",
      ).value;
    expect([tagOf(alpha), tagOf(beta)]).toEqual(["alpha/production/mastodon", "beta/production/mastodon"]);
    const condition = JSON.parse(
      String(find(beta, "aws:iam/rolePolicy:RolePolicy", "mastodon-web-lifecycle").inputs["policy"]),
    ).Statement[0].Condition.StringEquals;
    expect(condition["autoscaling:ResourceTag/mastodon:stack"]).toBe(tagOf(beta));
  });

  test("the hosts' metrics carry the deployment's own Stack dimension", () => {
    const dimensions = (run: MockRun) =>
      new Set(
        all(run, "aws:cloudwatch/metricAlarm:MetricAlarm")
          .map((a) => (a.inputs["dimensions"] as Record<string, string> | undefined)?.["Stack"])
          .filter((s) => s !== undefined),
      );
    expect([...dimensions(alpha)]).toEqual(["/mastodon/alpha/production/mastodon"]);
    expect([...dimensions(beta)]).toEqual(["/mastodon/beta/production/mastodon"]);
  });
});

describe("the fake cloud holds an account's names across programs", () => {
  const declare = (project: string, account: AccountNames, region: string) =>
    runUnderMocks(
      () => {
        new aws.cloudwatch.Dashboard("ops", { dashboardName: "ops", dashboardBody: "{}" });
        new aws.ssm.Parameter("secret", { name: "/ops/secret", type: "SecureString", value: "x" });
        return {};
      },
      { project, stack: "production", config: { "aws:region": region }, cloud: { accountNames: account } },
    ).catch((e: unknown) => e);

  test("a second program is refused the explicit names the first holds, each in its scope", async () => {
    const account: AccountNames = new Map();
    expect(await declare("alpha", account, "us-east-1")).not.toBeInstanceOf(Error);
    // Another Region: the parameter (unique per Region) is free, the dashboard (per account) is not.
    const error = (await declare("beta", account, "eu-west-1")) as NameRefusedError;
    expect(error).toBeInstanceOf(NameRefusedError);
    expect(error.refusals.map((r) => [r.type, r.problems])).toEqual([
      [
        "aws:cloudwatch/dashboard:Dashboard",
        ["is already taken by ops of the deployment alpha/production (names are unique per account)"],
      ],
    ]);
    // The same deployment again (the next `pulumi up`) holds its own names.
    expect(await declare("alpha", account, "us-east-1")).not.toBeInstanceOf(Error);
  });
});

describe("deploymentScope", () => {
  test("a path of four levels and a tag, from project, stack and component name", () => {
    expect(deploymentScope("mastodon-aws", "production", "mastodon")).toEqual({
      project: "mastodon-aws",
      stack: "production",
      name: "mastodon",
      parameterPrefix: "/mastodon/mastodon-aws/production/mastodon",
      tag: "mastodon-aws/production/mastodon",
    });
  });

  // Pulumi allows 100 characters of A-Z a-z 0-9 _ . - in project and stack names; the component name is free.
  const longest = {
    project: "p".repeat(100),
    stack: "Org_Prod.EU-01".padEnd(100, "x"),
    name: "m".repeat(300),
  };

  test("at the longest names every parameter, log group and tag stays within AWS's limits", () => {
    const scope = deploymentScope(longest.project, longest.stack, longest.name);
    for (const parameter of [
      `${scope.parameterPrefix}-admin/db-admin-password`,
      `${scope.parameterPrefix}/x`,
    ])
      expect(nameProblems(SSM, parameter)).toEqual([]);
    expect(nameProblems(LOG_GROUP, fleetLogGroupName(scope.parameterPrefix, "f".repeat(32)))).toEqual([]);
    // Tagging AWS Resources: a tag value is at most 256 characters.
    expect(scope.tag.length).toBeLessThanOrEqual(256);
    expect(scopedTag(scope, `${longest.name}-persistent`).length).toBeLessThanOrEqual(256);
    const dashboard = scopedName(scope, "aws:cloudwatch/dashboard:Dashboard", `${longest.name}-monitoring`);
    expect(nameProblems(NAMING_RULES["aws:cloudwatch/dashboard:Dashboard"] as NamingRule, dashboard)).toEqual(
      [],
    );
  });

  test("names cut to fit stay apart: projects that differ only past the cut", () => {
    const a = deploymentScope(`${longest.project}`, longest.stack, longest.name);
    const b = deploymentScope(`${longest.project.slice(1)}q`, longest.stack, longest.name);
    const c = deploymentScope(longest.project, longest.stack, `${longest.name}n`);
    expect(new Set([a.parameterPrefix, b.parameterPrefix, c.parameterPrefix]).size).toBe(3);
    expect(new Set([a.tag, b.tag, c.tag]).size).toBe(3);
    const prefix = (s: typeof a) =>
      scopedName(s, "aws:ecr/pullThroughCacheRule:PullThroughCacheRule", s.name, [], "ecrRepositoryPrefix");
    expect(new Set([prefix(a), prefix(b), prefix(c)]).size).toBe(3);
  });
});

test("the production stack at Pulumi's longest project and stack names: the fake cloud refuses no name", async () => {
  const run = await runUnderMocks(
    () => {
      new MastodonStack(`mastodon-${"long-".repeat(12)}name`, stackConfig("production") as never);
      return {};
    },
    {
      project: "P".repeat(100),
      stack: "Org_Prod.EU-01".padEnd(100, "x"),
      config: { "aws:region": "us-east-1" },
    },
  );
  // Resolved: no name refused. Segments within Pulumi's limits are kept whole, four levels down.
  const names = all(run, "aws:ssm/parameter:Parameter").map((p) => String(p.inputs["name"]));
  expect(names.length).toBeGreaterThan(10);
  const path = /^\/mastodon\/P{100}\/Org_Prod\.EU-01x{86}\/mastodon-(long-){12}name(-admin)?\/[a-z-]+$/;
  for (const n of names) expect(n).toMatch(path);
  // The dashboard: `_` and `.` outside its set, longer than its 255: changed, cut, hashed.
  const dashboard = String(find(run, "aws:cloudwatch/dashboard:Dashboard").inputs["dashboardName"]);
  expect(dashboard).toMatch(/^P{100}-Org-Prod-EU-01x{86}-mastodon-[a-z-]+-[0-9a-f]{7}$/);
  expect(dashboard).toHaveLength(255);
});

test("the plan runs under Pulumi.yaml's project, so it names what `pulumi up` names", async () => {
  const yamlName = (parse(fs.readFileSync(path.join(ROOT, "Pulumi.yaml"), "utf8")) as { name: string }).name;
  expect(PROJECT).toBe(yamlName);
  const run = await runStack("production");
  for (const p of all(run, "aws:ssm/parameter:Parameter"))
    expect(String(p.inputs["name"])).toMatch(
      new RegExp(`^/mastodon/${yamlName}/production/mastodon(-admin)?/`),
    );
});
