/**
 * IAM and bucket policy documents, built from ARNs by pure functions so tests can read them exactly.
 * Those of SSM parameters are in parameterPolicies.ts.
 */
import { HOST_FILES_PREFIX } from "../fleet/host/hostFiles";
import { METRICS_NAMESPACE } from "../monitoring/metrics";

export interface PolicyDocument {
  readonly Version: "2012-10-17";
  readonly Statement: readonly Record<string, unknown>[];
}

/** A policy document of these statements. */
export const policyDocument = (...statements: Record<string, unknown>[]): PolicyDocument => ({
  Version: "2012-10-17",
  Statement: statements,
});
const doc = policyDocument;

/** The trust policy that lets an AWS service (ec2, dlm, ...) assume a role. */
export function assumeRolePolicy(service: string): string {
  return JSON.stringify(
    doc({ Effect: "Allow", Principal: { Service: `${service}.amazonaws.com` }, Action: "sts:AssumeRole" }),
  );
}

/** Refuse plain-HTTP requests to a bucket (encryption in transit). */
function denyInsecureTransport(bucketArn: string) {
  return {
    Sid: "DenyInsecureTransport",
    Effect: "Deny",
    Principal: "*",
    Action: "s3:*",
    Resource: [bucketArn, `${bucketArn}/*`],
    Condition: { Bool: { "aws:SecureTransport": "false" } },
  };
}

/**
 * A private bucket whose readers IAM policies name (the host files, the database's dump): plain HTTP
 * refused.
 */
export function tlsOnlyBucketPolicy(bucketArn: string): PolicyDocument {
  return doc(denyInsecureTransport(bucketArn));
}
/** The host-files bucket: plain HTTP refused; who reads it is said by the fleets' IAM policies. */
export const hostFilesBucketPolicy = tlsOnlyBucketPolicy;

/** A fleet reads the host files (src/fleet/host/hostFiles.ts), nothing else of their bucket. */
export function hostFilesReadPolicy(bucketArn: string): PolicyDocument {
  return doc({
    Sid: "ReadHostFiles",
    Effect: "Allow",
    Action: "s3:GetObject",
    Resource: `${bucketArn}/${HOST_FILES_PREFIX}/*`,
  });
}

/** The media bucket: CloudFront reads through Origin Access Control, this distribution only. */
export function mediaBucketPolicy(bucketArn: string, distributionArn: string): PolicyDocument {
  return doc(
    {
      Sid: "CloudFrontReadsThroughOAC",
      Effect: "Allow",
      Principal: { Service: "cloudfront.amazonaws.com" },
      Action: "s3:GetObject",
      Resource: `${bucketArn}/*`,
      Condition: { StringEquals: { "AWS:SourceArn": distributionArn } },
    },
    denyInsecureTransport(bucketArn),
  );
}

/**
 * What the fleets may do with media: read, write and delete objects and set their ACL (Mastodon
 * sets it when an account is suspended or restored), and list the bucket (tootctl media). Nothing else.
 */
export function mediaAccessPolicy(bucketArn: string): PolicyDocument {
  return doc(
    {
      Sid: "MediaObjects",
      Effect: "Allow",
      Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject", "s3:PutObjectAcl"],
      Resource: `${bucketArn}/*`,
    },
    { Sid: "MediaList", Effect: "Allow", Action: "s3:ListBucket", Resource: bucketArn },
  );
}

/**
 * ALB access logs: the regional ELB account (regions before August 2022) and the log delivery
 * service principal (newer regions) may write under this load balancer's prefix only.
 */
export function albLogBucketPolicy(
  bucketArn: string,
  elbAccountArn: string,
  accountId: string,
  prefix: string,
): PolicyDocument {
  const resource = `${bucketArn}/${prefix}/AWSLogs/${accountId}/*`;
  return doc(
    {
      Sid: "ElbAccountWritesLogs",
      Effect: "Allow",
      Principal: { AWS: elbAccountArn },
      Action: "s3:PutObject",
      Resource: resource,
    },
    {
      Sid: "LogDeliveryWritesLogs",
      Effect: "Allow",
      Principal: { Service: "logdelivery.elasticloadbalancing.amazonaws.com" },
      Action: "s3:PutObject",
      Resource: resource,
    },
    denyInsecureTransport(bucketArn),
  );
}

/**
 * The SES SMTP user: send mail as the stack's from addresses, nothing more. The resource is every
 * identity because SES authorizes a send against more than the sender's identity: in the sandbox
 * also against the verified recipient's (an identity-only grant is refused with 554 "not authorized
 * to perform ses:SendRawEmail on resource identity/<recipient>"). The `ses:FromAddress` condition
 * keeps the user to the stack's own addresses, AWS's documented shape (Amazon SES Developer Guide,
 * "Identity and access management in Amazon SES", restricting the "From" address; StringEquals is
 * case-sensitive, "Sending policy examples").
 */
export function sesSendPolicy(fromAddresses: readonly string[]): PolicyDocument {
  if (fromAddresses.length === 0) throw new Error("sesSendPolicy: at least one from address");
  return doc({
    Sid: "SendAsStack",
    Effect: "Allow",
    Action: "ses:SendRawEmail",
    Resource: "*",
    Condition: { StringEquals: { "ses:FromAddress": [...fromAddresses] } },
  });
}

/** Write to the fleet's own log group only. */
export function fleetLogsPolicy(logGroupArn: string): PolicyDocument {
  return doc({
    Sid: "WriteOwnLogs",
    Effect: "Allow",
    Action: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
    Resource: `${logGroupArn}:*`,
  });
}

/**
 * Publish the hosts' metrics (src/monitoring/metrics.ts): PutMetricData has no resource-level
 * permissions, so the namespace condition is its only bound (Amazon CloudWatch User Guide, "Using
 * condition keys to limit access to CloudWatch namespaces").
 */
export function fleetMetricsPolicy(): PolicyDocument {
  return doc({
    Sid: "PublishMastodonMetrics",
    Effect: "Allow",
    Action: "cloudwatch:PutMetricData",
    Resource: "*",
    Condition: { StringEquals: { "cloudwatch:namespace": METRICS_NAMESPACE } },
  });
}

/**
 * The alarm topic's customer-managed key. CloudWatch cannot publish to a topic encrypted with the
 * AWS-managed alias/aws/sns key, whose policy no one can change; a customer-managed key must let
 * cloudwatch.amazonaws.com use it (Amazon CloudWatch User Guide, "Using Amazon SNS notifications":
 * encrypted topics need kms:Decrypt and kms:GenerateDataKey* for CloudWatch). The account keeps
 * administration through IAM, as KMS's default key policy does.
 */
export function alarmTopicKeyPolicy(accountId: string): PolicyDocument {
  return doc(
    {
      Sid: "AccountAdministersThroughIam",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${accountId}:root` },
      Action: "kms:*",
      Resource: "*",
    },
    {
      Sid: "CloudWatchAlarmsEncryptToTheTopic",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: ["kms:Decrypt", "kms:GenerateDataKey*"],
      Resource: "*",
    },
  );
}

/**
 * Who may publish to the alarm topic: the account's own principals, and CloudWatch alarms of this
 * account and region only (Amazon CloudWatch User Guide, confused deputy prevention for SNS).
 */
export function alarmTopicPolicy(topicArn: string, accountId: string, region: string): PolicyDocument {
  return doc(
    {
      Sid: "AccountManagesTheTopic",
      Effect: "Allow",
      Principal: { AWS: `arn:aws:iam::${accountId}:root` },
      Action: [
        "sns:Publish",
        "sns:Subscribe",
        "sns:GetTopicAttributes",
        "sns:SetTopicAttributes",
        "sns:ListSubscriptionsByTopic",
        "sns:DeleteTopic",
      ],
      Resource: topicArn,
    },
    {
      Sid: "CloudWatchAlarmsPublish",
      Effect: "Allow",
      Principal: { Service: "cloudwatch.amazonaws.com" },
      Action: "sns:Publish",
      Resource: topicArn,
      Condition: {
        ArnLike: { "aws:SourceArn": `arn:aws:cloudwatch:${region}:${accountId}:alarm:*` },
        StringEquals: { "aws:SourceAccount": accountId },
      },
    },
  );
}

/**
 * A fleet host completes its own launch lifecycle action (CONTINUE when ready, ABANDON when not)
 * and marks itself Unhealthy when its services stay down: on its own Auto Scaling group only.
 * The group's ARN holds a UUID AWS assigns at creation, and the role is written before the group
 * exists, so the statement names any group ARN of the account and region and narrows it by the
 * group's tags (autoscaling:ResourceTag/<key>, which CompleteLifecycleAction and SetInstanceHealth
 * support: Service Authorization Reference, "Actions, resources, and condition keys for Amazon EC2
 * Auto Scaling"). `groupTags` are tags only this fleet's group carries (its fleet and its stack).
 * `heartbeats`: its boot also records lifecycle heartbeats (a pg_dump archive's restore, which may
 * outlast the hook's heartbeat timeout: src/database/restoreDump.ts).
 */
export function fleetLifecyclePolicy(
  region: string,
  accountId: string,
  groupTags: Readonly<Record<string, string>>,
  heartbeats = false,
): PolicyDocument {
  const keys = Object.keys(groupTags).sort();
  if (keys.length === 0) throw new Error("fleetLifecyclePolicy: without a tag it would reach every group");
  return doc({
    Sid: "OwnGroupLifecycle",
    Effect: "Allow",
    Action: [
      "autoscaling:CompleteLifecycleAction",
      "autoscaling:SetInstanceHealth",
      ...(heartbeats ? ["autoscaling:RecordLifecycleActionHeartbeat"] : []),
    ],
    Resource: `arn:aws:autoscaling:${region}:${accountId}:autoScalingGroup:*:autoScalingGroupName/*`,
    Condition: {
      StringEquals: Object.fromEntries(keys.map((k) => [`autoscaling:ResourceTag/${k}`, groupTags[k]])),
    },
  });
}

/**
 * Pull the release images through the stack's ECR pull-through cache: authenticate, read layers,
 * and (the first pull of a tag) let ECR create the cached repository and import the image (Amazon
 * ECR User Guide, "IAM permissions required to sync an upstream registry with a private registry").
 */
export function ecrPullThroughPolicy(region: string, accountId: string, prefix: string): PolicyDocument {
  const repositories = `arn:aws:ecr:${region}:${accountId}:repository/${prefix}/*`;
  return doc(
    { Sid: "Authenticate", Effect: "Allow", Action: "ecr:GetAuthorizationToken", Resource: "*" },
    {
      Sid: "PullThroughTheCache",
      Effect: "Allow",
      Action: [
        "ecr:BatchGetImage",
        "ecr:GetDownloadUrlForLayer",
        "ecr:BatchCheckLayerAvailability",
        "ecr:BatchImportUpstreamImage",
        "ecr:CreateRepository",
      ],
      Resource: repositories,
    },
  );
}

/**
 * The search domain's resource policy: HTTP requests from any principal, because fine-grained
 * access control authenticates every request as a user of the domain's internal database and the
 * security group admits only the fleets (Amazon OpenSearch Service Developer Guide, "Fine-grained
 * access control": with an internal user database, an open domain access policy is recommended).
 * Only the es:ESHttp* actions on the domain's own indices, no configuration API.
 */
export function searchDomainPolicy(domainArn: string): PolicyDocument {
  return doc({
    Sid: "HttpThroughFineGrainedAccessControl",
    Effect: "Allow",
    Principal: { AWS: "*" },
    Action: ["es:ESHttpGet", "es:ESHttpHead", "es:ESHttpPost", "es:ESHttpPut", "es:ESHttpDelete"],
    Resource: `${domainArn}/*`,
  });
}
