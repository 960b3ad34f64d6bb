/**
 * The component provider the npm package ships (dist/provider; serve.ts starts it). The provider a
 * clone runs (index.ts: Pulumi's ComponentProvider) builds the schema at every start by reading the
 * components' TypeScript with the compiler; the package ships JavaScript and declarations only,
 * where the `as const` enums the args use have no values left to read. So `npm run build` asks that
 * provider for its schema once, over the sources (scripts/provider-dist.cjs writes schema.json
 * beside the compiled provider), and this provider serves that schema and constructs a component
 * the way ComponentProvider.construct does (@pulumi/pulumi's provider/experimental): the class the
 * token `mastodon:index:<Class>` names, built from the caller's inputs and options, answered with
 * its URN and the outputs the schema lists. No TypeScript compiler in the consumer's project, no
 * analysis at each start.
 */
import * as fs from "fs";
import * as path from "path";
import type * as pulumi from "@pulumi/pulumi";
import type { ConstructResult, Provider } from "@pulumi/pulumi/provider";
import { COMPONENTS, PROVIDER_NAME } from "./components";

/** The file beside the compiled provider that holds its schema (scripts/provider-dist.cjs). */
export const SCHEMA_FILE = "schema.json";

/** What the provider reads from its schema: its version and each component's outputs. */
interface Schema {
  name: string;
  version: string;
  resources: Record<string, { properties?: Record<string, unknown> }>;
}

type Component = (typeof COMPONENTS)[number];
type AnyComponent = new (name: string, args: unknown, opts?: pulumi.ComponentResourceOptions) => unknown;

/** The schema text in `dir`, refused with the file's name when it is missing or not this provider's. */
export function readSchema(dir: string): string {
  const file = path.join(dir, SCHEMA_FILE);
  if (!fs.existsSync(file))
    throw new Error(`${file} is missing: the package's build writes it (scripts/provider-dist.cjs)`);
  return fs.readFileSync(file, "utf8");
}

/** A provider serving `schemaText` and constructing the components it lists. */
export function packagedProvider(schemaText: string): Provider {
  const schema = JSON.parse(schemaText) as Schema;
  if (schema.name !== PROVIDER_NAME)
    throw new Error(`the schema names package ${schema.name}, this provider serves ${PROVIDER_NAME}`);
  const byToken = new Map<string, Component>(COMPONENTS.map((c) => [`${PROVIDER_NAME}:index:${c.name}`, c]));
  const missing = Object.keys(schema.resources).filter((t) => !byToken.has(t));
  if (missing.length > 0)
    throw new Error(`the schema lists components this build lacks: ${missing.join(", ")}`);
  return {
    version: schema.version,
    getSchema: async () => schemaText,
    construct: async (name, type, inputs, options): Promise<ConstructResult> => {
      const component = byToken.get(type);
      const outputs = schema.resources[type]?.properties;
      if (!component || !outputs)
        throw new Error(
          `${PROVIDER_NAME} has no component ${type}: it serves ${[...byToken.keys()].join(", ")}`,
        );
      const instance = new (component as unknown as AnyComponent)(name, inputs, options) as Record<
        string,
        unknown
      > & { urn: pulumi.Output<string> };
      const state = Object.fromEntries(Object.keys(outputs).map((key) => [key, instance[key]]));
      return { urn: instance.urn, state: state as pulumi.Inputs };
    },
  };
}
