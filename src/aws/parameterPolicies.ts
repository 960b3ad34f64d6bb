/**
 * IAM policy documents for SSM parameters (pure): a fleet's reads, one host's read of one parameter,
 * the owner's first password's write. Every parameter is named by its own ARN: no path wildcard.
 */
import { type PolicyDocument, policyDocument as doc } from "./policies";

/**
 * A parameter's ARN. A hierarchical name starts with `/`, which the ARN does not double (AWS Systems
 * Manager User Guide, "Working with parameter hierarchies": arn:aws:ssm:region:account:parameter/a/b).
 */
export function parameterArn(region: string, accountId: string, name: string): string {
  return `arn:aws:ssm:${region}:${accountId}:parameter${name.startsWith("/") ? "" : "/"}${name}`;
}

/**
 * Decrypt SecureStrings through SSM only, with the account's aws/ssm key. KMS authorizes Decrypt on
 * the key's ARN, never on an alias ARN (AWS KMS Developer Guide, "Using aliases to control access to
 * KMS keys"): the alias is matched with the kms:ResourceAliases condition key instead.
 */
function decryptThroughSsm(region: string, accountId: string) {
  return {
    Sid: "DecryptThroughSsm",
    Effect: "Allow",
    Action: "kms:Decrypt",
    Resource: `arn:aws:kms:${region}:${accountId}:key/*`,
    Condition: {
      StringEquals: { "kms:ViaService": `ssm.${region}.amazonaws.com` },
      "ForAnyValue:StringEquals": { "kms:ResourceAliases": "alias/aws/ssm" },
    },
  };
}

/** Read one SecureString parameter (the self-managed Redis host's password, the RDS master's). */
export function parameterReadPolicy(parameterArn: string, region: string, accountId: string): PolicyDocument {
  return doc(
    { Sid: "ReadParameter", Effect: "Allow", Action: "ssm:GetParameter", Resource: parameterArn },
    decryptThroughSsm(region, accountId),
  );
}

/**
 * Read and overwrite one SecureString parameter (the owner's first password, which the scheduler's
 * host writes once: src/database/database.ts). Encrypting with the aws/ssm key goes through SSM too.
 */
export function parameterWritePolicy(
  parameterArn: string,
  region: string,
  accountId: string,
): PolicyDocument {
  const { Condition, Resource } = decryptThroughSsm(region, accountId);
  return doc(
    {
      Sid: "ReadAndWriteParameter",
      Effect: "Allow",
      Action: ["ssm:GetParameter", "ssm:PutParameter"],
      Resource: parameterArn,
    },
    { Sid: "EncryptThroughSsm", Effect: "Allow", Action: "kms:Encrypt", Resource, Condition },
  );
}

/**
 * A fleet host reads the parameters its hosts name (src/fleet/host/fleetHost.ts, FleetHost.parameterNames:
 * the boot renderer's GetParameters, the database programs' GetParameter) and no other, each by its
 * ARN: GetParameters is authorized for every name it asks for (AWS Systems Manager User Guide,
 * "Restricting access to Parameter Store parameters using IAM policies"), so a name not listed fails
 * the call. It decrypts them only through SSM with the account's aws/ssm key.
 */
export function fleetParametersPolicy(
  region: string,
  accountId: string,
  names: readonly string[],
): PolicyDocument {
  if (names.length === 0)
    throw new Error("fleetParametersPolicy: no parameter to read (IAM refuses an empty Resource)");
  return doc(
    {
      Sid: "ReadOwnParameters",
      Effect: "Allow",
      Action: ["ssm:GetParameters", "ssm:GetParameter"],
      Resource: [...new Set(names)].sort().map((n) => parameterArn(region, accountId, n)),
    },
    decryptThroughSsm(region, accountId),
  );
}
