/**
 * Service-linked roles: IAM roles an AWS service defines and uses on the account's behalf, one per
 * service and account, named and placed by AWS (IAM User Guide, "Using service-linked roles"; IAM API
 * CreateServiceLinkedRole: the role is /aws-service-role/<service>/<name>, and a second one is
 * refused "Service role name <name> has been taken in this account, please try a different suffix").
 */

export interface ServiceLinkedRole {
  /** The service principal it is linked to (CreateServiceLinkedRole AWSServiceName). */
  readonly service: string;
  readonly name: string;
}

/**
 * Amazon OpenSearch Service's role for VPC domains (Amazon OpenSearch Service Developer Guide, "Using
 * service-linked roles to create VPC domains and direct query data sources").
 */
export const OPENSEARCH_SERVICE_ROLE: ServiceLinkedRole = {
  service: "opensearchservice.amazonaws.com",
  name: "AWSServiceRoleForAmazonOpenSearchService",
};

/**
 * The legacy Elasticsearch role: an account that has it "continues to use the Elasticsearch role"
 * for OpenSearch domains (same guide, "Legacy Elasticsearch role").
 */
export const ELASTICSEARCH_SERVICE_ROLE: ServiceLinkedRole = {
  service: "es.amazonaws.com",
  name: "AWSServiceRoleForAmazonElasticsearchService",
};

/** Every service-linked role the package knows, by service principal. */
export const SERVICE_LINKED_ROLES: Readonly<Record<string, ServiceLinkedRole>> = Object.fromEntries(
  [OPENSEARCH_SERVICE_ROLE, ELASTICSEARCH_SERVICE_ROLE].map((r) => [r.service, r]),
);

/**
 * The role CreateServiceLinkedRole makes for `service`: the table's name (AWS's own, per service),
 * else AWSServiceRoleFor<first label>, with `_<suffix>` when a custom suffix is given.
 */
export function serviceLinkedRoleOf(service: string, customSuffix?: string): ServiceLinkedRole {
  const name = SERVICE_LINKED_ROLES[service]?.name ?? `AWSServiceRoleFor${service.split(".")[0] ?? service}`;
  return { service, name: customSuffix === undefined ? name : `${name}_${customSuffix}` };
}

/** A service-linked role's path: /aws-service-role/<service>/. */
export const serviceLinkedRolePath = (role: ServiceLinkedRole) => `/aws-service-role/${role.service}/`;

/** What creates a service-linked role once per account, with the AWS CLI. */
export const createServiceLinkedRoleCommand = (role: ServiceLinkedRole) =>
  `aws iam create-service-linked-role --aws-service-name ${role.service}`;

/** Either role an OpenSearch VPC domain can use, as one anchored name pattern (aws.iam.getRoles nameRegex). */
export const SEARCH_SERVICE_ROLE_PATTERN = `^(${OPENSEARCH_SERVICE_ROLE.name}|${ELASTICSEARCH_SERVICE_ROLE.name})$`;

/**
 * The refusal when an account has neither: Amazon OpenSearch Service's own words
 * (CreateDomain with VPCOptions, ValidationException).
 */
export const SEARCH_SERVICE_ROLE_MISSING =
  "Before you can proceed, you must enable a service-linked role to give Amazon OpenSearch Service permissions to access your VPC.";
