/**
 * The search domain's alarms (pure), from Amazon OpenSearch Service's "Recommended CloudWatch
 * alarms": a red cluster (a primary shard unassigned: searches fail), a yellow one (a replica
 * unassigned: one node failure from red; the single-node preset has no replicas, so yellow there
 * means something else is wrong), writes blocked, and free storage under 25% of a node's volume.
 * Metrics are in AWS/ES by DomainName and ClientId (the account).
 */
import type { MetricAlarmSpec } from "../monitoring/alarmSpecs";

export interface SearchTarget<Id = string> {
  readonly domainName: Id;
  /** The account id: CloudWatch's ClientId dimension. */
  readonly clientId: Id;
  /** Each node's volume; FreeStorageSpace is per node, in MiB. */
  readonly volumeGiB: number;
}

export const SEARCH_FREE_STORAGE_SHARE = 0.25;

export function searchAlarmSpecs<Id = string>(target: SearchTarget<Id>): MetricAlarmSpec<Id>[] {
  const dimensions = { DomainName: target.domainName, ClientId: target.clientId };
  const base = { tier: "search" as const, namespace: "AWS/ES", dimensions };
  const freeMiB = Math.round(target.volumeGiB * 1024 * SEARCH_FREE_STORAGE_SHARE);
  return [
    {
      ...base,
      id: "search-red",
      description:
        "Search cluster red: a primary shard is unassigned, searches and indexing fail (rebuild with tootctl search deploy if it stays red)",
      metricName: "ClusterStatus.red",
      statistic: "Maximum",
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      periodSeconds: 60,
      evaluationPeriods: 1,
    },
    {
      ...base,
      id: "search-yellow",
      description: "Search cluster yellow: a replica shard is unassigned, one node failure from red",
      metricName: "ClusterStatus.yellow",
      statistic: "Maximum",
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      periodSeconds: 60,
      evaluationPeriods: 5,
    },
    {
      ...base,
      id: "search-writes-blocked",
      description: "Search cluster blocks writes (storage or memory pressure): new posts are not indexed",
      metricName: "ClusterIndexWritesBlocked",
      statistic: "Maximum",
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
      periodSeconds: 300,
      evaluationPeriods: 1,
    },
    {
      ...base,
      id: "search-storage",
      description: `Search node free storage under ${SEARCH_FREE_STORAGE_SHARE * 100}% of its ${target.volumeGiB} GiB volume (${freeMiB} MiB): raise search.volumeGiB or add nodes`,
      metricName: "FreeStorageSpace",
      statistic: "Minimum",
      comparison: "LessThanThreshold",
      threshold: freeMiB,
      periodSeconds: 60,
      evaluationPeriods: 1,
    },
  ];
}
