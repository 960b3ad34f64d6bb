import * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";

/** Its value until the scheduler's host stores the first password (src/database/files/mastodon-database.sh). */
export const OWNER_PASSWORD_PLACEHOLDER = "not-yet-created";

/** Beside the stack's path, not under it: only the scheduler's fleet may read or write it. */
export function ownerPasswordParameterName(parameterPrefix: string): string {
  return `${parameterPrefix}-admin/owner-password`;
}

/**
 * The SSM SecureString the scheduler's host writes the owner's first password into, once, after it
 * creates the account (mastodon:owner). Declared here so the stack owns it (deleted with the stack,
 * readable only by its ARN), with a placeholder value Pulumi never sets again: the host's write is
 * the parameter's version 2, which is how the host knows the password was stored.
 */
export function ownerPasswordParameter(
  name: string,
  parameterPrefix: string,
  username: string,
  parent: pulumi.Resource,
): aws.ssm.Parameter {
  return new aws.ssm.Parameter(
    `${name}-owner-password`,
    {
      name: ownerPasswordParameterName(parameterPrefix),
      type: "SecureString",
      value: OWNER_PASSWORD_PLACEHOLDER,
      description: `First password of the Mastodon owner ${username}, written by the scheduler's host`,
    },
    { parent, ignoreChanges: ["value"] },
  );
}

/** The command an operator runs to read it (the stack output ownerPassword). */
export function ownerPasswordCommand(parameterName: string, region: string): string {
  return `aws ssm get-parameter --region ${region} --with-decryption --name ${parameterName} --query Parameter.Value --output text`;
}
