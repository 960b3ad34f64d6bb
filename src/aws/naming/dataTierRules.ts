/** Naming rules of the load balancer, S3, RDS, ElastiCache and OpenSearch types: the tightest limits AWS sets. */
import { ALNUM_HYPHEN, DEFAULT_AUTONAME, LOWER_ALNUM_HYPHEN, type NamingRule } from "./types";

export const DATA_TIER_RULES: Readonly<Record<string, NamingRule>> = {
  "aws:lb/targetGroup:TargetGroup": {
    property: "name",
    autoname: { maxLength: 32 },
    maxLength: 32,
    ...ALNUM_HYPHEN,
    noEdgeHyphen: true,
    scope: "region",
    source:
      "pulumi-aws resource_overrides.go aws_lb_target_group AutoName maxlen 32; ELB API CreateTargetGroup Name: up to 32 alphanumerics or hyphens, not beginning or ending with a hyphen",
  },
  "aws:lb/loadBalancer:LoadBalancer": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 32,
    ...ALNUM_HYPHEN,
    noEdgeHyphen: true,
    forbiddenPrefixes: ["internal-"],
    scope: "region",
    source:
      'pulumi-aws autonames aws_lb with the default ceiling 255; the Terraform provider and the ELB API CreateLoadBalancer Name: up to 32 alphanumerics or hyphens, must not begin or end with a hyphen or begin with "internal-"',
  },
  "aws:s3/bucket:Bucket": {
    property: "bucket",
    autoname: { maxLength: 63, lowercase: true },
    minLength: 3,
    maxLength: 63,
    pattern: /^[a-z0-9][a-z0-9.-]*[a-z0-9]$/,
    charset: "lower-case letters, digits, . and -, beginning and ending with a letter or digit",
    forbiddenPrefixes: ["xn--", "sthree-", "amzn-s3-demo-"],
    scope: "global",
    source:
      "pulumi-aws resource_overrides.go aws_s3_bucket AutoNameTransform bucket 63 ToLower; Amazon S3 User Guide, General purpose bucket naming rules",
  },
  "aws:rds/instance:Instance": {
    property: "identifier",
    autoname: { maxLength: 255, separator: "" },
    maxLength: 63,
    ...LOWER_ALNUM_HYPHEN,
    startsWithLetter: true,
    hyphenRules: true,
    scope: "region",
    source:
      "pulumi-aws resource_overrides.go aws_db_instance: identifier autonamed with no separator, ceiling 255; Terraform validIdentifier ^[0-9a-z-]+$ and RDS API CreateDBInstance DBInstanceIdentifier: 1-63 letters, digits or hyphens, first a letter, no two consecutive hyphens, not ending with a hyphen",
  },
  "aws:rds/parameterGroup:ParameterGroup": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 255,
    ...LOWER_ALNUM_HYPHEN,
    startsWithLetter: true,
    hyphenRules: true,
    scope: "region",
    source:
      "Terraform internal/service/rds validParamGroupName ^[0-9a-z.-]+$ (no transform: an upper-case name fails); RDS API CreateDBParameterGroup DBParameterGroupName: 1-255 letters, digits or hyphens, first a letter, no two consecutive hyphens, not ending with a hyphen",
  },
  "aws:rds/subnetGroup:SubnetGroup": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 255,
    pattern: /^[0-9a-z_ .-]+$/,
    charset: "lower-case letters, digits, spaces, periods, underscores and hyphens",
    forbiddenPrefixes: ["default"],
    scope: "region",
    source:
      'Terraform internal/service/rds validSubnetGroupName ^[0-9a-z_ .-]+$, not default; RDS API CreateDBSubnetGroup DBSubnetGroupName: up to 255 letters, numbers, periods, underscores, spaces or hyphens, not "default"',
  },
  "aws:elasticache/replicationGroup:ReplicationGroup": {
    property: "replicationGroupId",
    autoname: { maxLength: 40, lowercase: true },
    maxLength: 40,
    ...LOWER_ALNUM_HYPHEN,
    startsWithLetter: true,
    hyphenRules: true,
    scope: "region",
    source:
      "pulumi-aws resource_overrides.go aws_elasticache_replication_group AutoNameTransform replicationGroupId 40 ToLower; ElastiCache API CreateReplicationGroup ReplicationGroupId: 1-40 alphanumerics or hyphens, first a letter, no two consecutive hyphens, not ending with a hyphen",
  },
  "aws:elasticache/parameterGroup:ParameterGroup": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 255,
    ...LOWER_ALNUM_HYPHEN,
    startsWithLetter: true,
    hyphenRules: true,
    scope: "region",
    source: "ElastiCache API CreateCacheParameterGroup CacheParameterGroupName (stored lower-case)",
  },
  "aws:elasticache/subnetGroup:SubnetGroup": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 255,
    ...LOWER_ALNUM_HYPHEN,
    scope: "region",
    source:
      "ElastiCache API CreateCacheSubnetGroup CacheSubnetGroupName: up to 255 alphanumerics or hyphens, stored lower-case",
  },
  "aws:opensearch/domain:Domain": {
    property: "domainName",
    autoname: DEFAULT_AUTONAME,
    minLength: 3,
    maxLength: 28,
    ...LOWER_ALNUM_HYPHEN,
    startsWithLetter: true,
    scope: "region",
    source:
      'pulumi-aws resource_overrides.go aws_opensearch_domain: domain_name AutoName("domainName", 255, "-"), no lower-casing; Amazon OpenSearch Service API CreateDomain DomainName: 3-28 characters, lower-case letters, digits and hyphens, starting with a lower-case letter, unique per account and Region',
  },
};

/**
 * Further names some types carry besides their own (snapshot identifiers), checked the same way.
 * Never autonamed: the program sets them or leaves them out.
 */
/** A DB snapshot identifier's shape, whether it names a final snapshot or one to restore from (rdsSnapshots.ts). */
export const DB_SNAPSHOT_IDENTIFIER_SHAPE = {
  maxLength: 255,
  ...ALNUM_HYPHEN,
  startsWithLetter: true,
  hyphenRules: true,
  scope: "region",
} as const satisfies Omit<NamingRule, "property" | "source">;

export const PROPERTY_NAMING_RULES: Readonly<Record<string, readonly NamingRule[]>> = {
  "aws:rds/instance:Instance": [
    {
      property: "finalSnapshotIdentifier",
      ...DB_SNAPSHOT_IDENTIFIER_SHAPE,
      source:
        "RDS API DeleteDBInstance FinalDBSnapshotIdentifier: 1-255 letters, digits or hyphens, first a letter, no two consecutive hyphens, not ending with a hyphen",
    },
  ],
  "aws:elasticache/replicationGroup:ReplicationGroup": [
    {
      property: "finalSnapshotIdentifier",
      ...DB_SNAPSHOT_IDENTIFIER_SHAPE,
      source:
        "ElastiCache API DeleteReplicationGroup FinalSnapshotIdentifier (a snapshot name: letters, digits and hyphens, first a letter, no two consecutive hyphens, not ending with a hyphen)",
    },
  ],
};
