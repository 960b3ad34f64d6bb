/**
 * What a host's SSM Agent may do: Session Manager instead of SSH, Run Command (the migrations
 * document `npm run upgrade` sends to the scheduler's host) and the agent's own registration,
 * association and inventory calls. Pure: the policy document only.
 *
 * The AWS managed policy AmazonSSMManagedInstanceCore (AWS Managed Policy Reference Guide,
 * AmazonSSMManagedInstanceCore, v2) also allows ssm:GetParameter and ssm:GetParameters on every
 * parameter of the account: with it every host could read every SecureString (the RDS master's
 * password, SECRET_KEY_BASE, another stack's secrets), whatever its own narrow parameter policy says
 * (src/aws/parameterPolicies.ts). So the hosts carry this inline copy of its three statements
 * without those two actions, the same statements AWS ships without them as
 * AmazonSSMManagedEC2InstanceDefaultPolicy for Default Host Management (AWS Systems Manager User
 * Guide, "AWS managed policies for AWS Systems Manager"). The agent reads no parameter for itself:
 * Session Manager's minimum is ssm:UpdateInstanceInformation and the four ssmmessages channel
 * actions (AWS Systems Manager User Guide, "Create a custom IAM instance profile for Session
 * Manager"; the S3 and KMS actions it adds there serve session logs and KMS-encrypted sessions,
 * which the package does not configure), and Run Command reaches the agent through ec2messages
 * ("Working with SSM Agent"; "Reference: ec2messages, ssmmessages, and other API operations").
 * What a host does read, it reads by name through its own parameter policies.
 *
 * Every resource is "*", as in both AWS policies: the ssmmessages actions have no resource type
 * (Service Authorization Reference, "Amazon Message Gateway Service"), and the agent's other calls
 * name its own instance, AWS's and the account's documents and the associations the service assigns
 * it, none of them a parameter.
 */
// The document's type only: the policy pack imports this module, and policies.ts reaches the hosts' files.
import type { PolicyDocument } from "./policies";

/** AmazonSSMManagedInstanceCore v2's first statement, without ssm:GetParameter and ssm:GetParameters. */
export const SSM_AGENT_ACTIONS: readonly string[] = [
  "ssm:DescribeAssociation",
  "ssm:GetDeployablePatchSnapshotForInstance",
  "ssm:GetDocument",
  "ssm:DescribeDocument",
  "ssm:GetManifest",
  "ssm:ListAssociations",
  "ssm:ListInstanceAssociations",
  "ssm:PutInventory",
  "ssm:PutComplianceItems",
  "ssm:PutConfigurePackageResult",
  "ssm:UpdateAssociationStatus",
  "ssm:UpdateInstanceAssociationStatus",
  "ssm:UpdateInstanceInformation",
];

/** Session Manager's channels. */
export const SESSION_MANAGER_ACTIONS: readonly string[] = [
  "ssmmessages:CreateControlChannel",
  "ssmmessages:CreateDataChannel",
  "ssmmessages:OpenControlChannel",
  "ssmmessages:OpenDataChannel",
];

/** Run Command's message delivery to the agent. */
export const RUN_COMMAND_ACTIONS: readonly string[] = [
  "ec2messages:AcknowledgeMessage",
  "ec2messages:DeleteMessage",
  "ec2messages:FailMessage",
  "ec2messages:GetEndpoint",
  "ec2messages:GetMessages",
  "ec2messages:SendReply",
];

/**
 * The AWS managed policies that let a role read SSM parameters it is not given by name (AWS Managed
 * Policy Reference Guide, each policy's JSON document): a host role the package declares carries
 * none of them. AmazonSSMManagedInstanceCore v2: ssm:GetParameter and ssm:GetParameters on "*";
 * AmazonEC2RoleforSSM v8: ssm:GetParameters on "*"; AmazonSSMReadOnlyAccess: ssm:Get* on "*";
 * AmazonSSMFullAccess: ssm:* on "*".
 */
export const PARAMETER_READING_MANAGED_POLICIES: readonly string[] = [
  "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
  "arn:aws:iam::aws:policy/service-role/AmazonEC2RoleforSSM",
  "arn:aws:iam::aws:policy/AmazonSSMReadOnlyAccess",
  "arn:aws:iam::aws:policy/AmazonSSMFullAccess",
];

/** The SSM Agent's inline policy on a host's role: AmazonSSMManagedInstanceCore without its parameter reads. */
export function ssmAgentPolicy(): PolicyDocument {
  return {
    Version: "2012-10-17",
    Statement: [
      { Sid: "SsmAgentCore", Effect: "Allow", Action: [...SSM_AGENT_ACTIONS], Resource: "*" },
      { Sid: "SessionManagerChannels", Effect: "Allow", Action: [...SESSION_MANAGER_ACTIONS], Resource: "*" },
      { Sid: "RunCommandMessages", Effect: "Allow", Action: [...RUN_COMMAND_ACTIONS], Resource: "*" },
    ],
  };
}
