import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { fitLogicalName } from "../aws/naming";
import { searchDomainPolicy } from "../aws/policies";
import type { StackSearchArgs } from "./args";
import { parseSearch } from "./config";
import { ssmPlaceholder } from "../host/boot";
import { type Env, searchEnv } from "../host/env";
import { SEARCH_MASTER_USER, SEARCH_TLS_POLICY } from "./engines";
import { SEARCH_APP_USER, SEARCH_INDEX_PREFIX, type SearchAccess, searchAccess } from "./searchUser";
import {
  OPENSEARCH_SERVICE_ROLE,
  SEARCH_SERVICE_ROLE_MISSING,
  SEARCH_SERVICE_ROLE_PATTERN,
  createServiceLinkedRoleCommand,
} from "../aws/serviceLinkedRoles";
import { providedType, withFormerType } from "../aws/typeToken";

export interface SearchDomainArgs {
  /**
   * The domain's size and engine as mastodon:search writes them; ES_PRESET and the zone layout
   * follow from the nodes and the VPC's zones (src/search/engines.ts).
   */
  search: StackSearchArgs;
  /** The VPC the domain and its security group are in. */
  vpcId: pulumi.Input<string>;
  /** The data subnets, one per zone of the VPC (2 or 3); the domain takes as many as its zone layout uses. */
  dataSubnetIds: pulumi.Input<string>[];
  /** The security groups of the fleets that search (web, Sidekiq): the only ones let in on 443. */
  clientSecurityGroupIds: Record<string, pulumi.Input<string>>;
  /** Where the master's and Mastodon's user's passwords are stored, e.g. /mastodon/production/mastodon. */
  parameterPrefix: string;
}

/**
 * Full-text search: an Amazon OpenSearch Service domain in the data subnets, reachable only from the
 * fleets that search, on 443. Encrypted at rest and between nodes, HTTPS enforced with TLS 1.2 or
 * later, and fine-grained access control with a master user in the domain's internal database. Mastodon
 * does not connect as the master: it has a user of its own (ES_USER, src/search/searchUser.ts) whose
 * role reaches Mastodon's indices alone, made by the scheduler's host as the master at its first
 * boot. Both passwords are generated here and kept as SSM SecureStrings: the app user's is filled
 * into .env.production at boot (never in user-data), the master's is read by the scheduler's host
 * alone, to make that user. With fine-grained access control the domain's resource policy may admit
 * every principal: each request still authenticates as an internal user (Amazon OpenSearch Service
 * Developer Guide, "Fine-grained access control", recommended configuration), and the security
 * group limits who can connect at all.
 *
 * A VPC domain needs the account's service-linked role AWSServiceRoleForAmazonOpenSearchService (or
 * the legacy AWSServiceRoleForAmazonElasticsearchService, which an account that has it keeps using):
 * without it CreateDomain is refused, "you must enable a service-linked role to give Amazon
 * OpenSearch Service permissions to access your VPC" (Amazon OpenSearch Service Developer Guide,
 * "Using service-linked roles to create VPC domains and direct query data sources"). The component
 * looks the role up (aws.iam.getRoles, which answers an empty list rather than failing like getRole)
 * and the domain waits for that answer: in an account without the role, `pulumi preview` (and so
 * `pulumi up`) fails with an error naming the one command that creates it, once per account
 * (docs/deployed.md); the offline plan's fake cloud refuses the domain the way AWS would.
 *
 * It checks the role rather than owning it. The role belongs to the account, not to a stack: one per
 * account, shared by every VPC domain in it, and IAM refuses a second ("has been taken in this
 * account"). Declared here, it would fail the next `pulumi up` of every deployment whose account
 * already has it: each one that followed the documented manual step, every second stack with search
 * in an account, every account that ever made a domain in the console; each would have to
 * `pulumi import` it, and the stacks would then share one role in their states (retainOnDelete
 * keeping it when one goes). Creating it only when the lookup finds none would flip the stack between
 * declaring and not declaring it on the next run. A check costs a fresh account one command, stated
 * at preview, and changes nothing for the others.
 */
export class SearchDomain extends pulumi.ComponentResource {
  /** The OpenSearch Service domain, in the VPC, with fine-grained access control. */
  public readonly domain: aws.opensearch.Domain;
  /** The domain's security group: 443 from clientSecurityGroupIds only. */
  public readonly securityGroup: aws.ec2.SecurityGroup;
  /** The master user's password: the scheduler's host reads it to make Mastodon's user. */
  public readonly passwordParameterName: string;
  /** Mastodon's own user's password (ES_PASS). */
  public readonly appPasswordParameterName: string;
  /** ES_* for Mastodon's own user, ES_PASS as the boot-time placeholder of its parameter. */
  public readonly env: pulumi.Output<Env>;
  /** What the scheduler's host needs to make that user (no secret). */
  public readonly access: pulumi.Output<SearchAccess>;
  /** The domain's name (CloudWatch's DomainName dimension). */
  public readonly domainName: pulumi.Output<string>;

  constructor(name: string, args: SearchDomainArgs, opts?: pulumi.ComponentResourceOptions) {
    super(providedType("SearchDomain"), name, {}, withFormerType("mastodon:search:SearchDomain", opts));
    const parent = { parent: this };
    const vpcZones = args.dataSubnetIds.length;
    if (vpcZones !== 2 && vpcZones !== 3)
      throw new Error(
        `${name}: dataSubnetIds holds ${vpcZones} subnets; give one per zone of the VPC, 2 or 3`,
      );
    const search = parseSearch(args.search, vpcZones);

    this.securityGroup = new aws.ec2.SecurityGroup(
      `${name}-sg`,
      {
        vpcId: args.vpcId,
        description: "OpenSearch: 443 from the fleets that search",
        tags: { Name: `${name}-sg` },
      },
      parent,
    );
    for (const [role, groupId] of Object.entries(args.clientSecurityGroupIds)) {
      new aws.vpc.SecurityGroupIngressRule(
        `${name}-from-${role}`,
        {
          securityGroupId: this.securityGroup.id,
          referencedSecurityGroupId: groupId,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          description: `HTTPS from the ${role} fleets`,
        },
        parent,
      );
    }

    // The master password (OpenSearch: 8-128 characters with upper, lower, digit and special);
    // the special characters need no quoting in .env.production beyond what dotenvQuote does.
    const password = new random.RandomPassword(
      `${name}-master-password`,
      {
        length: 32,
        special: true,
        overrideSpecial: "-_.+",
        minUpper: 1,
        minLower: 1,
        minNumeric: 1,
        minSpecial: 1,
      },
      parent,
    );
    this.passwordParameterName = `${args.parameterPrefix}/search-password`;
    new aws.ssm.Parameter(
      `${name}-password`,
      {
        name: this.passwordParameterName,
        type: "SecureString",
        value: pulumi.secret(password.result),
        description:
          "The OpenSearch master user's password (the scheduler's host makes Mastodon's user with it)",
      },
      parent,
    );
    // Mastodon's own user's password: OpenSearch's internal users need upper, lower, digit and
    // special (Amazon OpenSearch Service Developer Guide, "Fine-grained access control"); the special
    // characters are URL-unreserved, so no client escapes them in its basic authentication.
    const appPassword = new random.RandomPassword(
      `${name}-app-password`,
      {
        length: 32,
        special: true,
        overrideSpecial: "-_.",
        minUpper: 1,
        minLower: 1,
        minNumeric: 1,
        minSpecial: 1,
      },
      parent,
    );
    this.appPasswordParameterName = `${args.parameterPrefix}/search-app-password`;
    new aws.ssm.Parameter(
      `${name}-app-password`,
      {
        name: this.appPasswordParameterName,
        type: "SecureString",
        value: pulumi.secret(appPassword.result),
        description: `Mastodon ES_PASS (the OpenSearch user ${SEARCH_APP_USER})`,
      },
      parent,
    );

    const zones = search.zones;
    let subnetCount: number;
    let clusterZones: aws.types.input.opensearch.DomainClusterConfig;
    switch (zones.kind) {
      case "single":
        subnetCount = 1;
        clusterZones = { zoneAwarenessEnabled: false };
        break;
      case "zone-aware":
        subnetCount = zones.zones;
        clusterZones = {
          zoneAwarenessEnabled: true,
          zoneAwarenessConfig: { availabilityZoneCount: zones.zones },
        };
        break;
      case "uneven":
        throw new Error(
          `${name}: ${zones.nodes} nodes over ${zones.vpcZones} zones (the config rules refuse it)`,
        );
      default: {
        const unknown: never = zones;
        throw new Error(`unknown search zones ${JSON.stringify(unknown)}`);
      }
    }
    // The account's service-linked role for VPC domains, looked up before the domain registers
    // (its subnets wait for the answer). Without it, an error diagnostic fails `pulumi preview`, and
    // with it `pulumi up`, with the fix (as the AMI checks do, src/images/stackImages.ts).
    const serviceRole = aws.iam
      .getRolesOutput({ pathPrefix: "/aws-service-role/", nameRegex: SEARCH_SERVICE_ROLE_PATTERN }, parent)
      .names.apply((names) => {
        const role = names.find((n) => n === OPENSEARCH_SERVICE_ROLE.name) ?? names[0];
        if (!role)
          void pulumi.log.error(
            `${name}: ${SEARCH_SERVICE_ROLE_MISSING} This account has no ${OPENSEARCH_SERVICE_ROLE.name}: create it once per account with \`${createServiceLinkedRoleCommand(OPENSEARCH_SERVICE_ROLE)}\`, then run again (docs/deployed.md).`,
            this,
          );
        return role ?? "";
      });
    const subnetIds = pulumi
      .all([serviceRole, ...args.dataSubnetIds.slice(0, subnetCount)])
      .apply(([, ...ids]) => ids);
    // OpenSearch domain names hold 28 characters; the provider autonames up to 255.
    this.domain = new aws.opensearch.Domain(
      fitLogicalName("aws:opensearch/domain:Domain", name, "es"),
      {
        engineVersion: search.engineVersion,
        clusterConfig: {
          instanceType: search.instanceType,
          instanceCount: search.nodes,
          ...clusterZones,
        },
        ebsOptions: { ebsEnabled: true, volumeType: "gp3", volumeSize: search.volumeGiB },
        encryptAtRest: { enabled: true },
        nodeToNodeEncryption: { enabled: true },
        domainEndpointOptions: { enforceHttps: true, tlsSecurityPolicy: SEARCH_TLS_POLICY },
        advancedSecurityOptions: {
          enabled: true,
          internalUserDatabaseEnabled: true,
          masterUserOptions: {
            masterUserName: SEARCH_MASTER_USER,
            masterUserPassword: pulumi.secret(password.result),
          },
        },
        vpcOptions: {
          subnetIds,
          securityGroupIds: [this.securityGroup.id],
        },
      },
      parent,
    );
    this.domainName = this.domain.domainName;
    new aws.opensearch.DomainPolicy(
      `${name}-policy`,
      {
        domainName: this.domain.domainName,
        accessPolicies: this.domain.arn.apply((arn) => JSON.stringify(searchDomainPolicy(arn))),
      },
      parent,
    );

    this.access = this.domain.endpoint.apply((endpoint) =>
      searchAccess({
        endpoint,
        engineVersion: search.engineVersion,
        masterPasswordParameter: this.passwordParameterName,
        appPasswordParameter: this.appPasswordParameterName,
      }),
    );
    const placeholder = ssmPlaceholder(this.appPasswordParameterName);
    this.env = this.access.apply((access) =>
      searchEnv({
        url: access.url,
        user: access.appUser,
        password: placeholder,
        preset: search.preset,
        prefix: SEARCH_INDEX_PREFIX,
      }),
    );
    this.registerOutputs({ domainName: this.domainName, endpoint: this.domain.endpoint });
  }
}
