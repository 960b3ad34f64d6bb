/**
 * Names as the provider and AWS judge them: the rule table (src/aws/naming/), the fake cloud
 * that applies it, and the program at the longest plausible component, stack and fleet names.
 */
import * as aws from "@pulumi/aws";
import { MastodonStack } from "../../stack/mastodonStack";
import {
  CLOUDFRONT_HOSTED_ZONE_ID,
  INPUT_RULES,
  NAMING_RULES,
  type NamingRule,
  PROPERTY_NAMING_RULES,
  autoname,
  fitLogicalName,
  nameProblems,
  physicalName,
} from "./index";
import { type MockRun, NameRefusedError, type RecordedResource, runUnderMocks } from "../../testing/mocks";
import { STACKS, all, declareUnderMocks, find, runStack, stackConfig } from "../../../test/helpers";

const rules = Object.entries(NAMING_RULES).filter((e): e is [string, NamingRule] => e[1] !== null);

/** A name that satisfies `rule`, `length` characters long. */
function validName(rule: NamingRule, length: number): string {
  const start = rule.requiredPrefix ?? "m";
  return (start + "a".repeat(Math.max(0, length - start.length))).slice(0, Math.max(length, start.length));
}

describe("the naming rule table", () => {
  test.each(rules)("%s: a name at the maximum passes, one character more is refused", (_type, rule) => {
    expect(nameProblems(rule, validName(rule, rule.maxLength))).toEqual([]);
    expect(nameProblems(rule, validName(rule, rule.maxLength + 1))).toContain(
      `is ${rule.maxLength + 1} characters, over the maximum ${rule.maxLength}`,
    );
  });

  test.each(rules)("%s: a character outside its set is refused", (_type, rule) => {
    expect(nameProblems(rule, `${validName(rule, 4)}\u00e9`)).toContain(
      `has characters outside ${rule.charset}`,
    );
  });

  test.each(rules)("%s: every rule cites its source", (_type, rule) => {
    expect(rule.source).toMatch(/API|Guide|resources\.go/);
  });

  test.each(rules.filter(([, r]) => r.hyphenRules))(
    "%s: no consecutive hyphens, no trailing hyphen, first a letter",
    (_type, rule) => {
      expect(nameProblems(rule, "ab--cd")).toContain("has two consecutive hyphens");
      expect(nameProblems(rule, "abcd-")).toContain("ends with a hyphen");
      expect(nameProblems(rule, "1abcd")).toContain("must begin with a letter");
    },
  );

  test.each(rules.filter(([, r]) => r.forbiddenPrefixes?.length))(
    "%s: its reserved prefixes are refused",
    (_type, rule) => {
      for (const prefix of rule.forbiddenPrefixes ?? []) {
        const name = `${prefix}${"a".repeat(3)}`;
        expect(nameProblems(rule, name)).toContain(`begins with the reserved prefix "${prefix}"`);
      }
    },
  );

  test("autonames are the logical name, a hyphen and 7 hex, lower-cased where the provider does", () => {
    const options = (type: string) => (NAMING_RULES[type] as NamingRule).autoname ?? { maxLength: 0 };
    expect(autoname(options("aws:lb/targetGroup:TargetGroup"), "Web", "seed")).toMatch(/^Web-[0-9a-f]{7}$/);
    expect(autoname(options("aws:s3/bucket:Bucket"), "Media", "seed")).toMatch(/^media-[0-9a-f]{7}$/);
    // RDS identifiers: no separator (pulumi-aws resource_overrides.go).
    expect(autoname(options("aws:rds/instance:Instance"), "db", "seed")).toMatch(/^db[0-9a-f]{7}$/);
  });

  test("fitLogicalName keeps a name that fits and cuts one that does not, uniquely", () => {
    const type = "aws:lb/targetGroup:TargetGroup";
    expect(fitLogicalName(type, "mastodon-lb", "web")).toBe("mastodon-lb-web");
    const a = fitLogicalName(type, "a-very-long-component-name-lb", "stream-4000");
    const b = fitLogicalName(type, "a-very-long-component-name-lc", "stream-4000");
    expect(a).not.toBe(b);
    for (const n of [a, b]) expect(n.length + 8).toBeLessThanOrEqual(32);
    expect(a).toMatch(/-stream-4000$/);
  });

  test("physicalName turns any stack name into a valid snapshot identifier", () => {
    const id = physicalName(
      "aws:rds/instance:Instance",
      ["mastodon-db", "Org_Prod.EU--01-", "final"],
      "finalSnapshotIdentifier",
    );
    const rule = (PROPERTY_NAMING_RULES["aws:rds/instance:Instance"] ?? [])[0] as NamingRule;
    expect(nameProblems(rule, id)).toEqual([]);
    expect(id).toMatch(/^mastodon-db-org-prod-eu-01-final-[0-9a-f]{7}$/i);
    // Already valid: unchanged.
    expect(physicalName("aws:cloudwatch/dashboard:Dashboard", ["mastodon-monitoring", "production"])).toBe(
      "mastodon-monitoring-production",
    );
  });
});

describe("the fake cloud refuses what the provider would", () => {
  const declare = declareUnderMocks;

  test("a target group whose autoname passes 32 characters, in the provider's own words", async () => {
    const run = declare(() => {
      new aws.lb.TargetGroup("mastodon-lb-streaming-4000", { port: 4000, protocol: "HTTP", vpcId: "vpc-1" });
    });
    await expect(run).rejects.toThrow(NameRefusedError);
    await expect(run).rejects.toThrow(
      "name 'mastodon-lb-streaming-4000-' plus 7 random chars is longer than maximum length 32",
    );
    await expect(run).rejects.toThrow("origin of mastodon-lb-streaming-4000");
  });

  test("every refused name at once, explicit ones too, with its rule", async () => {
    const run = declare(() => {
      new aws.s3.Bucket("media", { bucket: "Media_Bucket" });
      new aws.cloudwatch.Dashboard("dash", { dashboardName: "ops.production", dashboardBody: "{}" });
      new aws.ec2.SecurityGroup("sg-web", { name: "sg-web" });
      new aws.rds.Instance("db", { instanceClass: "db.t4g.micro", finalSnapshotIdentifier: "db--final" });
    });
    const error = (await run.catch((e: unknown) => e)) as NameRefusedError;
    expect(error).toBeInstanceOf(NameRefusedError);
    expect(error.refusals.map((r) => `${r.type} ${r.property}`).sort()).toEqual([
      "aws:cloudwatch/dashboard:Dashboard dashboardName",
      "aws:ec2/securityGroup:SecurityGroup name",
      "aws:rds/instance:Instance finalSnapshotIdentifier",
      "aws:s3/bucket:Bucket bucket",
    ]);
    expect(error.message).toContain("General purpose bucket naming rules");
    expect(error.message).toContain('begins with the reserved prefix "sg-"');
  });

  test("two resources of a type may not share a name in its scope", async () => {
    const run = declare(() => {
      new aws.iam.Role("a", { name: "fleet-role", assumeRolePolicy: "{}" });
      new aws.iam.Role("b", { name: "Fleet-Role", assumeRolePolicy: "{}" });
    });
    await expect(run).rejects.toThrow("is already taken by a (names are unique per account)");
  });

  test("an alias to CloudFront that evaluates target health is refused like a name; to an ALB it is not", async () => {
    const alias = (zoneId: string, evaluateTargetHealth: boolean) => ({
      name: "d111111abcdef8.cloudfront.net",
      zoneId,
      evaluateTargetHealth,
    });
    const record = (name: string, a: ReturnType<typeof alias>) =>
      new aws.route53.Record(name, {
        zoneId: "Z0123456789TEST",
        name: `${name}.example.org`,
        type: "A",
        aliases: [a],
      });
    const run = declare(() => {
      record("files", alias(CLOUDFRONT_HOSTED_ZONE_ID, true));
      record("files-ok", alias(CLOUDFRONT_HOSTED_ZONE_ID, false));
      record("web", alias("Z35SXDOTRQ7X7K", true));
    });
    const error = (await run.catch((e: unknown) => e)) as NameRefusedError;
    expect(error).toBeInstanceOf(NameRefusedError);
    expect(error.refusals.map((r) => [r.resource, r.kind, r.property])).toEqual([
      ["files", "input", "aliases[].evaluateTargetHealth"],
    ]);
    expect(error.message).toContain(
      "aws:route53/record:Record files: aliases[0] targets the CloudFront distribution d111111abcdef8.cloudfront.net with evaluateTargetHealth true, which Route 53 refuses; set it to false. It comes from origin of files.",
    );
    expect(error.message).toContain("Route 53 API Reference, AliasTarget, EvaluateTargetHealth");
  });

  test.each(Object.entries(INPUT_RULES).flatMap(([type, rules]) => rules.map((r) => [type, r] as const)))(
    "input rule of %s cites its source",
    (_type, rule) => {
      expect(rule.source).toMatch(/API|Guide/);
    },
  );

  test("a type the table does not know is refused, so no resource enters the plan unnamed", async () => {
    const run = declare(() => {
      new aws.sqs.Queue("q", {});
    });
    await expect(run).rejects.toThrow("no naming rule or answer for aws:sqs/queue:Queue");
  });
});

/** Every name a run's resources carry, checked against the table. */
function refusedNames(run: MockRun): string[] {
  const out: string[] = [];
  for (const r of run.resources) {
    const checks = [NAMING_RULES[r.type], ...(PROPERTY_NAMING_RULES[r.type] ?? [])];
    for (const rule of checks) {
      const value = rule ? r.inputs[rule.property] : undefined;
      if (rule && typeof value === "string") {
        const problems = nameProblems(rule, value);
        if (problems.length) out.push(`${r.type} ${r.name} ${value}: ${problems.join("; ")}`);
      }
    }
  }
  return out;
}

describe.each(STACKS)("stack %s under the fake cloud", (stack) => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("every named resource has its name, within its type's rule", () => {
    for (const r of run.resources.filter((x) => x.custom)) {
      const rule = NAMING_RULES[r.type];
      if (rule) expect([r.name, typeof r.inputs[rule.property]]).toEqual([r.name, "string"]);
    }
    expect(refusedNames(run)).toEqual([]);
  });

  test("references resolve to the values AWS returns: parameter and subnet groups, template versions", () => {
    const named = (type: string, suffix: string) => {
      const r = all(run, type).find((x) => x.name.endsWith(suffix)) as RecordedResource;
      return r.inputs["name"];
    };
    const db = find(run, "aws:rds/instance:Instance", "mastodon-db-primary").inputs;
    expect(db["parameterGroupName"]).toBe(named("aws:rds/parameterGroup:ParameterGroup", "-db-params"));
    expect(db["dbSubnetGroupName"]).toBe(named("aws:rds/subnetGroup:SubnetGroup", "-db-subnets"));
    expect(db["identifier"]).toMatch(/^mastodon-db-primary[0-9a-f]{7}$/);
    // With redis.onHost (small) both Redis run on the app host: no ElastiCache group to resolve.
    const elasticache = all(run, "aws:elasticache/replicationGroup:ReplicationGroup").length > 0;
    for (const role of elasticache ? ["cache", "persistent"] : []) {
      const group = all(run, "aws:elasticache/replicationGroup:ReplicationGroup").find((g) =>
        g.name.startsWith(`mastodon-${role}`),
      ) as RecordedResource;
      expect(group.inputs["parameterGroupName"]).toBe(
        named("aws:elasticache/parameterGroup:ParameterGroup", `-${role}-params`),
      );
      expect(group.inputs["subnetGroupName"]).toBe(
        named("aws:elasticache/subnetGroup:SubnetGroup", `-${role}-subnets`),
      );
    }
    for (const group of all(run, "aws:autoscaling/group:Group")) {
      const template = (group.inputs["launchTemplate"] ??
        (group.inputs["mixedInstancesPolicy"] as any).launchTemplate.launchTemplateSpecification) as Record<
        string,
        unknown
      >;
      expect(template["version"] ?? template["version"]).toBe("1");
      expect(String(template["id"] ?? template["launchTemplateId"])).toMatch(/^lt-[0-9a-f]{17}$/);
    }
    expect(JSON.stringify(run.resources)).not.toMatch(/undefined|\[unknown\]/);
  });

  test("the persistent Redis uses the noeviction group, the cache the allkeys-lru one", () => {
    // On the host (redis.onHost) the policies are in the rendered redis.conf: src/redis/redisOnHost.test.ts.
    if (all(run, "aws:elasticache/replicationGroup:ReplicationGroup").length === 0) return;
    const policy = (role: string) => {
      const group = all(run, "aws:elasticache/replicationGroup:ReplicationGroup").find((g) =>
        g.name.startsWith(`mastodon-${role}`),
      ) as RecordedResource;
      const params = all(run, "aws:elasticache/parameterGroup:ParameterGroup").find(
        (p) => p.inputs["name"] === group.inputs["parameterGroupName"],
      ) as RecordedResource;
      return (params.inputs["parameters"] as { name: string; value: string }[]).find(
        (p) => p.name === "maxmemory-policy",
      )?.value;
    };
    expect(policy("persistent")).toBe("noeviction");
    expect(policy("cache")).toBe("allkeys-lru");
  });
});

/** The production config with every fleet renamed to `rename(fleet)`. */
function productionWithFleets(rename: (fleet: string) => string): Record<string, unknown> {
  const config = stackConfig("production");
  const fleets = config["fleets"] as Record<string, unknown>;
  return { ...config, fleets: Object.fromEntries(Object.entries(fleets).map(([k, v]) => [rename(k), v])) };
}

describe("names fit at the longest plausible component, stack and fleet names", () => {
  // Fleet names may be 32 characters (the schema's maximum); Pulumi stack names allow . and _.
  const fleet32 = (fleet: string) => `${fleet}-${"x".repeat(32)}`.slice(0, 32).replace(/-$/, "x");
  const cases = [
    { component: "a".repeat(20), stack: "Org_Production.EU-01" },
    { component: `mastodon-${"long-".repeat(12)}name`, stack: `${"stack.".repeat(10)}x` },
  ];

  test.each(cases)("component $component, stack $stack", async ({ component, stack }) => {
    const config = productionWithFleets(fleet32);
    const run = await runUnderMocks(
      () => {
        new MastodonStack(component, config as any);
        return {};
      },
      { project: "mastodon-aws", stack, config: { "aws:region": "us-east-1" } },
    );
    expect(refusedNames(run)).toEqual([]);
    const tgs = all(run, "aws:lb/targetGroup:TargetGroup");
    expect(tgs.length).toBe(3);
    for (const tg of tgs) expect(String(tg.inputs["name"]).length).toBeLessThanOrEqual(32);
    const roles = all(run, "aws:iam/role:Role");
    for (const role of roles) expect(String(role.inputs["name"]).length).toBeLessThanOrEqual(64);
  });

  test("two MastodonStacks in one program share no name and no URN", async () => {
    const config = stackConfig("staging");
    const run = await runUnderMocks(
      () => {
        new MastodonStack("blue", config as any);
        new MastodonStack("green", config as any);
        return {};
      },
      { project: "mastodon-aws", stack: "staging", config: { "aws:region": "us-east-1" } },
    );
    expect(refusedNames(run)).toEqual([]);
    const dashboards = all(run, "aws:cloudwatch/dashboard:Dashboard").map((d) => d.inputs["dashboardName"]);
    expect(new Set(dashboards).size).toBe(2);
  });

  test("a component name AWS identifiers cannot carry is refused before anything is declared", () => {
    for (const bad of ["Mastodon", "mastodon_prod", "mastodon--x", "-m", "m-", "1m"]) {
      expect(() => new MastodonStack(bad, stackConfig("dev") as any)).toThrow(
        `MastodonStack name "${bad}": use lower-case letters, digits and single hyphens`,
      );
    }
  });
});
