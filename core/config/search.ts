/** The search domain as every other module reads it: its size, and what follows from the size. */
import {
  type SearchEngineVersion,
  type SearchInstanceSpec,
  type SearchPreset,
  type SearchZones,
  searchInstanceSpec,
  searchPreset,
  searchZones,
} from "../search";
import type { ParsedStackConfig } from "./schema";

export interface SearchConfig {
  readonly instanceType: string;
  readonly instance: SearchInstanceSpec;
  readonly nodes: number;
  readonly volumeGiB: number;
  readonly engineVersion: SearchEngineVersion;
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
