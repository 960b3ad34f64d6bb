/**
 * What the fake account holds besides the run's resources, and what AWS refuses because of it: its
 * service-linked roles (iam.getRoles answers from them; a VPC OpenSearch domain needs one; a second
 * one for a service is refused). src/testing/fakeCloud.ts reads it.
 */
import {
  ELASTICSEARCH_SERVICE_ROLE,
  OPENSEARCH_SERVICE_ROLE,
  SEARCH_SERVICE_ROLE_MISSING,
  type ServiceLinkedRole,
  createServiceLinkedRoleCommand,
  serviceLinkedRoleOf,
  serviceLinkedRolePath,
} from "../../aws/serviceLinkedRoles";
import { FAKE_ACCOUNT, type State } from "./shapes";

/**
 * The account's service-linked roles before the run, by service principal. By default OpenSearch's:
 * the account has taken docs/deployed.md's once-per-account step; [] is a fresh account.
 */
export function accountServiceLinkedRoles(services?: readonly string[]): ServiceLinkedRole[] {
  return (services ?? [OPENSEARCH_SERVICE_ROLE.service]).map((service) => serviceLinkedRoleOf(service));
}

/**
 * iam.getRoles (IAM ListRoles by path prefix, the name pattern applied by the provider) over `roles`,
 * the account's roles that existed before the run. An empty answer is an answer, not an error
 * (unlike iam.getRole).
 */
export function getRolesAnswer(inputs: State, roles: readonly ServiceLinkedRole[]): State {
  const pathPrefix = typeof inputs["pathPrefix"] === "string" ? inputs["pathPrefix"] : "/";
  const pattern = typeof inputs["nameRegex"] === "string" ? new RegExp(inputs["nameRegex"]) : undefined;
  const found = roles.filter(
    (r) => serviceLinkedRolePath(r).startsWith(pathPrefix) && (!pattern || pattern.test(r.name)),
  );
  return {
    id: FAKE_ACCOUNT,
    arns: found.map((r) => `arn:aws:iam::${FAKE_ACCOUNT}:role${serviceLinkedRolePath(r)}${r.name}`),
    names: found.map((r) => r.name),
    ...(inputs["pathPrefix"] !== undefined && { pathPrefix: inputs["pathPrefix"] }),
    ...(inputs["nameRegex"] !== undefined && { nameRegex: inputs["nameRegex"] }),
  };
}

/** A refusal that depends on the account's holdings, with the input it is about and its source. */
export interface AccountRefusal {
  readonly property: string;
  readonly problems: string[];
  readonly source: string;
}

/**
 * What AWS refuses because of what the account holds, not what the inputs say: a VPC domain in an
 * account with neither OpenSearch service-linked role, a service-linked role the account already
 * has. `roles`: the account's service-linked roles, those the run created so far included.
 */
export function accountRefusal(
  type: string,
  inputs: State,
  roles: readonly ServiceLinkedRole[],
): AccountRefusal | undefined {
  if (type === "aws:opensearch/domain:Domain" && inputs["vpcOptions"] !== undefined) {
    const usable = [OPENSEARCH_SERVICE_ROLE.name, ELASTICSEARCH_SERVICE_ROLE.name];
    if (!roles.some((r) => usable.includes(r.name)))
      return {
        property: "vpcOptions",
        problems: [
          `${SEARCH_SERVICE_ROLE_MISSING} (the account has no ${OPENSEARCH_SERVICE_ROLE.name}: ${createServiceLinkedRoleCommand(OPENSEARCH_SERVICE_ROLE)})`,
        ],
        source:
          'Amazon OpenSearch Service Developer Guide, "Using service-linked roles to create VPC domains and direct query data sources"; CreateDomain with VPCOptions, ValidationException',
      };
  }
  if (type === "aws:iam/serviceLinkedRole:ServiceLinkedRole") {
    const suffix = inputs["customSuffix"];
    const wanted = serviceLinkedRoleOf(
      String(inputs["awsServiceName"]),
      typeof suffix === "string" ? suffix : undefined,
    );
    if (roles.some((r) => r.name === wanted.name))
      return {
        property: "awsServiceName",
        problems: [
          `Service role name ${wanted.name} has been taken in this account, please try a different suffix (import the account's role instead)`,
        ],
        source:
          "IAM API Reference, CreateServiceLinkedRole (InvalidInput): one service-linked role per service and account",
      };
  }
  return undefined;
}

/** A service-linked role the run creates, for the refusals after it. */
export function createdServiceLinkedRole(inputs: State): ServiceLinkedRole {
  const suffix = inputs["customSuffix"];
  return serviceLinkedRoleOf(
    String(inputs["awsServiceName"]),
    typeof suffix === "string" ? suffix : undefined,
  );
}
