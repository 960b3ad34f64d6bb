/**
 * The provider the npm package ships (packaged.ts) against the one a clone runs (index.ts:
 * MastodonProvider, Pulumi's ComponentProvider with credentials marked secret): given the schema
 * that one builds from the sources, it serves that schema and constructs a component from another
 * SDK's plain inputs to the same URN, resources and outputs. And it refuses, by name, what it
 * cannot serve.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import type { Provider } from "@pulumi/pulumi/provider";
import { PROVIDER_NAME } from "./components";
import { MastodonProvider } from "./mastodonProvider";
import { SCHEMA_FILE, packagedProvider, readSchema } from "./packaged";
import { runUnderMocks } from "../src/testing/mocks";
import { ROOT } from "../test/helpers";

let host: MastodonProvider;
let schemaText: string;
let packaged: Provider;

beforeAll(async () => {
  host = new MastodonProvider(path.join(ROOT, "provider"));
  schemaText = await host.getSchema();
  packaged = packagedProvider(schemaText);
}, 180_000);

const token = (name: string) => `${PROVIDER_NAME}:index:${name}`;

/** A construct result's state as the engine receives it: a resource by its URN, outputs resolved. */
function byUrn(value: unknown): unknown {
  if (pulumi.Resource.isInstance(value)) return value.urn;
  if (Array.isArray(value)) return value.map(byUrn);
  if (value && typeof value === "object" && !pulumi.Output.isInstance(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, byUrn(v)]));
  return value;
}

/** What construct answers (URN and outputs, resolved) and every resource it declared. */
function construct(provider: Provider, type: string, inputs: Record<string, unknown>) {
  return runUnderMocks(
    () => {
      const result = provider.construct!("standalone", token(type), inputs as never, {} as never);
      return {
        urn: pulumi.output(result.then((r) => r.urn)),
        state: pulumi.output(result.then((r) => byUrn(r.state))),
      };
    },
    { project: "other-language", stack: "dev", config: {} },
  );
}

test("serves the schema it was built with, at the package's version", async () => {
  expect(await packaged.getSchema!()).toBe(schemaText);
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8")) as { version: string };
  expect(packaged.version).toBe(pkg.version);
});

test.each([
  [
    "SearchDomain",
    {
      vpcId: "vpc-0123456789abcdef0",
      search: { nodes: 2, engineVersion: "OpenSearch_2.19" },
      dataSubnetIds: ["subnet-0aaaaaaaaaaaaaaa1", "subnet-0aaaaaaaaaaaaaaa2"],
      clientSecurityGroupIds: { web: "sg-0aaaaaaaaaaaaaaa1" },
      parameterPrefix: "/mastodon/other",
    },
  ],
  ["HostFiles", { files: [{ path: "/usr/local/bin/hello", mode: "0755", content: "#!/bin/sh\n" }] }],
])("constructs %s as the host does: same URN, resources and outputs", async (type, inputs) => {
  const ours = await construct(packaged, type, inputs);
  const theirs = await construct(host as unknown as Provider, type, inputs);
  expect(ours.outputs["urn"]).toBe(`urn:pulumi:dev::other-language::${token(type)}::standalone`);
  expect(ours.outputs).toEqual(theirs.outputs);
  expect(ours.resources).toEqual(theirs.resources);
  const outputs = (JSON.parse(schemaText) as { resources: Record<string, { properties: object }> }).resources[
    token(type)
  ]!.properties;
  expect(Object.keys(ours.outputs["state"] as object).sort()).toEqual(Object.keys(outputs).sort());
});

test("refuses a token it does not serve, naming the ones it does", async () => {
  await expect(packaged.construct!("x", "mastodon:index:Nothing", {} as never, {} as never)).rejects.toThrow(
    /mastodon has no component mastodon:index:Nothing: it serves .*mastodon:index:MastodonStack/,
  );
  await expect(
    packaged.construct!("x", "mastodon:tier:SearchDomain", {} as never, {} as never),
  ).rejects.toThrow("mastodon has no component mastodon:tier:SearchDomain");
});

test("refuses a schema that is not this build's", () => {
  const schema = JSON.parse(schemaText) as { name: string; resources: Record<string, unknown> };
  expect(() => packagedProvider(JSON.stringify({ ...schema, name: "other" }))).toThrow(
    "the schema names package other, this provider serves mastodon",
  );
  const extra = { ...schema, resources: { ...schema.resources, [token("Gone")]: {} } };
  expect(() => packagedProvider(JSON.stringify(extra))).toThrow(
    "the schema lists components this build lacks: mastodon:index:Gone",
  );
});

test("a directory without schema.json is refused by the file's path", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "packaged-provider-"));
  try {
    expect(() => readSchema(dir)).toThrow(`${path.join(dir, SCHEMA_FILE)} is missing`);
    fs.writeFileSync(path.join(dir, SCHEMA_FILE), schemaText);
    expect(readSchema(dir)).toBe(schemaText);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
