/**
 * Full-text search in the production plan: one OpenSearch domain, its security group, the fake
 * cloud's answers, the ES_* env of the web and Sidekiq hosts, tootctl search deploy in the
 * migrations document, the alarms and the cost rows; none of it where mastodon:search is not set.
 * Then SearchDomain on its own over plain ids, each zone layout and each refusal.
 */
import * as pulumi from "@pulumi/pulumi";
import { parseStackConfig } from "../config";
import { ConfigError } from "../config/problems";
import { nameProblems, namingRule } from "../aws/naming";
import { SEARCH_SERVICE_ROLE_MISSING } from "../aws/serviceLinkedRoles";
import { costEstimate } from "../report/cost";
import { FAKE_ACCOUNT, type FakeCloudOptions } from "../testing/fakeCloud";
import { type MockRun, ProgramError, runUnderMocks } from "../testing/mocks";
import { SearchDomain, type SearchDomainArgs } from "./searchDomain";
import { all, find, fleetEnv, resolve, runStack, stackConfig, stateOf } from "../../test/helpers";

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

describe("SearchDomain on its own", () => {
  const OPTIONS = { project: "p", stack: "s", config: { "aws:region": "eu-west-1" } };
  const SSM = "aws:ssm/parameter:Parameter";
  const SG = "aws:ec2/securityGroup:SecurityGroup";
  const INGRESS = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule";
  const PASSWORD = "random:index/randomPassword:RandomPassword";
  const SUBNETS = ["subnet-a", "subnet-b", "subnet-c"];
  const args = (over: Partial<SearchDomainArgs> = {}): SearchDomainArgs => ({
    search: {},
    vpcId: "vpc-0a1b2c3d",
    dataSubnetIds: SUBNETS.slice(0, 2),
    clientSecurityGroupIds: { web: "sg-web", sidekiq: "sg-sidekiq" },
    parameterPrefix: "/m/social",
    ...over,
  });
  /**
   * A refused program leaves the component's own registration in flight: let it land before
   * rethrowing, so nothing of this run is still pending when the test file ends.
   */
  const settled = async (error: unknown): Promise<never> => {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    throw error;
  };
  /** WHEN: a program that builds this one SearchDomain runs under the mocks (in eu-west-1). */
  const alone = async (a: SearchDomainArgs, name = "search", cloud?: FakeCloudOptions) => {
    let search: SearchDomain | undefined;
    const run = await runUnderMocks(
      () => {
        search = new SearchDomain(name, a);
        return {};
      },
      { ...OPTIONS, ...(cloud && { cloud }) },
    ).catch(settled);
    return { run, search: search as SearchDomain };
  };
  const domainInputs = (run: MockRun) => find(run, DOMAIN, "search-es").inputs as Record<string, any>;
  /** A secret as the fake cloud holds it (Pulumi's wire form), unwrapped; other values as they are. */
  const unwrap = (v: any) =>
    v?.["4dabf18193072939515e22adb298388d"] === "1b47061264138c4ac30d75fd1eb44270" ? v.value : v;
  /** What the fake cloud was given at `path` (the recorded inputs hide a secret as "[secret]"). */
  const given = (run: MockRun, type: string, name: string, path: string[]) =>
    unwrap(path.reduce((v: any, key) => unwrap(v)?.[key], stateOf(run, type, name)));

  test("GIVEN the default search args, THEN one encrypted, HTTPS-only (TLS 1.2+) Elasticsearch 7.10 node with fine-grained access control, in the first data subnet, no zone awareness", async () => {
    const { run } = await alone(args());
    expect(domainInputs(run)).toMatchObject({
      engineVersion: "Elasticsearch_7.10",
      clusterConfig: { instanceType: "t3.small.search", instanceCount: 1, zoneAwarenessEnabled: false },
      ebsOptions: { ebsEnabled: true, volumeType: "gp3", volumeSize: 20 },
      encryptAtRest: { enabled: true },
      nodeToNodeEncryption: { enabled: true },
      domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: "Policy-Min-TLS-1-2-2019-07" },
      advancedSecurityOptions: {
        enabled: true,
        internalUserDatabaseEnabled: true,
        masterUserOptions: { masterUserName: "mastodon", masterUserPassword: "[secret]" },
      },
      vpcOptions: { subnetIds: ["subnet-a"], securityGroupIds: [find(run, SG, "search-sg").id] },
    });
    expect(domainInputs(run)["clusterConfig"].zoneAwarenessConfig).toBeUndefined();
  });

  test.each([
    [2, 3, 2, "small_cluster"],
    [3, 3, 3, "small_cluster"],
    [4, 2, 2, "small_cluster"],
    [6, 3, 3, "large_cluster"],
  ])(
    "GIVEN %d nodes over %d data subnets, THEN zone awareness over %d zones, as many subnets, and ES_PRESET %s",
    async (nodes, vpcZones, zones, preset) => {
      const { run, search } = await alone(
        args({
          search: { nodes, instanceType: "r7g.large.search" },
          dataSubnetIds: SUBNETS.slice(0, vpcZones),
        }),
      );
      expect(domainInputs(run)["clusterConfig"]).toEqual({
        instanceType: "r7g.large.search",
        instanceCount: nodes,
        zoneAwarenessEnabled: true,
        zoneAwarenessConfig: { availabilityZoneCount: zones },
      });
      expect(domainInputs(run)["vpcOptions"].subnetIds).toEqual(SUBNETS.slice(0, zones));
      expect((await resolve(search.env))["ES_PRESET"]).toBe(preset);
    },
  );

  test("GIVEN two client groups, THEN the domain's group in the VPC admits exactly those, on TCP 443, and no address range", async () => {
    const { run, search } = await alone(args());
    expect(find(run, SG, "search-sg").inputs).toMatchObject({ vpcId: "vpc-0a1b2c3d" });
    // No egress rule: the domain starts no connection of its own.
    expect(find(run, SG, "search-sg").inputs["egress"]).toBeUndefined();
    const sg = await resolve(search.securityGroup.id);
    expect(all(run, INGRESS).map((r) => ({ name: r.name, ...r.inputs }))).toEqual([
      {
        name: "search-from-web",
        securityGroupId: sg,
        referencedSecurityGroupId: "sg-web",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "HTTPS from the web fleets",
      },
      {
        name: "search-from-sidekiq",
        securityGroupId: sg,
        referencedSecurityGroupId: "sg-sidekiq",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        description: "HTTPS from the sidekiq fleets",
      },
    ]);
  });

  test("GIVEN no client groups, THEN nothing may connect to the domain", async () => {
    const { run } = await alone(args({ clientSecurityGroupIds: {} }));
    expect(all(run, INGRESS)).toEqual([]);
    expect(all(run, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule")).toEqual([]);
  });

  test("GIVEN the minimal args, THEN the resource policy allows only HTTP data-plane actions on this domain's own paths", async () => {
    const { run } = await alone(args());
    const domain = find(run, DOMAIN, "search-es");
    const policy = find(run, "aws:opensearch/domainPolicy:DomainPolicy", "search-policy").inputs;
    expect(policy["domainName"]).toBe(domain.inputs["domainName"]);
    expect(JSON.parse(String(policy["accessPolicies"])).Statement).toEqual([
      {
        Sid: "HttpThroughFineGrainedAccessControl",
        Effect: "Allow",
        Principal: { AWS: "*" },
        Action: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"],
        Resource: `${domain.id}/*`,
      },
    ]);
  });

  test("WHEN it runs, THEN two distinct generated passwords: the master's is the domain's and in its own SecureString, Mastodon's user's in another", async () => {
    const { run, search } = await alone(args());
    expect(search.passwordParameterName).toBe("/m/social/search-password");
    expect(search.appPasswordParameterName).toBe("/m/social/search-app-password");
    for (const [logical, name] of [
      ["search-password", "/m/social/search-password"],
      ["search-app-password", "/m/social/search-app-password"],
    ])
      expect(find(run, SSM, logical).inputs).toMatchObject({ name, type: "SecureString", value: "[secret]" });
    const master = given(run, PASSWORD, "search-master-password", ["result"]);
    const app = given(run, PASSWORD, "search-app-password", ["result"]);
    expect(typeof master).toBe("string");
    expect(app).not.toBe(master);
    expect(given(run, SSM, "search-password", ["value"])).toBe(master);
    expect(given(run, SSM, "search-app-password", ["value"])).toBe(app);
    expect(
      given(run, DOMAIN, "search-es", ["advancedSecurityOptions", "masterUserOptions", "masterUserPassword"]),
    ).toBe(master);
    // OpenSearch's complexity rule, and URL-unreserved specials for Mastodon's basic auth.
    expect(find(run, PASSWORD, "search-app-password").inputs).toMatchObject({
      length: 32,
      overrideSpecial: "-_.",
      minUpper: 1,
      minLower: 1,
      minNumeric: 1,
      minSpecial: 1,
    });
  });

  test("WHEN it runs, THEN env is ES_* for Mastodon's own user over HTTPS on the VPC endpoint, ES_PASS a placeholder; access says where the scheduler finds both passwords", async () => {
    const { run, search } = await alone(args());
    const endpoint = stateOf(run, DOMAIN, "search-es")["endpoint"];
    expect(await resolve(search.env)).toEqual({
      ES_ENABLED: "true",
      ES_HOST: `https://${endpoint}`,
      ES_PORT: "443",
      ES_USER: "mastodon_app",
      ES_PASS: "{{ssm:/m/social/search-app-password}}",
      ES_PRESET: "single_node_cluster",
      ES_PREFIX: "mastodon",
    });
    expect(await resolve(search.access)).toEqual({
      url: `https://${endpoint}`,
      api: "_opendistro/_security/api",
      masterUser: "mastodon",
      masterPasswordParameter: "/m/social/search-password",
      appUser: "mastodon_app",
      appPasswordParameter: "/m/social/search-app-password",
      role: "mastodon_app",
    });
    expect(await resolve(search.domainName)).toBe(find(run, DOMAIN, "search-es").inputs["domainName"]);
  });

  test("GIVEN an OpenSearch engine, a larger node and volume, THEN the domain runs them and the security API is under _plugins", async () => {
    const { run, search } = await alone(
      args({
        search: { engineVersion: "OpenSearch_2.19", instanceType: "m7g.large.search", volumeGiB: 200 },
      }),
    );
    expect(domainInputs(run)).toMatchObject({
      engineVersion: "OpenSearch_2.19",
      clusterConfig: { instanceType: "m7g.large.search" },
      ebsOptions: { volumeSize: 200 },
    });
    expect((await resolve(search.access)).api).toBe("_plugins/_security/api");
  });

  test("GIVEN two instances, even with long names sharing a prefix, THEN no logical or physical name collides and domain names fit OpenSearch's 28", async () => {
    const long = "mastodon-production-full-text-search";
    const run = await runUnderMocks(() => {
      for (const n of ["blue", "green", `${long}-a`, `${long}-b`])
        new SearchDomain(n, args({ parameterPrefix: `/m/${n}` }));
      return {};
    }, OPTIONS);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    const domains = all(run, DOMAIN).map((d) => String(d.inputs["domainName"]));
    expect(new Set(domains).size).toBe(4);
    for (const d of domains) expect(d.length).toBeLessThanOrEqual(28);
  });

  test("GIVEN an account without OpenSearch's service-linked role, THEN the run fails naming the command that creates it; GIVEN only the legacy role, THEN it plans", async () => {
    const error = await alone(args(), "search", { serviceLinkedRoles: [] }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProgramError);
    expect((error as Error).message).toContain(`search: ${SEARCH_SERVICE_ROLE_MISSING}`);
    expect((error as Error).message).toContain(
      "aws iam create-service-linked-role --aws-service-name opensearchservice.amazonaws.com",
    );
    const { run } = await alone(args(), "search", { serviceLinkedRoles: ["es.amazonaws.com"] });
    expect(all(run, DOMAIN)).toHaveLength(1);
    expect(all(run, "aws:iam/serviceLinkedRole:ServiceLinkedRole")).toEqual([]);
  });

  test.each([[["subnet-a"]], [["subnet-a", "subnet-b", "subnet-c", "subnet-d"]]])(
    "GIVEN %j as data subnets, THEN it refuses: one per zone of the VPC, 2 or 3",
    async (dataSubnetIds) => {
      await expect(alone(args({ dataSubnetIds }))).rejects.toThrow(
        `search: dataSubnetIds holds ${dataSubnetIds.length} subnets; give one per zone of the VPC, 2 or 3`,
      );
    },
  );

  test("GIVEN 3 nodes over 2 zones, THEN it refuses: they cannot spread evenly", async () => {
    await expect(alone(args({ search: { nodes: 3 } }))).rejects.toThrow(
      "search: 3 nodes over 2 zones (the config rules refuse it)",
    );
  });

  test("GIVEN search args the schema refuses, THEN a ConfigError names each by its key", async () => {
    const error = await alone(
      args({ search: { instanceType: "m5.large", volumeGiB: 5 } as SearchDomainArgs["search"] }),
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).problems.map((p) => p.key)).toEqual([
      "mastodon:search.instanceType",
      "mastodon:search.volumeGiB",
    ]);
  });
});
