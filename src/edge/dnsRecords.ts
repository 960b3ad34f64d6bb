import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { CLOUDFRONT_HOSTED_ZONE_ID } from "../aws/naming";
import { providedType, withFormerType } from "../aws/typeToken";

export interface AliasTarget {
  /** The record's name, e.g. mastodon.example or files.mastodon.example. */
  name: string;
  /** The target's DNS name: the ALB's, or the CloudFront distribution's domain. */
  dnsName: pulumi.Input<string>;
  /**
   * The target's hosted zone (the ALB's, or CloudFront's Z2FDTNDATAQYW2). It decides whether Route 53
   * evaluates the target's health: for a load balancer it does; for a CloudFront distribution Route 53
   * refuses to (Route 53 API Reference, AliasTarget, EvaluateTargetHealth).
   */
  zoneId: pulumi.Input<string>;
  /** Also an AAAA record (the target is dual-stack). */
  ipv6: boolean;
}

export interface DnsRecordsArgs {
  /** The Route 53 hosted zone the records go in, e.g. Z0123456789ABCDEFGHIJ. */
  zoneId: pulumi.Input<string>;
  /** The alias records: an A record each, and an AAAA record beside it where ipv6 is set. */
  aliases: AliasTarget[];
}

/**
 * Alias records (A, and AAAA for dual-stack targets) in a Route 53 zone. Each evaluates its target's
 * health where Route 53 allows it (a load balancer: an alias to one with no healthy target is not
 * answered), and not for a CloudFront distribution, where Route 53 refuses EvaluateTargetHealth true
 * (Route 53 API Reference, AliasTarget; src/aws/naming/inputRules.ts).
 */
export class DnsRecords extends pulumi.ComponentResource {
  /** Each alias's fully qualified name (of its A record), in the order of aliases. */
  public readonly fqdns: pulumi.Output<string>[];

  constructor(name: string, args: DnsRecordsArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("DnsRecords"), name, {}, withFormerType("mastodon:dns:DnsRecords", opts));
    this.fqdns = [];
    for (const target of args.aliases) {
      for (const type of target.ipv6 ? ["A", "AAAA"] : ["A"]) {
        const record = new aws.route53.Record(
          `${name}-${target.name}-${type.toLowerCase()}`,
          {
            zoneId: args.zoneId,
            name: target.name,
            type,
            aliases: [
              {
                name: target.dnsName,
                zoneId: target.zoneId,
                evaluateTargetHealth: pulumi
                  .output(target.zoneId)
                  .apply((zoneId) => zoneId !== CLOUDFRONT_HOSTED_ZONE_ID),
              },
            ],
          },
          { parent: this },
        );
        if (type === "A") this.fqdns.push(record.fqdn);
      }
    }
    this.registerOutputs({ fqdns: this.fqdns });
  }
}
