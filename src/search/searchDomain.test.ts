/**
 * Full-text search in the production plan: one OpenSearch domain, its security group, the fake
 * cloud's answers, the ES_* env of the web and Sidekiq hosts, tootctl search deploy in the
 * migrations document, the alarms and the cost rows; none of it where mastodon:search is not set.
 */
import { parseStackConfig } from "../config";
import { nameProblems, namingRule } from "../aws/naming";
import { costEstimate } from "../report/cost";
import { FAKE_ACCOUNT } from "../testing/fakeCloud";
import type { MockRun } from "../testing/mocks";
import { all, find, fleetEnv, runStack, stackConfig, stateOf } from "../../test/helpers";

const DOMAIN = "aws:opensearch/domain:Domain";

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
      const env = fleetEnv(run, fleet);
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
    expect(Object.keys(fleetEnv(staging, "web")).filter((k) => k.startsWith("ES_"))).toEqual([]);
  });
});
