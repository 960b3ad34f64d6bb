import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/**
 * An ACM certificate validated by DNS records in a Route 53 zone; returns the ARN once validated.
 * Shared by the ALB (stack region) and CloudFront (us-east-1, through `provider`).
 */
export function dnsValidatedCertificate(
  name: string,
  domain: string,
  zoneId: string,
  opts: { parent: pulumi.Resource; provider?: aws.Provider },
): pulumi.Output<string> {
  const certificate = new aws.acm.Certificate(
    name,
    { domainName: domain, validationMethod: "DNS", keyAlgorithm: "EC_prime256v1" },
    opts,
  );
  const option = certificate.domainValidationOptions.apply((options) => {
    const found = options.find((o) => o.domainName === domain);
    if (!found) throw new Error(`${name}: ACM returned no validation record for ${domain}`);
    return found;
  });
  const record = new aws.route53.Record(
    `${name}-validation`,
    {
      zoneId,
      name: option.resourceRecordName,
      type: option.resourceRecordType,
      records: [option.resourceRecordValue],
      ttl: 300,
      allowOverwrite: true,
    },
    { parent: opts.parent },
  );
  const validation = new aws.acm.CertificateValidation(
    name,
    { certificateArn: certificate.arn, validationRecordFqdns: [record.fqdn] },
    opts,
  );
  return validation.certificateArn;
}
