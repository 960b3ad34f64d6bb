/**
 * MastodonStack's Monitoring and what it is given: the identifiers AWS assigns to the tiers and the
 * budgets the alarms read, and the hosts' own figures (queues, PgBouncer pools, streaming) with
 * their thresholds.
 */
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { stackQueues } from "../monitoring/metrics";
import { pgbouncerRow } from "../budget/budget";
import type { ValidatedConfig } from "../config";
import type { DeploymentScope } from "../aws/naming/scope";
import type { Fleet } from "../fleet/fleet";
import { Monitoring } from "../monitoring/monitoring";
import type { MonitoringTargetsArgs, QueueMonitoringArgs } from "../monitoring/monitoringArgs";
import type { Tiers } from "./tiers";
import { DATABASE_ALARM_IDS } from "../monitoring/alarmSpecs";

/** The stack's alarms, dashboard and their topic, watching the tiers and the fleets. */
export function stackMonitoring(
  name: string,
  scope: DeploymentScope,
  tiers: Tiers,
  validated: ValidatedConfig,
  fleetComponents: readonly Fleet[],
  parent: pulumi.Resource,
): Monitoring {
  const config = tiers.config;
  // Alarms on what breaks first, thresholds from the sizing core and the budget (src/monitoring/alarms.ts).
  return new Monitoring(
    `${name}-monitoring`,
    {
      scope,
      ...(config.alarms.email && { email: config.alarms.email }),
      targets: monitoringTargets(tiers, validated, fleetComponents),
      queues: queueMonitoringInput(tiers, scope.parameterPrefix),
    },
    { parent },
  );
}

/** What Monitoring reads of the hosts' own figures (src/monitoring/metrics.ts), and their thresholds. */
export function queueMonitoringInput(tiers: Tiers, stack: string): QueueMonitoringArgs {
  const { config } = tiers;
  return {
    stack,
    queues: stackQueues(config.fleets),
    alarms: config.alarms,
    pooledFleets:
      config.database.pooler === "pgbouncer"
        ? config.fleets.map((f) => ({ name: f.name, poolSize: pgbouncerRow(f).poolSize }))
        : [],
    streamingFleets: config.fleets.filter((f) => f.streaming).map((f) => f.name),
    onHostRedis: config.redis.onHost !== undefined,
    loadBalancer: tiers.loadBalancer.alb.arnSuffix,
  };
}

/** What Monitoring watches: identifiers AWS assigns, and the budgets the alarms read. */
export function monitoringTargets(
  tiers: Tiers,
  validated: ValidatedConfig,
  fleets: readonly { readonly fleetName: string; readonly group: aws.autoscaling.Group }[],
): MonitoringTargetsArgs {
  const { config, database: db, loadBalancer } = tiers;
  const database = (id: string, identifier: pulumi.Input<string>, budget: ValidatedConfig["budget"]) => ({
    id,
    identifier,
    budget,
    storageGiB: config.database.storageGiB,
    replica: id !== DATABASE_ALARM_IDS.primary,
  });
  return {
    databases: [
      database(DATABASE_ALARM_IDS.primary, db.instance.identifier, validated.budget),
      ...(db.replica && validated.replicaBudget
        ? [database(DATABASE_ALARM_IDS.replica, db.replica.identifier, validated.replicaBudget)]
        : []),
    ],
    redis: [
      { role: "cache", cacheClusterIds: tiers.cache.memberClusterIds },
      { role: "persistent", cacheClusterIds: tiers.persistent.memberClusterIds },
    ],
    ...(tiers.persistent.instance && { redisHost: tiers.persistent.instance.id }),
    loadBalancer: loadBalancer.alb.arnSuffix,
    targetGroups: [
      { id: "tg-web", arnSuffix: loadBalancer.webTargetGroup.arnSuffix },
      ...loadBalancer.streamingTargetGroups.map((tg, i) => ({
        id: `tg-streaming-${i + 1}`,
        arnSuffix: tg.arnSuffix,
      })),
    ],
    fleets: fleets.map((f) => ({ name: f.fleetName, groupName: f.group.name })),
    ...(tiers.search &&
      config.search && {
        search: {
          domainName: tiers.search.domainName,
          // domainId is <account>/<domain name>: the account is CloudWatch's ClientId.
          clientId: tiers.search.domain.domainId.apply((id) => id.split("/")[0] as string),
          volumeGiB: config.search.volumeGiB,
        },
      }),
    ...(tiers.waf &&
      config.waf && {
        waf: {
          webAcl: tiers.waf.metricName,
          region: tiers.waf.region,
          blockedRequests: config.waf.blockedRequestsAlarm,
        },
      }),
  };
}
