/**
 * Full-text search on Amazon OpenSearch Service (pure): the engine versions Mastodon can use, the
 * instance types the package knows, and the facts derived from a domain's size (its zone layout and
 * Mastodon's ES_PRESET), computed once here and read by the rules, the component, the env and the
 * cost report.
 *
 * Mastodon's "Configuring full-text search" (docs.joinmastodon.org/admin/elasticsearch): "Mastodon is
 * tested with ElasticSearch version 7. It should support OpenSearch, as well as ElasticSearch
 * versions 6 and 8, but those setups are not officially supported." Amazon OpenSearch Service runs
 * Elasticsearch 7.10 (the last Elasticsearch it offers) and OpenSearch; fine-grained access control
 * needs Elasticsearch 6.7 or later (Amazon OpenSearch Service Developer Guide, "Fine-grained access
 * control"). The default is the tested major.
 */

import { SearchEngine } from "../vocabulary/configEnums";

/** Engine versions the package accepts, as Amazon OpenSearch Service names them (EngineVersion). */
export const SEARCH_ENGINE_VERSIONS = Object.values(SearchEngine) as [SearchEngine, ...SearchEngine[]];
export type SearchEngineVersion = SearchEngine;
/** Elasticsearch 7: what Mastodon is tested with (Mastodon docs, "Configuring full-text search"). */
export const DEFAULT_SEARCH_ENGINE: SearchEngineVersion = "Elasticsearch_7.10";

export interface SearchInstanceSpec {
  readonly instanceType: string;
  readonly vcpu: number;
  readonly memoryGiB: number;
  /**
   * The largest gp3 EBS volume per node (Amazon OpenSearch Service Developer Guide, "EBS volume size
   * quotas"; gp3 doubles the gp2 figure for these types).
   */
  readonly maxVolumeGiB: number;
}

/**
 * The data-node types offered here: burstable t3 for small stacks (no encryption-at-rest
 * restriction, unlike t2), Graviton m7g/r7g for production (Mastodon's indices are memory-bound:
 * r-family gives the JVM heap room). Prices live in data/other-prices-us-east-1.tsv.
 */
export const SEARCH_INSTANCES: readonly SearchInstanceSpec[] = [
  { instanceType: "t3.small.search", vcpu: 2, memoryGiB: 2, maxVolumeGiB: 100 },
  { instanceType: "t3.medium.search", vcpu: 2, memoryGiB: 4, maxVolumeGiB: 200 },
  { instanceType: "m7g.large.search", vcpu: 2, memoryGiB: 8, maxVolumeGiB: 1024 },
  { instanceType: "m7g.xlarge.search", vcpu: 4, memoryGiB: 16, maxVolumeGiB: 2048 },
  { instanceType: "r7g.large.search", vcpu: 2, memoryGiB: 16, maxVolumeGiB: 2048 },
  { instanceType: "r7g.xlarge.search", vcpu: 4, memoryGiB: 32, maxVolumeGiB: 4096 },
  { instanceType: "r7g.2xlarge.search", vcpu: 8, memoryGiB: 64, maxVolumeGiB: 6144 },
];

export function searchInstanceSpec(instanceType: string): SearchInstanceSpec | undefined {
  return SEARCH_INSTANCES.find((s) => s.instanceType === instanceType);
}

/**
 * Mastodon's ES_PRESET (Mastodon docs, "Choosing the correct preset"): `single_node_cluster` for one
 * node (indices without replicas), `small_cluster` for fewer than 6 nodes (1 replica),
 * `large_cluster` for 6 or more (more shards).
 */
export type SearchPreset = "single_node_cluster" | "small_cluster" | "large_cluster";
export const LARGE_CLUSTER_NODES = 6;

export function searchPreset(nodes: number): SearchPreset {
  if (nodes <= 1) return "single_node_cluster";
  return nodes < LARGE_CLUSTER_NODES ? "small_cluster" : "large_cluster";
}

/**
 * How a domain spreads over the VPC's zones. One node: one subnet, no zone awareness. More: zone
 * awareness over 3 zones when the VPC has 3 and the nodes divide evenly by 3, else over 2 zones when
 * they are even (AWS: "choose an even number of data nodes" for two zones and a multiple of three
 * for three; Developer Guide, "Configuring a multi-AZ domain"). A VPC domain takes exactly one
 * subnet per zone it uses.
 */
export type SearchZones =
  | { readonly kind: "single"; readonly zones: 1 }
  | { readonly kind: "zone-aware"; readonly zones: 2 | 3 }
  | { readonly kind: "uneven"; readonly nodes: number; readonly vpcZones: 2 | 3 };

export function searchZones(nodes: number, vpcZones: 2 | 3): SearchZones {
  if (nodes <= 1) return { kind: "single", zones: 1 };
  if (vpcZones === 3 && nodes % 3 === 0) return { kind: "zone-aware", zones: 3 };
  if (nodes % 2 === 0) return { kind: "zone-aware", zones: 2 };
  return { kind: "uneven", nodes, vpcZones };
}

/** The master user fine-grained access control creates in the domain's internal user database. */
export const SEARCH_MASTER_USER = "mastodon";

/** TLS 1.2 or later on the domain's endpoint (Developer Guide, "TLS security policies"). */
export const SEARCH_TLS_POLICY = "Policy-Min-TLS-1-2-2019-07";
