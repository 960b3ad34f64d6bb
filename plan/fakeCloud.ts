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
      const id = `${args.name}-id`;
      const extra = RESOURCE_STATE[args.type]?.(args.name, args.inputs, region) ?? {};
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
