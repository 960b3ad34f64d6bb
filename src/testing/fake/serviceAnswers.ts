/**
 * What the data, edge and operations services answer (RDS, ElastiCache, ELB, ACM, Route 53, S3,
 * CloudFront, SES, SNS, CloudWatch, SSM, DLM, WAF) and the random provider: ids, ARNs, computed
 * attributes. ARN formats: "Actions, resources, and condition keys" of each service in the IAM docs.
 */
import {
  type Answer,
  type Ctx,
  FAKE_ACCOUNT,
  arn,
  byBucket,
  byName,
  elbSuffix,
  fakeSecret,
  globalArn,
  hex,
  upperAlnum,
  uuid,
} from "./shapes";
import { createHash } from "crypto";
import { CLOUDFRONT_HOSTED_ZONE_ID } from "../../aws/naming";
import { type Statement, webAclCapacity } from "../../aws/naming/wafLimits";

export const SERVICE_ANSWERS: Record<string, (c: Ctx) => Answer> = {
  // The rule's id is its prefix; registryId is the account (Amazon ECR API, DescribePullThroughCacheRules).
  "aws:ecr/pullThroughCacheRule:PullThroughCacheRule": (c) => ({
    id: c.name,
    state: { registryId: FAKE_ACCOUNT },
  }),
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
  // The provider's id is the key; S3's ETag of a single-part upload is the content's MD5.
  "aws:s3/bucketObjectv2:BucketObjectv2": (c) => ({
    id: String(c.inputs["key"]),
    state: {
      arn: `arn:aws:s3:::${String(c.inputs["bucket"])}/${String(c.inputs["key"])}`,
      etag: createHash("md5")
        .update(String(c.inputs["content"] ?? ""))
        .digest("hex"),
    },
  }),
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
        hostedZoneId: CLOUDFRONT_HOSTED_ZONE_ID,
        etag: upperAlnum(`${c.seed}:etag`, 14),
      },
    };
  },
  "aws:cloudfront/originAccessControl:OriginAccessControl": (c) => ({
    id: `E${upperAlnum(c.seed, 13)}`,
    state: {},
  }),
  "aws:cloudfront/responseHeadersPolicy:ResponseHeadersPolicy": (c) => ({ id: uuid(c.seed), state: {} }),
  // The id is the name; the ARN names the function, published or not (CloudFront API, FunctionSummary).
  "aws:cloudfront/function:Function": (c) => ({
    id: c.name,
    state: {
      arn: globalArn("cloudfront", `function/${c.name}`),
      etag: upperAlnum(`${c.seed}:etag`, 14),
      liveStageEtag: c.inputs["publish"] === false ? "" : upperAlnum(`${c.seed}:live`, 14),
      status: "UNASSOCIATED",
    },
  }),
  "aws:sesv2/emailIdentity:EmailIdentity": (c) => ({
    id: String(c.inputs["emailIdentity"]),
    state: {
      arn: arn("ses", c.region, `identity/${String(c.inputs["emailIdentity"])}`),
      dkimSigningAttributes: { tokens: [1, 2, 3].map((i) => hex(`${c.seed}:dkim${i}`, 32)) },
    },
  }),
  // The provider's id is the domain's ARN (arn:aws:es:...:domain/<name>); DomainId is
  // <account>/<name>; a VPC domain's endpoint is vpc-<name>-<26 lower-case alphanumerics>.<region>.es.amazonaws.com
  // (Amazon OpenSearch Service API, DomainStatus; the ARN format of "Actions, resources, and
  // condition keys for Amazon OpenSearch Service").
  "aws:opensearch/domain:Domain": (c) => {
    const domainArn = arn("es", c.region, `domain/${c.name}`);
    const endpoint = `vpc-${c.name}-${upperAlnum(`${c.seed}:endpoint`, 26).toLowerCase()}.${c.region}.es.amazonaws.com`;
    return {
      id: domainArn,
      state: {
        arn: domainArn,
        domainId: `${FAKE_ACCOUNT}/${c.name}`,
        endpoint,
        dashboardEndpoint: `${endpoint}/_dashboards`,
      },
    };
  },
  // The Terraform provider's id for a domain policy: "esd-policy-<domain name>".
  "aws:opensearch/domainPolicy:DomainPolicy": (c) => ({
    id: `esd-policy-${String(c.inputs["domainName"])}`,
    state: {},
  }),
  // Keyed by its identity (SES API v2, PutEmailIdentityMailFromAttributes).
  "aws:sesv2/emailIdentityMailFromAttributes:EmailIdentityMailFromAttributes": (c) => ({
    id: String(c.inputs["emailIdentity"]),
    state: {},
  }),
  // AWS WAF: the provider's id is the UUID AWS assigns; ARNs arn:aws:wafv2:<region>:<account>:
  // regional/webacl/<name>/<id> and .../regional/ipset/<name>/<id> ("Actions, resources, and
  // condition keys for AWS WAF V2"); Capacity is the rules' WCUs (GetWebACL). An association's id is
  // "<web ACL ARN>,<resource ARN>" (terraform-provider-aws web_acl_association.go).
  "aws:wafv2/webAcl:WebAcl": (c) => {
    const id = uuid(c.seed);
    const capacity = webAclCapacity((c.inputs["rules"] as { statement?: Statement }[] | undefined) ?? []);
    return {
      id,
      state: {
        arn: arn("wafv2", c.region, `regional/webacl/${c.name}/${id}`),
        capacity: typeof capacity === "number" ? capacity : 0,
        lockToken: uuid(`${c.seed}:lock`),
      },
    };
  },
  "aws:wafv2/ipSet:IpSet": (c) => {
    const id = uuid(c.seed);
    return {
      id,
      state: {
        arn: arn("wafv2", c.region, `regional/ipset/${c.name}/${id}`),
        lockToken: uuid(`${c.seed}:lock`),
      },
    };
  },
  "aws:wafv2/webAclAssociation:WebAclAssociation": (c) => ({
    id: `${String(c.inputs["webAclArn"])},${String(c.inputs["resourceArn"])}`,
    state: {},
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
