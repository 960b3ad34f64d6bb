/** The search domain as every other module reads it: its size, and what follows from the size. */
import {
  type SearchInstanceSpec,
  type SearchPreset,
  type SearchZones,
  searchInstanceSpec,
  searchPreset,
  searchZones,
} from "./engines";
import { z } from "zod";
import { ConfigError, problemsFromZod } from "../config/problems";
import type { ParsedStackConfig } from "../config/schema";
import { searchSchema } from "./schema";

/** mastodon:search as parsed (its keys' types and docs are the schema's), and what its size implies. */
export interface SearchConfig extends Readonly<NonNullable<ParsedStackConfig["search"]>> {
  readonly instance: SearchInstanceSpec;
  /** ES_PRESET. */
  readonly preset: SearchPreset;
  /** How the nodes spread over the VPC's zones (the rules refuse "uneven"). */
  readonly zones: SearchZones;
}

export function resolveSearch(
  parsed: NonNullable<ParsedStackConfig["search"]>,
  vpcZones: 2 | 3,
): SearchConfig {
  const instance = searchInstanceSpec(parsed.instanceType);
  if (!instance)
    throw new Error(`resolve: ${parsed.instanceType} passed the schema but is not in the catalog`);
  return {
    instanceType: parsed.instanceType,
    instance,
    nodes: parsed.nodes,
    volumeGiB: parsed.volumeGiB,
    engineVersion: parsed.engineVersion,
    preset: searchPreset(parsed.nodes),
    zones: searchZones(parsed.nodes, vpcZones),
  };
}

/**
 * The search domain from its config as written (mastodon:search, StackSearchArgs; defaults filled
 * by the schema), for a SearchDomain declared on its own. Refused values are reported as the stack
 * config reports them, every one by its key.
 */
export function parseSearch(raw: unknown, vpcZones: 2 | 3): SearchConfig {
  const parsed = z.strictObject({ search: searchSchema }).safeParse({ search: raw });
  if (!parsed.success)
    throw new ConfigError(
      problemsFromZod(parsed.error, { search: raw }, (path) =>
        path.length === 0 ? ["search"] : Object.keys(searchSchema.shape),
      ),
    );
  return resolveSearch(parsed.data.search, vpcZones);
}
