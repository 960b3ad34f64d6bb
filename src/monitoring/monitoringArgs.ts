/**
 * What Monitoring takes, written out for Pulumi's component analyzer (Monitoring is a component
 * other Pulumi languages construct, provider/components.ts): the targets to watch, identified as
 * AWS identifies them, and what the hosts publish with the thresholds of its alarms.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { DeploymentIdentity } from "../aws/naming/scope";
import type { SidekiqQueue } from "../vocabulary/configEnums";
import type { RedisRole } from "../redis/redisServer";

/** The connection budget a database was sized with (src/budget/budget.ts): its alarm fires above alarmThreshold. */
export interface MonitoredBudgetArgs {
  /** Fleet connections at maximum sizes plus the admin headroom, kept below roleConnectionLimit (Budget.alarmThreshold). */
  alarmThreshold: number;
  /** The app role's CONNECTION LIMIT (Budget.roleConnectionLimit). */
  roleConnectionLimit: number;
  /** The instance's max_connections (Budget.maxConnections): the connections panel's ceiling. */
  maxConnections: number;
}

/** An RDS instance to watch. */
export interface MonitoredDatabaseArgs {
  /** Names its alarms, e.g. db-primary. */
  id: string;
  /** The DB instance identifier (CloudWatch's DBInstanceIdentifier). */
  identifier: pulumi.Input<string>;
  /** The budget the instance was sized with: the connection alarm's threshold. */
  budget: MonitoredBudgetArgs;
  /** The allocated storage, GiB: the free-storage alarm fires under 10% of it. */
  storageGiB: number;
  /** A read replica: its lag is watched too. */
  replica: boolean;
}

/** An ElastiCache replication group's member clusters (ElastiCache publishes per cluster). */
export interface MonitoredRedisArgs {
  /** Which of the two Redis: names its alarms (the persistent one must never evict). */
  role: RedisRole;
  /** Its member cache clusters (<group>-001, -002, ...): one memory alarm per cluster. */
  cacheClusterIds: pulumi.Input<string>[];
}

/** A target group, by its ARN suffix (targetgroup/name/id). */
export interface MonitoredTargetGroupArgs {
  /** Names its alarms, e.g. tg-web. */
  id: string;
  /** The target group's ARN suffix (CloudWatch's TargetGroup dimension): its unhealthy-hosts alarm. */
  arnSuffix: pulumi.Input<string>;
}

/** A fleet's Auto Scaling group. */
export interface MonitoredFleetArgs {
  /** The fleet's name: names its CPU alarm. */
  name: string;
  /** The Auto Scaling group's name (CloudWatch's AutoScalingGroupName dimension). */
  groupName: pulumi.Input<string>;
}

/** An OpenSearch domain (src/search/alarms.ts). */
export interface MonitoredSearchArgs {
  /** The OpenSearch domain's name (CloudWatch's DomainName dimension). */
  domainName: pulumi.Input<string>;
  /** The account id: CloudWatch's ClientId dimension. */
  clientId: pulumi.Input<string>;
  /** Each node's volume, GiB. */
  volumeGiB: number;
}

/** An AWS WAF web ACL (src/waf/alarms.ts). */
export interface MonitoredWafArgs {
  /** The web ACL's metric name (CloudWatch's WebACL dimension; the package makes it the web ACL's name too). */
  webAcl: pulumi.Input<string>;
  /** The web ACL's Region (CloudWatch's Region dimension). */
  region: pulumi.Input<string>;
  /** Blocked requests in 5 minutes, every rule together, above which the alarm fires. */
  blockedRequests: number;
}

/** What to watch: identifiers AWS assigns, and the budgets the database alarms read. */
export interface MonitoringTargetsArgs {
  /** The RDS instances: the primary, and the read replica when there is one. */
  databases: MonitoredDatabaseArgs[];
  /** The ElastiCache Redis: the cache and the persistent store (none with Redis on the host). */
  redis: MonitoredRedisArgs[];
  /** A self-managed Redis host's instance id, watched as an instance (@default none). */
  redisHost?: pulumi.Input<string>;
  /** The ALB's ARN suffix (app/name/id). */
  loadBalancer: pulumi.Input<string>;
  /** The ALB's target groups: web, and one per streaming port. */
  targetGroups: MonitoredTargetGroupArgs[];
  /** Every fleet's Auto Scaling group. */
  fleets: MonitoredFleetArgs[];
  /** The search domain (@default none). */
  search?: MonitoredSearchArgs;
  /** The ALB's web ACL (@default none). */
  waf?: MonitoredWafArgs;
}

/** Per queue, seconds its oldest job may wait before its alarm fires for five minutes running. */
export interface QueueLatencySecondsArgs {
  /** The default queue (home timelines, local posts), seconds. */
  default: number;
  /** Deliveries to other servers, seconds. */
  push: number;
  /** Activities arriving from other servers, seconds. */
  ingress: number;
  /** Mail (sign-up confirmations, password resets), seconds. */
  mailers: number;
  /** Fetches from other servers (remote media, link previews), seconds. */
  pull: number;
  /** Sidekiq's scheduled jobs, seconds. */
  scheduler: number;
  /** Fediverse auxiliary service providers (FASP), seconds. */
  fasp: number;
}

/** The thresholds of the alarms on what the hosts publish. */
export interface QueueAlarmsArgs {
  /** Per queue, the latency above which its alarm fires. */
  queueLatency: QueueLatencySecondsArgs;
  /** Jobs added to Sidekiq's dead set within an hour. */
  deadJobsPerHour: number;
  /** A fleet's longest PgBouncer wait, seconds. */
  pgbouncerMaxWait: number;
}

/** A fleet with PgBouncer, and the server connections of each host's pool. */
export interface PooledFleetArgs {
  /** The fleet's name. */
  name: string;
  /** PgBouncer's server connections per host: the waiting-clients alarm fires at this many. */
  poolSize: number;
}

/** What the hosts publish (src/monitoring/metrics.ts), to alarm on and chart (src/monitoring/queueAlarms.ts). */
export interface QueueMonitoringArgs {
  /** The Stack dimension every published value carries (the stack's SSM path). */
  stack: string;
  /** The queues the fleets serve. */
  queues: SidekiqQueue[];
  /** The thresholds of the alarms on what the hosts publish. */
  alarms: QueueAlarmsArgs;
  /** The fleets with PgBouncer (database.pooler pgbouncer), each with its pool's size; [] without. */
  pooledFleets: PooledFleetArgs[];
  /** The fleets running streaming. */
  streamingFleets: string[];
  /**
   * redis.onHost: both Redis run on the app host, which publishes their memory; an alarm per Redis
   * stands where ElastiCache's would (@default false).
   */
  onHostRedis?: boolean;
  /** The ALB's ARN suffix: the streaming alarm asks whether the web is serving. */
  loadBalancer: pulumi.Input<string>;
}

export interface MonitoringArgs {
  /** The deployment (Pulumi project and stack, MastodonStack name): the dashboard is named from it. */
  scope: DeploymentIdentity;
  /** Where notifications go: an SNS e-mail subscription, to confirm from the inbox (@default none). */
  email?: string;
  /** What to watch; src/monitoring/alarms.ts builds the alarms from it. */
  targets: MonitoringTargetsArgs;
  /**
   * What the hosts publish (src/monitoring/metrics.ts): queue latency, dead jobs, PgBouncer waits,
   * streaming clients; src/monitoring/queueAlarms.ts builds their alarms and panels (@default none).
   */
  queues?: QueueMonitoringArgs;
}
