/**
 * Runs the policy pack as the Pulumi engine would, without the CLI: each resource goes through
 * @pulumi/policy's own Analyze and AnalyzeStack handlers (the functions its gRPC server serves),
 * as the protobuf requests the engine sends. So the pack's policies see what they see under
 * `pulumi preview --policy-pack`: props deserialized from a Struct behind the unknown-checking
 * proxy, type filtering by token, violations shaped as diagnostics.
 */
import * as analyzerproto from "@pulumi/pulumi/proto/analyzer_pb";
import * as serverModule from "@pulumi/policy/server";
import type { Policies } from "@pulumi/policy";
import { Struct } from "google-protobuf/google/protobuf/struct_pb";
import type { MockRun } from "../src/testing/mocks";

/** @pulumi/policy's handlers (server.js exports them; its .d.ts marks them internal). */
type Handler = (
  call: { request: unknown },
  callback: (err: unknown, response?: analyzerproto.AnalyzeResponse) => void,
) => Promise<void>;
const server = serverModule as unknown as {
  makeAnalyzeRpcFun(pack: string, version: string, level: string, policies: Policies): Handler;
  makeAnalyzeStackRpcFun(pack: string, version: string, level: string, policies: Policies): Handler;
};

/** The value the engine sends for a property it does not know yet (preview). */
export const UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

/** A resource as the engine describes it to an analyzer. */
export interface AnalyzedResource {
  readonly type: string;
  readonly name: string;
  readonly urn: string;
  readonly props: Record<string, unknown>;
  readonly parent?: string;
  /** Input name -> URNs of the resources it was computed from. */
  readonly propertyDependencies?: Record<string, string[]>;
}

export interface Finding {
  readonly policy: string;
  readonly level: string;
  readonly message: string;
  readonly urn: string;
}

const LEVELS = Object.fromEntries(
  Object.entries(analyzerproto.EnforcementLevel).map(([name, value]) => [value, name.toLowerCase()]),
);

function findings(response: analyzerproto.AnalyzeResponse): Finding[] {
  return response.getDiagnosticsList().map((d) => ({
    policy: d.getPolicyname(),
    level: LEVELS[d.getEnforcementlevel()] ?? String(d.getEnforcementlevel()),
    message: d.getMessage(),
    urn: d.getUrn(),
  }));
}

function options(r: AnalyzedResource): analyzerproto.AnalyzerResourceOptions {
  const o = new analyzerproto.AnalyzerResourceOptions();
  if (r.parent) o.setParent(r.parent);
  return o;
}

function call(handler: Handler, request: unknown): Promise<Finding[]> {
  return new Promise((resolve, reject) => {
    void handler({ request }, (err, response) =>
      err || !response ? reject(err) : resolve(findings(response)),
    );
  });
}

const PACK = ["mastodon-aws", "0.0.0-test", "mandatory"] as const;

/** The Analyze call the engine makes for each resource (its inputs, after the provider's Check). */
export function analyzeResource(policies: Policies, r: AnalyzedResource): Promise<Finding[]> {
  const req = new analyzerproto.AnalyzeRequest();
  req.setType(r.type);
  req.setName(r.name);
  req.setUrn(r.urn);
  req.setProperties(Struct.fromJavaScript(r.props as Record<string, never>));
  req.setOptions(options(r));
  return call(server.makeAnalyzeRpcFun(...PACK, policies), req);
}

/** The AnalyzeStack call the engine makes at the end of a preview or update (all outputs). */
export function analyzeStack(policies: Policies, resources: readonly AnalyzedResource[]): Promise<Finding[]> {
  const req = new analyzerproto.AnalyzeStackRequest();
  req.setResourcesList(
    resources.map((r) => {
      const a = new analyzerproto.AnalyzerResource();
      a.setType(r.type);
      a.setName(r.name);
      a.setUrn(r.urn);
      a.setProperties(Struct.fromJavaScript(r.props as Record<string, never>));
      a.setOptions(options(r));
      if (r.parent) a.setParent(r.parent);
      const deps = a.getPropertydependenciesMap();
      for (const [k, urns] of Object.entries(r.propertyDependencies ?? {})) {
        const d = new analyzerproto.AnalyzerPropertyDependencies();
        d.setUrnsList(urns);
        deps.set(k, d);
      }
      return a;
    }),
  );
  return call(server.makeAnalyzeStackRpcFun(...PACK, policies), req);
}

/**
 * A plan's custom resources as the analyzer receives them: for Analyze the inputs as checked (the
 * autonamed name included), for AnalyzeStack the state the fake cloud answered (inputs plus the
 * computed ids, names and ARNs). Secrets in state are in Pulumi's wire form, which the analyzer
 * decodes as the engine's would be.
 */
export function planResources(run: MockRun, phase: "inputs" | "outputs"): AnalyzedResource[] {
  const urns = new Map(run.resources.map((r) => [`${r.type}::${r.name}`, r.urn]));
  return run.resources
    .filter((r) => r.custom && !r.type.startsWith("pulumi:providers:"))
    .map((r) => {
      const parent = r.parentType === null ? undefined : urns.get(`${r.parentType}::${r.parent}`);
      return {
        type: r.type,
        name: r.name,
        urn: r.urn,
        props: phase === "outputs" ? { ...r.inputs, ...(run.answered?.get(r.urn) ?? {}) } : r.inputs,
        ...(parent && { parent }),
      };
    });
}
