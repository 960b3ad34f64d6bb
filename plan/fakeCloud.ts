/**
 * The fake cloud behind the offline plan and the tests: it answers resource registrations and
 * provider calls the way the Pulumi AWS provider and AWS would, deterministically. Every named type
 * is autonamed and checked by the one table in core/aws/naming.ts (length, characters, prefixes,
 * uniqueness within its scope); ids and ARNs have the shape AWS gives them for their service; and
 * the computed attributes the program reads (endpoints, versions, ARN suffixes) are returned, so
 * references between resources resolve to the values AWS would return. Nothing here decides what
 * the program declares.
 *
 * Where the provider or AWS would refuse a name, the fake cloud records a NameRefusal (it does not
 * throw mid-run, so one plan reports every refused name at once); runUnderMocks raises them.
 */
import { createHash } from "crypto";
import type * as pulumi from "@pulumi/pulumi";
import {
  type NameScope,
  autoname,
  autonameTooLong,
  PROPERTY_NAMING_RULES,
  nameProblems,
  namingRule,
} from "../core/aws/naming";

export const FAKE_ACCOUNT = "123456789012";
/** The id (the access key ID) every IAM access key gets: tests look for it where it must not be. */
export const FAKE_ACCESS_KEY_ID = "AKIAFAKEPLAN00000000";

/** A deterministic alphanumeric string: the same name always "generates" the same secret. */
export function fakeSecret(seed: string, length: number): string {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  let out = "";
  for (let round = 0; out.length < length; round++) {
    for (const byte of createHash("sha256").update(`${seed}:${round}`).digest()) {
      if (out.length < length) out += alphabet[byte % alphabet.length];
    }
  }
  return out;
}

/** `length` lower-case hex digits drawn from `seed`. */
function hex(seed: string, length: number): string {
  let out = "";
  for (let round = 0; out.length < length; round++)
    out += createHash("sha256").update(`${seed}:${round}`).digest("hex");
  return out.slice(0, length);
}

/** A v4-shaped UUID drawn from `seed`. */
function uuid(seed: string): string {
  const h = hex(seed, 32);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const upperAlnum = (seed: string, length: number) =>
  fakeSecret(seed, length * 2)
    .toUpperCase()
    .replace(/[^A-Z0-9]/g, "")
    .slice(0, length)
    .padEnd(length, "0");

type State = Record<string, unknown>;

interface Answer {
  readonly id: string;
  readonly state: State;
}

/** What a type answers, given its logical name, its (checked) inputs and its resolved name. */
interface Ctx {
  readonly logical: string;
  readonly inputs: State;
  /** The resource's name as AWS knows it (explicit or autonamed), when the type has one. */
  readonly name: string;
  readonly region: string;
  readonly seed: string;
}

const arn = (service: string, region: string, resource: string) =>
  `arn:aws:${service}:${region}:${FAKE_ACCOUNT}:${resource}`;
const globalArn = (service: string, resource: string) => `arn:aws:${service}::${FAKE_ACCOUNT}:${resource}`;

/** An EC2 resource: `<prefix>-<17 hex>`, ARN `arn:aws:ec2:<region>:<account>:<kind>/<id>`. */
const ec2 =
  (prefix: string, kind: string, extra: (c: Ctx, id: string) => State = () => ({})) =>
  (c: Ctx): Answer => {
    const id = `${prefix}-${hex(c.seed, 17)}`;
    return { id, state: { arn: arn("ec2", c.region, `${kind}/${id}`), ...extra(c, id) } };
  };
/** Named by its name: id = name. */
const byName =
  (arnOf: (c: Ctx) => string | undefined, extra: (c: Ctx) => State = () => ({})) =>
  (c: Ctx): Answer => {
    const resourceArn = arnOf(c);
    return { id: c.name, state: { ...(resourceArn && { arn: resourceArn }), ...extra(c) } };
  };
/** Resources with an opaque id and no ARN of their own (attachments, associations, rules). */
const opaque =
  (prefix = "") =>
  (c: Ctx): Answer => ({ id: `${prefix}${hex(c.seed, 17)}`, state: {} });

const elbSuffix = (c: Ctx) => hex(c.seed, 16);
/** A bucket's configuration resources: the provider's id is the bucket's name. */
const byBucket = (c: Ctx): Answer => ({ id: String(c.inputs["bucket"]), state: {} });

/**
 * Per type: the id, the ARN and the computed attributes AWS returns. Shapes from each service's API
 * reference (ARN formats: "Actions, resources, and condition keys" of the service in the IAM docs).
 */
const ANSWERS: Record<string, (c: Ctx) => Answer> = {
  "aws:ec2/vpc:Vpc": ec2("vpc", "vpc", (c) => ({
    ipv6CidrBlock: c.inputs["assignGeneratedIpv6CidrBlock"] ? "2600:1f18:4a3:6e00::/56" : "",
    defaultRouteTableId: `rtb-${hex(`${c.seed}:rtb`, 17)}`,
    defaultSecurityGroupId: `sg-${hex(`${c.seed}:sg`, 17)}`,
    ownerId: FAKE_ACCOUNT,
  })),
  "aws:ec2/subnet:Subnet": ec2("subnet", "subnet"),
  "aws:ec2/routeTable:RouteTable": ec2("rtb", "route-table"),
  "aws:ec2/route:Route": (c) => ({ id: `r-${c.inputs["routeTableId"]}${hex(c.seed, 10)}`, state: {} }),
  "aws:ec2/routeTableAssociation:RouteTableAssociation": ec2("rtbassoc", "route-table-association"),
  "aws:ec2/internetGateway:InternetGateway": ec2("igw", "internet-gateway"),
  "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway": ec2("eigw", "egress-only-internet-gateway"),
  "aws:ec2/natGateway:NatGateway": ec2("nat", "natgateway", () => ({
    publicIp: "203.0.113.10",
    privateIp: "10.0.0.5",
  })),
  "aws:ec2/eip:Eip": ec2("eipalloc", "elastic-ip", () => ({ publicIp: "203.0.113.10", domain: "vpc" })),
  "aws:ec2/vpcEndpoint:VpcEndpoint": ec2("vpce", "vpc-endpoint", () => ({ prefixListId: "pl-63a5400a" })),
  "aws:ec2/securityGroup:SecurityGroup": ec2("sg", "security-group", () => ({ ownerId: FAKE_ACCOUNT })),
  "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule": ec2("sgr", "security-group-rule"),
  "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule": ec2("sgr", "security-group-rule"),
  "aws:ec2/instance:Instance": ec2("i", "instance", () => ({
    privateIp: "10.0.0.10",
    privateDns: "ip-10-0-0-10.ec2.internal",
  })),
  "aws:ebs/volume:Volume": ec2("vol", "volume"),
  "aws:ec2/volumeAttachment:VolumeAttachment": opaque("vai-"),
  "aws:ec2/launchTemplate:LaunchTemplate": ec2("lt", "launch-template", () => ({
    latestVersion: 1,
    defaultVersion: 1,
  })),
  "aws:autoscaling/group:Group": (c) => ({
    id: c.name,
    state: {
      arn: arn("autoscaling", c.region, `autoScalingGroup:${uuid(c.seed)}:autoScalingGroupName/${c.name}`),
    },
  }),
  "aws:autoscaling/policy:Policy": (c) => ({
    id: c.name,
    state: {
      arn: arn(
        "autoscaling",
        c.region,
        `scalingPolicy:${uuid(c.seed)}:autoScalingGroupName/${String(c.inputs["autoscalingGroupName"])}:policyName/${c.name}`,
      ),
    },
  }),
  "aws:iam/role:Role": byName(
    (c) => globalArn("iam", `role${c.inputs["path"] ?? "/"}${c.name}`),
    (c) => ({ uniqueId: `AROA${upperAlnum(c.seed, 17)}` }),
  ),
  "aws:iam/instanceProfile:InstanceProfile": byName(
    (c) => globalArn("iam", `instance-profile${c.inputs["path"] ?? "/"}${c.name}`),
    (c) => ({ uniqueId: `AIPA${upperAlnum(c.seed, 17)}` }),
  ),
  // Inline policies: the provider's id is "<role>:<policy>".
  "aws:iam/rolePolicy:RolePolicy": (c) => ({ id: `${String(c.inputs["role"])}:${c.name}`, state: {} }),
  "aws:iam/userPolicy:UserPolicy": (c) => ({ id: `${String(c.inputs["user"])}:${c.name}`, state: {} }),
  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": (c) => ({
    id: `${String(c.inputs["role"])}-${hex(c.seed, 26)}`,
    state: {},
  }),
  "aws:iam/user:User": byName(
    (c) => globalArn("iam", `user${c.inputs["path"] ?? "/"}${c.name}`),
    (c) => ({ uniqueId: `AIDA${upperAlnum(c.seed, 17)}` }),
  ),
  "aws:iam/accessKey:AccessKey": (c) => ({
    id: FAKE_ACCESS_KEY_ID,
    state: { sesSmtpPasswordV4: fakeSecret(`${c.logical}-smtp`, 44), status: "Active" },
  }),
  "aws:kms/key:Key": (c) => {
    const id = uuid(c.seed);
    return { id, state: { keyId: id, arn: arn("kms", c.region, `key/${id}`) } };
  },
  "aws:kms/alias:Alias": byName(
    (c) => arn("kms", c.region, c.name),
    (c) => ({ targetKeyArn: arn("kms", c.region, `key/${String(c.inputs["targetKeyId"])}`) }),
  ),
  "aws:rds/instance:Instance": (c) => {
    // Provider v7: the id is the DbiResourceId; the identifier is its own attribute.
    const id = `db-${upperAlnum(c.seed, 26)}`;
    const address = `${c.name}.c0ffee123456.${c.region}.rds.amazonaws.com`;
    return {
      id,
      state: {
        identifier: c.name,
        resourceId: id,
        arn: arn("rds", c.region, `db:${c.name}`),
        address,
        port: c.inputs["port"] ?? 5432,
        endpoint: `${address}:${c.inputs["port"] ?? 5432}`,
        hostedZoneId: "Z2R2ITUGPM61AM",
      },
    };
  },
  "aws:rds/parameterGroup:ParameterGroup": byName((c) => arn("rds", c.region, `pg:${c.name}`)),
  "aws:rds/subnetGroup:SubnetGroup": byName((c) => arn("rds", c.region, `subgrp:${c.name}`)),
  "aws:elasticache/replicationGroup:ReplicationGroup": byName(
    (c) => arn("elasticache", c.region, `replicationgroup:${c.name}`),
    (c) => {
      const members = Number(c.inputs["numCacheClusters"] ?? 1);
      return {
        primaryEndpointAddress: `master.${c.name}.abc123.${c.region.replace(/-/g, "").slice(0, 4)}.cache.amazonaws.com`,
        readerEndpointAddress: `replica.${c.name}.abc123.${c.region.replace(/-/g, "").slice(0, 4)}.cache.amazonaws.com`,
        port: c.inputs["port"] ?? 6379,
        memberClusters: Array.from(
          { length: members },
          (_, i) => `${c.name}-${String(i + 1).padStart(3, "0")}`,
        ),
      };
    },
  ),
  "aws:elasticache/parameterGroup:ParameterGroup": byName((c) =>
    arn("elasticache", c.region, `parametergroup:${c.name}`),
  ),
  "aws:elasticache/subnetGroup:SubnetGroup": byName((c) =>
    arn("elasticache", c.region, `subnetgroup:${c.name}`),
  ),
  "aws:lb/loadBalancer:LoadBalancer": (c) => {
    const suffix = `app/${c.name}/${elbSuffix(c)}`;
    return {
      id: arn("elasticloadbalancing", c.region, `loadbalancer/${suffix}`),
      state: {
        arn: arn("elasticloadbalancing", c.region, `loadbalancer/${suffix}`),
        arnSuffix: suffix,
        dnsName: `${c.name}-${String(parseInt(hex(c.seed, 8), 16))
          .padStart(10, "0")
          .slice(0, 10)}.${c.region}.elb.amazonaws.com`.toLowerCase(),
        zoneId: "Z35SXDOTRQ7X7K",
      },
    };
  },
  "aws:lb/targetGroup:TargetGroup": (c) => {
    const suffix = `targetgroup/${c.name}/${elbSuffix(c)}`;
    const tgArn = arn("elasticloadbalancing", c.region, suffix);
    return { id: tgArn, state: { arn: tgArn, arnSuffix: suffix } };
  },
  "aws:lb/listener:Listener": (c) => {
    const lb = String(c.inputs["loadBalancerArn"] ?? "");
    const listenerArn = `${lb.replace(":loadbalancer/", ":listener/")}/${elbSuffix(c)}`;
    return { id: listenerArn, state: { arn: listenerArn } };
  },
  "aws:lb/listenerRule:ListenerRule": (c) => {
    const listener = String(c.inputs["listenerArn"] ?? "");
    const ruleArn = `${listener.replace(":listener/", ":listener-rule/")}/${elbSuffix(c)}`;
    return { id: ruleArn, state: { arn: ruleArn } };
  },
  "aws:acm/certificate:Certificate": (c) => {
    const certArn = arn("acm", c.region, `certificate/${uuid(c.seed)}`);
    return {
      id: certArn,
      state: {
        arn: certArn,
        domainValidationOptions: [
          c.inputs["domainName"],
          ...((c.inputs["subjectAlternativeNames"] as string[] | undefined) ?? []),
        ].map((d) => ({
          domainName: d,
          resourceRecordName: `_${hex(`${c.seed}:${String(d)}`, 32)}.${String(d)}.`,
          resourceRecordType: "CNAME",
          resourceRecordValue: `_${hex(`${c.seed}:${String(d)}:v`, 32)}.acm-validations.aws.`,
        })),
      },
    };
  },
  "aws:acm/certificateValidation:CertificateValidation": (c) => ({
    id: String(c.inputs["certificateArn"]),
    state: {},
  }),
  "aws:route53/record:Record": (c) => ({
    id: `${String(c.inputs["zoneId"])}_${String(c.inputs["name"])}_${String(c.inputs["type"])}`,
    state: { fqdn: String(c.inputs["name"]).replace(/\.$/, "") },
  }),
  "aws:s3/bucket:Bucket": byName(
    (c) => `arn:aws:s3:::${c.name}`,
    (c) => ({
      bucketDomainName: `${c.name}.s3.amazonaws.com`,
      bucketRegionalDomainName: `${c.name}.s3.${c.region}.amazonaws.com`,
      hostedZoneId: "Z3AQBSTGFYJSTF",
      region: c.region,
    }),
  ),
  "aws:s3/bucketPolicy:BucketPolicy": byBucket,
  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": byBucket,
  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": byBucket,
  "aws:s3/bucketCorsConfiguration:BucketCorsConfiguration": byBucket,
  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": byBucket,
  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": byBucket,
  "aws:s3/bucketVersioning:BucketVersioning": byBucket,
  "aws:cloudfront/distribution:Distribution": (c) => {
    const id = `E${upperAlnum(c.seed, 13)}`;
    return {
      id,
      state: {
        arn: globalArn("cloudfront", `distribution/${id}`),
        domainName: `d${hex(c.seed, 13)}.cloudfront.net`,
        hostedZoneId: "Z2FDTNDATAQYW2",
        etag: upperAlnum(`${c.seed}:etag`, 14),
      },
    };
  },
  "aws:cloudfront/originAccessControl:OriginAccessControl": (c) => ({
    id: `E${upperAlnum(c.seed, 13)}`,
    state: {},
  }),
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": (c) => ({ id: uuid(c.seed), state: {} }),
  "aws:sesv2/emailIdentity:EmailIdentity": (c) => ({
    id: String(c.inputs["emailIdentity"]),
    state: {
      arn: arn("ses", c.region, `identity/${String(c.inputs["emailIdentity"])}`),
      dkimSigningAttributes: { tokens: [1, 2, 3].map((i) => hex(`${c.seed}:dkim${i}`, 32)) },
    },
  }),
  "aws:sns/topic:Topic": (c) => {
    const topicArn = arn("sns", c.region, c.name);
    return { id: topicArn, state: { arn: topicArn } };
  },
  "aws:sns/topicPolicy:TopicPolicy": (c) => ({ id: String(c.inputs["arn"]), state: {} }),
  "aws:sns/topicSubscription:TopicSubscription": (c) => {
    const subscriptionArn = `${String(c.inputs["topic"])}:${uuid(c.seed)}`;
    return { id: subscriptionArn, state: { arn: subscriptionArn } };
  },
  "aws:cloudwatch/logGroup:LogGroup": byName((c) => arn("logs", c.region, `log-group:${c.name}`)),
  "aws:cloudwatch/metricAlarm:MetricAlarm": byName((c) => arn("cloudwatch", c.region, `alarm:${c.name}`)),
  "aws:cloudwatch/dashboard:Dashboard": byName((c) => globalArn("cloudwatch", `dashboard/${c.name}`)),
  "aws:ssm/parameter:Parameter": byName(
    (c) => arn("ssm", c.region, `parameter/${c.name.replace(/^\//, "")}`),
    () => ({ version: 1 }),
  ),
  "aws:ssm/document:Document": byName(
    (c) => arn("ssm", c.region, `document/${c.name}`),
    () => ({ latestVersion: "1", defaultVersion: "1", status: "Active" }),
  ),
  "aws:dlm/lifecyclePolicy:LifecyclePolicy": (c) => {
    const id = `policy-${hex(c.seed, 17)}`;
    return { id, state: { arn: arn("dlm", c.region, `policy/${id}`) } };
  },
  "random:index/randomBytes:RandomBytes": (c) => {
    const bytes = createHash("sha256")
      .update(c.logical)
      .digest()
      .subarray(0, Number(c.inputs["length"] ?? 32));
    return { id: "none", state: { base64: bytes.toString("base64"), hex: bytes.toString("hex") } };
  },
  "random:index/randomPassword:RandomPassword": (c) => ({
    id: "none",
    state: { result: fakeSecret(c.logical, Number(c.inputs["length"] ?? 32)) },
  }),
  "pulumi:providers:aws": (c) => ({ id: uuid(c.seed), state: {} }),
};

const CALLS: Record<string, (inputs: State, region: string) => State> = {
  "aws:index/getAvailabilityZones:getAvailabilityZones": (_i, region) => ({
    id: region,
    names: ["a", "b", "c", "d"].map((s) => `${region}${s}`),
    zoneIds: ["az1", "az2", "az3", "az4"].map((z) => `use1-${z}`),
  }),
  "aws:index/getRegion:getRegion": (_i, region) => ({ id: region, name: region, region }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: FAKE_ACCOUNT,
    arn: `arn:aws:iam::${FAKE_ACCOUNT}:user/plan`,
    userId: "plan",
    id: FAKE_ACCOUNT,
  }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
  "aws:elb/getServiceAccount:getServiceAccount": () => ({
    arn: "arn:aws:iam::127311923021:root",
    id: "127311923021",
  }),
  "aws:ssm/getParameter:getParameter": (inputs) => ({
    name: inputs["name"],
    value: "ami-0fa4e5e0c0ffee123",
    type: "String",
    id: inputs["name"],
  }),
};

/** A name the provider or AWS would refuse. */
export interface NameRefusal {
  readonly type: string;
  /** The resource's logical name. */
  readonly resource: string;
  readonly property: string;
  readonly name: string;
  readonly problems: readonly string[];
  readonly source: string;
}

/** The name the provider settled on for a resource (explicit, or autonamed as its Check would). */
export interface CheckedName {
  readonly property: string;
  readonly value: string;
  readonly autonamed: boolean;
}

export interface FakeCloud {
  readonly mocks: pulumi.runtime.Mocks;
  /** Every refused name of the run so far. */
  readonly refusals: NameRefusal[];
  /** By `<type>::<logical name>`: the name each resource got. */
  readonly names: Map<string, CheckedName>;
  /** By `<type>::<logical name>`: what the cloud answered (id and state). */
  readonly answers: Map<string, { readonly id: string | undefined; readonly state: State }>;
}

const scopeKey = (scope: NameScope, type: string, region: string, name: string, caseless: boolean) =>
  `${type}|${scope === "region" ? region : scope}|${caseless ? name.toLowerCase() : name}`;

export function fakeCloud(region: string): FakeCloud {
  const refusals: NameRefusal[] = [];
  const names = new Map<string, CheckedName>();
  const answers = new Map<string, { id: string | undefined; state: State }>();
  const taken = new Map<string, string>();
  // Explicit providers (e.g. the us-east-1 one for CloudFront's certificate) decide the region.
  const providerRegions = new Map<string, string>();
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const inputs = args.inputs as State;
      // Components are the program's own: no provider answers for them.
      if (args.custom === false) return { id: undefined, state: inputs };
      const seed = `${args.type}::${args.name}`;
      const providerId = args.provider?.split("::").pop() ?? "";
      const regionOf =
        typeof inputs["region"] === "string"
          ? (inputs["region"] as string)
          : (providerRegions.get(providerId) ?? region);
      const rule = namingRule(args.type);
      const answer = ANSWERS[args.type];
      if (rule === undefined || !answer) {
        refusals.push({
          type: args.type,
          resource: args.name,
          property: "name",
          name: args.name,
          problems: [
            `the fake cloud has no naming rule or answer for ${args.type}; add it to core/aws/naming.ts and plan/fakeCloud.ts`,
          ],
          source: "plan/fakeCloud.ts",
        });
        return { id: `${args.name}-id`, state: inputs };
      }
      let name = "";
      const named: State = {};
      if (rule) {
        const explicit = inputs[rule.property];
        const prefix = inputs[`${rule.property === "name" ? "name" : rule.property}Prefix`];
        const options = rule.autoname;
        const autonamed = explicit === undefined && prefix === undefined && options !== undefined;
        if (typeof explicit === "string") name = explicit;
        else if (typeof prefix === "string") name = `${prefix}${hex(seed, 26)}`;
        else if (autonamed && options) {
          const tooLong = autonameTooLong(options, args.name);
          name = autoname(options, args.name, seed);
          if (tooLong)
            refusals.push({
              type: args.type,
              resource: args.name,
              property: rule.property,
              name,
              problems: [tooLong],
              source: rule.source,
            });
        }
        if (name) {
          const problems = nameProblems(rule, name);
          if (problems.length && !refusals.some((r) => r.resource === args.name && r.type === args.type))
            refusals.push({
              type: args.type,
              resource: args.name,
              property: rule.property,
              name,
              problems,
              source: rule.source,
            });
          // IAM names are unique regardless of case; the others as written.
          const key = scopeKey(rule.scope, args.type, regionOf, name, rule.scope === "account");
          const holder = taken.get(key);
          if (holder && holder !== args.name)
            refusals.push({
              type: args.type,
              resource: args.name,
              property: rule.property,
              name,
              problems: [`is already taken by ${holder} (names are unique per ${rule.scope})`],
              source: rule.source,
            });
          taken.set(key, args.name);
          names.set(seed, { property: rule.property, value: name, autonamed });
          named[rule.property] = name;
        }
      }
      for (const extra of PROPERTY_NAMING_RULES[args.type] ?? []) {
        const value = inputs[extra.property];
        const problems = typeof value === "string" ? nameProblems(extra, value) : [];
        if (problems.length)
          refusals.push({
            type: args.type,
            resource: args.name,
            property: extra.property,
            name: String(value),
            problems,
            source: extra.source,
          });
      }
      const { id, state } = answer({ logical: args.name, inputs, name, region: regionOf, seed });
      if (args.type.startsWith("pulumi:providers:")) providerRegions.set(id, regionOf);
      const answered = { id, state: { ...inputs, ...named, id, ...state } };
      answers.set(seed, answered);
      return answered;
    },
    call(args) {
      const handler = CALLS[args.token];
      if (!handler)
        throw new Error(`the fake cloud does not answer ${args.token}; add it to plan/fakeCloud.ts`);
      return handler(args.inputs, region);
    },
  };
  return { mocks, refusals, names, answers };
}
