import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { fitLogicalName } from "../aws/naming";
import { type DeploymentIdentity, scopedName } from "../aws/naming/scope";
import { providedType } from "../aws/typeToken";
import type { StackWafArgs } from "./args";
import { parseWaf } from "./config";
import { blockListVersions, wafRules } from "./rules";

export interface WebAclArgs {
  /**
   * The web ACL's limits and block list as mastodon:waf writes them; refused values are reported by
   * key, all at once (src/waf/schema.ts). blockedRequestsAlarm is Monitoring's to read.
   */
  waf: StackWafArgs;
  /** The deployment (Pulumi project and stack, MastodonStack name): the web ACL is named from it. */
  scope: DeploymentIdentity;
  /** The Application Load Balancer the web ACL protects, in the web ACL's Region. */
  loadBalancerArn: pulumi.Input<string>;
}

/**
 * An AWS WAF web ACL (scope REGIONAL) associated with the ALB: the block list, AWS's IP reputation,
 * known bad inputs and core rule set groups fitted to Mastodon, and rate-based rules per client IP on
 * sign-up, sign-in and the API's write paths (src/waf/rules.ts says what each does and why). Every
 * rule publishes CloudWatch metrics and keeps sampled requests; the default action allows. The
 * streaming API is outside every rule's scope but the block list's.
 *
 * The web ACL's name is explicit (project, stack and component, as the dashboard's) and is its metric
 * name as well, so the alarm's WebACL dimension holds the one value whichever CloudWatch keys it by.
 */
export class WebAcl extends pulumi.ComponentResource {
  /** The web ACL. */
  public readonly webAcl: aws.wafv2.WebAcl;
  /** The block list's IP sets: one per IP version the list holds (none for an empty list). */
  public readonly ipSets: aws.wafv2.IpSet[];
  /** The association of the web ACL with the load balancer. */
  public readonly association: aws.wafv2.WebAclAssociation;
  /** The web ACL's name and metric name: CloudWatch's WebACL dimension. */
  public readonly metricName: string;
  /** The web ACL's Region (from its ARN): CloudWatch's Region dimension of its metrics. */
  public readonly region: pulumi.Output<string>;

  constructor(name: string, args: WebAclArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("WebAcl"), name, {}, opts);
    const parent = { parent: this };
    const waf = parseWaf(args.waf);
    const sets = new Map(
      blockListVersions(waf).map((version) => {
        const label = version === "ipv4" ? "IPv4" : "IPv6";
        const set = new aws.wafv2.IpSet(
          fitLogicalName("aws:wafv2/ipSet:IpSet", name, `block-${version}`),
          {
            scope: "REGIONAL",
            ipAddressVersion: version === "ipv4" ? "IPV4" : "IPV6",
            addresses: [...waf.blockList[version]],
            description: `${name}: mastodon:waf.blockList, ${label}`,
          },
          parent,
        );
        return [version, set] as const;
      }),
    );
    this.ipSets = [...sets.values()];
    this.metricName = scopedName(args.scope, "aws:wafv2/webAcl:WebAcl", name);
    this.webAcl = new aws.wafv2.WebAcl(
      name,
      {
        name: this.metricName,
        // AWS WAF takes no quotes or parentheses in a description (src/aws/naming/wafAclRules.ts).
        description: `${name}: the Mastodon web ACL, mastodon:waf`,
        scope: "REGIONAL",
        defaultAction: { allow: {} },
        rules: wafRules<pulumi.Input<string>>(waf, {
          ipv4: sets.get("ipv4")?.arn,
          ipv6: sets.get("ipv6")?.arn,
        }) as aws.types.input.wafv2.WebAclRule[],
        visibilityConfig: {
          cloudwatchMetricsEnabled: true,
          metricName: this.metricName,
          sampledRequestsEnabled: true,
        },
      },
      parent,
    );
    this.association = new aws.wafv2.WebAclAssociation(
      `${name}-alb`,
      { webAclArn: this.webAcl.arn, resourceArn: args.loadBalancerArn },
      parent,
    );
    // arn:aws:wafv2:<region>:<account>:regional/webacl/<name>/<id>
    this.region = this.webAcl.arn.apply((arn) => arn.split(":")[3] as string);
    this.registerOutputs({ webAclArn: this.webAcl.arn, metricName: this.metricName });
  }
}
