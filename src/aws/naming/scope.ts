/**
 * The deployment a name belongs to: the Pulumi project, the stack and the MastodonStack's name.
 *
 * Pulumi keeps a stack name unique within its project only ("The stack name must be unique within a
 * project", Pulumi documentation, "Understanding Stacks"), so two projects deployed into one AWS
 * account may both have a stack called `production`. Every name this package gives explicitly in a
 * namespace AWS keeps per account and Region (SSM parameter names, CloudWatch log group names, RDS
 * and ElastiCache final snapshot identifiers, ECR pull-through cache prefixes, the tags an IAM
 * condition or a Data Lifecycle Manager policy selects by) or per account (CloudWatch dashboards) is
 * therefore built from all three. Autonamed resources need none of it: the provider adds a random
 * suffix. MastodonStack builds the scope once (`deploymentScope`) and hands it to its children.
 * Pure: no Pulumi here.
 */
import { physicalName, shortHash } from "./index";

/**
 * Pulumi's own rule for project and stack names: 1-100 of A-Z a-z 0-9 _ . - (pulumi
 * sdk/go/common/tokens ValidateProjectName: "project names are limited to 100 characters";
 * "stack names are limited to 100 characters and may only contain alphanumeric, hyphens,
 * underscores, or periods"). SSM parameter and log group names take those characters as they are.
 */
const SEGMENT_MAX = 100;
const SEGMENT_CHARS = /^[A-Za-z0-9_.-]+$/;

/** Tag values: up to 256 characters (Tagging AWS Resources User Guide, "Tag naming limits and requirements"). */
const TAG_VALUE_MAX = 256;

/** The root of the deployment's paths: its SSM parameters, log groups and the hosts' metric dimension. */
const SCOPE_ROOT = "/mastodon";

/** Who a deployment is: what its explicit names are built from. */
export interface DeploymentIdentity {
  /** The Pulumi project (Pulumi.yaml's `name`; pulumi.getProject()). */
  project: string;
  /** The Pulumi stack (pulumi.getStack()). */
  stack: string;
  /** The MastodonStack's name, which starts every child's logical name. */
  name: string;
}

/** The identity and the two facts every child reads from it, computed once. */
export interface DeploymentScope extends DeploymentIdentity {
  /**
   * `/mastodon/<project>/<stack>/<name>`: the SSM path of the deployment's parameters (the fleets
   * may read only these), the root of its log groups (src/monitoring/logs.ts) and the Stack dimension of
   * the hosts' metrics.
   */
  readonly parameterPrefix: string;
  /**
   * `<project>/<stack>/<name>`: the `mastodon:stack` tag, which the fleet roles' IAM condition and
   * the policy pack pair resources by (src/aws/policyTags.ts).
   */
  readonly tag: string;
}

/**
 * A path segment as Pulumi allows project and stack names: kept as is when it is one, else its
 * other characters become hyphens and it is cut, with a hash of the original keeping it unique.
 * A MastodonStack name of any length fits the same way.
 */
function segment(value: string): string {
  if (SEGMENT_CHARS.test(value) && value.length <= SEGMENT_MAX) return value;
  const hash = shortHash(value, 7);
  return `${value.replace(/[^A-Za-z0-9_.-]/g, "-").slice(0, SEGMENT_MAX - hash.length - 1)}-${hash}`;
}

/** Parts joined by `/` within a tag value's 256 characters, cut with a hash of the whole when longer. */
function tagValue(parts: readonly string[]): string {
  const whole = parts.join("/");
  if (whole.length <= TAG_VALUE_MAX) return whole;
  const hash = shortHash(whole, 7);
  return `${whole.slice(0, TAG_VALUE_MAX - hash.length - 1)}-${hash}`;
}

/**
 * A deployment's scope from its Pulumi project and stack and its MastodonStack's name. The path has
 * four levels and at most 313 characters, so every parameter under it stays within SSM's 15 levels
 * and 1011 characters and every log group within CloudWatch Logs' 512 (a fleet name adds 33).
 */
export function deploymentScope(project: string, stack: string, name: string): DeploymentScope {
  const identity = { project, stack, name };
  return {
    ...identity,
    parameterPrefix: [SCOPE_ROOT, ...[project, stack, name].map(segment)].join("/"),
    tag: scopedTag(identity, name),
  };
}

/**
 * A tag value naming one component of the deployment (`<project>/<stack>/<component>`), for tags
 * something selects by across the account and Region (an IAM condition, a DLM policy's target).
 */
export function scopedTag(scope: DeploymentIdentity, component: string): string {
  return tagValue([segment(scope.project), segment(scope.stack), component]);
}

/**
 * An explicit name for `type` (and its `property`, when the name is not the type's own) in a
 * namespace AWS keeps per account or Region: `<project>-<stack>-<component>[-<suffix>...]`, fitted
 * to the type's rule by physicalName (characters, case, length; a hash when it had to change).
 * `component` is the child's logical name, which already starts with the MastodonStack's name.
 */
export function scopedName(
  scope: DeploymentIdentity,
  type: string,
  component: string,
  suffix: readonly string[] = [],
  property?: string,
): string {
  return physicalName(type, [scope.project, scope.stack, component, ...suffix], property);
}
