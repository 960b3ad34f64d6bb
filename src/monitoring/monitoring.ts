import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitLogicalName } from "../aws/naming";
import { type DeploymentIdentity, scopedName } from "../aws/naming/scope";
import { alarmTopicKeyPolicy, alarmTopicPolicy } from "../aws/policies";
import { alarmSpecs, dashboardBody } from "./alarms";
import type { MetricAlarmSpec, PanelMetric } from "./alarmSpecs";
import type { SidekiqQueue } from "../config/args";
import type { RedisRole } from "../redis/redisServer";
import { queueMonitoring } from "./queueAlarms";
import { providedType, withFormerType } from "../aws/typeToken";

/** The connection budget a database was sized with (src/budget/budget.ts): its alarm fires above alarmThreshold. */
export interface MonitoredBudgetArgs {
  /** Fleet connections at maximum sizes plus the admin headroom, kept below roleConnectionLimit (Budget.alarmThreshold). */
  alarmThreshold: number;
  /** The app role's CONNECTION LIMIT (Budget.roleConnectionLimit). */
  roleConnectionLimit: number;
  maxConnections: number;
}

/** An RDS instance to watch. */
export interface MonitoredDatabaseArgs {
  /** Names its alarms, e.g. db-primary. */
  id: string;
  /** The DB instance identifier (CloudWatch's DBInstanceIdentifier). */
  identifier: pulumi.Input<string>;
  budget: MonitoredBudgetArgs;
  storageGiB: number;
  /** A read replica: its lag is watched too. */
  replica: boolean;
}

/** An ElastiCache replication group's member clusters (ElastiCache publishes per cluster). */
export interface MonitoredRedisArgs {
  role: RedisRole;
  cacheClusterIds: pulumi.Input<string>[];
}

/** A target group, by its ARN suffix (targetgroup/name/id). */
export interface MonitoredTargetGroupArgs {
  /** Names its alarms, e.g. tg-web. */
  id: string;
  arnSuffix: pulumi.Input<string>;
}

/** A fleet's Auto Scaling group. */
export interface MonitoredFleetArgs {
  name: string;
  groupName: pulumi.Input<string>;
}

/** An OpenSearch domain (src/search/alarms.ts). */
export interface MonitoredSearchArgs {
  domainName: pulumi.Input<string>;
  /** The account id: CloudWatch's ClientId dimension. */
  clientId: pulumi.Input<string>;
  /** Each node's volume, GiB. */
  volumeGiB: number;
}

/** What to watch: identifiers AWS assigns, and the budgets the database alarms read. */
export interface MonitoringTargetsArgs {
  databases: MonitoredDatabaseArgs[];
  redis: MonitoredRedisArgs[];
  /** A self-managed Redis host's instance id, watched as an instance (@default none). */
  redisHost?: pulumi.Input<string>;
  /** The ALB's ARN suffix (app/name/id). */
  loadBalancer: pulumi.Input<string>;
  targetGroups: MonitoredTargetGroupArgs[];
  fleets: MonitoredFleetArgs[];
  /** The search domain (@default none). */
  search?: MonitoredSearchArgs;
}

/** Per queue, seconds its oldest job may wait before its alarm fires for five minutes running. */
export interface QueueLatencySecondsArgs {
  default: number;
  push: number;
  ingress: number;
  mailers: number;
  pull: number;
  scheduler: number;
  fasp: number;
}

/** The thresholds of the alarms on what the hosts publish. */
export interface QueueAlarmsArgs {
  queueLatency: QueueLatencySecondsArgs;
  /** Jobs added to Sidekiq's dead set within an hour. */
  deadJobsPerHour: number;
  /** A fleet's longest PgBouncer wait, seconds. */
  pgbouncerMaxWait: number;
}

/** A fleet with PgBouncer, and the server connections of each host's pool. */
export interface PooledFleetArgs {
  name: string;
  poolSize: number;
}

/** What the hosts publish (src/monitoring/metrics.ts), to alarm on and chart (src/monitoring/queueAlarms.ts). */
export interface QueueMonitoringArgs {
  /** The Stack dimension every published value carries (the stack's SSM path). */
  stack: string;
  /** The queues the fleets serve. */
  queues: SidekiqQueue[];
  alarms: QueueAlarmsArgs;
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

/**
 * An SNS topic (encrypted), the alarms of alarms.ts wired to it, and a dashboard with
 * their metrics per tier. Alarms are declared from the known shape of the stack; their dimensions
 * (identifiers AWS assigns) resolve later.
 */
export class Monitoring extends pulumi.ComponentResource {
  public readonly topic: aws.sns.Topic;
  /** The topic's customer-managed key (rotated yearly): CloudWatch may use it to publish alarms. */
  public readonly topicKey: aws.kms.Key;
  public readonly alarms: aws.cloudwatch.MetricAlarm[];
  public readonly dashboard: aws.cloudwatch.Dashboard;

  constructor(name: string, args: MonitoringArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("Monitoring"), name, {}, withFormerType("mastodon:monitoring:Monitoring", opts));
    const parent = { parent: this };
    const identity = aws.getCallerIdentityOutput({}, parent);
    const region = aws.getRegionOutput({}, parent).region;
    this.topicKey = new aws.kms.Key(
      `${name}-alarms`,
      {
        description: `${name}: encrypts the alarm topic; CloudWatch may use it to publish`,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: identity.accountId.apply((account) => JSON.stringify(alarmTopicKeyPolicy(account))),
      },
      parent,
    );
    this.topic = new aws.sns.Topic(
      fitLogicalName("aws:sns/topic:Topic", name, "alarms"),
      { kmsMasterKeyId: this.topicKey.arn },
      parent,
    );
    new aws.sns.TopicPolicy(
      `${name}-alarms`,
      {
        arn: this.topic.arn,
        policy: pulumi
          .all([this.topic.arn, identity.accountId, region])
          .apply(([topicArn, account, r]) => JSON.stringify(alarmTopicPolicy(topicArn, account, r))),
      },
      parent,
    );
    if (args.email) {
      new aws.sns.TopicSubscription(
        `${name}-email`,
        { topic: this.topic.arn, protocol: "email", endpoint: args.email },
        parent,
      );
    }
    const actions = { alarmActions: [this.topic.arn], okActions: [this.topic.arn] };
    const { metrics: tierMetrics, errorRate } = alarmSpecs(args.targets);
    const published = args.queues ? queueMonitoring(args.queues) : { metrics: [], math: [], panels: [] };
    const metrics = [...tierMetrics, ...published.metrics];
    this.alarms = metrics.map(
      (spec) =>
        new aws.cloudwatch.MetricAlarm(
          `${name}-${spec.id}`,
          {
            alarmDescription: spec.description,
            namespace: spec.namespace,
            metricName: spec.metricName,
            dimensions: spec.dimensions,
            statistic: spec.statistic,
            comparisonOperator: spec.comparison,
            threshold: spec.threshold,
            period: spec.periodSeconds,
            evaluationPeriods: spec.evaluationPeriods,
            treatMissingData: spec.missingData ?? "notBreaching",
            ...actions,
          },
          parent,
        ),
    );
    for (const spec of published.math) {
      this.alarms.push(
        new aws.cloudwatch.MetricAlarm(
          `${name}-${spec.id}`,
          {
            alarmDescription: spec.description,
            comparisonOperator: spec.comparison,
            threshold: spec.threshold,
            evaluationPeriods: spec.evaluationPeriods,
            treatMissingData: "notBreaching",
            metricQueries: [
              ...spec.metrics.map((m) => ({
                id: m.id,
                metric: {
                  namespace: m.namespace,
                  metricName: m.metricName,
                  period: m.periodSeconds,
                  stat: m.statistic,
                  dimensions: m.dimensions,
                },
              })),
              { id: "result", expression: spec.expression, label: spec.label, returnData: true },
            ],
            ...actions,
          },
          parent,
        ),
      );
    }
    const metric = (id: string, metricName: string) => ({
      id,
      metric: {
        namespace: "AWS/ApplicationELB",
        metricName,
        period: 300,
        stat: "Sum",
        dimensions: { LoadBalancer: errorRate.loadBalancer },
      },
    });
    this.alarms.push(
      new aws.cloudwatch.MetricAlarm(
        `${name}-${errorRate.id}`,
        {
          alarmDescription: errorRate.description,
          comparisonOperator: "GreaterThanThreshold",
          threshold: errorRate.thresholdPercent,
          evaluationPeriods: 1,
          treatMissingData: "notBreaching",
          metricQueries: [
            metric("elb5xx", "HTTPCode_ELB_5XX_Count"),
            metric("target5xx", "HTTPCode_Target_5XX_Count"),
            metric("requests", "RequestCount"),
            {
              id: "rate",
              expression: "100 * (elb5xx + target5xx) / MAX([requests, 1])",
              label: "5xx %",
              returnData: true,
            },
          ],
          ...actions,
        },
        parent,
      ),
    );
    this.dashboard = new aws.cloudwatch.Dashboard(
      `${name}-dashboard`,
      {
        // Dashboard names are unique per account (CloudWatch API PutDashboard: a name that exists is
        // overwritten): project and stack keep two deployments' apart.
        dashboardName: scopedName(args.scope, "aws:cloudwatch/dashboard:Dashboard", name),
        // pulumi.output resolves the identifiers nested in the specs.
        dashboardBody: pulumi
          .all([region, pulumi.output(metrics)])
          .apply(([r, specs]) =>
            dashboardBody(r, [...(specs as MetricAlarmSpec[]), ...published.panels] as PanelMetric[]),
          ),
      },
      parent,
    );
    this.registerOutputs({ topicArn: this.topic.arn });
  }
}
