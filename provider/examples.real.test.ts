/**
 * The examples (examples/), checked as far as this machine can without the Pulumi CLI: the YAML
 * program's resource and outputs against the provider's schema, the Python program compiled, the
 * TypeScript program type-checked against the components and run under the package's mocks with
 * the SDK `pulumi package add` generates standing for the components it constructs.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as ts from "typescript";
import { parse } from "yaml";
import { MastodonProvider } from "./mastodonProvider";
import { PROVIDER_NAME } from "./components";
import { parseStackConfig } from "../src/config";
import { runUnderMocks } from "../src/testing/mocks";
import { ROOT, all } from "../test/helpers";
import { requireProgram } from "../test/real/servers";

// The generated TypeScript SDK constructs these components in the provider; here the classes do.
jest.mock("@pulumi/mastodon", () => jest.requireActual("./components"), { virtual: true });

const EXAMPLES = path.join(ROOT, "examples");

interface Property {
  type?: string;
  $ref?: string;
  plain?: boolean;
  items?: Property;
  additionalProperties?: Property;
}
interface SchemaType {
  type: string;
  properties?: Record<string, Property>;
  required?: string[];
  enum?: { value: string | number }[];
}
interface Schema {
  resources: Record<
    string,
    {
      inputProperties: Record<string, Property>;
      requiredInputs: string[];
      properties: Record<string, Property>;
    }
  >;
  types: Record<string, SchemaType>;
}

let schema: Schema;
beforeAll(async () => {
  schema = JSON.parse(await new MastodonProvider(path.join(ROOT, "provider")).getSchema()) as Schema;
}, 180_000);

const typeAt = (ref: string | undefined) =>
  ref?.startsWith("#/types/") ? schema.types[ref.slice("#/types/".length)] : undefined;

// ---- Pulumi YAML: the program's values against the schema ----

interface YamlProgram {
  config?: Record<string, { type?: string; secret?: boolean }>;
  variables?: Record<string, unknown>;
  resources: Record<string, { type: string; properties?: Record<string, unknown> }>;
  outputs?: Record<string, string>;
}

/**
 * What a YAML value is: a literal; a plain config value (`${key}` of a config key that is not
 * secret, known when the program starts), with its declared type; or an Output (a secret, a
 * variable, a resource's property).
 */
function kindOf(
  program: YamlProgram,
  value: unknown,
): { kind: "literal" | "plain" | "output"; type?: string } {
  if (typeof value !== "string" || !value.includes("${")) return { kind: "literal" };
  const names = [...value.matchAll(/\$\{([^}.[]+)/g)].map((m) => m[1] as string);
  const config = names.map((n) => program.config?.[n]);
  if (config.every((c) => c && !c.secret))
    return {
      kind: "plain",
      type: names.length === 1 && value === `\${${names[0]}}` ? config[0]?.type : "string",
    };
  return { kind: "output" };
}

/** Problems of `value` given where the schema has `prop`. */
function checkValue(program: YamlProgram, where: string, value: unknown, prop: Property, problems: string[]) {
  const { kind, type } = kindOf(program, value);
  if (kind === "output") {
    if (prop.plain) problems.push(`${where}: an Output where the schema takes a plain value`);
    return;
  }
  const t = typeAt(prop.$ref);
  if (t?.enum) {
    if (kind === "literal" && !t.enum.some((e) => e.value === value))
      problems.push(
        `${where}: ${JSON.stringify(value)} is not one of ${t.enum.map((e) => e.value).join(", ")}`,
      );
  } else if (t?.properties) {
    if (typeof value !== "object" || value === null || Array.isArray(value))
      return void problems.push(`${where}: not an object`);
    checkObject(program, where, value as Record<string, unknown>, t.properties, t.required ?? [], problems);
  } else if (prop.type === "array") {
    if (!Array.isArray(value)) return void problems.push(`${where}: not a list`);
    value.forEach((v, i) => checkValue(program, `${where}[${i}]`, v, prop.items ?? {}, problems));
  } else if (prop.type === "object" && prop.additionalProperties) {
    if (typeof value !== "object" || value === null) return void problems.push(`${where}: not a map`);
    for (const [k, v] of Object.entries(value))
      checkValue(program, `${where}.${k}`, v, prop.additionalProperties, problems);
  } else {
    const got = kind === "plain" ? type : typeof value;
    if (got !== prop.type) problems.push(`${where}: a ${got}, the schema takes a ${prop.type}`);
  }
}

function checkObject(
  program: YamlProgram,
  where: string,
  value: Record<string, unknown>,
  props: Record<string, Property>,
  required: string[],
  problems: string[],
) {
  for (const key of required) if (!(key in value)) problems.push(`${where}.${key}: required, missing`);
  for (const [key, v] of Object.entries(value)) {
    const prop = props[key];
    if (!prop) problems.push(`${where}.${key}: not in the schema`);
    else checkValue(program, `${where}.${key}`, v, prop, problems);
  }
}

/** Every problem of the program's mastodon resources and of its outputs that read them. */
function yamlProblems(program: YamlProgram): string[] {
  const problems: string[] = [];
  for (const [name, resource] of Object.entries(program.resources)) {
    if (!resource.type.startsWith(`${PROVIDER_NAME}:`)) continue;
    const component = schema.resources[resource.type];
    if (!component) {
      problems.push(`${name}: no resource ${resource.type} in the schema`);
      continue;
    }
    checkObject(
      program,
      name,
      resource.properties ?? {},
      component.inputProperties,
      component.requiredInputs,
      problems,
    );
  }
  for (const [output, value] of Object.entries(program.outputs ?? {})) {
    for (const [, name, fields] of value.matchAll(/\$\{([^}.]+)\.([^}]+)\}/g)) {
      const resource = program.resources[name as string];
      if (!resource?.type.startsWith(`${PROVIDER_NAME}:`)) continue;
      let props = schema.resources[resource.type]?.properties;
      for (const field of (fields as string).split(".")) {
        const prop = props?.[field];
        if (!prop) {
          problems.push(`outputs.${output}: ${name} has no output ${fields}`);
          break;
        }
        props = typeAt(prop.$ref)?.properties;
      }
    }
  }
  return problems;
}

const yamlProgram = () =>
  parse(fs.readFileSync(path.join(EXAMPLES, "yaml", "Pulumi.yaml"), "utf8")) as YamlProgram;

test("YAML: MastodonStack's type, every property and every output it reads are the schema's", () => {
  const program = yamlProgram();
  expect(Object.values(program.resources).map((r) => r.type)).toContain(
    `${PROVIDER_NAME}:index:MastodonStack`,
  );
  expect(yamlProblems(program)).toEqual([]);
  // The zone ID from a lookup and the secret password: Outputs, where the schema takes them.
  const stack = program.resources["social"]?.properties as Record<string, any>;
  expect(kindOf(program, stack["dns"].zoneId).kind).toBe("output");
  expect(kindOf(program, stack["mail"].smtp.password).kind).toBe("output");
});

test("YAML: the check finds a wrong key, type, enum value, missing input, misplaced Output and output", () => {
  const program = yamlProgram();
  const stack = program.resources["social"]?.properties as Record<string, any>;
  stack["environment"] = "prod";
  stack["domain"] = "${zone.name}";
  stack["database"] = { instanceClas: "db.r7g.large" };
  stack["fleets"]["web"].maxSize = "4";
  delete stack["version"];
  program.outputs = { total: "${social.budget.totl}" };
  expect(yamlProblems(program).sort()).toEqual(
    [
      'social.environment: "prod" is not one of dev, staging, production',
      "social.domain: an Output where the schema takes a plain value",
      "social.database.instanceClass: required, missing",
      "social.database.instanceClas: not in the schema",
      "social.fleets.web.maxSize: a string, the schema takes a number",
      "social.version: required, missing",
      "outputs.total: social has no output budget.totl",
    ].sort(),
  );
});

// ---- Python: compiled and linted, as the package's own Python programs are ----

const PYTHON = path.join(EXAMPLES, "python", "__main__.py");

test("Python: the program compiles, and pyflakes finds nothing in it", () => {
  const cache = fs.mkdtempSync(path.join(os.tmpdir(), "pycache-"));
  try {
    const run = spawnSync(requireProgram("/usr/bin/python3"), ["-m", "py_compile", PYTHON], {
      encoding: "utf8",
      // Its bytecode goes to the scratch directory, not beside the example.
      env: { ...process.env, PYTHONPYCACHEPREFIX: cache },
    });
    expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  } finally {
    fs.rmSync(cache, { recursive: true, force: true });
  }
  const lint = spawnSync(requireProgram("/usr/bin/pyflakes3"), [PYTHON], { encoding: "utf8" });
  expect({ status: lint.status, output: lint.stdout + lint.stderr }).toEqual({ status: 0, output: "" });
});

// ---- TypeScript: type-checked, and run under mocks ----

const TYPESCRIPT = path.join(EXAMPLES, "typescript", "index.ts");

test("TypeScript: the program type-checks against the components the SDK stands for", () => {
  const program = ts.createProgram([TYPESCRIPT], {
    strict: true,
    noEmit: true,
    skipLibCheck: true,
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.CommonJS,
    moduleResolution: ts.ModuleResolutionKind.Node10,
    esModuleInterop: true,
    resolveJsonModule: true,
    types: ["node"],
    baseUrl: ROOT,
    paths: { "@pulumi/mastodon": ["provider/components.ts"] },
  });
  const diagnostics = ts
    .getPreEmitDiagnostics(program)
    .filter((d) => d.file?.fileName === TYPESCRIPT.split(path.sep).join("/"))
    .map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n"));
  expect(diagnostics).toEqual([]);
}, 120_000);

test("TypeScript: under mocks, the zone ID from Route 53 and the secret password reach the stack", async () => {
  const zoneId = "Z0123456789EXAMPLE";
  const project = (
    parse(fs.readFileSync(path.join(EXAMPLES, "typescript", "Pulumi.yaml"), "utf8")) as { name: string }
  ).name;
  const config = {
    "aws:region": "us-east-1",
    [`${project}:domain`]: "social.example.org",
    [`${project}:zoneName`]: "example.org",
    [`${project}:smtpServer`]: "smtp.example.org",
    [`${project}:smtpLogin`]: "mastodon",
    [`${project}:smtpPassword`]: "correct horse battery",
    [`${project}:alarmEmail`]: "ops@example.org",
  };
  const run = await runUnderMocks(
    () => {
      // Route 53 answers the lookup (the fake cloud answers only what the package itself asks).
      const monitor = pulumi.runtime.getMonitor() as unknown as {
        mocks: { call(args: pulumi.runtime.MockCallArgs): unknown };
      };
      const call = monitor.mocks.call.bind(monitor.mocks);
      monitor.mocks.call = (args) =>
        args.token === "aws:route53/getZone:getZone"
          ? { id: zoneId, zoneId, name: "example.org" }
          : call(args);
      return jest.requireActual(TYPESCRIPT) as Record<string, unknown>;
    },
    { project, stack: "production", config, secretKeys: [`${project}:smtpPassword`] },
  );
  const budget = parseStackConfig(
    {
      environment: "production",
      version: "v4.6.5",
      domain: "social.example.org",
      dns: { zoneId, zoneName: "example.org" },
      database: { instanceClass: "db.r7g.large" },
      alarms: { email: "ops@example.org" },
      fleets: {
        web: { instanceType: "c7g.large", minSize: 2, maxSize: 4, web: {}, streaming: {} },
        workers: {
          instanceType: "c7g.large",
          maxSize: 3,
          sidekiq: { queues: ["default", "ingress", "push", "pull", "mailers", "fasp"] },
        },
        scheduler: { instanceType: "c7g.medium", maxSize: 1, sidekiq: { queues: ["scheduler"], threads: 5 } },
      },
    },
    "production",
  ).budget;
  expect(run.outputs["budget"]).toEqual(budget);
  expect(run.outputs["connections"]).toBe(`${budget.total} of ${budget.limit}`);
  expect(run.outputs["albDnsName"]).toEqual(expect.any(String));
  // The certificate's validation record and the web domain's alias, in the zone Route 53 named.
  const records = all(run, "aws:route53/record:Record");
  expect(records.length).toBeGreaterThanOrEqual(2);
  for (const record of records) expect(record.inputs["zoneId"]).toBe(zoneId);
  const password = all(run, "aws:ssm/parameter:Parameter").find((p) =>
    /smtp-password$/.test(String(p.inputs["name"])),
  );
  expect(password?.inputs["value"]).toBe("[secret]");
  expect(JSON.stringify(run.resources)).not.toContain("correct horse battery");
}, 120_000);
