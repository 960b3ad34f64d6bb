/**
 * The fake cloud behind the offline plan and the tests: it answers resource registrations and
 * provider calls the way the Pulumi AWS provider and AWS would, deterministically. Every named type
 * is autonamed and checked by the one table in src/aws/naming/ (length, characters, prefixes,
 * uniqueness within its scope); ids and ARNs have the shape AWS gives them for their service; and
 * the computed attributes the program reads (endpoints, versions, ARN suffixes) are returned, so
 * references between resources resolve to the values AWS would return. Nothing here decides what
 * the program declares.
 *
 * Where the provider or AWS would refuse a name, or an input by a rule of its type
 * (src/aws/naming/inputRules.ts), the fake cloud records a NameRefusal (it does not throw mid-run,
 * so one plan reports every refusal at once); runUnderMocks raises them.
 */
import type * as pulumi from "@pulumi/pulumi";
import {
  autoname,
  autonameTooLong,
  PROPERTY_NAMING_RULES,
  inputProblems,
  nameProblems,
  namingRule,
} from "../aws/naming";
import { COMPUTE_ANSWERS } from "./fake/computeAnswers";
import { availabilityZonesAnswer, instanceTypeOfferingsAnswer } from "./fake/zones";
import {
  accountRefusal,
  accountServiceLinkedRoles,
  createdServiceLinkedRole,
  getRolesAnswer,
} from "./fake/account";
import { type AccountNames, TakenNames } from "./fake/names";
import { ListenerPriorities } from "./fake/listenerRules";
import { SERVICE_ANSWERS } from "./fake/serviceAnswers";
import { type FakeDbSnapshot, getSnapshotAnswer } from "./fake/snapshots";
import { type Answer, type Ctx, FAKE_ACCOUNT, type State, hex } from "./fake/shapes";

export { FAKE_ACCESS_KEY_ID, FAKE_ACCOUNT, fakeSecret } from "./fake/shapes";
export type { AccountNames, NameHolder } from "./fake/names";
export { DB_SNAPSHOT_MANY_RESULTS, DB_SNAPSHOT_NO_RESULTS, type FakeDbSnapshot } from "./fake/snapshots";

const ANSWERS: Readonly<Record<string, (c: Ctx) => Answer>> = { ...COMPUTE_ANSWERS, ...SERVICE_ANSWERS };

/** What the fake cloud knows beyond its rules: the architecture of AMIs the operator brings, the date. */
export interface FakeCloudOptions {
  /** AMI id -> architecture; an AMI not listed is answered without one (the plan cannot know it). */
  readonly amis?: Readonly<Record<string, string>>;
  /** The time AWS answers at: which public AMIs are deprecated by then. (@default the current time) */
  readonly now?: Date;
  /**
   * The service principals whose service-linked role the account already has. (@default OpenSearch's:
   * the account meets docs/deployed.md's once-per-account step; [] is a fresh account)
   */
  readonly serviceLinkedRoles?: readonly string[];
  /** The account's zone name -> zone ID mapping where it differs from src/testing/fake/zones.ts's. */
  readonly zoneIds?: Readonly<Record<string, string>>;
  /** Who deploys: `<project>/<stack>` (runUnderMocks sets it). */
  readonly deployment?: string;
  /** The explicit names other deployments hold in the account (src/testing/fake/names.ts). (@default none) */
  readonly accountNames?: AccountNames;
  /** The RDS DB snapshots the account holds or is shared (src/testing/fake/snapshots.ts). (@default none) */
  readonly dbSnapshots?: readonly FakeDbSnapshot[];
}

/** The provider's words when DescribeImages finds nothing (terraform-provider-aws ec2_ami_data_source.go). */
export const AMI_NO_RESULTS =
  "Your query returned no results. Please change your search criteria and try again.";

/**
 * When a public AMI is deprecated: two years after its creation, by default (Amazon EC2 User Guide,
 * "Deprecate an Amazon EC2 AMI": "all public AMIs have their deprecation time set to 2 years after
 * the AMI creation date"). From then on DescribeImages leaves it out unless IncludeDeprecated is set
 * (EC2 API Reference, DescribeImages, IncludeDeprecated); it still launches.
 */
export function amiDeprecationTime(created: Date): Date {
  const deprecated = new Date(created);
  deprecated.setUTCFullYear(created.getUTCFullYear() + 2);
  return deprecated;
}

/** A Debian cloud image's creation day, from its serial's YYYYMMDD (debian-12-arm64-20250331-1966). */
export function debianSerialDate(serial: string): Date | undefined {
  const m = /^([0-9]{4})([0-9]{2})([0-9]{2})-[0-9]+$/.exec(serial);
  if (!m) return undefined;
  const date = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  return Number.isNaN(date.getTime()) ? undefined : date;
}

const filterValue = (inputs: State, name: string): string | undefined =>
  (inputs["filters"] as { name: string; values: string[] }[] | undefined)?.find((f) => f.name === name)
    ?.values[0];

/**
 * ec2.getAmi: Debian's AMIs by their exact name (debian-12-<amd64|arm64>-<serial>), any other by
 * its id. AWS refuses a query with no match; so does the fake for a Debian name it cannot parse, and
 * for a Debian image deprecated by `now` (two years after the day its serial names) unless the
 * query includes deprecated images.
 */
function getAmi(inputs: State, region: string, options: FakeCloudOptions): State {
  const name = filterValue(inputs, "name");
  if (name) {
    const match = /^debian-12-(amd64|arm64)-([0-9]{8}-[0-9]+)$/.exec(name);
    const created = match ? debianSerialDate(match[2] as string) : undefined;
    if (!match || !created) throw new Error(`${AMI_NO_RESULTS} (AMI name ${name})`);
    const deprecated = amiDeprecationTime(created);
    if (inputs["includeDeprecated"] !== true && (options.now ?? new Date()) >= deprecated)
      throw new Error(
        `${AMI_NO_RESULTS} (AMI name ${name}: deprecated since ${deprecated.toISOString().slice(0, 10)}, two years after its creation, and the query does not include deprecated images)`,
      );
    const architecture = match[1] === "amd64" ? "x86_64" : "arm64";
    const id = `ami-${hex(`${region}:${name}`, 17)}`;
    return {
      id,
      imageId: id,
      name,
      architecture,
      ownerId: String((inputs["owners"] as string[])[0]),
      creationDate: created.toISOString(),
      deprecationTime: deprecated.toISOString(),
    };
  }
  const id = filterValue(inputs, "image-id");
  if (!id) throw new Error("the fake cloud answers ec2.getAmi by name or image-id only");
  return { id, imageId: id, architecture: options.amis?.[id] ?? "", ownerId: FAKE_ACCOUNT };
}

const CALLS: Record<string, (inputs: State, region: string, options: FakeCloudOptions) => State> = {
  "aws:ec2/getAmi:getAmi": getAmi,
  "aws:rds/getSnapshot:getSnapshot": (inputs, region, options) =>
    getSnapshotAnswer(inputs, region, options.dbSnapshots ?? []),
  "aws:iam/getRoles:getRoles": (inputs, _region, options) =>
    getRolesAnswer(inputs, accountServiceLinkedRoles(options.serviceLinkedRoles)),
  "aws:index/getAvailabilityZones:getAvailabilityZones": (_i, region, options) =>
    availabilityZonesAnswer(region, options.zoneIds),
  "aws:ec2/getInstanceTypeOfferings:getInstanceTypeOfferings": (inputs, region, options) =>
    instanceTypeOfferingsAnswer(inputs, region, options.zoneIds),
  "aws:index/getRegion:getRegion": (_i, region) => ({ id: region, name: region, region }),
  "aws:index/getCallerIdentity:getCallerIdentity": () => ({
    accountId: FAKE_ACCOUNT,
    arn: `arn:aws:iam::${FAKE_ACCOUNT}:user/plan`,
    userId: "plan",
    id: FAKE_ACCOUNT,
  }),
  "aws:index/getPartition:getPartition": () => ({ partition: "aws", dnsSuffix: "amazonaws.com", id: "aws" }),
  "aws:elb/getServiceAccount:getServiceAccount": () => ({
    arn: "arn:aws:iam::127311923021:root",
    id: "127311923021",
  }),
};

/** A name, or another input (`kind: "input"`), the provider or AWS would refuse. */
export interface NameRefusal {
  readonly type: string;
  /** The resource's logical name. */
  readonly resource: string;
  readonly property: string;
  /** The refused name; for an input, its value as JSON. */
  readonly name: string;
  readonly problems: readonly string[];
  readonly source: string;
  /** "input": an input rule (src/aws/naming/inputRules.ts) refused it, not a naming rule. */
  readonly kind?: "name" | "input";
}

/** The name the provider settled on for a resource (explicit, or autonamed as its Check would). */
export interface CheckedName {
  readonly property: string;
  readonly value: string;
  readonly autonamed: boolean;
}

export interface FakeCloud {
  readonly mocks: pulumi.runtime.Mocks;
  /** Every refused name of the run so far. */
  readonly refusals: NameRefusal[];
  /** By `<type>::<logical name>`: the name each resource got. */
  readonly names: Map<string, CheckedName>;
  /** By `<type>::<logical name>`: what the cloud answered (id and state). */
  readonly answers: Map<string, { readonly id: string | undefined; readonly state: State }>;
}

export function fakeCloud(region: string, options: FakeCloudOptions = {}): FakeCloud {
  const refusals: NameRefusal[] = [];
  const names = new Map<string, CheckedName>();
  const answers = new Map<string, { id: string | undefined; state: State }>();
  const taken = new TakenNames(options.deployment ?? "", options.accountNames);
  const priorities = new ListenerPriorities();
  // The account's service-linked roles: those it had, then those the run creates.
  const serviceLinkedRoles = accountServiceLinkedRoles(options.serviceLinkedRoles);
  // Explicit providers (e.g. the us-east-1 one for CloudFront's certificate) decide the region.
  const providerRegions = new Map<string, string>();
  const mocks: pulumi.runtime.Mocks = {
    newResource(args) {
      const inputs = args.inputs as State;
      // Components are the program's own: no provider answers for them.
      if (args.custom === false) return { id: undefined, state: inputs };
      const seed = `${args.type}::${args.name}`;
      const providerId = args.provider?.split("::").pop() ?? "";
      const regionOf =
        typeof inputs["region"] === "string"
          ? (inputs["region"] as string)
          : (providerRegions.get(providerId) ?? region);
      const rule = namingRule(args.type);
      const answer = ANSWERS[args.type];
      const refuse = (refusal: Omit<NameRefusal, "type" | "resource">) =>
        refusals.push({ type: args.type, resource: args.name, ...refusal });
      const at = { type: args.type, region: regionOf, resource: args.name };
      if (rule === undefined || !answer) {
        refuse({
          property: "name",
          name: args.name,
          problems: [
            `the fake cloud has no naming rule or answer for ${args.type}; add it to src/aws/naming/ and src/testing/fakeCloud.ts`,
          ],
          source: "src/testing/fakeCloud.ts",
        });
        return { id: `${args.name}-id`, state: inputs };
      }
      let name = "";
      const named: State = {};
      if (rule) {
        const explicit = inputs[rule.property];
        const prefix = inputs[`${rule.property === "name" ? "name" : rule.property}Prefix`];
        const options = rule.autoname;
        const autonamed = explicit === undefined && prefix === undefined && options !== undefined;
        if (typeof explicit === "string") name = explicit;
        else if (typeof prefix === "string") name = `${prefix}${hex(seed, 26)}`;
        else if (autonamed && options) {
          const tooLong = autonameTooLong(options, args.name);
          name = autoname(options, args.name, seed);
          if (tooLong) refuse({ property: rule.property, name, problems: [tooLong], source: rule.source });
        }
        if (name) {
          const problems = nameProblems(rule, name);
          if (problems.length && !refusals.some((r) => r.resource === args.name && r.type === args.type))
            refuse({ property: rule.property, name, problems, source: rule.source });
          const takenBy = taken.claim(at, rule, name, typeof explicit === "string");
          if (takenBy) refuse({ property: rule.property, name, problems: [takenBy], source: rule.source });
          names.set(seed, { property: rule.property, value: name, autonamed });
          named[rule.property] = name;
        }
      }
      for (const extra of PROPERTY_NAMING_RULES[args.type] ?? []) {
        const value = inputs[extra.property];
        const problems = typeof value === "string" ? nameProblems(extra, value) : [];
        const takenBy = typeof value === "string" && taken.claim(at, extra, value, true);
        if (takenBy) problems.push(takenBy);
        if (problems.length)
          refuse({ property: extra.property, name: String(value), problems, source: extra.source });
      }
      for (const { rule: inputRule, problems } of inputProblems(args.type, inputs))
        refuse({
          property: inputRule.property,
          name: JSON.stringify(inputs[inputRule.property.split(/[.[]/)[0] as string]) ?? "",
          problems,
          source: inputRule.source,
          kind: "input",
        });
      const refused =
        accountRefusal(args.type, inputs, serviceLinkedRoles) ??
        priorities.claim(args.type, args.name, inputs);
      if (refused)
        refuse({
          property: refused.property,
          name: JSON.stringify(inputs[refused.property]) ?? "",
          problems: refused.problems,
          source: refused.source,
          kind: "input",
        });
      else if (args.type === "aws:iam/serviceLinkedRole:ServiceLinkedRole")
        serviceLinkedRoles.push(createdServiceLinkedRole(inputs));
      const { id, state } = answer({ logical: args.name, inputs, name, region: regionOf, seed });
      if (args.type.startsWith("pulumi:providers:")) providerRegions.set(id, regionOf);
      const answered = { id, state: { ...inputs, ...named, id, ...state } };
      answers.set(seed, answered);
      return answered;
    },
    call(args) {
      const handler = CALLS[args.token];
      if (!handler)
        throw new Error(`the fake cloud does not answer ${args.token}; add it to src/testing/fakeCloud.ts`);
      try {
        return handler(args.inputs, region, options);
      } catch (e) {
        // As the engine fails an invoke: the provider's words in the gRPC error's details, which the
        // SDK raises as the error's message (@pulumi/pulumi runtime/invoke.js).
        const message = (e as Error).message;
        throw Object.assign(new Error(message), {
          details: `invocation of ${args.token} returned an error: ${message}`,
        });
      }
    },
  };
  return { mocks, refusals, names, answers };
}
