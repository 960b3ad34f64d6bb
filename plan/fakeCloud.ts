/**
 * The fake cloud behind the offline plan and the tests: deterministic answers to resource
 * registrations and provider calls, with the attributes the program reads (endpoints, ARNs,
 * generated passwords). Nothing here decides what the program declares.
 */
import { createHash } from "crypto";
import type * as pulumi from "@pulumi/pulumi";

export const FAKE_ACCOUNT = "123456789012";

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

type State = Record<string, unknown>;

/** Extra state per resource type, on top of the inputs echoed back. */
const RESOURCE_STATE: Record<string, (name: string, inputs: State, region: string) => State> = {
  "aws:ec2/vpc:Vpc": (_n, inputs) => ({
    ipv6CidrBlock: inputs["assignGeneratedIpv6CidrBlock"] ? "2600:1f18:4a3:6e00::/56" : "",
    defaultRouteTableId: "rtb-default",
  }),
  "aws:rds/instance:Instance": (name, _i, region) => ({
    address: `${name}.c0ffee123456.${region}.rds.amazonaws.com`,
    port: 5432,
    endpoint: `${name}.c0ffee123456.${region}.rds.amazonaws.com:5432`,
    identifier: name,
  }),
  "aws:elasticache/replicationGroup:ReplicationGroup": (name, _i, region) => ({
    primaryEndpointAddress: `master.${name}.abc123.${region.replace(/-/g, "").slice(0, 4)}.cache.amazonaws.com`,
    readerEndpointAddress: `replica.${name}.abc123.cache.amazonaws.com`,
    port: 6379,
  }),
  "aws:ec2/instance:Instance": () => ({ privateIp: "10.0.0.10", privateDns: "ip-10-0-0-10.ec2.internal" }),
  "aws:ssm/parameter:Parameter": (name, inputs) => ({ name: inputs["name"] ?? name, version: 1 }),
  "aws:lb/loadBalancer:LoadBalancer": (name, _i, region) => ({
    dnsName: `${name}-1234567890.${region}.elb.amazonaws.com`,
    zoneId: "Z35SXDOTRQ7X7K",
    arnSuffix: `app/${name}/0123456789abcdef`,
  }),
  // Auto-named resources get a suffix, as Pulumi's autonaming gives them.
  "aws:autoscaling/group:Group": (name, inputs) => ({ name: inputs["name"] ?? `${name}-0a1b2c3` }),
  "aws:lb/targetGroup:TargetGroup": (name) => ({ arnSuffix: `targetgroup/${name}/0123456789abcdef` }),
  "aws:acm/certificate:Certificate": (name, inputs) => ({
    domainValidationOptions: [
      inputs["domainName"],
      ...((inputs["subjectAlternativeNames"] as string[]) ?? []),
    ].map((d) => ({
      domainName: d,
      resourceRecordName: `_0123456789abcdef.${d}.`,
      resourceRecordType: "CNAME",
      resourceRecordValue: `_fedcba9876543210.${name}.acm-validations.aws.`,
    })),
  }),
  "aws:route53/record:Record": (_n, inputs) => ({ fqdn: inputs["name"] }),
  "aws:s3/bucket:Bucket": (name, _i, region) => ({
    bucket: `${name}-0a1b2c3`,
    bucketRegionalDomainName: `${name}-0a1b2c3.s3.${region}.amazonaws.com`,
    arn: `arn:aws:s3:::${name}-0a1b2c3`,
  }),
  "aws:cloudfront/distribution:Distribution": (name) => ({
    domainName: `d111111abcdef8.cloudfront.net`,
    hostedZoneId: "Z2FDTNDATAQYW2",
    arn: `arn:aws:cloudfront::${FAKE_ACCOUNT}:distribution/${name.toUpperCase()}`,
  }),
  "aws:sesv2/emailIdentity:EmailIdentity": (name) => ({
    dkimSigningAttributes: { tokens: [1, 2, 3].map((i) => `${name}dkimtoken${i}`) },
  }),
  "aws:iam/accessKey:AccessKey": (name) => ({
    id: "AKIAFAKEPLAN00000000",
    sesSmtpPasswordV4: fakeSecret(`${name}-smtp`, 44),
  }),
  "random:index/randomBytes:RandomBytes": (name, inputs) => {
    const bytes = createHash("sha256")
      .update(name)
      .digest()
      .subarray(0, Number(inputs["length"] ?? 32));
    return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
  },
  "random:index/randomPassword:RandomPassword": (name, inputs) => ({
    result: fakeSecret(name, Number(inputs["length"] ?? 32)),
  }),
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

export function fakeCloud(region: string): pulumi.runtime.Mocks {
  return {
    newResource(args) {
      const service = args.type.split(":")[1]?.split("/")[0] ?? "mock";
      const extra = RESOURCE_STATE[args.type]?.(args.name, args.inputs, region) ?? {};
      const id = typeof extra["id"] === "string" ? extra["id"] : `${args.name}-id`;
      return {
        id,
        state: {
          ...args.inputs,
          arn: `arn:aws:${service}:${region}:${FAKE_ACCOUNT}:${args.name}`,
          id,
          ...extra,
        },
      };
    },
    call(args) {
      const handler = CALLS[args.token];
      if (!handler)
        throw new Error(`the fake cloud does not answer ${args.token}; add it to plan/fakeCloud.ts`);
      return handler(args.inputs, region);
    },
  };
}
