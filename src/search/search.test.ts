/**
 * Issue 14, parts 3-6: full-text search (an OpenSearch domain, ES_* env, tootctl search deploy,
 * alarms, cost), translation (DeepL / LibreTranslate keys as SSM secrets), the SES MAIL FROM, SPF
 * and DMARC records (parsed by the real RFC 7208 and RFC 7489 parsers of Debian's Mail::SPF and
 * Mail::DMARC), and a fixture stack with IPv6 dual-stack and a Sidekiq fleet on Spot across several
 * instance types, rendered end to end.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError, parseStackConfig } from "../config";
import { nameProblems, namingRule } from "../aws/naming";
import { dmarcRecord, DMARC_POLICY, SES_SPF_RECORD, mailFromMx } from "../mail/mailRecords";
import { renderMigrationsDocument } from "../database/migrations";
import { costEstimate } from "../report/cost";
import { searchPreset, searchZones } from "./engines";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import * as aws from "@pulumi/aws";
import {
  OPENSEARCH_SERVICE_ROLE,
  SEARCH_SERVICE_ROLE_MISSING,
  createServiceLinkedRoleCommand,
} from "../aws/serviceLinkedRoles";
import { FAKE_ACCOUNT, type FakeCloudOptions } from "../testing/fakeCloud";
import { type MockRun, NameRefusedError, ProgramError, runUnderMocks } from "../testing/mocks";
import { readStackFile } from "../config/stackFile";
import program from "../../index";
import { ROOT, all, find, runStack, stackConfig, stateOf, withConfig } from "../../test/helpers";
import { requireProgram } from "../../test/real/servers";

const DOMAIN = "aws:opensearch/domain:Domain";
const FIXTURES = path.join(ROOT, "test", "fixtures", "stacks");

/** Every problem of a config, by key (parseStackConfig throws them all at once). */
function problems(config: Record<string, unknown>, secretPaths?: (string | number)[][]) {
  try {
    parseStackConfig(config, "test", secretPaths ? { secretPaths } : {});
  } catch (e) {
    if (e instanceof ConfigError) return e.problems.map((p) => ({ key: p.key, message: p.message }));
    throw e;
  }
  return [];
}

/** The env template each fleet's hosts fill at boot, as KEY -> value (placeholders unfilled). */
function envOf(run: MockRun, fleet: string): Record<string, string> {
  const artifact = fleetArtifacts(run.resources).find((a) => a.fleet === fleet);
  if (!artifact) throw new Error(`no fleet ${fleet}`);
  const template = Object.entries(artifact.files).find(([p]) => p.endsWith("/env.production.template"))?.[1];
  if (!template) throw new Error(`no env template for ${fleet}`);
  return Object.fromEntries(
    template
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );
}

describe("search: the production plan", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack("production");
  });

  test("declares one OpenSearch domain, encrypted, HTTPS-only with TLS 1.2, fine-grained access, over the three data subnets", () => {
    const domain = find(run, DOMAIN);
    const inputs = domain.inputs as Record<string, any>;
    expect(inputs["engineVersion"]).toBe("Elasticsearch_7.10");
    expect(inputs["clusterConfig"]).toEqual({
      instanceType: "r7g.large.search",
      instanceCount: 3,
      zoneAwarenessEnabled: true,
      zoneAwarenessConfig: { availabilityZoneCount: 3 },
    });
    expect(inputs["encryptAtRest"]).toEqual({ enabled: true });
    expect(inputs["nodeToNodeEncryption"]).toEqual({ enabled: true });
    expect(inputs["domainEndpointOptions"]).toEqual({
      enforceHttps: true,
      tlsSecurityPolicy: "Policy-Min-TLS-1-2-2019-07",
    });
    expect(inputs["ebsOptions"]).toEqual({ ebsEnabled: true, volumeType: "gp3", volumeSize: 200 });
    expect(inputs["advancedSecurityOptions"].masterUserOptions).toEqual({
      masterUserName: "mastodon",
      masterUserPassword: "[secret]",
    });
    // The data subnets (the tier the database and Redis live in), one per zone.
    const dataSubnets = new Set(
      all(run, "aws:rds/subnetGroup:SubnetGroup").flatMap((g) => g.inputs["subnetIds"] as string[]),
    );
    expect(inputs["vpcOptions"].subnetIds).toHaveLength(3);
    for (const id of inputs["vpcOptions"].subnetIds) expect(dataSubnets.has(id)).toBe(true);
  });

  test("its security group admits only the web and Sidekiq groups, on 443", () => {
    const domain = find(run, DOMAIN);
    const [sg] = (domain.inputs as Record<string, any>)["vpcOptions"].securityGroupIds as string[];
    const rules = all(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").filter(
      (r) => r.inputs["securityGroupId"] === sg,
    );
    const groupId = (name: string) => find(run, "aws:ec2/securityGroup:SecurityGroup", name).id;
    expect(
      rules
        .map((r) => [r.inputs["referencedSecurityGroupId"], r.inputs["fromPort"], r.inputs["toPort"]])
        .sort(),
    ).toEqual(
      [
        [groupId("mastodon-network-sidekiq"), 443, 443],
        [groupId("mastodon-network-web"), 443, 443],
      ].sort(),
    );
    expect(rules.every((r) => r.inputs["cidrIpv4"] === undefined && r.inputs["cidrIpv6"] === undefined)).toBe(
      true,
    );
  });

  test("the fake cloud answers as the provider: a name within 28 characters, the ARN as id, DomainId and a VPC endpoint", () => {
    const domain = find(run, DOMAIN);
    const name = domain.inputs["domainName"] as string;
    expect(nameProblems(namingRule(DOMAIN)!, name)).toEqual([]);
    expect(name.length).toBeLessThanOrEqual(28);
    expect(domain.id).toBe(`arn:aws:es:us-east-1:${FAKE_ACCOUNT}:domain/${name}`);
    const state = stateOf(run, DOMAIN, domain.name);
    expect(state["domainId"]).toBe(`${FAKE_ACCOUNT}/${name}`);
    expect(state["endpoint"]).toMatch(
      new RegExp(`^vpc-${name}-[a-z0-9]{26}\\.us-east-1\\.es\\.amazonaws\\.com$`),
    );
    // The resource policy names the domain by the name AWS has, and its own indices only.
    const policy = find(run, "aws:opensearch/domainPolicy:DomainPolicy");
    expect(policy.inputs["domainName"]).toBe(name);
    expect(policy.id).toBe(`esd-policy-${name}`);
    const doc = JSON.parse(policy.inputs["accessPolicies"] as string);
    expect(doc.Statement[0].Resource).toBe(`${domain.id}/*`);
    expect(doc.Statement[0].Action.every((a: string) => a.startsWith("es:ESHttp"))).toBe(true);
  });

  test("every web and Sidekiq host gets ES_* with the endpoint over HTTPS, Mastodon's own user (not the master) and its password as an SSM placeholder", () => {
    const endpoint = stateOf(run, DOMAIN, find(run, DOMAIN).name)["endpoint"];
    for (const fleet of ["web", "sidekiq-default", "sidekiq-scheduler"]) {
      const env = envOf(run, fleet);
      expect({
        ES_ENABLED: env["ES_ENABLED"],
        ES_HOST: env["ES_HOST"],
        ES_PORT: env["ES_PORT"],
        ES_USER: env["ES_USER"],
        ES_PASS: env["ES_PASS"],
        ES_PRESET: env["ES_PRESET"],
        ES_PREFIX: env["ES_PREFIX"],
      }).toEqual({
        ES_ENABLED: "true",
        ES_HOST: `https://${endpoint}`,
        ES_PORT: "443",
        ES_USER: "mastodon_app",
        ES_PASS: "{{ssm:/mastodon/mastodon-aws/production/mastodon/search-app-password}}",
        ES_PRESET: "small_cluster",
        ES_PREFIX: "mastodon",
      });
    }
    // Both parameters exist, SecureStrings, and no launch template carries either password.
    for (const name of ["mastodon-search-password", "mastodon-search-app-password"]) {
      const parameter = find(run, "aws:ssm/parameter:Parameter", name);
      expect(parameter.inputs["type"]).toBe("SecureString");
      expect(parameter.inputs["value"]).toBe("[secret]");
    }
  });

  test("the migrations document has phase search: tootctl search deploy", () => {
    const doc = JSON.parse(
      find(run, "aws:ssm/document:Document", "mastodon-migrations").inputs["content"] as string,
    );
    expect(doc.parameters.phase.allowedValues).toContain("search");
    expect(doc.mainSteps[0].inputs.runCommand.join("\n")).toContain("bin/tootctl search deploy");
  });

  test("alarms on red, yellow, blocked writes and free storage under 25% of a node's volume", () => {
    const alarms = all(run, "aws:cloudwatch/metricAlarm:MetricAlarm").filter(
      (a) => a.inputs["namespace"] === "AWS/ES",
    );
    const byMetric = Object.fromEntries(alarms.map((a) => [a.inputs["metricName"], a.inputs]));
    expect(Object.keys(byMetric).sort()).toEqual(
      ["ClusterIndexWritesBlocked", "ClusterStatus.red", "ClusterStatus.yellow", "FreeStorageSpace"].sort(),
    );
    // FreeStorageSpace is per node in MiB: 25% of 200 GiB.
    expect(byMetric["FreeStorageSpace"]!["threshold"]).toBe(200 * 1024 * 0.25);
    const name = find(run, DOMAIN).inputs["domainName"];
    for (const a of alarms)
      expect(a.inputs["dimensions"]).toEqual({ DomainName: name, ClientId: FAKE_ACCOUNT });
  });

  test("the cost report lists the data nodes and their volumes", () => {
    const { config } = parseStackConfig(stackConfig("production"));
    const rows = costEstimate(config, "us-east-1").rows.filter((r) => r.component === "search");
    expect(rows.map((r) => [r.resource, r.quantityDesired, r.unitPrice, r.monthlyDesired])).toEqual([
      ["OpenSearch r7g.large.search", 3, 0.167, 365.73],
      ["gp3 200 GiB x 3 node(s)", 600, 0.122, 73.2],
    ]);
  });

  test("stacks without mastodon:search declare no domain and no ES_* env", async () => {
    const staging = await runStack("staging");
    expect(all(staging, DOMAIN)).toEqual([]);
    expect(Object.keys(envOf(staging, "web")).filter((k) => k.startsWith("ES_"))).toEqual([]);
  });
});

describe("search: the account's service-linked role for VPC domains", () => {
  /** The production stack as the plan runs it, in an account described by `cloud`. */
  const runProduction = (cloud: FakeCloudOptions) => {
    const file = readStackFile(path.join(ROOT, "stacks"), "production");
    return runUnderMocks(program, {
      project: "mastodon-aws",
      stack: "production",
      config: file.config,
      secretKeys: file.secretKeys,
      cloud,
    });
  };
  const declare = (cloud: FakeCloudOptions, declareResources: () => void) =>
    runUnderMocks(
      () => {
        declareResources();
        return {};
      },
      { project: "p", stack: "s", config: { "aws:region": "us-east-1" }, cloud },
    );
  const vpcDomain = () =>
    new aws.opensearch.Domain("es", {
      clusterConfig: { instanceType: "t3.small.search" },
      vpcOptions: { subnetIds: ["subnet-1"] },
    });

  test("a fresh account: the stack fails at preview, naming the one command that creates the role", async () => {
    const error = await runProduction({ serviceLinkedRoles: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProgramError);
    expect((error as Error).message).toContain(
      `mastodon-search: ${SEARCH_SERVICE_ROLE_MISSING} This account has no ${OPENSEARCH_SERVICE_ROLE.name}: create it once per account with \`aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com\``,
    );
  });

  test("an account with only the legacy Elasticsearch role keeps using it: the stack plans", async () => {
    const run = await runProduction({ serviceLinkedRoles: ["es.amazonaws.com"] });
    expect(find(run, DOMAIN).inputs["vpcOptions"]).toMatchObject({ subnetIds: expect.any(Array) });
  });

  test("the stack never creates the account's role (IAM would refuse it where it exists)", async () => {
    const run = await runStack("production");
    expect(all(run, "aws:iam/serviceLinkedRole:ServiceLinkedRole")).toEqual([]);
  });

  test("the fake cloud refuses a VPC domain in an account without the role, as AWS does", async () => {
    const error = await declare({ serviceLinkedRoles: [] }, vpcDomain).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NameRefusedError);
    expect((error as NameRefusedError).refusals.map((r) => [r.resource, r.property])).toEqual([
      ["es", "vpcOptions"],
    ]);
    expect((error as Error).message).toContain(SEARCH_SERVICE_ROLE_MISSING);
    await expect(declare({}, vpcDomain)).resolves.toBeDefined();
  });

  test("the fake cloud refuses creating a service-linked role the account already has, and accepts a new one", async () => {
    const role = () =>
      new aws.iam.ServiceLinkedRole("slr", { awsServiceName: OPENSEARCH_SERVICE_ROLE.service });
    await expect(declare({}, role)).rejects.toThrow(
      `Service role name ${OPENSEARCH_SERVICE_ROLE.name} has been taken in this account`,
    );
    // A fresh account: created, named and placed by AWS; a domain after it is accepted.
    const run = await declare({ serviceLinkedRoles: [] }, () => {
      role();
      vpcDomain();
    });
    expect(find(run, "aws:iam/serviceLinkedRole:ServiceLinkedRole").id).toBe(
      `arn:aws:iam::${FAKE_ACCOUNT}:role/aws-service-role/opensearchservice.amazonaws.com/${OPENSEARCH_SERVICE_ROLE.name}`,
    );
    expect(createServiceLinkedRoleCommand(OPENSEARCH_SERVICE_ROLE)).toBe(
      "aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com",
    );
  });
});

describe("search: facts derived from the size", () => {
  test("ES_PRESET follows Mastodon's documented thresholds", () => {
    expect([1, 2, 5, 6, 12].map(searchPreset)).toEqual([
      "single_node_cluster",
      "small_cluster",
      "small_cluster",
      "large_cluster",
      "large_cluster",
    ]);
  });

  test("zone layout: one subnet for one node, 3 zones for multiples of 3 on 3, else 2 for even counts", () => {
    expect(searchZones(1, 3)).toEqual({ kind: "single", zones: 1 });
    expect(searchZones(3, 3)).toEqual({ kind: "zone-aware", zones: 3 });
    expect(searchZones(4, 3)).toEqual({ kind: "zone-aware", zones: 2 });
    expect(searchZones(3, 2)).toEqual({ kind: "uneven", nodes: 3, vpcZones: 2 });
  });

  test("the naming row refuses what AWS refuses (3-28, lower-case start, a-z0-9-)", () => {
    const rule = namingRule(DOMAIN)!;
    expect(nameProblems(rule, "ab")).toEqual(["is 2 characters, under the minimum 3"]);
    expect(nameProblems(rule, `a${"b".repeat(28)}`)).toEqual(["is 29 characters, over the maximum 28"]);
    expect(nameProblems(rule, "1abc")).toEqual(["must begin with a letter"]);
    expect(nameProblems(rule, "Mastodon-es")).toEqual([
      "has characters outside lower-case letters, digits and -",
    ]);
    expect(nameProblems(rule, "mastodon-search-es-a8f37c7")).toEqual([]);
  });
});

describe("search and translation: bad input refused by key with the fix", () => {
  test("3 nodes on a 2-zone network", () => {
    const found = problems(withConfig((c) => (c.search = { nodes: 3 })));
    expect(found).toEqual([
      {
        key: "mastodon:search.nodes",
        message: expect.stringMatching(
          /cannot be spread evenly.*availabilityZones 2.*or mastodon:network\.availabilityZones 3/,
        ),
      },
    ]);
  });

  test("a volume over the node type's ceiling, and an unknown node type", () => {
    expect(
      problems(withConfig((c) => (c.search = { instanceType: "t3.small.search", volumeGiB: 500 }))),
    ).toEqual([{ key: "mastodon:search.volumeGiB", message: expect.stringContaining("exceeds 100 GiB") }]);
    expect(problems(withConfig((c) => (c.search = { instanceType: "r5.large.search" })))).toEqual([
      { key: "mastodon:search.instanceType", message: expect.stringContaining("t3.small.search") },
    ]);
  });

  test("a DeepL key in clear text in the stack file", () => {
    const config = withConfig((c) => (c.translation = { provider: "deepl", apiKey: "0123-key:fx" }));
    expect(problems(config, [])).toEqual([
      {
        key: "mastodon:translation.apiKey",
        message: expect.stringContaining("pulumi config set --secret --path 'mastodon:translation.apiKey'"),
      },
    ]);
    // Kept as a secret (the leaf, or the whole top-level key as Pulumi marks it): accepted.
    expect(problems(config, [["translation", "apiKey"]])).toEqual([]);
    expect(problems(config, [["translation"]])).toEqual([]);
  });

  test("DeepL without its key, LibreTranslate without its endpoint or with an http one", () => {
    expect(problems(withConfig((c) => (c.translation = { provider: "deepl" })))).toEqual([
      {
        key: "mastodon:translation.apiKey",
        message: expect.stringContaining("required with translation.provider deepl"),
      },
    ]);
    expect(problems(withConfig((c) => (c.translation = { provider: "libretranslate" })))).toEqual([
      {
        key: "mastodon:translation.endpoint",
        message: expect.stringContaining("required with translation.provider libretranslate"),
      },
    ]);
    expect(
      problems(
        withConfig(
          (c) => (c.translation = { provider: "libretranslate", endpoint: "http://translate.example" }),
        ),
      ),
    ).toEqual([{ key: "mastodon:translation.endpoint", message: expect.stringContaining("https://") }]);
  });

  test("spotInstanceTypes: without spot, another architecture, other vCPUs, less memory", () => {
    const fleet = (spot: boolean, types: string[]) =>
      withConfig((c) => {
        c.fleets.workers.spot = spot;
        c.fleets.workers.spotInstanceTypes = types;
      });
    expect(problems(fleet(false, ["c6g.large"]))).toEqual([
      {
        key: "mastodon:fleets.workers.spotInstanceTypes",
        message: expect.stringContaining("needs spot: true"),
      },
    ]);
    // workers run c7g.large: 2 vCPUs, 4 GiB, arm64.
    expect(problems(fleet(true, ["c7i.large", "c6g.xlarge", "c6g.large", "c7g.large"]))).toEqual([
      { key: "mastodon:fleets.workers.spotInstanceTypes[0]", message: expect.stringContaining("is x86_64") },
      {
        key: "mastodon:fleets.workers.spotInstanceTypes[1]",
        message: expect.stringContaining("has 4 vCPUs"),
      },
      {
        key: "mastodon:fleets.workers.spotInstanceTypes[3]",
        message: expect.stringContaining("is the fleet's instanceType already"),
      },
    ]);
    expect(problems(fleet(true, ["c6g.large", "c8g.large"]))).toEqual([]);
  });
});

describe("translation env", () => {
  test("DeepL: a key written in clear text reaches the program refused by key, before any resource", async () => {
    const run = await runStack("staging", {
      translation: { provider: "deepl", apiKey: "k", deeplPlan: "pro" },
    }).catch((e) => e);
    // The override writes the key in clear text: refused by key, before any resource.
    expect(String(run)).toContain("mastodon:translation.apiKey");
  });

  test("LibreTranslate: its endpoint, and no key when none is given", async () => {
    const run = await runStack("staging", {
      translation: { provider: "libretranslate", endpoint: "https://translate.example.org" },
    });
    const env = envOf(run, "web");
    expect(env["LIBRE_TRANSLATE_ENDPOINT"]).toBe("https://translate.example.org");
    expect(env["LIBRE_TRANSLATE_API_KEY"]).toBeUndefined();
    expect(env["DEEPL_API_KEY"]).toBeUndefined();
  });
});

describe("the showcase fixture stack: IPv6 dual-stack, Spot across several types, search, DeepL", () => {
  let run: MockRun;
  beforeAll(async () => {
    const file = readStackFile(FIXTURES, "showcase");
    run = await runUnderMocks(program, {
      project: "mastodon-aws",
      stack: "showcase",
      config: file.config,
      secretKeys: file.secretKeys,
    });
  });

  test("dual-stack: the VPC gets an IPv6 block, every subnet a /64 of it, the ALB dualstack, the web name an AAAA alias", () => {
    const vpc = find(run, "aws:ec2/vpc:Vpc");
    expect(vpc.inputs["assignGeneratedIpv6CidrBlock"]).toBe(true);
    const vpcBlock = stateOf(run, "aws:ec2/vpc:Vpc", vpc.name)["ipv6CidrBlock"] as string;
    const prefix = vpcBlock.split("::")[0] as string;
    const subnets = all(run, "aws:ec2/subnet:Subnet");
    expect(subnets.length).toBeGreaterThan(0);
    for (const s of subnets) {
      expect(s.inputs["ipv6CidrBlock"]).toMatch(/\/64$/);
      expect((s.inputs["ipv6CidrBlock"] as string).startsWith(prefix.slice(0, prefix.lastIndexOf(":")))).toBe(
        true,
      );
      expect(s.inputs["assignIpv6AddressOnCreation"]).toBe(true);
    }
    expect(find(run, "aws:lb/loadBalancer:LoadBalancer").inputs["ipAddressType"]).toBe("dualstack");
    const records = all(run, "aws:route53/record:Record").filter(
      (r) => r.inputs["name"] === "showcase.mastodon.example",
    );
    expect(records.map((r) => r.inputs["type"]).sort()).toEqual(["A", "AAAA"]);
  });

  test("the Spot fleet: a mixed instances policy over instanceType and its three alternatives, on-demand base = minSize", () => {
    const group = all(run, "aws:autoscaling/group:Group").find((g) => g.name.endsWith("-sidekiq-group"))!;
    const policy = group.inputs["mixedInstancesPolicy"] as Record<string, any>;
    expect(policy.instancesDistribution).toEqual({
      onDemandBaseCapacity: 1,
      onDemandPercentageAboveBaseCapacity: 0,
      spotAllocationStrategy: "price-capacity-optimized",
    });
    expect(policy.launchTemplate.overrides).toEqual([
      { instanceType: "c7g.xlarge" },
      { instanceType: "c6g.xlarge" },
      { instanceType: "c8g.xlarge" },
      { instanceType: "c7gn.xlarge" },
    ]);
    expect(group.inputs["launchTemplate"]).toBeUndefined();
    // Other fleets keep a plain launch template.
    const web = all(run, "aws:autoscaling/group:Group").find((g) => g.name.endsWith("-web-group"))!;
    expect(web.inputs["mixedInstancesPolicy"]).toBeUndefined();
  });

  test("the budget and the units are computed for instanceType, the smallest of the types", () => {
    const file = readStackFile(FIXTURES, "showcase");
    const raw = Object.fromEntries(
      Object.entries(file.config)
        .filter(([k]) => k.startsWith("mastodon:"))
        .map(([k, v]) => [k.slice("mastodon:".length), /^[{[]/.test(v) ? JSON.parse(v) : v]),
    );
    const { budget, config } = parseStackConfig(raw, "showcase", { secretPaths: file.secretPaths });
    const fleet = config.fleets.find((f) => f.name === "sidekiq")!;
    expect(fleet.instance).toMatchObject({ instanceType: "c7g.xlarge", vcpu: 4, memoryGiB: 8 });
    // 4 hosts x 4 processes x 10 threads: the budget counts what instanceType was sized for.
    const row = budget.rows.find((r) => r.fleet === "sidekiq")!;
    expect(row.connections).toBe(4 * 4 * 10);
  });

  test("search on two zones (small_cluster) and DeepL with its key from SSM", () => {
    const inputs = find(run, DOMAIN).inputs as Record<string, any>;
    expect(inputs["clusterConfig"]).toMatchObject({
      instanceCount: 2,
      zoneAwarenessConfig: { availabilityZoneCount: 2 },
    });
    expect(inputs["vpcOptions"].subnetIds).toHaveLength(2);
    const env = envOf(run, "sidekiq");
    expect(env["ES_PRESET"]).toBe("small_cluster");
    expect(env["DEEPL_API_KEY"]).toBe("{{ssm:/mastodon/mastodon-aws/showcase/mastodon/translation-api-key}}");
    expect(env["DEEPL_PLAN"]).toBe("free");
    const key = find(run, "aws:ssm/parameter:Parameter", "mastodon-translation-api-key");
    expect(key.inputs).toMatchObject({ type: "SecureString", value: "[secret]" });
  });
});

describe("mail that lands: MAIL FROM, SPF and DMARC beside DKIM (production)", () => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack("production");
  });

  test("a custom MAIL FROM domain on the identity, its MX and SPF records, and DMARC at _dmarc", () => {
    const mailFrom = find(run, "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes");
    expect(mailFrom.inputs).toMatchObject({
      emailIdentity: "mastodon.example",
      mailFromDomain: "bounce.mastodon.example",
      behaviorOnMxFailure: "USE_DEFAULT_VALUE",
    });
    const records = all(run, "aws:route53/record:Record");
    const at = (name: string, type: string) =>
      records
        .filter((r) => r.inputs["name"] === name && r.inputs["type"] === type)
        .map((r) => r.inputs["records"]);
    expect(at("bounce.mastodon.example", "MX")).toEqual([[mailFromMx("us-east-1")]]);
    expect(at("bounce.mastodon.example", "MX")).toEqual([["10 feedback-smtp.us-east-1.amazonses.com"]]);
    expect(at("bounce.mastodon.example", "TXT")).toEqual([[SES_SPF_RECORD]]);
    expect(at("_dmarc.mastodon.example", "TXT")).toEqual([[dmarcRecord(DMARC_POLICY)]]);
    // DKIM's three CNAMEs are still there.
    expect(
      records.filter(
        (r) => r.inputs["type"] === "CNAME" && String(r.inputs["name"]).includes("._domainkey."),
      ),
    ).toHaveLength(3);
  });

  test("Mail::SPF (RFC 7208) parses the SPF record: include:amazonses.com, then ~all", () => {
    const perl = requireProgram("/usr/bin/perl");
    const script = [
      "use Mail::SPF::v1::Record;",
      "my $r = Mail::SPF::v1::Record->new_from_string($ARGV[0]);",
      'print join(" ", map { ($_->can("qualifier") ? $_->qualifier : "") . $_->name . ($_->can("domain_spec") && $_->domain_spec ? ":" . $_->domain_spec->text : "") } $r->terms), "\\n";',
    ].join("\n");
    const ok = spawnSync(perl, ["-e", script, SES_SPF_RECORD], { encoding: "utf8" });
    expect(ok.stderr).toBe("");
    expect(ok.stdout.trim()).toBe("+include:amazonses.com ~all");
    // The same parser refuses a broken record, so a pass above means something.
    const bad = spawnSync(perl, ["-e", script, "v=spf1 include: ~all"], { encoding: "utf8" });
    expect(bad.status).not.toBe(0);
  });

  test("Mail::DMARC (RFC 7489) parses the DMARC record as valid with the intended policy and alignment", () => {
    const perl = requireProgram("/usr/bin/perl");
    const script = [
      "use Mail::DMARC::Policy;",
      "my $p = Mail::DMARC::Policy->new->parse($ARGV[0]);",
      'die "invalid\\n" unless $p->is_valid;',
      'print join(" ", $p->v, $p->p, $p->adkim, $p->aspf), "\\n";',
    ].join("\n");
    const ok = spawnSync(perl, ["-e", script, dmarcRecord(DMARC_POLICY)], { encoding: "utf8" });
    expect(ok.stderr).toBe("");
    expect(ok.stdout.trim()).toBe("DMARC1 quarantine r r");
    const bad = spawnSync(perl, ["-e", script, "v=DMARC1; p=maybe"], { encoding: "utf8" });
    expect(bad.status).not.toBe(0);
  });
});

describe("the migrations document's search phase, run as SSM runs it", () => {
  const doc = JSON.parse(
    renderMigrationsDocument({
      databaseHost: "db.example",
      databasePort: 5432,
      defaultImage: "ghcr.io/mastodon/mastodon:v4.6.5",
      search: true,
    }),
  );
  const lines: string[] = doc.mainSteps[0].inputs.runCommand;
  const substitute = (params: Record<string, string>) =>
    ["#!/bin/sh", ...lines].join("\n").replace(/\{\{ (\w+) \}\}/g, (_, n: string) => params[n] ?? "");

  /** The script with stand-in podman and sudo that print their arguments. */
  function runPhase(params: Record<string, string>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-search-phase-"));
    try {
      for (const name of ["podman", "sudo"])
        fs.writeFileSync(path.join(dir, name), `#!/bin/sh\necho ${name} "$@"\n`, { mode: 0o755 });
      const script = substitute(params).replaceAll("/home/mastodon/live", dir);
      return spawnSync("/bin/sh", ["-c", script], {
        encoding: "utf8",
        env: { PATH: `${dir}:/usr/bin:/bin` },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test("with an image: tootctl search deploy in a one-off container of it, never db:migrate", () => {
    const r = runPhase({ phase: "search", image: "ghcr.io/mastodon/mastodon:v4.6.5", version: "" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(
      /^podman run --rm .* ghcr\.io\/mastodon\/mastodon:v4\.6\.5 bin\/tootctl search deploy$/,
    );
  });

  test("on the host's installation: bundle exec bin/tootctl search deploy as mastodon", () => {
    const r = runPhase({ phase: "search", image: "", version: "" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^sudo -u mastodon env .* exec bin\/tootctl search deploy$/);
  });

  test("shellcheck finds nothing in it", () => {
    const shellcheck = requireProgram("/usr/bin/shellcheck");
    const script = substitute({ phase: "search", image: "", version: "" });
    const r = spawnSync(shellcheck, ["-"], { input: script, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
  });

  test("without search the phase does not exist", () => {
    const plain = JSON.parse(renderMigrationsDocument({ databaseHost: "db.example", databasePort: 5432 }));
    expect(plain.parameters.phase.allowedValues).not.toContain("search");
  });
});
