/**
 * Every component twice in one stack, under Pulumi's mocks: no duplicate (type, name) pair, so two
 * deployments of a part can live in one program.
 */
import { Network } from "../network/network";
import { PostgresDatabase } from "../database/postgresDatabase";
import { RedisStore } from "../redis/redisStore";
import { DnsRecords } from "../edge/dnsRecords";
import { LoadBalancer } from "../edge/loadBalancer";
import { Mail } from "../mail/mail";
import { MediaStorage } from "../media/mediaStorage";
import { runUnderMocks } from "../testing/mocks";
import { all, find } from "../../test/helpers";

const SSM = "aws:ssm/parameter:Parameter";
const TARGET_GROUP = "aws:lb/targetGroup:TargetGroup";
const RECORD = "aws:route53/record:Record";

test("every data-tier component twice in one stack: no duplicate (type, name)", async () => {
  const run = await runUnderMocks(
    () => {
      for (const n of ["blue", "green"]) {
        const net = new Network(`${n}-net`, { availabilityZones: 2, egress: "single-nat", ipv6: true });
        new PostgresDatabase(`${n}-db`, {
          instanceClass: "db.t4g.medium",
          maxConnections: 450,
          workMemMiB: 9,
          subnetIds: net.dataSubnetIds,
          securityGroupId: net.securityGroups.database.id,
          parameterPrefix: `/m/${n}`,
          scope: { project: "p", stack: "s", name: n },
          replica: { instanceClass: "db.t4g.small", maxConnections: 225, workMemMiB: 9 },
        });
        for (const role of ["cache", "persistent"] as const) {
          new RedisStore(`${n}-${role}`, {
            role,
            subnetIds: net.dataSubnetIds,
            securityGroupId: net.securityGroups.redis.id,
            parameterPrefix: `/m/${n}`,
            scope: { project: "p", stack: "s", name: n },
          });
        }
        new RedisStore(`${n}-aof`, {
          role: "persistent",
          mode: "self-managed-aof",
          subnetIds: net.dataSubnetIds,
          securityGroupId: net.securityGroups.redis.id,
          parameterPrefix: `/m/${n}-aof`,
          scope: { project: "p", stack: "s", name: n },
          host: { vpcId: net.vpcId, subnetId: net.fleetSubnetIds[0]!, availabilityZone: "us-east-1a" },
        });
      }
      return {};
    },
    { project: "p", stack: "s", config: { "aws:region": "us-east-1" } },
  );
  const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
  expect(pairs.length).toBeGreaterThan(150);
  expect(new Set(pairs).size).toBe(pairs.length);
  const ssmNames = all(run, SSM).map((p) => p.inputs["name"]);
  expect(new Set(ssmNames).size).toBe(ssmNames.length);
  // Dual-stack: /64s from the VPC's /56, egress-only IPv6 for the app tier.
  expect(find(run, "aws:ec2/subnet:Subnet", "blue-net-app-b").inputs["ipv6CidrBlock"]).toBe(
    "2600:1f18:4a3:6e04::/64",
  );
  expect(all(run, "aws:ec2/egressOnlyInternetGateway:EgressOnlyInternetGateway")).toHaveLength(2);
});

test("every edge component twice in one stack: no duplicate (type, name)", async () => {
  const run = await runUnderMocks(
    () => {
      for (const n of ["blue", "green"]) {
        const lb = new LoadBalancer(`${n}-lb`, {
          vpcId: "vpc-1",
          publicSubnetIds: ["subnet-a", "subnet-b"],
          securityGroupId: "sg-alb",
          webDomain: `${n}.example.org`,
          zoneId: "Z0123456789TEST",
          streamingPorts: [4000, 4001, 4002],
          accessLogs: true,
        });
        const media = new MediaStorage(`${n}-media`, {
          customDomain: `files.${n}.example.org`,
          zoneId: "Z0123456789TEST",
        });
        new DnsRecords(`${n}-dns`, {
          zoneId: "Z0123456789TEST",
          aliases: [
            { name: `${n}.example.org`, dnsName: lb.dnsName, zoneId: lb.zoneId, ipv6: true },
            {
              name: `files.${n}.example.org`,
              dnsName: media.distribution.domainName,
              zoneId: media.distribution.hostedZoneId,
              ipv6: true,
            },
          ],
        });
        new Mail(`${n}-mail`, {
          provider: "ses",
          fromAddress: `a@${n}.example.org`,
          parameterPrefix: `/m/${n}`,
          zone: { zoneId: "Z0123456789TEST", zoneName: "example.org" },
        });
      }
      return {};
    },
    { project: "p", stack: "s", config: { "aws:region": "eu-west-1" } },
  );
  const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
  expect(new Set(pairs).size).toBe(pairs.length);
  expect(all(run, TARGET_GROUP)).toHaveLength(8);
  expect(all(run, RECORD).filter((r) => r.parent === "blue-dns")).toHaveLength(4);
});
