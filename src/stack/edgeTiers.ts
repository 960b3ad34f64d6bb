/**
 * MastodonStack's edge: the ALB in the public subnets, with mastodon:waf an AWS WAF web ACL on it,
 * media on S3 behind CloudFront, and, with a Route 53 zone (mastodon:dns), the alias records that
 * point the web and media domains at them.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { DeploymentIdentity } from "../aws/naming/scope";
import { DnsRecords } from "../edge/dnsRecords";
import { LoadBalancer } from "../edge/loadBalancer";
import { MediaStorage } from "../media/mediaStorage";
import type { Network } from "../network/network";
import { WebAcl } from "../waf/webAcl";

/** What the edge is made of; waf only with mastodon:waf, dns only with mastodon:dns. */
export interface EdgeTiers {
  readonly loadBalancer: LoadBalancer;
  readonly waf?: WebAcl;
  readonly media: MediaStorage;
  readonly dns?: DnsRecords;
}

/** The ALB (and its web ACL), the media storage and their DNS records, in that order. */
export function edgeTiers(
  name: string,
  scope: DeploymentIdentity,
  config: StackConfig,
  network: Network,
  production: boolean,
  parent: pulumi.Resource,
): EdgeTiers {
  const groups = network.securityGroups;
  const loadBalancer = new LoadBalancer(
    `${name}-lb`,
    {
      vpcId: network.vpcId,
      publicSubnetIds: network.publicSubnetIds,
      securityGroupId: groups.alb.id,
      webDomain: config.webDomain,
      ...(config.loadBalancer.certificateArn && { certificateArn: config.loadBalancer.certificateArn }),
      ...(config.dns && { zoneId: config.dns.zoneId }),
      streamingPorts: [...config.streamingPorts],
      dualStack: config.network.ipv6,
      idleTimeoutSeconds: config.loadBalancer.idleTimeoutSeconds,
      accessLogs: config.loadBalancer.accessLogs,
      deletionProtection: config.loadBalancer.deletionProtection,
    },
    { parent },
  );
  // The config as written: the web ACL derives its rules from it (src/waf/rules.ts).
  const waf =
    config.waf &&
    new WebAcl(
      `${name}-waf`,
      {
        waf: {
          rateLimits: { ...config.waf.rateLimits },
          evaluationWindowSeconds: config.waf.evaluationWindowSeconds,
          blockList: [...config.waf.blockList.ipv4, ...config.waf.blockList.ipv6],
          blockedRequestsAlarm: config.waf.blockedRequestsAlarm,
        },
        scope,
        loadBalancerArn: loadBalancer.alb.arn,
      },
      { parent },
    );
  const media = new MediaStorage(
    `${name}-media`,
    {
      ...(config.media.customDomain && { customDomain: config.media.customDomain }),
      ...(config.media.certificateArn && { certificateArn: config.media.certificateArn }),
      ...(config.dns && { zoneId: config.dns.zoneId }),
      versioning: config.media.versioning,
      priceClass: config.media.priceClass,
      protect: production,
      ...(config.media.legacySystemPaths && {
        legacySystemPaths: { listenerArn: loadBalancer.httpsListener.arn },
      }),
    },
    { parent },
  );
  let dns: DnsRecords | undefined;
  if (config.dns) {
    dns = new DnsRecords(
      `${name}-dns`,
      {
        zoneId: config.dns.zoneId,
        aliases: [
          {
            name: config.webDomain,
            dnsName: loadBalancer.dnsName,
            zoneId: loadBalancer.zoneId,
            ipv6: config.network.ipv6,
          },
          ...(config.media.customDomain
            ? [
                {
                  name: config.media.customDomain,
                  dnsName: media.distribution.domainName,
                  zoneId: media.distribution.hostedZoneId,
                  ipv6: true,
                },
              ]
            : []),
        ],
      },
      { parent },
    );
  }
  return { loadBalancer, ...(waf && { waf }), media, dns };
}
