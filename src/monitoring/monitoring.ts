import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitLogicalName } from "../aws/naming";
import { scopedName } from "../aws/naming/scope";
import { alarmTopicKeyPolicy, alarmTopicPolicy } from "../aws/policies";
import { alarmSpecs, dashboardBody } from "./alarms";
import type { MetricAlarmSpec, PanelMetric } from "./alarmSpecs";
import { queueMonitoring } from "./queueAlarms";
import { providedType, withFormerType } from "../aws/typeToken";

// The args' types are part of the package's API (lib/index.ts).
export type {
  MonitoredBudgetArgs,
  MonitoredDatabaseArgs,
  MonitoredRedisArgs,
  MonitoredTargetGroupArgs,
  MonitoredFleetArgs,
  MonitoredSearchArgs,
  MonitoredWafArgs,
  MonitoringTargetsArgs,
  QueueLatencySecondsArgs,
  QueueAlarmsArgs,
  PooledFleetArgs,
  QueueMonitoringArgs,
  MonitoringArgs,
} from "./monitoringArgs";
import type { MonitoringArgs } from "./monitoringArgs";

/**
 * An SNS topic (encrypted), the alarms of alarms.ts wired to it, and a dashboard with
 * their metrics per tier. Alarms are declared from the known shape of the stack; their dimensions
 * (identifiers AWS assigns) resolve later.
 */
export class Monitoring extends pulumi.ComponentResource {
  /** The SNS topic every alarm notifies, encrypted with topicKey; email subscribes to it. */
  public readonly topic: aws.sns.Topic;
  /** The topic's customer-managed key (rotated yearly): CloudWatch may use it to publish alarms. */
  public readonly topicKey: aws.kms.Key;
  /** Every CloudWatch alarm, each notifying topic on ALARM and OK. */
  public readonly alarms: aws.cloudwatch.MetricAlarm[];
  /** The CloudWatch dashboard charting each tier, named <project>-<stack>-<name>. */
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
