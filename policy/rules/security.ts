/**
 * The security the package promises (docs/policy.md), as checks on one
 * resource's properties: IMDSv2, encryption at rest and in transit, no public data store, nothing
 * but 80/443 from the internet, and c-family fleets. Each returns the problems it finds, each with
 * its fix; policy/policies.ts reports them against the resource. Types only from @pulumi/aws.
 */
import type * as aws from "@pulumi/aws";
import type { Unwrap } from "@pulumi/pulumi";
import { POLICY_TAGS } from "../../src/aws/policyTags";
import { PARAMETER_READING_MANAGED_POLICIES } from "../../src/aws/ssmAgentPolicy";
import { C_FAMILY_PATTERN } from "../../src/vocabulary/catalog";
import { known, tagsOf } from "./resources";

export type Props<Args> = Unwrap<NonNullable<Args>>;
type LaunchTemplate = Props<aws.ec2.LaunchTemplateArgs>;
type Instance = Props<aws.ec2.InstanceArgs>;
type Group = Props<aws.autoscaling.GroupArgs>;

const isTrue = (v: unknown) => v === true || v === "true";

// ---------------------------------------------------------------------------------------------
// IMDSv2 (Amazon EC2 User Guide, "Use IMDSv2"): a session token on every metadata request, which
// stops SSRF through the app from reading the instance role's credentials.

export function imdsProblems(props: LaunchTemplate | Instance): string[] {
  const m = props.metadataOptions;
  if (m?.httpEndpoint === "disabled" || m?.httpTokens === "required") return [];
  return [
    `metadataOptions.httpTokens is ${m?.httpTokens === undefined ? "not set (IMDSv1 stays allowed)" : `"${m.httpTokens}"`}; set metadataOptions: { httpTokens: "required" }`,
  ];
}

// ---------------------------------------------------------------------------------------------
// c-family fleets (docs/design.md, "EC2, c-family only"; Pawoo moved off t-family when its CPU
// credits ran out). A resource belongs to a fleet when it carries the mastodon:fleet tag.

const notCFamily = (where: string, type: string) =>
  `${where} ${type} is not c-family (${C_FAMILY_PATTERN.source}); use a c-family type of the same size, e.g. c7g or c7i`;

export function isFleetResource(props: Record<string, unknown>): boolean {
  return tagsOf(props)[POLICY_TAGS.fleet] !== undefined;
}

export function cFamilyProblems(props: LaunchTemplate | Instance): string[] {
  if (!isFleetResource(props as Record<string, unknown>)) return [];
  const type = props.instanceType;
  return type !== undefined && !C_FAMILY_PATTERN.test(type) ? [notCFamily("instanceType", type)] : [];
}

export function groupCFamilyProblems(props: Group): string[] {
  if (!isFleetResource(props as Record<string, unknown>)) return [];
  const overrides = props.mixedInstancesPolicy?.launchTemplate.overrides ?? [];
  return overrides.flatMap((o, i) =>
    o.instanceType !== undefined && !C_FAMILY_PATTERN.test(o.instanceType)
      ? [notCFamily(`mixedInstancesPolicy.launchTemplate.overrides[${i}].instanceType`, o.instanceType)]
      : [],
  );
}

// ---------------------------------------------------------------------------------------------
// Encryption at rest.

export function launchTemplateVolumeProblems(props: LaunchTemplate): string[] {
  const ebs = (props.blockDeviceMappings ?? []).filter((b) => b.ebs !== undefined);
  if (ebs.length === 0)
    return [
      `no EBS block device is declared, so the root volume is encrypted only if the AMI's snapshot is; declare the root device with ebs: { encrypted: "true" }`,
    ];
  return ebs.flatMap((b) =>
    isTrue(b.ebs?.encrypted)
      ? []
      : [
          `the EBS volume ${b.deviceName ?? "(no device name)"} is not encrypted; set ebs.encrypted to "true"`,
        ],
  );
}

export function instanceVolumeProblems(props: Instance): string[] {
  const problems = isTrue(props.rootBlockDevice?.encrypted)
    ? []
    : [`the root volume is not declared encrypted; set rootBlockDevice: { encrypted: true }`];
  for (const d of props.ebsBlockDevices ?? [])
    if (!isTrue(d.encrypted))
      problems.push(
        `the EBS volume ${d.deviceName} is not encrypted; set ebsBlockDevices[].encrypted to true`,
      );
  return problems;
}

export function volumeProblems(props: Props<aws.ebs.VolumeArgs>): string[] {
  return isTrue(props.encrypted) ? [] : [`the volume is not encrypted; set encrypted: true`];
}

export function rdsInstanceEncryptionProblems(props: Props<aws.rds.InstanceArgs>): string[] {
  // A read replica has its source's encryption; RDS allows no other combination (Amazon RDS User
  // Guide, "Limitations of Amazon RDS encrypted DB instances"). The source is checked on its own.
  if (props.replicateSourceDb) return [];
  return isTrue(props.storageEncrypted) ? [] : [`storage is not encrypted; set storageEncrypted: true`];
}

export function rdsClusterEncryptionProblems(props: Props<aws.rds.ClusterArgs>): string[] {
  return isTrue(props.storageEncrypted) ? [] : [`storage is not encrypted; set storageEncrypted: true`];
}

export function replicationGroupAtRestProblems(props: Props<aws.elasticache.ReplicationGroupArgs>): string[] {
  return isTrue(props.atRestEncryptionEnabled)
    ? []
    : [`at-rest encryption is off; set atRestEncryptionEnabled: true`];
}

export function cacheClusterProblems(props: Props<aws.elasticache.ClusterArgs>): string[] {
  // A member of a replication group takes the group's encryption; a standalone cluster has no
  // at-rest encryption (Amazon ElastiCache User Guide, "At-Rest Encryption in ElastiCache").
  if (props.replicationGroupId) return [];
  return [
    `a standalone cache cluster cannot encrypt at rest; declare an aws.elasticache.ReplicationGroup with atRestEncryptionEnabled and transitEncryptionEnabled instead`,
  ];
}

type Domain = Props<aws.opensearch.DomainArgs>;

export function domainAtRestProblems(props: Domain): string[] {
  return isTrue(props.encryptAtRest?.enabled)
    ? []
    : [`encryption at rest is off; set encryptAtRest: { enabled: true }`];
}

// ---------------------------------------------------------------------------------------------
// Encryption in transit.

export function replicationGroupTransitProblems(
  props: Props<aws.elasticache.ReplicationGroupArgs>,
): string[] {
  return isTrue(props.transitEncryptionEnabled)
    ? []
    : [`in-transit encryption (TLS) is off; set transitEncryptionEnabled: true`];
}

export function domainTransitProblems(props: Domain): string[] {
  const problems: string[] = [];
  if (!isTrue(props.nodeToNodeEncryption?.enabled))
    problems.push(`node-to-node encryption is off; set nodeToNodeEncryption: { enabled: true }`);
  if (!isTrue(props.domainEndpointOptions?.enforceHttps))
    problems.push(`the endpoint accepts plain HTTP; set domainEndpointOptions: { enforceHttps: true }`);
  return problems;
}

// ---------------------------------------------------------------------------------------------
// No public data store.

export function rdsPublicProblems(props: { publiclyAccessible?: boolean }): string[] {
  return isTrue(props.publiclyAccessible) ? [`it is publicly accessible; set publiclyAccessible: false`] : [];
}

export function domainPublicProblems(props: Domain): string[] {
  return (props.vpcOptions?.subnetIds ?? []).length > 0
    ? []
    : [
        `the domain has a public endpoint; place it in the VPC with vpcOptions: { subnetIds, securityGroupIds }`,
      ];
}

const PUBLIC_ACCESS_BLOCK = [
  "blockPublicAcls",
  "blockPublicPolicy",
  "ignorePublicAcls",
  "restrictPublicBuckets",
] as const;

export function publicAccessBlockProblems(props: Props<aws.s3.BucketPublicAccessBlockArgs>): string[] {
  const off = PUBLIC_ACCESS_BLOCK.filter((k) => !isTrue(props[k]));
  return off.length
    ? [`${off.join(", ")} ${off.length > 1 ? "are" : "is"} not true; set all four to true`]
    : [];
}

const PUBLIC_ACLS = new Set(["public-read", "public-read-write", "authenticated-read"]);

export function bucketAclProblems(props: Props<aws.s3.BucketAclArgs>): string[] {
  return props.acl && PUBLIC_ACLS.has(props.acl)
    ? [
        `the canned ACL "${props.acl}" opens the bucket; use "private" (or no ACL with BucketOwnerEnforced ownership)`,
      ]
    : [];
}

// ---------------------------------------------------------------------------------------------
// Nothing but 80/443 from the internet (docs/design.md: "nothing but the ALB's 80/443 faces the
// internet; no SSH, Session Manager instead").

const INTERNET = new Set(["0.0.0.0/0", "::/0"]);
const WEB_PORTS = new Set([80, 443]);

interface Ingress {
  protocol: string | undefined;
  fromPort: number | undefined;
  toPort: number | undefined;
  cidrs: readonly string[];
}

function ingressProblem(where: string, rule: Ingress): string[] {
  const open = rule.cidrs.filter((c) => INTERNET.has(c));
  if (open.length === 0) return [];
  const protocol = String(rule.protocol ?? "").toLowerCase();
  const tcp = protocol === "tcp" || protocol === "6";
  const port = rule.fromPort === rule.toPort ? rule.fromPort : undefined;
  if (tcp && port !== undefined && WEB_PORTS.has(port)) return [];
  const what =
    protocol === "-1" || protocol === "all"
      ? "every protocol and port"
      : `${protocol || "?"} ${rule.fromPort}${rule.toPort !== rule.fromPort ? `-${rule.toPort}` : ""}`;
  return [
    `${where} opens ${what} to ${open.join(" and ")}; only TCP 80 and 443 may face the internet: narrow the source to a security group or private CIDR (Session Manager instead of SSH)`,
  ];
}

export function securityGroupProblems(props: Props<aws.ec2.SecurityGroupArgs>): string[] {
  return (props.ingress ?? []).flatMap((r, i) =>
    ingressProblem(`ingress[${i}]`, {
      protocol: r.protocol,
      fromPort: r.fromPort,
      toPort: r.toPort,
      cidrs: [...(r.cidrBlocks ?? []), ...(r.ipv6CidrBlocks ?? [])],
    }),
  );
}

export function securityGroupRuleProblems(props: Props<aws.ec2.SecurityGroupRuleArgs>): string[] {
  if (props.type !== "ingress") return [];
  return ingressProblem("the rule", {
    protocol: props.protocol,
    fromPort: props.fromPort,
    toPort: props.toPort,
    cidrs: [...(props.cidrBlocks ?? []), ...(props.ipv6CidrBlocks ?? [])],
  });
}

export function ingressRuleProblems(props: Props<aws.vpc.SecurityGroupIngressRuleArgs>): string[] {
  return ingressProblem("the rule", {
    protocol: props.ipProtocol,
    fromPort: props.fromPort,
    toPort: props.toPort,
    cidrs: [props.cidrIpv4, props.cidrIpv6].filter((c): c is string => typeof c === "string"),
  });
}

// ---------------------------------------------------------------------------------------------
// No host reads every SSM parameter (docs/design.md, "Secrets": each fleet reads its own, by name).
// The AWS managed policies that allow ssm:GetParameter(s) on "*" (src/aws/ssmAgentPolicy.ts) are
// refused on the roles the package's components declare; the hosts carry the SSM Agent's actions
// inline instead. Image Builder's build role keeps AmazonSSMManagedInstanceCore: the EC2 Image
// Builder User Guide ("Prerequisites") requires it on the build instance's profile.

/** The component types a URN's resource is declared under (`...::Parent$Child$type::name`). */
const parentTypes = (urn: string): string[] => (urn.split("::")[2] ?? "").split("$").slice(0, -1);

function readsEveryParameter(arn: unknown, urn: string): boolean {
  const parents = parentTypes(urn);
  return (
    typeof arn === "string" &&
    PARAMETER_READING_MANAGED_POLICIES.includes(arn) &&
    parents.some((t) => t.startsWith("mastodon:")) &&
    !parents.some((t) => /^mastodon:[a-z]+:ImageBuild$/.test(t))
  );
}

const everyParameter = (arn: string) =>
  `${arn} lets the role read every SSM parameter of the account (the RDS master's password, SECRET_KEY_BASE, other stacks' secrets); give a host's role the SSM Agent's actions inline without ssm:GetParameter(s) (ssmAgentPolicy) and its parameters by name`;

export function attachedParameterReadProblems(
  props: Props<aws.iam.RolePolicyAttachmentArgs>,
  urn: string,
): string[] {
  const arn = known(() => props.policyArn);
  return readsEveryParameter(arn, urn) ? [everyParameter(arn as string)] : [];
}

export function roleParameterReadProblems(props: Props<aws.iam.RoleArgs>, urn: string): string[] {
  const arns = known(() => props.managedPolicyArns) ?? [];
  return arns.filter((arn) => readsEveryParameter(arn, urn)).map(everyParameter);
}
