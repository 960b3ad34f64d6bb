/**
 * mastodon:search written out for Pulumi's component analyzer: MastodonStack's `search` arg, the
 * OpenSearch domain. Only what the analyzer reads (interfaces, `as const` enums, doc comments with
 * `(@default ...)`); src/config/args.ts says why.
 */
/** Amazon OpenSearch Service engine versions the package accepts (src/search/engines.ts). */
export const SearchEngine = {
  Elasticsearch710: "Elasticsearch_7.10",
  OpenSearch13: "OpenSearch_1.3",
  OpenSearch219: "OpenSearch_2.19",
} as const;
export type SearchEngine = (typeof SearchEngine)[keyof typeof SearchEngine];

/** mastodon:search: an Amazon OpenSearch Service domain; its presence turns search on. */
export interface StackSearchArgs {
  /** Data node type (src/search/engines.ts lists them) (@default "t3.small.search"). */
  instanceType?: string;
  /** Data nodes; more than one spreads them over 2 or 3 zones (@default 1). */
  nodes?: number;
  /** Encrypted gp3 EBS volume per node, GiB (@default 20). */
  volumeGiB?: number;
  /** The engine and its version; Mastodon is tested with Elasticsearch 7 (@default "Elasticsearch_7.10"). */
  engineVersion?: SearchEngine;
}
