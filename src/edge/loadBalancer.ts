import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitLogicalName } from "../aws/naming";
import { DEFAULTS, STREAMING_PATHS } from "../vocabulary/defaults";
import { albLogBucketPolicy } from "../aws/policies";
import { dnsValidatedCertificate } from "./certificate";
import { LISTENER_RULE_PRIORITIES } from "./rules";
import { privateBucket } from "../aws/privateBucket";
import { providedType, withFormerType } from "../aws/typeToken";

/** TLS 1.3 with TLS 1.2 fallback, forward secrecy only. */
export const TLS_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06";

export interface LoadBalancerArgs {
  /** The VPC the target groups are in. */
  vpcId: pulumi.Input<string>;
  /** The public subnets the ALB spans, one per zone. */
  publicSubnetIds: pulumi.Input<string>[];
  /** The ALB's security group: 80 and 443 from anywhere, out to the web and streaming hosts. */
  securityGroupId: pulumi.Input<string>;
  /** The web domain the certificate covers. */
  webDomain: string;
  /** An ACM certificate in the stack's region. (@default one requested and DNS-validated in zoneId) */
  certificateArn?: pulumi.Input<string>;
  /** Route 53 zone for certificate validation, needed without certificateArn (@default none). */
  zoneId?: string;
  /**
   * Ports of the streaming processes on each host (mastodon-streaming@4000, mastodon-streaming@4001 and so on), at most 5.
   * (@default [4000])
   */
  streamingPorts?: number[];
  /** Dual-stack: the ALB answers on IPv6 as well as IPv4 (the subnets must be dual-stack) (@default false). */
  dualStack?: boolean;
  /** Seconds an idle connection stays open, 1-4000 (@default 60). */
  idleTimeoutSeconds?: number;
  /** Access logs to a private, encrypted S3 bucket the component creates (@default false). */
  accessLogs?: boolean;
  /** The ALB refuses deletion, and Pulumi protects it, until this is turned off (@default false). */
  deletionProtection?: boolean;
}

/**
 * The ALB in front of Mastodon: HTTPS with a modern TLS policy, HTTP redirected, Puma behind target
 * group `web` and the streaming server behind one target group per port.
 *
 * Why one target group per port: a target group sends to one port per instance, and each
 * mastodon-streaming@<port> process is its own server. Registering every port as its own target
 * group, all in one weighted forward action, lets the ALB reach every process with its own health
 * check and no proxy on the host. A forward action takes at most 5 target groups, so the config
 * refuses more than 5 streaming processes per host (src/edge/rules.ts, streamingRouting).
 */
export class LoadBalancer extends pulumi.ComponentResource {
  /** The application load balancer. */
  public readonly alb: aws.lb.LoadBalancer;
  /** The ALB's DNS name: where the web domain's alias records point. */
  public readonly dnsName: pulumi.Output<string>;
  /** The ALB's canonical hosted zone ID, for alias records. */
  public readonly zoneId: pulumi.Output<string>;
  /** Puma's target group (port 3000, health check /health). */
  public readonly webTargetGroup: aws.lb.TargetGroup;
  /** One per streaming port, in port order. */
  public readonly streamingTargetGroups: aws.lb.TargetGroup[];
  /** The HTTPS listener on 443: streaming paths to the streaming target groups, the rest to web. */
  public readonly httpsListener: aws.lb.Listener;
  /** The certificate the HTTPS listener serves: certificateArn, or the one requested and validated. */
  public readonly certificateArn: pulumi.Output<string>;

  constructor(name: string, args: LoadBalancerArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("LoadBalancer"), name, {}, withFormerType("mastodon:edge:LoadBalancer", opts));
    const parent = { parent: this };
    const ports = args.streamingPorts ?? [DEFAULTS.streaming.firstPort];
    if (ports.length < 1 || ports.length > 5) {
      throw new Error(
        `${name}: 1 to 5 streaming ports, not ${ports.length} (a forward action takes 5 target groups)`,
      );
    }

    const logs = args.accessLogs ? this.accessLogBucket(name) : undefined;
    // ELB names hold 32 characters with the provider's 8-character random suffix: cut to fit.
    this.alb = new aws.lb.LoadBalancer(
      fitLogicalName("aws:lb/loadBalancer:LoadBalancer", name, "alb"),
      {
        loadBalancerType: "application",
        internal: false,
        subnets: args.publicSubnetIds,
        securityGroups: [args.securityGroupId],
        ipAddressType: args.dualStack ? "dualstack" : "ipv4",
        idleTimeout: args.idleTimeoutSeconds ?? DEFAULTS.loadBalancer.idleTimeoutSeconds,
        dropInvalidHeaderFields: true,
        enableHttp2: true,
        enableDeletionProtection: args.deletionProtection ?? false,
        ...(logs && { accessLogs: { bucket: logs.id, prefix: name, enabled: true } }),
      },
      {
        parent: this,
        ...(logs && { dependsOn: [logs] }),
        ...(args.deletionProtection ? { protect: true } : {}),
      },
    );

    const targetGroup = (suffix: string, port: number, healthPath: string, algorithm: string) =>
      new aws.lb.TargetGroup(
        fitLogicalName("aws:lb/targetGroup:TargetGroup", name, suffix),
        {
          vpcId: args.vpcId,
          port,
          protocol: "HTTP",
          targetType: "instance",
          loadBalancingAlgorithmType: algorithm,
          deregistrationDelay: 30,
          healthCheck: {
            path: healthPath,
            port: "traffic-port",
            protocol: "HTTP",
            matcher: "200",
            interval: 15,
            timeout: 5,
            healthyThreshold: 2,
            unhealthyThreshold: 3,
          },
        },
        parent,
      );
    // Puma requests vary a lot in length: send new ones where the fewest are outstanding.
    this.webTargetGroup = targetGroup("web", DEFAULTS.web.port, "/health", "least_outstanding_requests");
    this.streamingTargetGroups = ports.map((port) =>
      targetGroup(`stream-${port}`, port, "/api/v1/streaming/health", "round_robin"),
    );

    this.certificateArn = args.certificateArn
      ? pulumi.output(args.certificateArn)
      : this.requestCertificate(name, args);

    new aws.lb.Listener(
      `${name}-http`,
      {
        loadBalancerArn: this.alb.arn,
        port: 80,
        protocol: "HTTP",
        defaultActions: [
          { type: "redirect", redirect: { protocol: "HTTPS", port: "443", statusCode: "HTTP_301" } },
        ],
      },
      parent,
    );
    this.httpsListener = new aws.lb.Listener(
      `${name}-https`,
      {
        loadBalancerArn: this.alb.arn,
        port: 443,
        protocol: "HTTPS",
        sslPolicy: TLS_POLICY,
        certificateArn: this.certificateArn,
        defaultActions: [{ type: "forward", targetGroupArn: this.webTargetGroup.arn }],
      },
      parent,
    );
    new aws.lb.ListenerRule(
      `${name}-streaming`,
      {
        listenerArn: this.httpsListener.arn,
        priority: LISTENER_RULE_PRIORITIES.streaming,
        conditions: [{ pathPattern: { values: [...STREAMING_PATHS] } }],
        actions: [
          {
            type: "forward",
            forward: { targetGroups: this.streamingTargetGroups.map((tg) => ({ arn: tg.arn, weight: 1 })) },
          },
        ],
      },
      parent,
    );

    this.dnsName = this.alb.dnsName;
    this.zoneId = this.alb.zoneId;
    this.registerOutputs({ dnsName: this.dnsName, zoneId: this.zoneId, certificateArn: this.certificateArn });
  }

  private requestCertificate(name: string, args: LoadBalancerArgs): pulumi.Output<string> {
    if (!args.zoneId)
      throw new Error(`${name}: without certificateArn, a zoneId is needed to validate a certificate`);
    return dnsValidatedCertificate(`${name}-cert`, args.webDomain, args.zoneId, { parent: this });
  }

  private accessLogBucket(name: string): aws.s3.Bucket {
    const bucket = privateBucket(`${name}-logs`, { expireDays: 90 }, this);
    const elb = aws.elb.getServiceAccountOutput({}, { parent: this });
    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    new aws.s3.BucketPolicy(
      `${name}-logs`,
      {
        bucket: bucket.id,
        policy: pulumi
          .all([bucket.arn, elb.arn, identity.accountId])
          .apply(([bucketArn, elbArn, account]) =>
            JSON.stringify(albLogBucketPolicy(bucketArn, elbArn, account, name)),
          ),
      },
      { parent: this },
    );
    return bucket;
  }
}
