/**
 * The schema other Pulumi languages get: Pulumi's component analyzer (in @pulumi/pulumi), run by
 * the same ComponentProvider the Node component provider host (provider/index.ts) serves, over the
 * components' args interfaces. No Pulumi CLI: getSchema() is what `pulumi package add` asks for.
 * And the tokens the components register under mocks: the ones the host constructs them by, with
 * aliases to the tokens deployed stacks hold.
 */
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { COMPONENTS, PROVIDER_NAME, SearchDomain } from "./components";
import { MastodonProvider } from "./mastodonProvider";
import { INPUT_LEAVES } from "../src/stack/stackInputs";
import { SIDEKIQ_QUEUES } from "../src/vocabulary/defaults";
import { RedisRole } from "../src/redis/redisServer";
import { Architecture } from "../src/vocabulary/catalog";
import { runUnderMocks } from "../src/testing/mocks";
import { readStackFile } from "../src/config/stackFile";
import program from "../index";
import { ConfigError, parseStackConfig } from "../src/config";
import { ROOT, all, baseArgs, find, withConfig } from "../test/helpers";

interface Property {
  type?: string;
  $ref?: string;
  description?: string;
  optional?: boolean;
  plain?: boolean;
  secret?: boolean;
  items?: Property;
  additionalProperties?: Property;
}
interface SchemaType {
  type: string;
  properties?: Record<string, Property>;
  required?: string[];
  enum?: { name: string; value: string | number }[];
}
interface Resource {
  isComponent: boolean;
  inputProperties: Record<string, Property>;
  requiredInputs: string[];
  properties: Record<string, Property>;
}
interface Schema {
  name: string;
  resources: Record<string, Resource>;
  types: Record<string, SchemaType>;
}

let schema: Schema;
let provider: MastodonProvider;

beforeAll(async () => {
  // What provider/index.ts serves: the analyzer's schema with the credentials marked secret.
  provider = new MastodonProvider(path.join(ROOT, "provider"));
  schema = JSON.parse(await provider.getSchema()) as Schema;
}, 180_000);

const token = (name: string) => `${PROVIDER_NAME}:index:${name}`;
const typeOf = (ref: string): SchemaType => {
  const t = schema.types[ref.replace("#/types/", "")];
  if (!t) throw new Error(`no type ${ref}`);
  return t;
};

test("the provider's entry exports nothing, so Pulumi's plugin runner starts no second host", () => {
  // cmd/run-plugin hosts every component the entry exports with a plain ComponentProvider: a second
  // server, whose schema has no secrets. index.ts starts the one server itself.
  const entry = fs.readFileSync(path.join(ROOT, "provider", "index.ts"), "utf8");
  expect(entry).toMatch(/^void main\(new MastodonProvider\(__dirname\)/m);
  expect(entry).not.toMatch(/^export /m);
});

test("a component resource per component: MastodonStack and each tier", () => {
  expect(Object.keys(schema.resources).sort()).toEqual(COMPONENTS.map((c) => token(c.name)).sort());
  expect(Object.keys(schema.resources).sort()).toEqual(
    [
      "MastodonStack",
      "Network",
      "PostgresDatabase",
      "RedisStore",
      "OnHostRedis",
      "LoadBalancer",
      "MediaStorage",
      "DnsRecords",
      "Mail",
      "Translation",
      "MastodonSecrets",
      "SearchDomain",
      "HostFiles",
      "ImageBuild",
      "Fleet",
      "Monitoring",
      "WebAcl",
    ]
      .map(token)
      .sort(),
  );
  for (const resource of Object.values(schema.resources)) expect(resource.isComponent).toBe(true);
});

test("every optional input, of a component or of a type it uses, says its default", () => {
  const missing: string[] = [];
  const check = (where: string, props: Record<string, Property>) => {
    for (const [key, prop] of Object.entries(props))
      if (prop.optional && !/\(@default [^)]/.test(prop.description ?? "")) missing.push(`${where}.${key}`);
  };
  for (const [name, resource] of Object.entries(schema.resources)) check(name, resource.inputProperties);
  // The types the inputs reach (the outputs' types have no defaults to state).
  const seen = new Set<string>();
  const walk = (prop: Property) => {
    const ref = prop.$ref ?? prop.items?.$ref ?? prop.additionalProperties?.$ref;
    if (!ref?.startsWith("#/types/") || seen.has(ref)) return;
    seen.add(ref);
    const t = typeOf(ref);
    if (t.properties) {
      check(ref, t.properties);
      Object.values(t.properties).forEach(walk);
    }
  };
  for (const resource of Object.values(schema.resources))
    Object.values(resource.inputProperties).forEach(walk);
  expect(seen.size).toBeGreaterThan(20);
  expect(missing).toEqual([]);
});

test("MastodonStack: required keys, enums and descriptions as other languages see them", () => {
  const stack = schema.resources[token("MastodonStack")] as Resource;
  expect(stack.requiredInputs).toEqual(["database", "domain", "environment", "fleets", "version"]);
  const env = stack.inputProperties.environment as Property;
  expect(typeOf(env.$ref as string).enum?.map((e) => e.value)).toEqual(["dev", "staging", "production"]);
  const network = typeOf(stack.inputProperties.network?.$ref as string);
  expect(network.properties?.cidr).toMatchObject({ type: "string", optional: true });
  expect(network.properties?.cidr?.description).toContain('(@default "10.0.0.0/16")');
  expect(typeOf(network.properties?.availabilityZones?.$ref as string)).toMatchObject({
    type: "number",
    enum: [
      { name: "Two", value: 2 },
      { name: "Three", value: 3 },
    ],
  });
  // fleets: a map of fleet objects; each fleet's sidekiq queues an array of the queue enum.
  const fleets = stack.inputProperties.fleets as Property;
  expect(fleets.type).toBe("object");
  const fleet = typeOf(fleets.additionalProperties?.$ref as string);
  expect(fleet.required).toEqual(["instanceType"]);
  const sidekiq = typeOf(fleet.properties?.sidekiq?.$ref as string);
  expect(sidekiq.properties?.queues?.type).toBe("array");
  expect(typeOf(sidekiq.properties?.queues?.items?.$ref as string).enum?.map((e) => e.value)).toEqual([
    "default",
    "push",
    "ingress",
    "mailers",
    "pull",
    "scheduler",
    "fasp",
  ]);
  // Outputs other languages can hold: strings, the budget and the migrations and drill documents (aws resources).
  expect(Object.keys(stack.properties).sort()).toEqual(
    [
      "albDnsName",
      "budget",
      "drill",
      "imageRegistry",
      "mediaHost",
      "migrations",
      "ownerPassword",
      "parameterPrefix",
      "releaseImage",
      "schedulerFleet",
    ].sort(),
  );
  expect(stack.properties.migrations?.$ref).toMatch(
    /^\/aws\/v[\d.]+\/schema\.json#\/resources\/aws:ssm%2Fdocument:Document$/,
  );
});

test("tier components: inputs typed as Pulumi inputs, enums from the shared enum objects", () => {
  const db = schema.resources[token("PostgresDatabase")] as Resource;
  expect(db.requiredInputs).toEqual(
    [
      "instanceClass",
      "maxConnections",
      "parameterPrefix",
      "scope",
      "securityGroupId",
      "subnetIds",
      "workMemMiB",
    ].sort(),
  );
  // The deployment its explicit names are built from (src/aws/naming/scope.ts): three plain strings.
  expect(typeOf(db.inputProperties.scope?.$ref as string).required).toEqual(["name", "project", "stack"]);
  // An Input<string> is not plain: another language may pass an output.
  expect(db.inputProperties.securityGroupId).toMatchObject({ type: "string" });
  expect(db.inputProperties.securityGroupId).not.toHaveProperty("plain");
  expect(db.inputProperties.parameterPrefix).toMatchObject({ type: "string", plain: true });
  expect(typeOf(db.inputProperties.engineVersion?.$ref as string).enum?.map((e) => e.value)).toEqual([
    "16",
    "17",
  ]);
  const redis = schema.resources[token("RedisStore")] as Resource;
  expect(typeOf(redis.inputProperties.role?.$ref as string).enum?.map((e) => e.value)).toEqual([
    "cache",
    "persistent",
  ]);
  const network = schema.resources[token("Network")] as Resource;
  expect(typeOf(network.inputProperties.egress?.$ref as string).enum?.map((e) => e.value)).toEqual([
    "nat-per-az",
    "single-nat",
    "public-subnets",
  ]);
  expect(network.inputProperties.streamingPorts).toMatchObject({ type: "array", items: { type: "number" } });
});

test("Fleet: its group's facts as a named type, queues from the shared enum, inputs where outputs go", () => {
  const fleet = schema.resources[token("Fleet")] as Resource;
  expect(fleet.requiredInputs).toEqual(
    ["fleet", "imageId", "parameterPath", "securityGroupIds", "subnetIds", "userData"].sort(),
  );
  // What other tiers' outputs feed is an input; what the caller knows up front is plain.
  expect(fleet.inputProperties.userData).toEqual(expect.objectContaining({ type: "string" }));
  expect(fleet.inputProperties.userData).not.toHaveProperty("plain");
  expect(fleet.inputProperties.subnetIds?.items).toEqual({ type: "string" });
  expect(fleet.inputProperties.tags).toMatchObject({
    type: "object",
    additionalProperties: { type: "string" },
  });
  const group = typeOf(fleet.inputProperties.fleet?.$ref as string);
  expect(group.required).toEqual(
    ["desiredSize", "instanceType", "maxSize", "minSize", "name", "postgresConnectionsPerHost"].sort(),
  );
  expect(group.properties?.rootVolumeGiB?.description).toContain("(@default 30)");
  const queues = group.properties?.sidekiqQueues as Property;
  expect(queues.type).toBe("array");
  expect(typeOf(queues.items?.$ref as string).enum?.map((e) => e.value)).toEqual([...SIDEKIQ_QUEUES]);
  expect(Object.keys(fleet.properties).sort()).toEqual(
    ["fleetName", "group", "launchTemplate", "logGroup", "role"].sort(),
  );
  expect(fleet.properties.group?.$ref).toMatch(/#\/resources\/aws:autoscaling%2Fgroup:Group$/);
});

test("SearchDomain takes mastodon:search as written: the very type MastodonStack's search is", () => {
  const search = schema.resources[token("SearchDomain")] as Resource;
  expect(search.requiredInputs).toEqual(
    ["clientSecurityGroupIds", "dataSubnetIds", "parameterPrefix", "search", "vpcId"].sort(),
  );
  const stack = schema.resources[token("MastodonStack")] as Resource;
  expect(search.inputProperties.search?.$ref).toBe(stack.inputProperties.search?.$ref);
  expect(search.inputProperties.clientSecurityGroupIds).toMatchObject({
    type: "object",
    additionalProperties: { type: "string" },
  });
  expect(search.properties.env).toMatchObject({ type: "object", additionalProperties: { type: "string" } });
});

test("WebAcl takes mastodon:waf as written: the very type MastodonStack's waf is", () => {
  const webAcl = schema.resources[token("WebAcl")] as Resource;
  expect(webAcl.requiredInputs).toEqual(["loadBalancerArn", "scope", "waf"]);
  const stack = schema.resources[token("MastodonStack")] as Resource;
  expect(webAcl.inputProperties.waf?.$ref).toBe(stack.inputProperties.waf?.$ref);
  expect(webAcl.inputProperties.loadBalancerArn).not.toHaveProperty("plain");
  expect(Object.keys(webAcl.properties).sort()).toEqual([
    "association",
    "ipSets",
    "metricName",
    "region",
    "webAcl",
  ]);
  const waf = typeOf(stack.inputProperties.waf?.$ref as string);
  expect(typeOf(waf.properties?.evaluationWindowSeconds?.$ref as string).enum?.map((e) => e.value)).toEqual([
    60, 120, 300, 600,
  ]);
});

test("Monitoring: targets and queue thresholds as named types, one latency per Sidekiq queue", () => {
  const monitoring = schema.resources[token("Monitoring")] as Resource;
  expect(monitoring.requiredInputs).toEqual(["scope", "targets"]);
  const targets = typeOf(monitoring.inputProperties.targets?.$ref as string);
  expect(targets.required).toEqual(["databases", "fleets", "loadBalancer", "redis", "targetGroups"]);
  const redis = typeOf(targets.properties?.redis?.items?.$ref as string);
  expect(typeOf(redis.properties?.role?.$ref as string).enum?.map((e) => e.value)).toEqual(
    Object.values(RedisRole),
  );
  const database = typeOf(targets.properties?.databases?.items?.$ref as string);
  expect(typeOf(database.properties?.budget?.$ref as string).required).toEqual([
    "alarmThreshold",
    "maxConnections",
    "roleConnectionLimit",
  ]);
  const queues = typeOf(monitoring.inputProperties.queues?.$ref as string);
  const alarms = typeOf(queues.properties?.alarms?.$ref as string);
  const latency = typeOf(alarms.properties?.queueLatency?.$ref as string);
  expect(Object.keys(latency.properties ?? {})).toEqual([...SIDEKIQ_QUEUES]);
  expect(latency.required).toEqual([...SIDEKIQ_QUEUES].sort());
  for (const prop of Object.values(latency.properties ?? {})) expect(prop.type).toBe("number");
  expect(monitoring.properties.alarms).toMatchObject({ type: "array" });
  expect(monitoring.properties.alarms?.items?.$ref).toMatch(/aws:cloudwatch%2FmetricAlarm:MetricAlarm$/);
});

test("ImageBuild: a parent image per architecture of the catalog in, an AMI per architecture out", () => {
  const build = schema.resources[token("ImageBuild")] as Resource;
  expect(build.requiredInputs).toEqual(["parentImages", "registry", "subnetId", "version", "vpcId"]);
  const parents = typeOf(build.inputProperties.parentImages?.$ref as string);
  expect(Object.keys(parents.properties ?? {})).toEqual(Object.values(Architecture));
  for (const prop of Object.values(parents.properties ?? {})) {
    expect(prop).toMatchObject({ type: "string", optional: true });
    expect(prop).not.toHaveProperty("plain");
  }
  expect(Object.keys(typeOf(build.properties.amis?.$ref as string).properties ?? {})).toEqual(
    Object.values(Architecture),
  );
});

test("HostFiles: nothing required; a file is its path, mode and content (the key is derived)", () => {
  const hostFiles = schema.resources[token("HostFiles")] as Resource;
  expect(hostFiles.requiredInputs).toEqual([]);
  const files = hostFiles.inputProperties.files as Property;
  expect(files).toMatchObject({ type: "array", optional: true });
  expect(files.description).toContain("(@default the package's host programs");
  expect(typeOf(files.items?.$ref as string)).toMatchObject({ required: ["content", "mode", "path"] });
  expect(Object.keys(hostFiles.properties).sort()).toEqual(["bucket", "readPolicy"]);
});

// ---- What other languages read: every property documented, credentials secret, the budget out ----

/** Every property of the schema: each component's inputs and outputs, each object type's properties. */
function everyProperty(): { where: string; name: string; prop: Property }[] {
  const found: { where: string; name: string; prop: Property }[] = [];
  for (const [name, resource] of Object.entries(schema.resources)) {
    for (const [key, prop] of Object.entries(resource.inputProperties))
      found.push({ where: `${name} input ${key}`, name: key, prop });
    for (const [key, prop] of Object.entries(resource.properties))
      found.push({ where: `${name} output ${key}`, name: key, prop });
  }
  for (const [name, type] of Object.entries(schema.types))
    for (const [key, prop] of Object.entries(type.properties ?? {}))
      found.push({ where: `${name}.${key}`, name: key, prop });
  return found;
}

/** A description's text besides its default: `(@default ...)`, one level of parentheses inside. */
const withoutDefault = (text: string) => text.replace(/\(@default (?:[^()]|\([^()]*\))*\)/g, "").trim();

test("every input and output of every component, and every property of every type, is documented", () => {
  const all = everyProperty();
  expect(all.length).toBeGreaterThan(400);
  expect(all.filter(({ prop }) => !prop.description?.trim()).map(({ where }) => where)).toEqual([]);
  // A default alone says nothing of what the value is.
  const defaultOnly = all.filter(({ prop }) => prop.description && !withoutDefault(prop.description));
  expect(defaultOnly.map(({ where }) => where)).toEqual([]);
});

/**
 * A credential, by its name: a password, an API key, a token or a secret, and Mastodon's own keys an
 * existing instance brings (mastodon:existingSecrets; its VAPID public key is public).
 */
const CREDENTIAL =
  /(^|[a-z])(password|apiKey|token|secret)$|^(secretKeyBase|deterministicKey|keyDerivationSalt|primaryKey|privateKey)$/i;
/** Named like one, and not one. */
const NOT_CREDENTIALS: Record<string, string> = {
  "mastodon:index:MastodonStack output ownerPassword":
    "the command that prints the password, not the password",
};

test("every credential, in or out, is marked secret: the SMTP password and the translation key among them", () => {
  const credentials = everyProperty().filter(
    ({ where, name }) => CREDENTIAL.test(name) && !NOT_CREDENTIALS[where],
  );
  expect(credentials.filter(({ prop }) => prop.secret !== true).map(({ where }) => where)).toEqual([]);
  expect(credentials.map(({ where }) => where)).toEqual(
    expect.arrayContaining([
      "mastodon:index:StackSmtpArgs.password",
      "mastodon:index:StackTranslationArgs.apiKey",
      "mastodon:index:MailSmtpArgs.password",
      "mastodon:index:Translation input apiKey",
      "mastodon:index:PostgresDatabase output password",
      "mastodon:index:StackExistingSecretsArgs.secretKeyBase",
      "mastodon:index:StackActiveRecordEncryptionArgs.primaryKey",
      "mastodon:index:StackVapidArgs.privateKey",
    ]),
  );
  // Nothing else is: a secret where the package needs plain text would hide it from the plan.
  const secret = everyProperty().filter(({ prop }) => prop.secret === true);
  expect(secret.map(({ where }) => where).sort()).toEqual(credentials.map(({ where }) => where).sort());
});

test("MastodonStack's budget is an output, typed field by field as the budget the stack computes", () => {
  const stack = schema.resources[token("MastodonStack")] as Resource;
  const budget = stack.properties.budget as Property;
  expect(budget).toBeDefined();
  expect(budget.description).toMatch(/connection budget/i);
  // A stack with PgBouncer and a replica: every optional field of the budget is there.
  const validated = parseStackConfig(
    withConfig((c) => {
      c.database.pooler = "pgbouncer";
      c.database.replica = { instanceClass: "db.t4g.medium" };
    }),
    "staging",
  );
  const real = validated.budget as unknown as Record<string, unknown>;
  const type = typeOf(budget.$ref as string);
  expect(Object.keys(type.properties ?? {}).sort()).toEqual(Object.keys(real).sort());
  const keysOf = (rows: readonly object[]) => [...new Set(rows.flatMap((r) => Object.keys(r)))].sort();
  const rows = type.properties?.rows as Property;
  expect(Object.keys(typeOf(rows.items?.$ref as string).properties ?? {}).sort()).toEqual(
    keysOf(validated.budget.rows),
  );
  const pooled = type.properties?.pgbouncer as Property;
  expect(Object.keys(typeOf(pooled.items?.$ref as string).properties ?? {}).sort()).toEqual(
    keysOf(validated.budget.pgbouncer ?? []),
  );
  // Its enums hold every value a budget takes.
  const enumOf = (p: Property | undefined) => typeOf(p?.$ref as string).enum?.map((e) => e.value);
  expect(enumOf(type.properties?.target)).toEqual(["primary", "replica"]);
  expect(enumOf(type.properties?.pooler)).toEqual(["none", "pgbouncer"]);
  const row = typeOf(rows.items?.$ref as string).properties ?? {};
  expect(enumOf(row.service)).toEqual(["web", "streaming", "sidekiq"]);
  expect(enumOf(row.poolVariable)).toEqual(["MAX_THREADS", "DB_POOL"]);
  expect(validated.replicaBudget?.target).toBe("replica");
});

/** The paths under MastodonStack's inputs whose values may be Outputs (not `plain`). */
function nonPlainPaths(): string[] {
  const stack = schema.resources[token("MastodonStack")] as Resource;
  const found: string[] = [];
  const seen = new Set<string>();
  const walk = (path: string, prop: Property) => {
    if (!prop.plain) found.push(path);
    const ref = prop.$ref ?? prop.items?.$ref ?? prop.additionalProperties?.$ref;
    if (!ref?.startsWith("#/types/")) return;
    const t = typeOf(ref);
    const at = `${path}${prop.items ? "[]" : prop.additionalProperties ? ".*" : ""}`;
    if (seen.has(`${at}:${ref}`)) return;
    seen.add(`${at}:${ref}`);
    for (const [key, p] of Object.entries(t.properties ?? {})) walk(`${at}.${key}`, p);
  };
  for (const [key, prop] of Object.entries(stack.inputProperties)) walk(key, prop);
  return found.sort();
}

test("MastodonStack: the leaves an Output may fill are not plain; everything that sizes or names the stack is", () => {
  expect(nonPlainPaths()).toEqual(
    [
      "dns.zoneId",
      "loadBalancer.certificateArn",
      "media.certificateArn",
      "mail.smtp.password",
      "translation.apiKey",
      "image.pullThroughCache.credentialArn",
      "existingSecrets.secretKeyBase",
      "existingSecrets.activeRecordEncryption.deterministicKey",
      "existingSecrets.activeRecordEncryption.keyDerivationSalt",
      "existingSecrets.activeRecordEncryption.primaryKey",
      "existingSecrets.vapid.privateKey",
    ].sort(),
  );
  // The very leaves the stack sets aside while it validates (src/stack/stackInputs.ts).
  expect(nonPlainPaths()).toEqual(INPUT_LEAVES.map((l) => l.path.join(".")).sort());
});

// ---- The tokens the components register ----

/**
 * Each tier component's token before the provider served it: deployed stacks hold URNs with these,
 * so each must stay an alias of the component (a type change without one replaces every child).
 */
const FORMER_TYPES: Record<string, string> = {
  Network: "mastodon:network:Network",
  PostgresDatabase: "mastodon:database:PostgresDatabase",
  RedisStore: "mastodon:redis:RedisStore",
  OnHostRedis: "mastodon:redis:OnHostRedis",
  LoadBalancer: "mastodon:edge:LoadBalancer",
  MediaStorage: "mastodon:edge:MediaStorage",
  DnsRecords: "mastodon:dns:DnsRecords",
  Mail: "mastodon:mail:Mail",
  Translation: "mastodon:translation:Translation",
  MastodonSecrets: "mastodon:secrets:MastodonSecrets",
  SearchDomain: "mastodon:search:SearchDomain",
  HostFiles: "mastodon:compute:HostFiles",
  ImageBuild: "mastodon:compute:ImageBuild",
  Fleet: "mastodon:compute:Fleet",
  Monitoring: "mastodon:monitoring:Monitoring",
};

/** Components first registered under `mastodon:index:`: no former token, so no alias. */
const BORN_PROVIDED = ["WebAcl"];

interface Registration {
  type: string;
  name: string;
  parent: string;
  aliases: { type: string; name: string; parentUrn: string; urn: string }[];
}

/** The program on a shipped stack under mocks, recording what each component registration asks for. */
async function registrations(stack: string, override: Record<string, unknown>) {
  const file = readStackFile(path.join(ROOT, "stacks"), stack);
  const config = { ...file.config };
  for (const [k, v] of Object.entries(override)) config[`mastodon:${k}`] = JSON.stringify(v);
  const seen: Registration[] = [];
  const run = await runUnderMocks(
    () => {
      // The recorder's monitor, wrapped once more: the aliases are in the request only.
      const monitor = pulumi.runtime.getMonitor() as unknown as {
        registerResource(req: RegisterRequest, cb: unknown): unknown;
      };
      const register = monitor.registerResource.bind(monitor);
      monitor.registerResource = (req, cb) => {
        if (req.getType().startsWith(`${PROVIDER_NAME}:`))
          seen.push({
            type: req.getType(),
            name: req.getName(),
            parent: req.getParent(),
            aliases: req.getAliasesList().map((a) => ({
              type: a.getSpec()?.getType() ?? "",
              name: a.getSpec()?.getName() ?? "",
              parentUrn: a.getSpec()?.getParenturn() ?? "",
              urn: a.getUrn(),
            })),
          });
        return register(req, cb);
      };
      return program();
    },
    { project: "mastodon-aws", stack, config, secretKeys: file.secretKeys },
  );
  return { run, seen };
}

interface RegisterRequest {
  getType(): string;
  getName(): string;
  getParent(): string;
  getAliasesList(): {
    getUrn(): string;
    getSpec(): { getType(): string; getName(): string; getParenturn(): string } | undefined;
  }[];
}

test("every provided component registers the token the provider host constructs, aliased to its former one", async () => {
  // Production has search, DNS and SES; with translation, image-builder and the WAF every tier is
  // there but the on-host Redis, which the small stack runs.
  const production = await registrations("production", {
    translation: { provider: "libretranslate", endpoint: "https://translate.example.org" },
    image: { source: "image-builder" },
    waf: {},
  });
  const small = await registrations("small", {});
  const seen = [...production.seen, ...small.seen];
  expect(Object.keys(FORMER_TYPES).sort()).toEqual(
    COMPONENTS.map((c) => c.name)
      .filter((n) => n !== "MastodonStack" && !BORN_PROVIDED.includes(n))
      .sort(),
  );
  for (const component of COMPONENTS) {
    const registered = seen.filter((r) => r.type === token(component.name));
    expect({ component: component.name, registered: registered.length > 0 }).toEqual({
      component: component.name,
      registered: true,
    });
    for (const r of registered) {
      const former = FORMER_TYPES[component.name];
      // Same name, same parent, the former type: the URN the stack was deployed with.
      expect({ name: r.name, aliases: r.aliases }).toEqual({
        name: r.name,
        aliases: former ? [{ type: former, name: "", parentUrn: r.parent, urn: "" }] : [],
      });
    }
  }
  // Nothing registers under a module the host refuses.
  expect(seen.filter((r) => !r.type.startsWith(`${PROVIDER_NAME}:index:`))).toEqual([]);
  // Children carry their parent's new token in their URNs (the engine maps them through its alias).
  const template = production.run.resources.find((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate");
  expect(template?.urn).toContain(
    "::mastodon:index:MastodonStack$mastodon:index:Fleet$aws:ec2/launchTemplate:LaunchTemplate::",
  );
}, 120_000);

// ---- The provider host constructing components from another language's plain inputs ----

describe("the provider host constructs the new components from plain inputs, as another SDK sends them", () => {
  const vpc = { vpcId: "vpc-0123456789abcdef0" };
  const subnets = ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"];
  /** What construct hands back (the component's URN and outputs), and every resource declared. */
  const construct = (type: string, inputs: Record<string, unknown>) =>
    runUnderMocks(
      () => ({
        urn: provider
          .construct("standalone", token(type), inputs as never, {} as never)
          .then((r) => r.urn as unknown as pulumi.Output<string>)
          .then((urn) => pulumi.output(urn)),
      }),
      { project: "other-language", stack: "dev", config: {} },
    );

  test("MastodonStack: a zone ID another resource outputs, and the budget in the state it returns", async () => {
    const args = baseArgs();
    const run = await runUnderMocks(
      () => ({
        budget: provider
          .construct(
            "social",
            token("MastodonStack"),
            // As the provider host hands it over: the leaf an Output, the rest plain values.
            { ...args, dns: { ...args.dns, zoneId: pulumi.output("Z0123456789TEST") } } as never,
            {} as never,
          )
          .then((r) => r.state["budget"] as pulumi.Output<unknown>),
      }),
      { project: "other-language", stack: "staging", config: { "aws:region": "us-east-1" } },
    );
    expect(run.outputs["budget"]).toEqual(parseStackConfig(baseArgs(), "staging").budget);
    const records = all(run, "aws:route53/record:Record");
    expect(records.length).toBeGreaterThan(2);
    for (const record of records) expect(record.inputs["zoneId"]).toBe("Z0123456789TEST");
  }, 120_000);

  test("SearchDomain: two nodes over two data subnets spread over both zones", async () => {
    const run = await construct("SearchDomain", {
      ...vpc,
      search: { nodes: 2, engineVersion: "OpenSearch_2.19" },
      dataSubnetIds: subnets,
      clientSecurityGroupIds: { web: "sg-0aaaaaaaaaaaaaaa1" },
      parameterPrefix: "/mastodon/other",
    });
    expect(run.outputs["urn"]).toBe(
      "urn:pulumi:dev::other-language::mastodon:index:SearchDomain::standalone",
    );
    const domain = find(run, "aws:opensearch/domain:Domain").inputs as Record<string, any>;
    expect(domain["engineVersion"]).toBe("OpenSearch_2.19");
    expect(domain["clusterConfig"]).toMatchObject({
      instanceType: "t3.small.search",
      instanceCount: 2,
      zoneAwarenessEnabled: true,
      zoneAwarenessConfig: { availabilityZoneCount: 2 },
    });
    expect(domain["vpcOptions"].subnetIds).toEqual(subnets);
  });

  test("SearchDomain: refused values listed by key, all of them, before any child resource", async () => {
    let caught: unknown;
    const run = await runUnderMocks(
      () => {
        try {
          new SearchDomain("bad", {
            ...vpc,
            search: { nodes: 0, instanceType: "m5.tiny.search" },
            dataSubnetIds: subnets,
            clientSecurityGroupIds: {},
            parameterPrefix: "/mastodon/other",
          });
        } catch (e) {
          caught = e;
        }
        return {};
      },
      { project: "p", stack: "s", config: {} },
    );
    expect(caught).toBeInstanceOf(ConfigError);
    expect((caught as ConfigError).problems.map((p) => p.key).sort()).toEqual([
      "mastodon:search.instanceType",
      "mastodon:search.nodes",
    ]);
    // The component itself is registered by its super() call; nothing under it.
    expect(run.resources.map((r) => r.type)).toEqual([token("SearchDomain")]);
  });

  test("Fleet: a scheduler fleet is a singleton, and its group carries the budget's tags", async () => {
    const run = await construct("Fleet", {
      fleet: {
        name: "scheduler",
        instanceType: "c7g.medium",
        minSize: 1,
        desiredSize: 1,
        maxSize: 1,
        sidekiqQueues: ["scheduler"],
        postgresConnectionsPerHost: 6,
      },
      imageId: "ami-0123456789abcdef0",
      subnetIds: subnets,
      securityGroupIds: ["sg-0aaaaaaaaaaaaaaa1"],
      userData: "#cloud-config\n",
      parameterPath: "/mastodon/other",
      mediaAccessPolicy: JSON.stringify({ Version: "2012-10-17", Statement: [] }),
    });
    const group = find(run, "aws:autoscaling/group:Group").inputs as Record<string, any>;
    expect(group["instanceRefresh"].preferences.minHealthyPercentage).toBe(0);
    // Given no policy, the group gets its role's: the scheduler's one host leaves before the next boots.
    expect(group["instanceMaintenancePolicy"]).toEqual({
      minHealthyPercentage: 0,
      maxHealthyPercentage: 100,
    });
    expect(group["tags"]).toEqual(
      expect.arrayContaining([
        { key: "mastodon:postgres-connections", value: "6", propagateAtLaunch: true },
        { key: "mastodon:sidekiq-queues", value: "scheduler", propagateAtLaunch: true },
      ]),
    );
    const template = find(run, "aws:ec2/launchTemplate:LaunchTemplate").inputs as Record<string, any>;
    expect(template["blockDeviceMappings"][0].ebs.volumeSize).toBe(30);
    expect(template["blockDeviceMappings"][0].deviceName).toBe("/dev/xvda");
  });

  test("ImageBuild: one build per architecture given", async () => {
    const run = await construct("ImageBuild", {
      version: "v4.6.5",
      registry: "ghcr.io/mastodon",
      parentImages: { arm64: "ami-0123456789abcdef0" },
      ...vpc,
      subnetId: subnets[0],
    });
    expect(all(run, "aws:imagebuilder/imageRecipe:ImageRecipe").map((r) => r.inputs["parentImage"])).toEqual([
      "ami-0123456789abcdef0",
    ]);
    expect(all(run, "aws:imagebuilder/image:Image")).toHaveLength(1);
  });

  test("HostFiles: a file's object key holds the SHA-256 of its content", async () => {
    const content = "#!/bin/sh\necho hello\n";
    const run = await construct("HostFiles", {
      files: [{ path: "/usr/local/bin/hello", mode: "0755", content }],
    });
    const sha = createHash("sha256").update(content, "utf8").digest("hex");
    expect(all(run, "aws:s3/bucketObjectv2:BucketObjectv2").map((r) => r.inputs["key"])).toEqual([
      `host-files/${sha}/hello`,
    ]);
  });

  test("WebAcl: a web ACL on the ALB given, named from the caller's scope, its limits from plain inputs", async () => {
    const alb = "arn:aws:elasticloadbalancing:us-east-1:123456789012:loadbalancer/app/other/0123456789abcdef";
    const run = await construct("WebAcl", {
      waf: { rateLimits: { signIn: 20 }, blockList: ["203.0.113.0/24"] },
      scope: { project: "other", stack: "production", name: "standalone" },
      loadBalancerArn: alb,
    });
    const acl = find(run, "aws:wafv2/webAcl:WebAcl").inputs as Record<string, any>;
    expect(acl["name"]).toBe("other-production-standalone");
    const signIn = acl["rules"].find((r: { name: string }) => r.name === "rate-sign-in");
    expect(signIn.statement.rateBasedStatement.limit).toBe(20);
    expect(find(run, "aws:wafv2/webAclAssociation:WebAclAssociation").inputs["resourceArn"]).toBe(alb);
    expect(all(run, "aws:wafv2/ipSet:IpSet").map((s) => s.inputs["addresses"])).toEqual([["203.0.113.0/24"]]);
  });

  test("Monitoring: alarms from plain targets, one latency alarm per queue given", async () => {
    const run = await construct("Monitoring", {
      scope: { project: "other", stack: "production", name: "standalone" },
      targets: {
        databases: [
          {
            id: "db-primary",
            identifier: "db-one",
            budget: { alarmThreshold: 100, roleConnectionLimit: 175, maxConnections: 200 },
            storageGiB: 20,
            replica: false,
          },
        ],
        redis: [{ role: "cache", cacheClusterIds: ["cache-001"] }],
        loadBalancer: "app/alb/0123456789abcdef",
        targetGroups: [{ id: "tg-web", arnSuffix: "targetgroup/web/0123456789abcdef" }],
        fleets: [{ name: "app", groupName: "app-group" }],
      },
      queues: {
        stack: "/mastodon/other",
        queues: ["default", "push"],
        alarms: {
          queueLatency: {
            default: 30,
            push: 600,
            ingress: 60,
            mailers: 300,
            pull: 900,
            scheduler: 300,
            fasp: 900,
          },
          deadJobsPerHour: 10,
          pgbouncerMaxWait: 2,
        },
        pooledFleets: [],
        streamingFleets: [],
        loadBalancer: "app/alb/0123456789abcdef",
      },
    });
    const alarms = all(run, "aws:cloudwatch/metricAlarm:MetricAlarm");
    const connections = alarms.find((a) => a.name === "standalone-db-primary-connections");
    expect(connections?.inputs["threshold"]).toBe(100);
    const latency = alarms.filter((a) => /standalone-queue-[a-z]+-latency$/.test(a.name));
    expect(latency.map((a) => [a.name, a.inputs["threshold"]])).toEqual([
      ["standalone-queue-default-latency", 30],
      ["standalone-queue-push-latency", 600],
    ]);
    // Named from the scope the caller gives: its project and stack, not this package's.
    expect(all(run, "aws:cloudwatch/dashboard:Dashboard")[0]?.inputs["dashboardName"]).toBe(
      "other-production-standalone",
    );
  });
});
