import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { providedType, withFormerType } from "./typeToken";

export interface AliasTarget {
  /** The record's name, e.g. mastodon.example or files.mastodon.example. */
  name: string;
  dnsName: pulumi.Input<string>;
  /** The target's hosted zone (the ALB's, or CloudFront's Z2FDTNDATAQYW2). */
  zoneId: pulumi.Input<string>;
  /** Also an AAAA record (the target is dual-stack). */
  ipv6: boolean;
}

export interface DnsRecordsArgs {
  zoneId: string;
  aliases: AliasTarget[];
}

/** Alias records (A, and AAAA for dual-stack targets) in a Route 53 zone. */
export class DnsRecords extends pulumi.ComponentResource {
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
            aliases: [{ name: target.dnsName, zoneId: target.zoneId, evaluateTargetHealth: true }],
          },
          { parent: this },
        );
        if (type === "A") this.fqdns.push(record.fqdn);
      }
    }
    this.registerOutputs({ fqdns: this.fqdns });
  }
}
