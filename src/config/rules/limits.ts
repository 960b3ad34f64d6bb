/**
 * What AWS itself would refuse across fields, and what the program's surroundings must satisfy:
 * the storage ceiling against the allocated storage, two names that would collide, the region, and
 * secrets where the package needs plain values. Each problem names its config key, the value and
 * the fix.
 */
import { dataLines } from "../../vocabulary/data";
import { minMaxStorageGiB } from "../../database/postgres";
import { type PathSegment, type Problem, SECRET_CONFIG_PATHS, configKey } from "../problems";
import { type Rule, error } from "./rule";
import { existingSecretsInClear } from "../../migration/rules";

/** The commercial partition's Regions (data/aws-regions.txt, from the AWS General Reference). */
export const AWS_REGIONS: readonly string[] = dataLines("aws-regions.txt");

/** RDS refuses a storage autoscaling ceiling less than 10% above the allocated storage. */
export const storageCeiling: Rule = (config) => {
  const { storageGiB, maxStorageGiB } = config.database;
  const least = minMaxStorageGiB(storageGiB);
  return maxStorageGiB < least
    ? [
        error(
          ["database", "maxStorageGiB"],
          maxStorageGiB,
          `is below ${least}: RDS refuses a storage autoscaling ceiling less than 10% above the allocated storage (database.storageGiB ${storageGiB}; Amazon RDS User Guide, storage autoscaling). Set at least ${least} (AWS recommends ${Math.ceil(storageGiB * 1.26)}), or remove it for the default`,
        ),
      ]
    : [];
};

/** Names that must differ: one DNS name cannot point at both the ALB and CloudFront. */
export const nameCollisions: Rule = (config) => {
  const media = config.media.customDomain;
  if (!media) return [];
  const clash = [
    { key: "webDomain", value: config.webDomain },
    { key: "domain", value: config.domain },
  ].find((d) => d.value === media);
  return clash
    ? [
        error(
          ["media", "customDomain"],
          media,
          `is the same name as mastodon:${clash.key}: the web domain's record points at the load balancer and the media domain's at CloudFront, and one name holds one alias record. Use a name of its own, e.g. files.${config.domain}`,
        ),
      ]
    : [];
};

/** `aws:region`: a Region of the partition whose ARNs the package writes. */
export function regionProblems(region: string | undefined): Problem[] {
  if (region === undefined) {
    return [
      {
        severity: "error",
        key: "aws:region",
        message: "is required: set the Region to deploy into, e.g. pulumi config set aws:region us-east-1",
      },
    ];
  }
  if (AWS_REGIONS.includes(region)) return [];
  const partition = /^us-gov-/.test(region)
    ? "; GovCloud (aws-us-gov) is not supported: the package writes arn:aws: ARNs"
    : /^cn-/.test(region)
      ? "; the China Regions (aws-cn) are not supported: the package writes arn:aws: ARNs"
      : "";
  return [
    {
      severity: "error",
      key: "aws:region",
      value: region,
      message: `is not an AWS Region${partition}. Use one such as us-east-1, eu-central-1 or ap-northeast-1 (data/aws-regions.txt lists them)`,
    },
  ];
}

const ALLOWED_SECRETS = SECRET_CONFIG_PATHS.map((p) => configKey(p))
  .join(", ")
  .replace(/, ([^,]*)$/, " and $1");

const isPrefix = (prefix: readonly PathSegment[], of: readonly PathSegment[]) =>
  prefix.length <= of.length && prefix.every((s, i) => s === of[i]);

/**
 * Secrets where plain values are required, and the SMTP password not kept as a secret. A path is
 * fine when it is, or contains (Pulumi marks a whole top-level key secret), an allowed secret.
 */
export function secretProblems(
  raw: Record<string, unknown>,
  secretPaths: readonly (readonly PathSegment[])[],
): Problem[] {
  const problems: Problem[] = [];
  for (const secretPath of secretPaths) {
    const allowed = SECRET_CONFIG_PATHS.some((p) => isPrefix(secretPath, p) || isPrefix(p, secretPath));
    if (!allowed) {
      problems.push(
        error(
          secretPath,
          "[secret]",
          `is stored as a secret, but the package needs it in plain text (it becomes names, tags, user-data or outputs, which a secret must never reach). Set it without --secret: pulumi config set --path '${configKey(secretPath)}' <value>. Only ${ALLOWED_SECRETS} may be secrets`,
        ),
      );
    }
  }
  // Values that must be secrets: in plain text in the stack file, they would sit in Git.
  const mustBeSecret: [string[], unknown, string][] = [
    [
      ["mail", "smtp", "password"],
      (raw["mail"] as { smtp?: { password?: unknown } } | undefined)?.smtp?.password,
      "<password>",
    ],
    [["translation", "apiKey"], (raw["translation"] as { apiKey?: unknown } | undefined)?.apiKey, "<key>"],
  ];
  for (const [path, value, placeholder] of mustBeSecret) {
    if (value !== undefined && !secretPaths.some((p) => isPrefix(p, path))) {
      problems.push(
        error(
          path,
          "[hidden]",
          `is stored in plain text in the stack file; keep it a secret: pulumi config set --secret --path '${configKey(path)}' ${placeholder}`,
        ),
      );
    }
  }
  // An existing instance's secrets: the same, and a note where the offline plan cannot read them.
  problems.push(...existingSecretsInClear(raw, secretPaths));
  return problems;
}
