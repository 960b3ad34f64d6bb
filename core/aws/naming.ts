/**
 * The names AWS accepts, per resource type, and how the Pulumi AWS provider makes one up when the
 * program gives none (autonaming). Pure: the components read it to choose names that fit at any
 * length of component, stack and fleet name; the fake cloud (plan/fakeCloud.ts) reads it to answer
 * and refuse exactly as the provider and AWS would. One table, one mechanism.
 *
 * Autonaming (pulumi-aws provider/resources.go and resource_overrides.go, through
 * pulumi-terraform-bridge's AutoName and resource.NewUniqueHex): `<logical name>-<7 random hex>`,
 * lower-cased for some types, refused by the bridge when longer than its own ceiling for the type
 * ("name '<n>-' plus 7 random chars is longer than maximum length <max>"); types not configured
 * otherwise get `name` with ceiling 255. Where the bridge's ceiling is looser than AWS's (ALB names,
 * RDS identifiers), the Terraform provider's validation or AWS refuses the name instead: the
 * `maxLength` here is always AWS's.
 */
import { createHash } from "crypto";

export interface AutonameOptions {
  readonly maxLength: number;
  /** @default "-" */
  readonly separator?: string;
  readonly lowercase?: boolean;
}

/** The bridge's default for every type with a `name` input that resource_overrides.go leaves alone. */
const DEFAULT_AUTONAME: AutonameOptions = { maxLength: 255 };

/** Where two resources of a type may not share a name. */
export type NameScope = "region" | "account" | "global";

export interface NamingRule {
  /** The property that holds the name (`name`, `bucket`, `identifier`, ...). */
  readonly property: string;
  /**
   * How the provider makes up the name when the program leaves it (and namePrefix) unset, or
   * undefined when it does not: its own length ceiling (the bridge's, which may be looser than
   * AWS's), its separator, and whether it lower-cases.
   */
  readonly autoname?: AutonameOptions;
  readonly minLength?: number;
  readonly maxLength: number;
  /** The whole name must match (character set). */
  readonly pattern: RegExp;
  /** The character set in words, for error messages. */
  readonly charset: string;
  readonly startsWithLetter?: boolean;
  /** No `--` and no trailing `-` (RDS, ElastiCache identifiers). */
  readonly hyphenRules?: boolean;
  /** No leading or trailing `-` (ELB names). */
  readonly noEdgeHyphen?: boolean;
  readonly forbiddenPrefixes?: readonly string[];
  readonly requiredPrefix?: string;
  readonly scope: NameScope;
  /** Where the rule comes from. */
  readonly source: string;
}

/** The random part of an autoname (resource.NewUniqueHex in the bridge). */
export const AUTONAME_RANDOM_HEX = 7;

const IAM_CHARS = { pattern: /^[\w+=,.@-]+$/, charset: "letters, digits and + = , . @ _ -" };
const ALNUM_HYPHEN = { pattern: /^[A-Za-z0-9-]+$/, charset: "letters, digits and -" };
const LOWER_ALNUM_HYPHEN = { pattern: /^[a-z0-9-]+$/, charset: "lower-case letters, digits and -" };

/**
 * Every named type the package declares. A type missing here is refused by the fake cloud, so a new
 * resource cannot enter the plan without its naming rule.
 */
export const NAMING_RULES: Readonly<Record<string, NamingRule | null>> = {
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
  "aws:iam/role:Role": {
    property: "name",
    autoname: { maxLength: 64 },
    maxLength: 64,
    ...IAM_CHARS,
    scope: "account",
    source:
      "pulumi-aws resource_overrides.go aws_iam_role AutoName maxlen 64; IAM API CreateRole RoleName: 1-64 of [\\w+=,.@-], unique per account (case-insensitive)",
  },
  "aws:iam/instanceProfile:InstanceProfile": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 128,
    ...IAM_CHARS,
    scope: "account",
    source: "IAM API CreateInstanceProfile InstanceProfileName: 1-128 of [\\w+=,.@-]",
  },
  "aws:iam/rolePolicy:RolePolicy": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 128,
    ...IAM_CHARS,
    scope: "account",
    source: "IAM API PutRolePolicy PolicyName: 1-128 of [\\w+=,.@-]",
  },
  "aws:iam/user:User": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 64,
    ...IAM_CHARS,
    scope: "account",
    source: "IAM API CreateUser UserName: 1-64 of [\\w+=,.@-]",
  },
  "aws:iam/userPolicy:UserPolicy": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 128,
    ...IAM_CHARS,
    scope: "account",
    source: "IAM API PutUserPolicy PolicyName: 1-128 of [\\w+=,.@-]",
  },
  "aws:sns/topic:Topic": {
    property: "name",
    autoname: { maxLength: 80 },
    maxLength: 256,
    pattern: /^[A-Za-z0-9_-]+$/,
    charset: "letters, digits, _ and -",
    scope: "region",
    source:
      "pulumi-aws resource_overrides.go aws_sns_topic AutoName maxlen 80; Amazon SNS API CreateTopic Name: up to 256 alphanumerics, hyphens and underscores",
  },
  "aws:cloudwatch/logGroup:LogGroup": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 512,
    pattern: /^[A-Za-z0-9_\-/.#]+$/,
    charset: "letters, digits, _ - / . #",
    forbiddenPrefixes: ["aws/"],
    scope: "region",
    source: "CloudWatch Logs API CreateLogGroup logGroupName: 1-512 of [.\\-_/#A-Za-z0-9]",
  },
  "aws:cloudwatch/metricAlarm:MetricAlarm": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 255,
    pattern: /^[\x20-\x7e]+$/,
    charset: "printable ASCII",
    scope: "region",
    source: "CloudWatch API PutMetricAlarm AlarmName: 1-255 ASCII characters",
  },
  "aws:cloudwatch/dashboard:Dashboard": {
    property: "dashboardName",
    maxLength: 255,
    pattern: /^[A-Za-z0-9_-]+$/,
    charset: "letters, digits, _ and -",
    scope: "account",
    source:
      "CloudWatch API PutDashboard DashboardName: up to 255 of A-Z a-z 0-9 - _ (dashboards are global per account)",
  },
  "aws:ssm/parameter:Parameter": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 1011,
    pattern: /^\/?([A-Za-z0-9_.-]+\/){0,14}[A-Za-z0-9_.-]+$/,
    charset: "a-z A-Z 0-9 _ . - and /, at most 15 levels",
    forbiddenPrefixes: ["/aws", "aws", "/ssm", "ssm"],
    scope: "region",
    source:
      "AWS Systems Manager User Guide, Requirements and constraints for parameter names: a-zA-Z0-9_.-/, at most 15 levels, 1011 characters, no aws or ssm prefix",
  },
  "aws:ssm/document:Document": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    minLength: 3,
    maxLength: 128,
    pattern: /^[A-Za-z0-9_.-]+$/,
    charset: "letters, digits, _ . and -",
    forbiddenPrefixes: ["aws", "amazon", "amzn"],
    scope: "region",
    source: "SSM API CreateDocument Name: 3-128 of [a-zA-Z0-9_\\-.], not beginning with aws, amazon or amzn",
  },
  "aws:ec2/launchTemplate:LaunchTemplate": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    minLength: 3,
    maxLength: 128,
    pattern: /^[A-Za-z0-9().\-/_]+$/,
    charset: "letters, digits and ( ) . - / _",
    scope: "region",
    source: "EC2 API CreateLaunchTemplate LaunchTemplateName: 3-128 of [a-zA-Z0-9().\\-/_]",
  },
  "aws:autoscaling/group:Group": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 255,
    pattern: /^[\x20-\x7e]+$/,
    charset: "printable ASCII",
    scope: "region",
    source: "Auto Scaling API CreateAutoScalingGroup AutoScalingGroupName: 1-255 characters",
  },
  "aws:autoscaling/policy:Policy": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 255,
    pattern: /^[\x20-\x7e]+$/,
    charset: "printable ASCII",
    scope: "region",
    source: "Auto Scaling API PutScalingPolicy PolicyName: 1-255 characters",
  },
  "aws:ec2/securityGroup:SecurityGroup": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 255,
    pattern: /^[A-Za-z0-9 ._\-:/()#,@[\]+=&;{}!$*]+$/,
    charset: "a-z A-Z 0-9 spaces and ._-:/()#,@[]+=&;{}!$*",
    forbiddenPrefixes: ["sg-"],
    scope: "region",
    source: 'EC2 API CreateSecurityGroup GroupName: up to 255 characters, not beginning with "sg-"',
  },
  "aws:cloudfront/originAccessControl:OriginAccessControl": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 64,
    pattern: /^[\x20-\x7e]+$/,
    charset: "printable ASCII",
    scope: "account",
    source: "CloudFront API CreateOriginAccessControl OriginAccessControlConfig.Name: up to 64 characters",
  },
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": {
    property: "name",
    autoname: DEFAULT_AUTONAME,
    maxLength: 128,
    pattern: /^[A-Za-z0-9_-]+$/,
    charset: "letters, digits, _ and -",
    scope: "account",
    source:
      "CloudFront API CreateResponseHeadersPolicy ResponseHeadersPolicyConfig.Name: up to 128 of A-Z a-z 0-9 _ -",
  },
  "aws:kms/alias:Alias": {
    property: "name",
    maxLength: 256,
    pattern: /^alias\/[A-Za-z0-9/_-]+$/,
    charset: "alias/ then letters, digits, / _ -",
    forbiddenPrefixes: ["alias/aws/"],
    requiredPrefix: "alias/",
    scope: "region",
    source: "KMS API CreateAlias AliasName: alias/ then 1-256 of [a-zA-Z0-9/_-], not alias/aws/",
  },
  // Types AWS names itself (ids), or that carry no name of their own.
  "aws:kms/key:Key": null,
  "aws:sns/topicPolicy:TopicPolicy": null,
  "aws:sns/topicSubscription:TopicSubscription": null,
  "aws:ec2/vpc:Vpc": null,
  "aws:ec2/subnet:Subnet": null,
  "aws:ec2/routeTable:RouteTable": null,
  "aws:ec2/route:Route": null,
  "aws:ec2/routeTableAssociation:RouteTableAssociation": null,
  "aws:ec2/internetGateway:InternetGateway": null,
  "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": null,
  "aws:ec2/natGateway:NatGateway": null,
  "aws:ec2/eip:Eip": null,
  "aws:ec2/vpcEndpoint:VpcEndpoint": null,
  "aws:ec2/instance:Instance": null,
  "aws:ec2/volumeAttachment:VolumeAttachment": null,
  "aws:ebs/volume:Volume": null,
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": null,
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": null,
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": null,
  "aws:iam/accessKey:AccessKey": null,
  "aws:s3/bucketPolicy:BucketPolicy": null,
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": null,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": null,
  "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": null,
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": null,
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": null,
  "aws:s3/bucketVersioning:BucketVersioning": null,
  "aws:lb/listener:Listener": null,
  "aws:lb/listenerRule:ListenerRule": null,
  "aws:acm/certificate:Certificate": null,
  "aws:acm/certificateValidation:CertificateValidation": null,
  "aws:route53/record:Record": null,
  "aws:cloudfront/distribution:Distribution": null,
  "aws:sesv2/emailIdentity:EmailIdentity": null,
  "aws:dlm/lifecyclePolicy:LifecyclePolicy": null,
  "random:index/randomPassword:RandomPassword": null,
  "random:index/randomBytes:RandomBytes": null,
  "pulumi:providers:aws": null,
};

/**
 * Further names some types carry besides their own (snapshot identifiers), checked the same way.
 * Never autonamed: the program sets them or leaves them out.
 */
export const PROPERTY_NAMING_RULES: Readonly<Record<string, readonly NamingRule[]>> = {
  "aws:rds/instance:Instance": [
    {
      property: "finalSnapshotIdentifier",
      maxLength: 255,
      ...ALNUM_HYPHEN,
      startsWithLetter: true,
      hyphenRules: true,
      scope: "region",
      source:
        "RDS API DeleteDBInstance FinalDBSnapshotIdentifier: 1-255 letters, digits or hyphens, first a letter, no two consecutive hyphens, not ending with a hyphen",
    },
  ],
  "aws:elasticache/replicationGroup:ReplicationGroup": [
    {
      property: "finalSnapshotIdentifier",
      maxLength: 255,
      ...ALNUM_HYPHEN,
      startsWithLetter: true,
      hyphenRules: true,
      scope: "region",
      source:
        "ElastiCache API DeleteReplicationGroup FinalSnapshotIdentifier (a snapshot name: letters, digits and hyphens, first a letter, no two consecutive hyphens, not ending with a hyphen)",
    },
  ],
};

/** The naming rule of a type: a rule, null (AWS assigns an id), or undefined (not in the table). */
export function namingRule(type: string): NamingRule | null | undefined {
  return NAMING_RULES[type];
}

/** Every way `name` breaks `rule`, as phrases ("is 34 characters, over the maximum 32"). */
export function nameProblems(rule: NamingRule, name: string): string[] {
  const problems: string[] = [];
  if (name.length > rule.maxLength)
    problems.push(`is ${name.length} characters, over the maximum ${rule.maxLength}`);
  if (name.length < (rule.minLength ?? 1))
    problems.push(`is ${name.length} characters, under the minimum ${rule.minLength ?? 1}`);
  if (!rule.pattern.test(name)) problems.push(`has characters outside ${rule.charset}`);
  if (rule.startsWithLetter && !/^[A-Za-z]/.test(name)) problems.push("must begin with a letter");
  if (rule.hyphenRules && /--/.test(name)) problems.push("has two consecutive hyphens");
  if ((rule.hyphenRules || rule.noEdgeHyphen) && /-$/.test(name)) problems.push("ends with a hyphen");
  if (rule.noEdgeHyphen && /^-/.test(name)) problems.push("begins with a hyphen");
  if (rule.requiredPrefix && !name.startsWith(rule.requiredPrefix))
    problems.push(`must begin with "${rule.requiredPrefix}"`);
  const prefix = rule.forbiddenPrefixes?.find((p) => name.toLowerCase().startsWith(p));
  if (prefix) problems.push(`begins with the reserved prefix "${prefix}"`);
  return problems;
}

/** Lower-case hex digest of `text`, `length` characters long. */
export function shortHash(text: string, length: number): string {
  return createHash("sha256").update(text).digest("hex").slice(0, length);
}

/**
 * The provider's autoname for a logical name, with the random part drawn from `seed` (the fake
 * cloud's stand-in for randomness: the same resource gets the same name in every run).
 */
export function autoname(options: AutonameOptions, logicalName: string, seed: string): string {
  const name = `${logicalName}${options.separator ?? "-"}${shortHash(seed, AUTONAME_RANDOM_HEX)}`;
  return options.lowercase ? name.toLowerCase() : name;
}

/** The bridge's own refusal, word for word, when a logical name leaves no room for the random part. */
export function autonameTooLong(options: AutonameOptions, logicalName: string): string | undefined {
  const prefix = `${logicalName}${options.separator ?? "-"}`;
  return prefix.length + AUTONAME_RANDOM_HEX > options.maxLength
    ? `name '${prefix}' plus ${AUTONAME_RANDOM_HEX} random chars is longer than maximum length ${options.maxLength}`
    : undefined;
}

function ruleOf(type: string, property?: string): NamingRule {
  const rule =
    property === undefined || NAMING_RULES[type]?.property === property
      ? NAMING_RULES[type]
      : PROPERTY_NAMING_RULES[type]?.find((r) => r.property === property);
  if (!rule) throw new Error(`no naming rule for ${type} ${property ?? ""} (core/aws/naming.ts)`);
  return rule;
}

/**
 * A logical name `<base>-<suffix>` whose autoname fits `type`'s maximum. When it would not, the
 * base is cut and a hash of the whole base keeps it unique: `<cut base>-<5 hex>-<suffix>`. Children
 * keep their logical names as long as they fit, and any component, stack or fleet name still works.
 */
export function fitLogicalName(type: string, base: string, suffix: string): string {
  const rule = ruleOf(type);
  if (!rule.autoname) throw new Error(`${type} is not autonamed`);
  const full = `${base}-${suffix}`;
  const extra = (rule.autoname.separator ?? "-").length + AUTONAME_RANDOM_HEX;
  const room = Math.min(rule.autoname.maxLength, rule.maxLength) - extra;
  if (full.length <= room) return full;
  const hash = shortHash(base, 5);
  const keep = room - suffix.length - hash.length - 2;
  if (keep < 1) throw new Error(`${type}: suffix "${suffix}" leaves no room within ${rule.maxLength}`);
  const cut = base.slice(0, keep).replace(/-+$/, "");
  return `${cut}-${hash}-${suffix}`;
}

/** fitLogicalName for a logical name taken whole: cut with a hash of it when its autoname would not fit. */
export function fitName(type: string, logicalName: string): string {
  const cut = logicalName.lastIndexOf("-");
  return cut > 0 ? fitLogicalName(type, logicalName.slice(0, cut), logicalName.slice(cut + 1)) : logicalName;
}

/**
 * An explicit physical name built from parts (component name, stack name, ...) that satisfies
 * `type`'s rule: characters outside it become hyphens, case follows the rule, and when the result
 * had to change or is too long, a hash of the original parts keeps it unique.
 */
export function physicalName(type: string, parts: readonly string[], property?: string): string {
  const rule = ruleOf(type, property);
  const original = parts.join("-");
  // A lower-case-only character set: fold the parts' case rather than refuse it.
  let name = rule.pattern.test("a") !== rule.pattern.test("A") ? original.toLowerCase() : original;
  name = name.replace(/[^A-Za-z0-9-]/g, "-");
  if (rule.hyphenRules || rule.noEdgeHyphen) name = name.replace(/-{2,}/g, "-").replace(/^-+|-+$/g, "");
  if (rule.startsWithLetter && !/^[A-Za-z]/.test(name)) name = `n${name}`;
  if (name === original && nameProblems(rule, name).length === 0) return name;
  const hash = shortHash(original, 7);
  const cut = name.slice(0, rule.maxLength - hash.length - 1).replace(/-+$/, "");
  return `${cut}-${hash}`;
}
