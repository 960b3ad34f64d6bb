import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { DEFAULTS } from "../vocabulary/defaults";

/** Security groups by role; rules reference groups, never 0.0.0.0/0 (the ALB's 80/443 excepted). */
export interface RoleSecurityGroups {
  /** The ALB's: 80 and 443 from the internet, out to Puma and the streaming ports. */
  readonly alb: aws.ec2.SecurityGroup;
  /** Puma's hosts: Puma's port from the ALB. */
  readonly web: aws.ec2.SecurityGroup;
  /** The streaming hosts: the streaming ports from the ALB. */
  readonly streaming: aws.ec2.SecurityGroup;
  /** The Sidekiq hosts: nothing inbound; out to SMTP as well. */
  readonly sidekiq: aws.ec2.SecurityGroup;
  /** RDS PostgreSQL: 5432 from the fleets. */
  readonly database: aws.ec2.SecurityGroup;
  /** Redis: 6379 from the fleets. */
  readonly redis: aws.ec2.SecurityGroup;
}

export const ANY_IPV4 = "0.0.0.0/0";
export const ANY_IPV6 = "::/0";

/**
 * One security group per role and the rules between them, by group reference: the internet reaches
 * only the ALB (80 to redirect, 443), the ALB reaches Puma and the streaming ports, the fleets reach
 * PostgreSQL and Redis, and the fleets go out only where Mastodon must (HTTPS everywhere, HTTP for
 * link previews and remote media, SMTP from Sidekiq). A plain function: the resources belong to the
 * Network component that calls it.
 */
export function roleSecurityGroups(
  name: string,
  vpcId: pulumi.Input<string>,
  ipv6: boolean,
  streamingPorts: readonly number[],
  owner: pulumi.Resource,
): RoleSecurityGroups {
  const parent = { parent: owner };
  const group = (role: string, description: string) =>
    new aws.ec2.SecurityGroup(
      `${name}-${role}`,
      { vpcId, description, tags: { Name: `${name}-${role}` } },
      parent,
    );
  const groups: RoleSecurityGroups = {
    alb: group("alb", "Mastodon ALB: HTTP/HTTPS from the internet"),
    web: group("web", "Mastodon web (Puma): port 3000 from the ALB"),
    streaming: group("streaming", "Mastodon streaming: its ports from the ALB"),
    sidekiq: group("sidekiq", "Mastodon Sidekiq: no inbound"),
    database: group("database", "PostgreSQL: 5432 from the fleets"),
    redis: group("redis", "Redis: 6379 from the fleets"),
  };
  const tcp = (from: number, to = from) => ({ ipProtocol: "tcp", fromPort: from, toPort: to });
  const ingress = (
    rule: string,
    sg: aws.ec2.SecurityGroup,
    args: Omit<aws.vpc.SecurityGroupIngressRuleArgs, "securityGroupId">,
  ) => new aws.vpc.SecurityGroupIngressRule(`${name}-${rule}`, { securityGroupId: sg.id, ...args }, parent);
  const egress = (
    rule: string,
    sg: aws.ec2.SecurityGroup,
    args: Omit<aws.vpc.SecurityGroupEgressRuleArgs, "securityGroupId">,
  ) => new aws.vpc.SecurityGroupEgressRule(`${name}-${rule}`, { securityGroupId: sg.id, ...args }, parent);
  const anywhere = (
    rule: string,
    port: number,
    add: (rule: string, args: { cidrIpv4?: string; cidrIpv6?: string }) => void,
  ) => {
    add(`${rule}-${port}`, { cidrIpv4: ANY_IPV4 });
    if (ipv6) add(`${rule}-${port}-v6`, { cidrIpv6: ANY_IPV6 });
  };

  // Internet -> ALB 80/443 (80 only to redirect to 443).
  for (const port of [80, 443]) {
    anywhere("alb-in", port, (rule, cidr) =>
      ingress(rule, groups.alb, { ...tcp(port), ...cidr, description: "clients" }),
    );
  }
  const streamingFrom = Math.min(...streamingPorts);
  const streamingTo = Math.max(...streamingPorts);
  ingress("web-in-alb", groups.web, {
    ...tcp(DEFAULTS.web.port),
    referencedSecurityGroupId: groups.alb.id,
    description: "ALB to Puma",
  });
  egress("alb-out-web", groups.alb, {
    ...tcp(DEFAULTS.web.port),
    referencedSecurityGroupId: groups.web.id,
    description: "to Puma",
  });
  ingress("streaming-in-alb", groups.streaming, {
    ...tcp(streamingFrom, streamingTo),
    referencedSecurityGroupId: groups.alb.id,
    description: "ALB to mastodon-streaming@ ports",
  });
  egress("alb-out-streaming", groups.alb, {
    ...tcp(streamingFrom, streamingTo),
    referencedSecurityGroupId: groups.streaming.id,
    description: "to streaming",
  });

  // Fleets -> data stores, by group reference.
  for (const role of ["web", "streaming", "sidekiq"] as const) {
    ingress(`database-in-${role}`, groups.database, {
      ...tcp(5432),
      referencedSecurityGroupId: groups[role].id,
      description: role,
    });
    ingress(`redis-in-${role}`, groups.redis, {
      ...tcp(6379),
      referencedSecurityGroupId: groups[role].id,
      description: role,
    });
    egress(`${role}-out-database`, groups[role], {
      ...tcp(5432),
      referencedSecurityGroupId: groups.database.id,
      description: "PostgreSQL",
    });
    egress(`${role}-out-redis`, groups[role], {
      ...tcp(6379),
      referencedSecurityGroupId: groups.redis.id,
      description: "Redis",
    });
    // HTTPS everywhere: federation (web, Sidekiq), and SSM, CloudWatch, S3 for every host.
    anywhere(`${role}-out-https`, 443, (rule, cidr) =>
      egress(rule, groups[role], { ...tcp(443), ...cidr, description: "HTTPS" }),
    );
  }
  // Plain HTTP for link previews and remote media that still serve it (web lookups, Sidekiq fetches).
  for (const role of ["web", "sidekiq"] as const) {
    anywhere(`${role}-out-http`, 80, (rule, cidr) =>
      egress(rule, groups[role], { ...tcp(80), ...cidr, description: "HTTP" }),
    );
  }
  // Mail goes out from the mailers queue: SMTP submission (STARTTLS) and SMTPS.
  for (const port of [587, 465]) {
    anywhere("sidekiq-out-smtp", port, (rule, cidr) =>
      egress(rule, groups.sidekiq, { ...tcp(port), ...cidr, description: "SMTP" }),
    );
  }
  return groups;
}
