/**
 * AWS WAF (wafv2) in the fake cloud's tables: how the web ACL and the IP set are named (and
 * autonamed), and what AWS and the provider refuse in their inputs: the web ACL's rules
 * (./wafAclRules.ts), IP set addresses, and an association's target. Each rule cites its source
 * (./wafLimits.ts holds the figures).
 */
import { isIPv4, isIPv6 } from "net";
import { DEFAULT_AUTONAME, type InputRule, type NamingRule } from "./types";
import { DESCRIPTION_RULE, WEB_ACL_RULES } from "./wafAclRules";
import { WAF_QUOTAS } from "./wafLimits";

/** Web ACL and IP set names: 1-128 of [0-9A-Za-z_-], unique per scope and Region. */
const WAF_NAME = {
  autoname: DEFAULT_AUTONAME,
  maxLength: 128,
  pattern: /^[\w-]+$/,
  charset: "letters, digits, _ and -",
  scope: "region",
} as const;

export const WAF_NAMING_RULES: Readonly<Record<string, NamingRule | null>> = {
  "aws:wafv2/webAcl:WebAcl": {
    property: "name",
    ...WAF_NAME,
    source:
      'pulumi-aws provider/autonaming.go setAutonaming (maxLength 255, "-": no override for aws_wafv2_web_acl in resource_overrides.go); terraform-provider-aws internal/service/wafv2/web_acl.go name StringLenBetween(1, 128), ^[0-9A-Za-z_-]+$; AWS WAF API Reference CreateWebACL Name: 1-128, ^[\\w\\-]+$',
  },
  "aws:wafv2/ipSet:IpSet": {
    property: "name",
    ...WAF_NAME,
    source:
      "pulumi-aws provider/autonaming.go setAutonaming (maxLength 255); terraform-provider-aws internal/service/wafv2/ip_set.go name StringLenBetween(1, 128), ^[0-9A-Za-z_-]+$; AWS WAF API Reference CreateIPSet Name: 1-128, ^[\\w\\-]+$",
  },
  // Its id is "<web ACL ARN>,<resource ARN>" (terraform-provider-aws web_acl_association.go): no name.
  "aws:wafv2/webAclAssociation:WebAclAssociation": null,
};

/** The IP version of an address in CIDR notation as AWS WAF takes it, or undefined. */
function cidrVersion(value: unknown): "IPV4" | "IPV6" | undefined {
  const m = typeof value === "string" ? /^([^/]+)\/(\d{1,3})$/.exec(value) : null;
  if (!m) return undefined;
  const prefix = Number(m[2]);
  if (isIPv4(m[1] as string) && prefix >= 1 && prefix <= 32) return "IPV4";
  if (isIPv6(m[1] as string) && prefix >= 1 && prefix <= 128) return "IPV6";
  return undefined;
}

const IP_SET_RULES: readonly InputRule[] = [
  DESCRIPTION_RULE,
  {
    property: "addresses",
    problems: (inputs) => {
      const addresses = (inputs["addresses"] as readonly unknown[] | undefined) ?? [];
      const version = inputs["ipAddressVersion"];
      const problems =
        version === "IPV4" || version === "IPV6"
          ? []
          : [`ipAddressVersion is ${JSON.stringify(version)}: it must be IPV4 or IPV6`];
      if (addresses.length > WAF_QUOTAS.ipSetAddresses)
        problems.push(`${addresses.length} addresses, over the ${WAF_QUOTAS.ipSetAddresses} an IP set holds`);
      for (const address of addresses) {
        const v = cidrVersion(address);
        if (!v) problems.push(`${JSON.stringify(address)} is not an address in CIDR notation (/0 excepted)`);
        else if (v !== version)
          problems.push(`${JSON.stringify(address)} is ${v} in an ${String(version)} set`);
      }
      return problems;
    },
    source:
      'AWS WAF API Reference IPSet Addresses ("All addresses must be specified using Classless Inter-Domain Routing (CIDR) notation. AWS WAF supports all IPv4 and IPv6 CIDR ranges except for /0") and IPAddressVersion (IPV4 | IPV6); AWS WAF quotas "Maximum number of IP addresses in CIDR notation per IP set: 10,000"; terraform-provider-aws ip_set.go addresses MaxItems 10000',
  },
];

const ASSOCIATION_RULES: readonly InputRule[] = [
  {
    property: "resourceArn",
    problems: (inputs) => {
      const acl = /^arn:aws[\w-]*:wafv2:([a-z0-9-]+):\d{12}:regional\/webacl\//.exec(
        String(inputs["webAclArn"]),
      );
      const alb = /^arn:aws[\w-]*:elasticloadbalancing:([a-z0-9-]+):\d{12}:loadbalancer\/app\//.exec(
        String(inputs["resourceArn"]),
      );
      if (!acl) return [`webAclArn ${JSON.stringify(inputs["webAclArn"])} is not a REGIONAL web ACL's ARN`];
      if (!alb)
        return [
          `resourceArn ${JSON.stringify(inputs["resourceArn"])} is not an Application Load Balancer's ARN`,
        ];
      return acl[1] === alb[1]
        ? []
        : [`the web ACL is in ${acl[1]}, the load balancer in ${alb[1]}: they must share a Region`];
    },
    source:
      'AWS WAF API Reference AssociateWebACL: ResourceArn for an Application Load Balancer is "arn:partition:elasticloadbalancing:region:account-id:loadbalancer/app/load-balancer-name/load-balancer-id"; a regional resource is protected by a REGIONAL web ACL of its own Region (AWS WAF Developer Guide, "Resources that you can protect")',
  },
];

export const WAF_INPUT_RULES: Readonly<Record<string, readonly InputRule[]>> = {
  "aws:wafv2/webAcl:WebAcl": WEB_ACL_RULES,
  "aws:wafv2/ipSet:IpSet": IP_SET_RULES,
  "aws:wafv2/webAclAssociation:WebAclAssociation": ASSOCIATION_RULES,
};
