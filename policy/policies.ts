/**
 * The policies of the mastodon-aws pack: each wires rules/ (pure functions over properties) to the
 * analyzer through @pulumi/policy's typed helpers. index.ts serves them; the tests run them through
 * @pulumi/policy's own analyzer handlers over the plans of every shipped stack.
 */
import * as aws from "@pulumi/aws";
import {
  type Policies,
  type ReportViolation,
  type ResourceValidation,
  type ResourceValidationPolicy,
  type StackValidationPolicy,
  validateResourceOfType,
} from "@pulumi/policy";
import type { Resource, Unwrap } from "@pulumi/pulumi";
import { connectionBudgets } from "./rules/budget";
import { bucketViolations } from "./rules/buckets";
import { type StackResource, type Violation, label } from "./rules/resources";
import { schedulerViolations } from "./rules/scheduler";
import * as rules from "./rules/security";

/**
 * A validation of one resource type by one rule: each problem is reported naming the resource. The
 * rule gets the resource's URN too (where it is declared: its parents' types).
 */
function check<TResource extends Resource, TArgs>(
  resourceClass: Parameters<typeof validateResourceOfType<TResource, TArgs>>[0],
  rule: (props: Unwrap<NonNullable<TArgs>>, urn: string) => string[],
): ResourceValidation {
  return validateResourceOfType(resourceClass, (props, args, report) => {
    for (const problem of rule(props, args.urn)) report(`${label(args)}: ${problem}.`, args.urn);
  });
}

/** A stack policy's violations, each against the resource it names. */
function reportAll(violations: readonly Violation[], report: ReportViolation): void {
  for (const v of violations) report(v.message, v.urn);
}

const stackResources = (resources: readonly unknown[]) => resources as readonly StackResource[];

export const connectionBudget: StackValidationPolicy = {
  name: "mastodon-connection-budget",
  description:
    "What a deployment's groups may open against Postgres at maximum size, plus the admin headroom, fits in 90% of max_connections less the superuser slots.",
  enforcementLevel: "mandatory",
  severity: "high",
  remediationSteps:
    "Lower the groups' maxSize or pools, or give the database a larger class or max_connections. Groups and databases pair by the mastodon:stack tag (docs/policy.md).",
  validateStack: (args, report) =>
    reportAll(connectionBudgets(stackResources(args.resources)).violations, report),
};

export const schedulerSingleton: StackValidationPolicy = {
  name: "mastodon-scheduler-singleton",
  description:
    "At most one group or instance per deployment serves Sidekiq's scheduler queue, and with maxSize 1.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => reportAll(schedulerViolations(stackResources(args.resources)), report),
};

export const fleetCFamily: ResourceValidationPolicy = {
  name: "mastodon-fleet-c-family",
  description:
    "Launch templates, instances and groups of Mastodon fleets (tag mastodon:fleet) use c-family instance types.",
  enforcementLevel: "mandatory",
  severity: "medium",
  validateResource: [
    check(aws.ec2.LaunchTemplate, rules.cFamilyProblems),
    check(aws.ec2.Instance, rules.cFamilyProblems),
    check(aws.autoscaling.Group, rules.groupCFamilyProblems),
  ],
};

export const imdsv2: ResourceValidationPolicy = {
  name: "imdsv2-required",
  description: "Launch templates and instances require IMDSv2 session tokens.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: [
    check(aws.ec2.LaunchTemplate, rules.imdsProblems),
    check(aws.ec2.Instance, rules.imdsProblems),
  ],
};

export const encryptionAtRest: ResourceValidationPolicy = {
  name: "encryption-at-rest",
  description:
    "RDS storage, ElastiCache, EBS volumes (of launch templates, instances and on their own) and OpenSearch domains are encrypted at rest.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: [
    check(aws.rds.Instance, rules.rdsInstanceEncryptionProblems),
    check(aws.rds.Cluster, rules.rdsClusterEncryptionProblems),
    check(aws.elasticache.ReplicationGroup, rules.replicationGroupAtRestProblems),
    check(aws.elasticache.Cluster, rules.cacheClusterProblems),
    check(aws.ec2.LaunchTemplate, rules.launchTemplateVolumeProblems),
    check(aws.ec2.Instance, rules.instanceVolumeProblems),
    check(aws.ebs.Volume, rules.volumeProblems),
    check(aws.opensearch.Domain, rules.domainAtRestProblems),
  ],
};

export const encryptionInTransit: ResourceValidationPolicy = {
  name: "encryption-in-transit",
  description: "ElastiCache requires TLS; OpenSearch encrypts between nodes and enforces HTTPS.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateResource: [
    check(aws.elasticache.ReplicationGroup, rules.replicationGroupTransitProblems),
    check(aws.opensearch.Domain, rules.domainTransitProblems),
  ],
};

export const noPublicDataStores: ResourceValidationPolicy = {
  name: "no-public-data-stores",
  description:
    "RDS instances are not publicly accessible, OpenSearch domains live in a VPC, S3 public access blocks have all four settings on and no bucket has a public canned ACL.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: [
    check(aws.rds.Instance, rules.rdsPublicProblems),
    check(aws.rds.ClusterInstance, rules.rdsPublicProblems),
    check(aws.opensearch.Domain, rules.domainPublicProblems),
    check(aws.s3.BucketPublicAccessBlock, rules.publicAccessBlockProblems),
    check(aws.s3.BucketAcl, rules.bucketAclProblems),
  ],
};

export const bucketProtection: StackValidationPolicy = {
  name: "s3-encryption-and-public-access-block",
  description: "Every S3 bucket declares its default encryption and a public access block.",
  enforcementLevel: "mandatory",
  severity: "high",
  validateStack: (args, report) => reportAll(bucketViolations(stackResources(args.resources)), report),
};

export const internetIngress: ResourceValidationPolicy = {
  name: "internet-ingress-web-only",
  description: "Nothing but TCP 80 and 443 is open to 0.0.0.0/0 or ::/0.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: [
    check(aws.ec2.SecurityGroup, rules.securityGroupProblems),
    check(aws.ec2.SecurityGroupRule, rules.securityGroupRuleProblems),
    check(aws.vpc.SecurityGroupIngressRule, rules.ingressRuleProblems),
  ],
};

export const noAccountWideParameterReads: ResourceValidationPolicy = {
  name: "no-account-wide-parameter-reads",
  description:
    "Roles the mastodon-aws components declare carry no AWS managed policy that reads every SSM parameter (AmazonSSMManagedInstanceCore and its kin); Image Builder's build role excepted.",
  enforcementLevel: "mandatory",
  severity: "critical",
  validateResource: [
    check(aws.iam.RolePolicyAttachment, rules.attachedParameterReadProblems),
    check(aws.iam.Role, rules.roleParameterReadProblems),
  ],
};

/** Every policy of the pack, in the order `pulumi preview` lists them. */
export const POLICIES: Policies = [
  connectionBudget,
  schedulerSingleton,
  fleetCFamily,
  imdsv2,
  encryptionAtRest,
  encryptionInTransit,
  noPublicDataStores,
  bucketProtection,
  internetIngress,
  noAccountWideParameterReads,
];
