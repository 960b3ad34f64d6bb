/**
 * The policy pack (policy/), run through @pulumi/policy's own analyzer handlers (policyHarness.ts):
 * every shipped stack's plan passes every policy, the budget the policy reads from tags is the
 * sizing core's, and each rule fires on a resource of a real plan with one property broken, naming
 * the resource and the fix. Last, the pack is started as the CLI starts it and answers over gRPC.
 */
import { type ChildProcess, spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as grpc from "@grpc/grpc-js";
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import * as analyzerrpc from "@pulumi/pulumi/proto/analyzer_grpc_pb";
import { Empty } from "google-protobuf/google/protobuf/empty_pb";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import { parseStackConfig } from "../src/config";
import { POLICY_TAGS } from "../src/aws/policyTags";
import { fleetRows, postgresConnectionsPerHost } from "../src/budget/budget";
import { fleetReplacement, surgeHosts } from "../src/fleet/replacement";
import { POLICIES } from "./policies";
import { connectionBudgets } from "./rules/budget";
import type { StackResource } from "./rules/resources";
import { ROOT, STACKS, runStack, stackConfig } from "../test/helpers";
import {
  type AnalyzedResource,
  type Finding,
  UNKNOWN,
  analyzeResource,
  analyzeStack,
  planResources,
} from "../test/policyHarness";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const ASG = "aws:autoscaling/group:Group";
const RDS = "aws:rds/instance:Instance";
const PARAMS = "aws:rds/parameterGroup:ParameterGroup";

async function analyzeAll(resources: readonly AnalyzedResource[]): Promise<Finding[]> {
  const found: Finding[] = [];
  for (const r of resources) found.push(...(await analyzeResource(POLICIES, r)));
  return found;
}

/** One resource of a plan, by type and name. */
function pick(resources: readonly AnalyzedResource[], type: string, name: string): AnalyzedResource {
  const r = resources.find((x) => x.type === type && x.name === name);
  if (!r) throw new Error(`no ${type} ${name} in the plan`);
  return r;
}

/** A copy of `resources` with one resource's props changed by `mutate` (on a deep copy). */
function broken(
  resources: readonly AnalyzedResource[],
  type: string,
  name: string,
  mutate: (props: any) => void,
): AnalyzedResource[] {
  pick(resources, type, name);
  return resources.map((r) => {
    if (r.type !== type || r.name !== name) return r;
    const props = structuredClone(r.props);
    mutate(props);
    return { ...r, props };
  });
}

/** A copy of one resource with changed props. */
function variant(r: AnalyzedResource, mutate: (props: any) => void, name = r.name): AnalyzedResource {
  const props = structuredClone(r.props);
  mutate(props);
  return { ...r, name, urn: r.urn.replace(/::[^:]+$/, `::${name}`), props };
}

/** Resource-level: exactly one finding, from `policy`, naming the resource and carrying `fix`. */
async function expectOne(r: AnalyzedResource, policy: string, fix: string): Promise<Finding> {
  const found = await analyzeResource(POLICIES, r);
  expect(found.map((f) => f.policy)).toEqual([policy]);
  const finding = found[0] as Finding;
  expect(finding.level).toBe("mandatory");
  expect(finding.urn).toBe(r.urn);
  expect(finding.message).toContain(`"${r.name}"`);
  expect(finding.message).toContain(fix);
  return finding;
}

const setTag = (props: any, key: string, value: string | undefined) => {
  props.tags = (props.tags as { key: string }[]).filter((t) => t.key !== key);
  if (value !== undefined) props.tags.push({ key, value, propagateAtLaunch: true });
};

describe.each(STACKS)("%s: the shipped plan", (stack) => {
  test("passes every policy, resource by resource and as a stack", async () => {
    const run = await runStack(stack);
    expect(await analyzeAll(planResources(run, "inputs"))).toEqual([]);
    expect(await analyzeStack(POLICIES, planResources(run, "outputs"))).toEqual([]);
  });

  test("the budget the policy reads from tags is the sizing core's, fleet by fleet", async () => {
    const run = await runStack(stack);
    const { budget, config } = parseStackConfig(stackConfig(stack));
    const { budgets, violations } = connectionBudgets(planResources(run, "outputs") as StackResource[]);
    expect(violations).toEqual([]);
    expect(budgets).toHaveLength(1);
    const db = budgets[0]!;
    expect({ max: db.maxConnections, limit: db.limit, headroom: db.headroom, total: db.total }).toEqual({
      max: budget.maxConnections,
      limit: budget.limit,
      headroom: budget.headroom,
      total: budget.total,
    });
    // Each group's hosts: its maxSize, and the replacements its maintenance policy launches first.
    expect(db.shares.map((s) => [s.resource.name, s.hosts, s.surgeHosts, s.perHost])).toEqual(
      expect.arrayContaining(
        config.fleets.map((f) => {
          const surge = fleetRows(f)[0]!.surgeHosts;
          return [`mastodon-${f.name}-group`, f.maxSize + surge, surge, postgresConnectionsPerHost(f)];
        }),
      ),
    );
    expect(db.shares).toHaveLength(config.fleets.length);
  });
});

test("production with the self-managed AOF Redis host (an EC2 instance and an EBS volume) passes too", async () => {
  const redis = {
    ...(stackConfig("production")["redis"] as object),
    persistent: { mode: "self-managed-aof", instanceType: "c7g.large", volumeGiB: 50 },
  };
  const run = await runStack("production", { redis });
  const inputs = planResources(run, "inputs");
  expect(
    inputs.filter((r) => r.type === "aws:ec2/instance:Instance" || r.type === "aws:ebs/volume:Volume"),
  ).toHaveLength(2);
  expect(await analyzeAll(inputs)).toEqual([]);
  expect(await analyzeStack(POLICIES, planResources(run, "outputs"))).toEqual([]);
});

describe("the connection budget", () => {
  test("fires on the database when a group may grow past it, with the figures and the fix", async () => {
    const run = await runStack("production");
    const { budget, config } = parseStackConfig(stackConfig("production"));
    const web = config.fleets.find((f) => f.name === "web")!;
    const perHost = postgresConnectionsPerHost(web);
    // Just enough extra web hosts to pass the limit by one connection or more.
    const extra = Math.floor(budget.spare / perHost) + 1;
    const resources = broken(planResources(run, "outputs"), ASG, "mastodon-web-group", (p) => {
      p.maxSize = web.maxSize + extra;
    });
    const found = await analyzeStack(POLICIES, resources);
    expect(found.map((f) => f.policy)).toEqual(["mastodon-connection-budget"]);
    const db = pick(resources, RDS, "mastodon-db-primary");
    expect(found[0]!.urn).toBe(db.urn);
    // The group's policy is unchanged (max healthy 110% of the desired capacity): a larger maxSize
    // lets more hosts launch first beside it, and the policy counts those too.
    const { policy, surgeHosts: surge } = fleetReplacement(web);
    const grownSurge = surgeHosts({ maxSize: web.maxSize + extra, policy });
    const total = budget.total + (extra + grownSurge - surge) * perHost;
    expect(found[0]!.message).toContain(`"mastodon-db-primary"`);
    expect(found[0]!.message).toContain(`= ${total}, over ${budget.limit}`);
    expect(found[0]!.message).toContain(
      `mastodon-web-group (${web.maxSize + extra} + ${grownSurge} replacing) x ${perHost}`,
    );
    expect(found[0]!.message).toContain("Fix: lower the groups' maxSize");
    // One fewer host fits: the policy's limit is the sizing core's, not a rounder one.
    const fits = broken(planResources(run, "outputs"), ASG, "mastodon-web-group", (p) => {
      p.maxSize = web.maxSize + extra - 1;
    });
    expect(await analyzeStack(POLICIES, fits)).toEqual([]);
  });

  test("fires when the parameter group lowers max_connections", async () => {
    const run = await runStack("staging");
    const resources = broken(planResources(run, "outputs"), PARAMS, "mastodon-db-params", (p) => {
      p.parameters.find((x: any) => x.name === "max_connections").value = "20";
    });
    const found = await analyzeStack(POLICIES, resources);
    expect(found.map((f) => f.policy)).toEqual(["mastodon-connection-budget"]);
    expect(found[0]!.message).toContain("max_connections 20");
  });

  test("fires on a Mastodon fleet that does not say what it opens", async () => {
    const run = await runStack("staging");
    const resources = broken(planResources(run, "outputs"), ASG, "mastodon-web-group", (p) =>
      setTag(p, POLICY_TAGS.postgresConnections, undefined),
    );
    const found = await analyzeStack(POLICIES, resources);
    expect(found.map((f) => [f.policy, f.urn])).toEqual([
      ["mastodon-connection-budget", pick(resources, ASG, "mastodon-web-group").urn],
    ]);
    expect(found[0]!.message).toContain(`tag it ${POLICY_TAGS.postgresConnections}=`);
  });

  test("in preview, finds the parameter group through the engine's property dependencies", async () => {
    const run = await runStack("production");
    const outputs = planResources(run, "outputs");
    const params = pick(outputs, PARAMS, "mastodon-db-params");
    // Preview of a first deployment: the group's name is unknown, the dependency is recorded.
    const resources = outputs.map((r) => {
      if (r.type === PARAMS && r.name === "mastodon-db-params")
        return variant(r, (p) => {
          p.name = UNKNOWN;
          p.parameters.find((x: any) => x.name === "max_connections").value = "50";
        });
      if (r.type === RDS)
        return {
          ...variant(r, (p) => (p.parameterGroupName = UNKNOWN)),
          propertyDependencies: { parameterGroupName: [params.urn] },
        };
      return r;
    });
    const found = await analyzeStack(POLICIES, resources);
    expect(found.map((f) => f.policy)).toEqual(["mastodon-connection-budget"]);
    expect(found[0]!.message).toContain("max_connections 50");
  });
});

describe("the connection budget over a foreign program", () => {
  // Terminate and launch: no host beside maxSize while hosts are replaced.
  const terminateFirst = { minHealthyPercentage: 90, maxHealthyPercentage: 100 };
  const group = (
    name: string,
    maxSize: number,
    perHost: number,
    instanceMaintenancePolicy: object | null = terminateFirst,
  ): AnalyzedResource => ({
    type: ASG,
    name,
    urn: `urn:pulumi:prod::platform::${ASG}::${name}`,
    props: {
      maxSize,
      minSize: 1,
      ...(instanceMaintenancePolicy && { instanceMaintenancePolicy }),
      tags: [
        { key: "mastodon:stack", value: "social", propagateAtLaunch: true },
        { key: "mastodon:postgres-connections", value: String(perHost), propagateAtLaunch: true },
      ],
    },
  });
  // No parameter group: RDS's formula for 4 GiB gives floor(4 GiB / 9531392) = 450 connections,
  // so the limit is floor(0.9 x (450 - 5)) = 400.
  const db: AnalyzedResource = {
    type: RDS,
    name: "social-db",
    urn: `urn:pulumi:prod::platform::${RDS}::social-db`,
    props: { engine: "postgres", instanceClass: "db.t4g.medium", tagsAll: { "mastodon:stack": "social" } },
  };

  test("groups and a database paired by tag pass within the limit and fail past it", async () => {
    // 10 x 20 + 5 x 30 + 15 headroom = 365 <= 400.
    expect(await analyzeStack(POLICIES, [db, group("puma", 10, 20), group("workers", 5, 30)])).toEqual([]);
    // 10 x 20 + 7 x 30 + 15 = 425 > 400.
    const found = await analyzeStack(POLICIES, [db, group("puma", 10, 20), group("workers", 7, 30)]);
    expect(found.map((f) => [f.policy, f.urn])).toEqual([["mastodon-connection-budget", db.urn]]);
    expect(found[0]!.message).toContain("= 425, over 400 (90% of max_connections 450");
    // A group of another deployment does not count against this database.
    const other = group("elsewhere", 50, 50);
    (other.props.tags as { key: string; value: string }[])[0]!.value = "other";
    expect(await analyzeStack(POLICIES, [db, group("puma", 10, 20), other])).toEqual([]);
  });

  test("hosts a group launches before terminating count beside its maxSize", async () => {
    // Launch first at up to 150% of a desired capacity of 10: 5 more pumas, 10 x 20 + 5 x 20 + 5 x 30 + 15 = 465.
    const launchFirst = { minHealthyPercentage: 100, maxHealthyPercentage: 150 };
    const found = await analyzeStack(POLICIES, [
      db,
      group("puma", 10, 20, launchFirst),
      group("workers", 5, 30),
    ]);
    expect(found.map((f) => f.policy)).toEqual(["mastodon-connection-budget"]);
    expect(found[0]!.message).toContain("= 465, over 400");
    expect(found[0]!.message).toContain("puma (10 + 5 replacing) x 20 = 300");
    // No policy at all: rebalancing launches first, up to 10% of the maximum capacity (one host each).
    const unset = await analyzeStack(POLICIES, [
      db,
      group("puma", 10, 20, null),
      group("workers", 5, 30, null),
    ]);
    expect(unset[0]!.message).toContain("= 415, over 400");
  });
});

describe("the scheduler singleton", () => {
  test("fires on a second group serving the scheduler queue", async () => {
    const run = await runStack("staging");
    const resources = broken(planResources(run, "outputs"), ASG, "mastodon-sidekiq-group", (p) => {
      const queues = p.tags.find((t: any) => t.key === POLICY_TAGS.sidekiqQueues).value;
      setTag(p, POLICY_TAGS.sidekiqQueues, `${queues} scheduler`);
    });
    const found = await analyzeStack(POLICIES, resources);
    const sidekiq = pick(resources, ASG, "mastodon-sidekiq-group");
    const scheduler = pick(resources, ASG, "mastodon-scheduler-group");
    // Both servers are told of each other; the worker group also breaks maxSize 1 (it has 3).
    expect(found.map((f) => [f.policy, f.urn]).sort()).toEqual(
      [
        ["mastodon-scheduler-singleton", sidekiq.urn],
        ["mastodon-scheduler-singleton", sidekiq.urn],
        ["mastodon-scheduler-singleton", scheduler.urn],
      ].sort(),
    );
    const messages = found.map((f) => f.message).join("\n");
    expect(messages).toContain(`"mastodon-sidekiq-group" serves the scheduler queue with maxSize 3`);
    expect(messages).toContain(
      `"mastodon-scheduler-group" serves the scheduler queue, and so does mastodon-sidekiq-group (deployment mastodon-aws/staging/mastodon): only one may. Fix: drop "scheduler"`,
    );
  });

  test("fires on the scheduler's group growing past one host", async () => {
    // Staging: production's budget has 4 connections spare, and a second scheduler host takes 5.
    const run = await runStack("staging");
    const resources = broken(planResources(run, "outputs"), ASG, "mastodon-scheduler-group", (p) => {
      p.maxSize = 2;
    });
    const found = await analyzeStack(POLICIES, resources);
    expect(found.map((f) => f.policy)).toEqual(["mastodon-scheduler-singleton"]);
    expect(found[0]!.message).toContain(
      `"mastodon-scheduler-group" serves the scheduler queue with maxSize 2`,
    );
    expect(found[0]!.message).toContain("Fix: set its maxSize (and minSize) to 1");
  });
});

describe("resource rules fire on one broken property of a real plan resource", () => {
  let inputs: AnalyzedResource[];
  beforeAll(async () => {
    inputs = planResources(await runStack("production"), "inputs");
  });
  const the = (type: string, name: string) => pick(inputs, type, name);

  test("c-family: a fleet's launch template, and a group's Spot overrides", async () => {
    const lt = the(LT, "mastodon-web-template");
    await expectOne(
      variant(lt, (p) => (p.instanceType = "t3.large")),
      "mastodon-fleet-c-family",
      "instanceType t3.large is not c-family",
    );
    await expectOne(
      variant(the(ASG, "mastodon-web-group"), (p) => {
        p.mixedInstancesPolicy = {
          launchTemplate: {
            launchTemplateSpecification: { launchTemplateId: "lt-1" },
            overrides: [{ instanceType: "c7g.2xlarge" }, { instanceType: "m7g.2xlarge" }],
          },
        };
      }),
      "mastodon-fleet-c-family",
      "overrides[1].instanceType m7g.2xlarge is not c-family",
    );
    // Outside a Mastodon fleet (no mastodon:fleet tag) the family is the program's own business.
    const foreign = variant(lt, (p) => {
      p.instanceType = "t3.large";
      p.tagSpecifications = [];
    });
    expect(await analyzeResource(POLICIES, foreign)).toEqual([]);
  });

  test("IMDSv2: launch templates and instances", async () => {
    await expectOne(
      variant(the(LT, "mastodon-web-template"), (p) => (p.metadataOptions.httpTokens = "optional")),
      "imdsv2-required",
      'metadataOptions.httpTokens is "optional"; set metadataOptions: { httpTokens: "required" }',
    );
    const instance: AnalyzedResource = {
      type: "aws:ec2/instance:Instance",
      name: "bastion",
      urn: "urn:pulumi:production::mastodon-aws::aws:ec2/instance:Instance::bastion",
      props: { ami: "ami-1", instanceType: "t3.micro", rootBlockDevice: { encrypted: true } },
    };
    await expectOne(instance, "imdsv2-required", "not set (IMDSv1 stays allowed)");
  });

  test("encryption at rest: RDS, ElastiCache, EBS, OpenSearch", async () => {
    await expectOne(
      variant(the(RDS, "mastodon-db-primary"), (p) => (p.storageEncrypted = false)),
      "encryption-at-rest",
      "set storageEncrypted: true",
    );
    await expectOne(
      variant(the("aws:elasticache/replicationGroup:ReplicationGroup", "mastodon-cache-group"), (p) => {
        p.atRestEncryptionEnabled = false;
      }),
      "encryption-at-rest",
      "set atRestEncryptionEnabled: true",
    );
    await expectOne(
      variant(the(LT, "mastodon-web-template"), (p) => (p.blockDeviceMappings[0].ebs.encrypted = "false")),
      "encryption-at-rest",
      'the EBS volume /dev/xvda is not encrypted; set ebs.encrypted to "true"',
    );
    await expectOne(
      variant(the(LT, "mastodon-web-template"), (p) => delete p.blockDeviceMappings),
      "encryption-at-rest",
      'declare the root device with ebs: { encrypted: "true" }',
    );
    await expectOne(
      variant(
        the("aws:opensearch/domain:Domain", "mastodon-search-es"),
        (p) => (p.encryptAtRest.enabled = false),
      ),
      "encryption-at-rest",
      "set encryptAtRest: { enabled: true }",
    );
    const urn = (type: string, name: string) => `urn:pulumi:production::mastodon-aws::${type}::${name}`;
    const volume = "aws:ebs/volume:Volume";
    await expectOne(
      {
        type: volume,
        name: "data",
        urn: urn(volume, "data"),
        props: { availabilityZone: "us-east-1a", size: 10 },
      },
      "encryption-at-rest",
      "set encrypted: true",
    );
    const cluster = "aws:elasticache/cluster:Cluster";
    await expectOne(
      {
        type: cluster,
        name: "memo",
        urn: urn(cluster, "memo"),
        props: { engine: "memcached", nodeType: "cache.t4g.micro" },
      },
      "encryption-at-rest",
      "declare an aws.elasticache.ReplicationGroup",
    );
  });

  test("encryption in transit: ElastiCache TLS, OpenSearch HTTPS", async () => {
    await expectOne(
      variant(the("aws:elasticache/replicationGroup:ReplicationGroup", "mastodon-persistent-group"), (p) => {
        p.transitEncryptionEnabled = false;
      }),
      "encryption-in-transit",
      "set transitEncryptionEnabled: true",
    );
    await expectOne(
      variant(the("aws:opensearch/domain:Domain", "mastodon-search-es"), (p) => {
        p.domainEndpointOptions.enforceHttps = false;
      }),
      "encryption-in-transit",
      "set domainEndpointOptions: { enforceHttps: true }",
    );
  });

  test("no public data stores: RDS, S3 public access block, OpenSearch outside a VPC", async () => {
    await expectOne(
      variant(the(RDS, "mastodon-db-primary"), (p) => (p.publiclyAccessible = true)),
      "no-public-data-stores",
      "set publiclyAccessible: false",
    );
    await expectOne(
      variant(the("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "mastodon-media-bucket"), (p) => {
        p.blockPublicPolicy = false;
      }),
      "no-public-data-stores",
      "blockPublicPolicy is not true; set all four to true",
    );
    await expectOne(
      variant(the("aws:opensearch/domain:Domain", "mastodon-search-es"), (p) => delete p.vpcOptions),
      "no-public-data-stores",
      "place it in the VPC",
    );
  });

  test("internet ingress: only TCP 80 and 443 from 0.0.0.0/0 or ::/0", async () => {
    const https = the(
      "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule",
      "mastodon-network-alb-in-443",
    );
    await expectOne(
      variant(https, (p) => ((p.fromPort = 22), (p.toPort = 22)), "ssh-from-anywhere"),
      "internet-ingress-web-only",
      "opens tcp 22 to 0.0.0.0/0; only TCP 80 and 443 may face the internet",
    );
    await expectOne(
      variant(https, (p) => ((p.fromPort = 80), (p.toPort = 443)), "range"),
      "internet-ingress-web-only",
      "opens tcp 80-443",
    );
    // The same port from a private range is not the internet's business.
    expect(
      await analyzeResource(
        POLICIES,
        variant(https, (p) => ((p.cidrIpv4 = "10.0.0.0/8"), (p.fromPort = 22), (p.toPort = 22))),
      ),
    ).toEqual([]);
    const sg = the("aws:ec2/securityGroup:SecurityGroup", "mastodon-network-alb");
    await expectOne(
      variant(sg, (p) => {
        p.ingress = [{ protocol: "-1", fromPort: 0, toPort: 0, ipv6CidrBlocks: ["::/0"] }];
      }),
      "internet-ingress-web-only",
      "ingress[0] opens every protocol and port to ::/0",
    );
  });

  test("no account-wide parameter reads: a managed policy that reads every parameter on a role the components declare", async () => {
    // A fleet's role as it was: AmazonSSMManagedInstanceCore attached beside its own parameter policy.
    const agent = the("aws:iam/rolePolicy:RolePolicy", "mastodon-web-ssm-agent");
    const ATTACHMENT = "aws:iam/rolePolicyAttachment:RolePolicyAttachment";
    const attachment = (policyArn: string, urn = agent.urn): AnalyzedResource => ({
      type: ATTACHMENT,
      name: "mastodon-web-ssm",
      urn: urn.replace(/aws:iam\/rolePolicy:RolePolicy::[^:]+$/, `${ATTACHMENT}::mastodon-web-ssm`),
      props: { role: agent.props["role"], policyArn },
    });
    for (const arn of [
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
      "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess",
      "arn:aws:iam::aws:policy/AmazonSSMFullAccess",
    ])
      await expectOne(
        attachment(arn),
        "no-account-wide-parameter-reads",
        `${arn} lets the role read every SSM parameter of the account`,
      );
    const role = the("aws:iam/role:Role", "mastodon-web-role");
    await expectOne(
      variant(role, (p) => (p.managedPolicyArns = ["arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"])),
      "no-account-wide-parameter-reads",
      "give a host's role the SSM Agent's actions inline",
    );
    // The agent's own actions, and another managed policy, are not the rule's business.
    expect(
      await analyzeResource(
        POLICIES,
        attachment("arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy"),
      ),
    ).toEqual([]);
    // Image Builder's build role must carry it (EC2 Image Builder User Guide, "Prerequisites"), and a
    // foreign program's roles are their own.
    const stackAndProject = agent.urn.split("::").slice(0, 2).join("::");
    const build = `${stackAndProject}::mastodon:index:MastodonStack$mastodon:index:ImageBuild$aws:iam/rolePolicy:RolePolicy::ib-build`;
    const foreign = "urn:pulumi:prod::platform::aws:iam/rolePolicy:RolePolicy::bastion";
    for (const urn of [build, foreign])
      expect(
        await analyzeResource(
          POLICIES,
          attachment("arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore", urn),
        ),
      ).toEqual([]);
  });
});

describe("resource rules fire on a foreign program's resources too", () => {
  const foreign = (type: string, name: string, props: Record<string, unknown>): AnalyzedResource => ({
    type,
    name,
    urn: `urn:pulumi:prod::platform::${type}::${name}`,
    props,
  });
  const safeInstance = {
    ami: "ami-1",
    instanceType: "c7i.large",
    metadataOptions: { httpTokens: "required" },
    rootBlockDevice: { encrypted: true },
    tags: { "mastodon:fleet": "web" },
  };

  test("an instance of a Mastodon fleet: c-family, and every EBS device encrypted", async () => {
    const ok = foreign("aws:ec2/instance:Instance", "web-1", safeInstance);
    expect(await analyzeResource(POLICIES, ok)).toEqual([]);
    await expectOne(
      foreign("aws:ec2/instance:Instance", "web-1", { ...safeInstance, instanceType: "m7i.large" }),
      "mastodon-fleet-c-family",
      "instanceType m7i.large is not c-family",
    );
    await expectOne(
      foreign("aws:ec2/instance:Instance", "web-1", {
        ...safeInstance,
        ebsBlockDevices: [{ deviceName: "/dev/sdf", encrypted: false }],
      }),
      "encryption-at-rest",
      "the EBS volume /dev/sdf is not encrypted",
    );
  });

  test("an Aurora cluster, a cluster instance, a bucket ACL, a security group rule", async () => {
    await expectOne(
      foreign("aws:rds/cluster:Cluster", "aurora", { engine: "aurora-postgresql" }),
      "encryption-at-rest",
      "set storageEncrypted: true",
    );
    await expectOne(
      foreign("aws:rds/clusterInstance:ClusterInstance", "aurora-1", { publiclyAccessible: true }),
      "no-public-data-stores",
      "set publiclyAccessible: false",
    );
    await expectOne(
      foreign("aws:s3/bucketAcl:BucketAcl", "media", { bucket: "media", acl: "public-read" }),
      "no-public-data-stores",
      'the canned ACL "public-read" opens the bucket',
    );
    await expectOne(
      foreign("aws:ec2/securityGroupRule:SecurityGroupRule", "rdp", {
        type: "ingress",
        protocol: "tcp",
        fromPort: 3389,
        toPort: 3389,
        cidrBlocks: ["0.0.0.0/0"],
        securityGroupId: "sg-1",
      }),
      "internet-ingress-web-only",
      "opens tcp 3389 to 0.0.0.0/0",
    );
  });
});

describe("S3 buckets declare encryption and a public access block", () => {
  test.each([
    [
      "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      "declares no default encryption",
    ],
    ["aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "has no public access block"],
  ])("a bucket without its %s fails", async (type, expected) => {
    const run = await runStack("staging");
    const resources = planResources(run, "outputs").filter(
      (r) => !(r.type === type && r.name === "mastodon-media-bucket"),
    );
    const found = await analyzeStack(POLICIES, resources);
    const bucket = pick(resources, "aws:s3/bucket:Bucket", "mastodon-media-bucket");
    expect(found.map((f) => [f.policy, f.urn])).toEqual([
      ["s3-encryption-and-public-access-block", bucket.urn],
    ]);
    expect(found[0]!.message).toContain(`"mastodon-media-bucket" ${expected}`);
  });
});

/** The first line the child prints on stdout (the pack prints its gRPC port there). */
function firstLine(child: ChildProcess): Promise<string> {
  return new Promise((resolve, reject) => {
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      if (out.includes("\n")) resolve(out.split("\n")[0]!.trim());
    });
    child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
    child.on("exit", (code) => reject(new Error(`the pack exited (${code}) before serving:\n${err}`)));
  });
}

function unary<Req, Res>(client: analyzerrpc.AnalyzerClient, method: string, req: Req): Promise<Res> {
  return new Promise((resolve, reject) =>
    (client as any)[method](req, (e: unknown, res: Res) => (e ? reject(e) : resolve(res))),
  );
}

describe("the pack as the CLI starts it", () => {
  let child: ChildProcess | undefined;
  afterAll(() => {
    if (child?.pid) process.kill(child.pid);
  });

  test("serves every policy over gRPC, mandatory, and flags a bad resource", async () => {
    const dir = path.join(ROOT, "policy");
    // The analyzer plugin for nodejs packs resolves run-policy-pack from the pack's directory and
    // runs it there with node: `<engine address> <pack path>` (pulumi-analyzer-policy).
    const runner = require.resolve("@pulumi/pulumi/cmd/run-policy-pack", { paths: [dir] });
    child = spawn(process.execPath, [runner, "127.0.0.1:0", "."], {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
    });
    const port = await firstLine(child);
    expect(port).toMatch(/^[0-9]+$/);
    const client = new analyzerrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
    try {
      const info = await unary<Empty, analyzerproto.AnalyzerInfo>(client, "getAnalyzerInfo", new Empty());
      expect(info.getName()).toBe("mastodon-aws");
      const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
      expect(info.getVersion()).toBe(pkg.version);
      expect(info.getPoliciesList().map((p) => [p.getName(), p.getEnforcementlevel()])).toEqual(
        POLICIES.map((p) => [p.name, analyzerproto.EnforcementLevel.MANDATORY]),
      );

      const run = await runStack("dev");
      const lt = pick(planResources(run, "inputs"), LT, "mastodon-app-template");
      const req = new analyzerproto.AnalyzeRequest();
      req.setType(lt.type);
      req.setName(lt.name);
      req.setUrn(lt.urn);
      req.setProperties(
        Struct.fromJavaScript({
          ...(lt.props as object),
          metadataOptions: { httpTokens: "optional" },
        } as never),
      );
      req.setOptions(new analyzerproto.AnalyzerResourceOptions());
      const res = await unary<analyzerproto.AnalyzeRequest, analyzerproto.AnalyzeResponse>(
        client,
        "analyze",
        req,
      );
      expect(res.getDiagnosticsList().map((d) => [d.getPolicyname(), d.getUrn()])).toEqual([
        ["imdsv2-required", lt.urn],
      ]);
    } finally {
      client.close();
    }
  }, 180_000);
});
