/** Shared test helpers: stack files as the program sees them, and a small valid config to mutate. */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { type StackConfigInput } from "../core/config";

export const ROOT = path.join(__dirname, "..");
export const STACKS = ["dev", "small", "staging", "production"] as const;

/** The `mastodon:` namespace of a shipped stack file, keys without the prefix. */
export function stackConfig(stack: string): Record<string, unknown> {
  const doc = parse(fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8")) as {
    config: Record<string, unknown>;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.config))
    if (k.startsWith("mastodon:")) out[k.slice("mastodon:".length)] = v;
  return out;
}

/** A minimal valid staging-like config; tests clone and break one thing at a time. */
export function baseConfig(): StackConfigInput {
  return {
    environment: "staging",
    domain: "test.example",
    image: { ssmParameter: "/ami/{arch}" },
    database: { instanceClass: "db.t4g.medium" },
    fleets: {
      web: { instanceType: "c7g.large", minSize: 1, maxSize: 2, web: {} },
      streaming: { instanceType: "c7g.medium", maxSize: 2, streaming: {} },
      workers: {
        instanceType: "c7g.large",
        maxSize: 2,
        sidekiq: {
          queues: ["default", "ingress", "push", "pull", "mailers", "fasp"],
          processes: 2,
          threads: 10,
        },
      },
      scheduler: { instanceType: "c7g.medium", maxSize: 1, sidekiq: { queues: ["scheduler"], threads: 5 } },
    },
  };
}

/** A deep copy with `mutate` applied: tests never share state. */
export function withConfig(mutate: (c: any) => void): Record<string, unknown> {
  const c = structuredClone(baseConfig()) as any;
  mutate(c);
  return c;
}
