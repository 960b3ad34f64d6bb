/**
 * Issue 20, least privilege: every fleet's role reads exactly the SSM parameters its hosts read, by
 * name (no path, no wildcard); a fleet that runs only the streaming server reads none of Rails'
 * secrets; only the scheduler's fleet reads the search domain's master password; and Mastodon
 * talks to OpenSearch as a user of its own, whose role reaches its indices alone. Every shipped
 * stack, as the program declares it under mocks.
 */
import { parseStackConfig } from "../config";
import { BOOT_PATHS, placeholdersIn } from "../host/boot";
import { DATABASE_PATHS } from "../fleet/host/oneOff";
import { SEARCH_APP_USER, searchAppRole, securityApiPath } from "../search/searchUser";
import { SEARCH_ENGINE_VERSIONS } from "../search/engines";
import { type FleetArtifacts, fleetArtifacts } from "../cli/fleetArtifacts";
import type { MockRun, RecordedResource } from "../testing/mocks";
import { STACKS, all, runStack, stackConfig } from "../../test/helpers";

/**
 * What Mastodon's streaming server reads of the environment (Mastodon 4.6: streaming/index.js,
 * database.js, redis.js, logging.js): written out here from its source, not taken from env.ts.
 */
const STREAMING_READS = new Set([
  ...["NODE_ENV", "DB_HOST", "DB_PORT", "DB_NAME", "DB_USER", "DB_PASS", "DB_SSLMODE", "DB_POOL"],
  ...["DATABASE_URL", "REDIS_URL", "REDIS_HOST", "REDIS_PORT", "REDIS_DB", "REDIS_PASSWORD"],
  ...["REDIS_NAMESPACE", "TRUSTED_PROXY_IP", "BIND", "PORT", "SOCKET", "LOG_LEVEL"],
]);

/** Secrets only Rails reads: the app's keys, mail, search, translation, the cache and Sidekiq's Redis. */
const RAILS_ONLY = [
  "SECRET_KEY_BASE",
  "ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY",
  "ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT",
  "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY",
  "VAPID_PRIVATE_KEY",
  "SMTP_LOGIN",
  "SMTP_PASSWORD",
  "ES_PASS",
  "DEEPL_API_KEY",
  "LIBRE_TRANSLATE_API_KEY",
  "CACHE_REDIS_URL",
];

const envOf = (a: FleetArtifacts): Record<string, string> =>
  Object.fromEntries(
    (Object.entries(a.files).find(([p]) => p.endsWith("/env.production.template"))?.[1] ?? "")
      .split("\n")
      .filter((l) => /^[A-Z_]+=/.test(l))
      .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
  );

/** Every placeholder in the templates the fleet's renderer fills (its manifest's files). */
function templateNames(a: FleetArtifacts): string[] {
  const manifest = JSON.parse(a.files[BOOT_PATHS.manifest]!) as { files: { template: string }[] };
  return placeholdersIn(manifest.files.map((f) => a.files[f.template]!).join("\n"));
}

/** The parameters the scheduler's database programs read by name (its database.conf). */
function databaseNames(a: FleetArtifacts): string[] {
  const conf = a.files[DATABASE_PATHS.config];
  if (!conf) return [];
  return conf
    .split("\n")
    .map((l) => l.split(" "))
    .filter(([k]) =>
      [
        "app_password_parameter",
        "search_master_password_parameter",
        "search_app_password_parameter",
      ].includes(k!),
    )
    .map(([, v]) => v!);
}

function parametersPolicy(run: MockRun, fleet: string) {
  const policy = all(run, "aws:iam/rolePolicy:RolePolicy").find(
    (p) => p.name === `mastodon-${fleet}-parameters`,
  );
  if (!policy) throw new Error(`no parameters policy for ${fleet}`);
  return JSON.parse(policy.inputs["policy"] as string) as { Statement: Record<string, any>[] };
}

const arnName = (arn: string) => arn.slice(arn.indexOf(":parameter") + ":parameter".length);
/** Whether a policy's resources reach a parameter, as IAM matches them (`*` any characters). */
const reaches = (resources: readonly string[], name: string) =>
  resources.some((arn) => {
    const escaped = arnName(arn).replace(/[.+?^$()|[\]\\{}]/g, (c) => "\\" + c);
    return new RegExp("^" + escaped.replace(/\*/g, ".*") + "$").test(name);
  });

interface Statement {
  readonly Effect?: string;
  readonly Action?: string | string[];
  readonly NotAction?: string | string[];
  readonly Resource?: string | string[];
  readonly NotResource?: string | string[];
}

/**
 * What the AWS managed policies grant of SSM parameter reads, as AWS publishes them (AWS Managed
 * Policy Reference Guide, each policy's JSON document, the version named): written out here, not
 * taken from the package. A role with a managed policy not in this table fails the test below
 * until its grants are tabled.
 */
const MANAGED_PARAMETER_READS: Readonly<Record<string, readonly Statement[]>> = {
  // v2 (default since 2019-05-23): the agent's actions, and ssm:GetParameter(s) on every parameter.
  "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore": [
    { Effect: "Allow", Action: ["ssm:GetParameter", "ssm:GetParameters"], Resource: "*" },
  ],
  // v8: the deprecated predecessor, ssm:GetParameters on every parameter.
  "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM": [
    { Effect: "Allow", Action: "ssm:GetParameters", Resource: "*" },
  ],
  // v1: ssm:Describe*, ssm:Get*, ssm:List* on everything.
  "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess": [{ Effect: "Allow", Action: "ssm:Get*", Resource: "*" }],
  // ssm:* on everything.
  "arn:aws:iam::aws:policy/AmazonSSMFullAccess": [{ Effect: "Allow", Action: "ssm:*", Resource: "*" }],
  // v1: AmazonSSMManagedInstanceCore's statements without ssm:GetParameter(s).
  "arn:aws:iam::aws:policy/AmazonSSMManagedEC2InstanceDefaultPolicy": [],
  // v3: imagebuilder:GetComponent, kms:Decrypt via Image Builder, its buckets and log groups.
  "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder": [],
};

const listOf = (v: string | string[] | undefined): string[] => (v === undefined ? [] : [v].flat());
/** Whether an IAM action pattern (`*` and `?`, case-insensitive) matches an action. */
const matchesAction = (pattern: string, action: string) =>
  new RegExp(
    "^" +
      pattern
        .replace(/[.+^$()|[\]\\{}]/g, (c) => "\\" + c)
        .replace(/\*/g, ".*")
        .replace(/\?/g, ".") +
      "$",
    "i",
  ).test(action);
/** Whether a statement allows reading parameters (GetParameter or GetParameters). */
const allowsParameterRead = (s: Statement) =>
  s.Effect === "Allow" &&
  ["ssm:GetParameter", "ssm:GetParameters"].some((action) =>
    s.NotAction !== undefined
      ? !listOf(s.NotAction).some((p) => matchesAction(p, action))
      : listOf(s.Action).some((p) => matchesAction(p, action)),
  );
const statementsOf = (policy: unknown): Statement[] =>
  [(JSON.parse(String(policy)) as { Statement: Statement | Statement[] }).Statement].flat();

/**
 * Every policy of a role, where it comes from: its inline policies (RolePolicy and the role's own
 * inlinePolicies) and the policies attached to it (RolePolicyAttachment and managedPolicyArns):
 * a policy the stack declares by its document, an AWS managed one by its tabled grants.
 */
function rolePolicies(run: MockRun, role: RecordedResource): { source: string; statements: Statement[] }[] {
  const refs = new Set([role.id, role.inputs["name"]]);
  const attached = (arn: string) => {
    const declared = all(run, "aws:iam/policy:Policy").find((p) => p.arn === arn);
    if (declared) return statementsOf(declared.inputs["policy"]);
    const managed = MANAGED_PARAMETER_READS[arn];
    if (!managed)
      throw new Error(`${arn} (on ${role.name}): table its parameter reads in MANAGED_PARAMETER_READS`);
    return [...managed];
  };
  return [
    ...all(run, "aws:iam/rolePolicy:RolePolicy")
      .filter((p) => refs.has(p.inputs["role"] as string))
      .map((p) => ({ source: `inline ${p.name}`, statements: statementsOf(p.inputs["policy"]) })),
    ...((role.inputs["inlinePolicies"] ?? []) as { name: string; policy: string }[]).map((p) => ({
      source: `inline ${p.name}`,
      statements: statementsOf(p.policy),
    })),
    ...all(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment")
      .filter((a) => refs.has(a.inputs["role"] as string))
      .map((a) => String(a.inputs["policyArn"]))
      .concat((role.inputs["managedPolicyArns"] ?? []) as string[])
      .map((arn) => ({ source: `attached ${arn}`, statements: attached(arn) })),
  ];
}

/** The roles hosts run as: those of the instance profiles launch templates and instances name. */
function hostRoles(run: MockRun): RecordedResource[] {
  const named = new Set<unknown>();
  for (const t of all(run, "aws:ec2/launchTemplate:LaunchTemplate")) {
    const p = t.inputs["iamInstanceProfile"] as { arn?: string; name?: string } | undefined;
    named.add(p?.arn).add(p?.name);
  }
  for (const i of all(run, "aws:ec2/instance:Instance")) named.add(i.inputs["iamInstanceProfile"]);
  const roleNames = all(run, "aws:iam/instanceProfile:InstanceProfile")
    .filter((p) => named.has(p.arn) || named.has(p.inputs["name"]))
    .map((p) => p.inputs["role"]);
  return all(run, "aws:iam/role:Role").filter((r) => roleNames.includes(r.inputs["name"]));
}

/** A fleet's role: the one its parameters policy is on. */
function fleetRoleOf(run: MockRun, fleet: string): RecordedResource {
  const policy = all(run, "aws:iam/rolePolicy:RolePolicy").find(
    (p) => p.name === `mastodon-${fleet}-parameters`,
  );
  const role = all(run, "aws:iam/role:Role").find((r) => r.id === policy?.inputs["role"]);
  if (!role) throw new Error(`no role for fleet ${fleet}`);
  return role;
}

/** Every parameter a fleet's hosts name: its templates' placeholders and its database.conf's parameters. */
function hostParameterNames(a: FleetArtifacts): string[] {
  const conf = (a.files[DATABASE_PATHS.config] ?? "")
    .split("\n")
    .map((l) => l.split(" "))
    .filter(([k]) => k!.endsWith("_parameter"))
    .map(([, v]) => v!);
  return [...new Set([...templateNames(a), ...conf])].sort();
}

describe.each(STACKS)("the %s stack", (stack) => {
  let run: MockRun;
  let artifacts: FleetArtifacts[];
  const fleets = parseStackConfig(stackConfig(stack)).config.fleets;
  beforeAll(async () => {
    run = await runStack(stack);
    artifacts = fleetArtifacts(run.resources);
  });
  const artifact = (name: string) => artifacts.find((a) => a.fleet === name)!;

  test.each(fleets.map((f) => f.name))(
    "fleet %s: its role reads exactly what its hosts read, each by name",
    (name) => {
      const a = artifact(name);
      const [read, decrypt] = parametersPolicy(run, name).Statement;
      expect(read!["Action"]).toEqual(["ssm:GetParameters", "ssm:GetParameter"]);
      const resources = read!["Resource"] as string[];
      for (const arn of resources) {
        expect(arn).toMatch(/^arn:aws:ssm:us-east-1:\d{12}:parameter\/[A-Za-z0-9_.\-/]+$/);
        expect(arn).not.toContain("*");
      }
      expect(resources.map(arnName)).toEqual([...new Set([...templateNames(a), ...databaseNames(a)])].sort());
      expect(decrypt!["Action"]).toBe("kms:Decrypt");
      // No statement of any of the fleet's policies lists parameters by path.
      const everything = JSON.stringify(
        all(run, "aws:iam/rolePolicy:RolePolicy")
          .filter((p) => p.name.startsWith(`mastodon-${name}-`))
          .map((p) => p.inputs),
      );
      expect(everything).not.toContain("GetParametersByPath");
    },
  );

  test.each(fleets.map((f) => f.name))(
    "fleet %s: no policy of its role, inline or attached, lets its hosts read a parameter they do not name",
    (name) => {
      const own = new Set(hostParameterNames(artifact(name)));
      const reads = rolePolicies(run, fleetRoleOf(run, name)).flatMap(({ source, statements }) =>
        statements
          .filter(allowsParameterRead)
          .flatMap((s) =>
            s.NotResource !== undefined
              ? [{ source, resource: `NotResource ${listOf(s.NotResource).join(",")}` }]
              : listOf(s.Resource).map((resource) => ({ source, resource })),
          ),
      );
      const exact = /^arn:aws:ssm:[a-z0-9-]+:\d{12}:parameter\/[A-Za-z0-9_.\-/]+$/;
      const others = reads.filter((r) => !exact.test(r.resource) || !own.has(arnName(r.resource)));
      expect(others.map((r) => `${r.source}: ${r.resource}`)).toEqual([]);
      // And every parameter its hosts name stays readable, by name.
      const readable = new Set(reads.map((r) => arnName(r.resource)));
      expect([...own].filter((n) => !readable.has(n))).toEqual([]);
      expect(own.size).toBeGreaterThan(0);
    },
  );

  test("the roles hosts run as are the fleets' roles: the test above covers every one", () => {
    expect(
      hostRoles(run)
        .map((r) => r.name)
        .sort(),
    ).toEqual(fleets.map((f) => fleetRoleOf(run, f.name).name).sort());
  });

  const streamingOnly = fleets.filter((f) => f.streaming && !f.web && !f.sidekiq).map((f) => f.name);
  if (streamingOnly.length > 0)
    test.each(streamingOnly)(
      "streaming-only fleet %s: its template and its role name no secret only Rails reads",
      (name) => {
        // The Rails secrets' parameters, as a fleet running Rails has them in its env.
        const rails = fleets.find((f) => f.web || f.sidekiq)!;
        const railsEnv = envOf(artifact(rails.name));
        const railsOnly = RAILS_ONLY.flatMap((k) => (railsEnv[k] ? placeholdersIn(railsEnv[k]!) : []));
        expect(railsOnly.length).toBeGreaterThanOrEqual(6);
        const env = envOf(artifact(name));
        expect(Object.keys(env).filter((k) => !STREAMING_READS.has(k))).toEqual([]);
        const readable = (parametersPolicy(run, name).Statement[0]!["Resource"] as string[]).map(arnName);
        const named = templateNames(artifact(name));
        const resources = parametersPolicy(run, name).Statement[0]!["Resource"] as string[];
        for (const secret of railsOnly) {
          expect(`${secret} ${reaches(resources, secret) ? "readable" : "not readable"}`).toBe(
            `${secret} not readable`,
          );
          expect(named).not.toContain(secret);
        }
        // What the streaming server does need is still there: its database's and its Redis's passwords.
        expect(readable).toEqual(placeholdersIn(`${env["DB_PASS"]}${env["REDIS_URL"]}`));
      },
    );

  test("only the scheduler's fleet may read the search domain's master password", () => {
    const master = all(run, "aws:ssm/parameter:Parameter").find((p) => p.name === "mastodon-search-password");
    const readers = fleets
      .map((f) => f.name)
      .filter(
        (f) =>
          master !== undefined &&
          reaches(
            parametersPolicy(run, f).Statement[0]!["Resource"] as string[],
            master.inputs["name"] as string,
          ),
      );
    expect(readers).toEqual(master ? fleets.filter((f) => f.servesScheduler).map((f) => f.name) : []);
  });
});

test("at least one shipped stack has a streaming-only fleet (the test above is not empty)", () => {
  const counts = STACKS.map(
    (s) =>
      parseStackConfig(stackConfig(s)).config.fleets.filter((f) => f.streaming && !f.web && !f.sidekiq)
        .length,
  );
  expect(counts.reduce((a, b) => a + b, 0)).toBeGreaterThan(0);
});

describe("Mastodon's OpenSearch user", () => {
  test("is who every Rails host connects as, its indices under the prefix its role is limited to", async () => {
    const run = await runStack("production");
    for (const a of fleetArtifacts(run.resources)) {
      const env = envOf(a);
      if (!env["ES_HOST"]) continue;
      expect(env["ES_USER"]).toBe(SEARCH_APP_USER);
      expect(env["ES_USER"]).not.toBe(
        (all(run, "aws:opensearch/domain:Domain")[0]!.inputs as any).advancedSecurityOptions.masterUserOptions
          .masterUserName,
      );
      expect(env["ES_PASS"]).toMatch(/\/search-app-password\}\}$/);
      // Chewy names every index <ES_PREFIX>_<name>: the role's one pattern covers them all.
      expect(searchAppRole().index_permissions).toEqual([
        expect.objectContaining({ index_patterns: [`${env["ES_PREFIX"]}_*`] }),
      ]);
    }
  });

  test("the security API's path follows the engine: _opendistro on Elasticsearch, _plugins on OpenSearch", () => {
    expect(Object.fromEntries(SEARCH_ENGINE_VERSIONS.map((v) => [v, securityApiPath(v)]))).toEqual({
      "Elasticsearch_7.10": "_opendistro/_security/api",
      "OpenSearch_1.3": "_plugins/_security/api",
      "OpenSearch_2.19": "_plugins/_security/api",
    });
  });
});
