/**
 * The services Mastodon calls out to: mail (SES or an SMTP relay), full-text search (an OpenSearch
 * domain, mastodon:search) and translation (mastodon:translation), each with its SSM parameters
 * under the stack's prefix.
 */
import * as pulumi from "@pulumi/pulumi";
import type { StackConfig } from "../config";
import type { Network } from "../network/network";
import { Mail } from "../mail/mail";
import { SearchDomain } from "../search/searchDomain";
import { Translation } from "../translation/translation";

/** What the services are; search and translation only when configured. */
export interface ServiceTiers {
  readonly mail: Mail;
  readonly search?: SearchDomain;
  readonly translation?: Translation;
}

/** Mail, then search and translation when configured, in that order. */
export function serviceTiers(
  name: string,
  config: StackConfig,
  network: Network,
  parameterPrefix: string,
  parent: pulumi.Resource,
): ServiceTiers {
  const dataSubnetIds = network.dataSubnetIds;
  const groups = network.securityGroups;
  const smtp = config.mail.smtp;
  const mail = new Mail(
    `${name}-mail`,
    {
      provider: config.mail.provider,
      fromAddress: config.mail.fromAddress,
      parameterPrefix: parameterPrefix,
      ...(config.dns && { zone: config.dns }),
      // Stack config secrets arrive decrypted: wrap the password before it touches a resource.
      ...(smtp && {
        smtp: {
          server: smtp.server,
          port: smtp.port,
          login: smtp.login,
          password: pulumi.secret(smtp.password),
        },
      }),
    },
    { parent },
  );

  let search: SearchDomain | undefined;
  if (config.search) {
    search = new SearchDomain(
      `${name}-search`,
      {
        // The config as written: the domain derives its preset and zones from it (src/search/config.ts).
        search: {
          instanceType: config.search.instanceType,
          nodes: config.search.nodes,
          volumeGiB: config.search.volumeGiB,
          engineVersion: config.search.engineVersion,
        },
        vpcId: network.vpcId,
        dataSubnetIds,
        // Puma answers searches and Sidekiq indexes; streaming never queries the index.
        clientSecurityGroupIds: { web: groups.web.id, sidekiq: groups.sidekiq.id },
        parameterPrefix: parameterPrefix,
      },
      { parent },
    );
  }
  const translationConfig = config.translation;
  let translation: Translation | undefined;
  if (translationConfig) {
    translation = new Translation(
      `${name}-translation`,
      {
        provider: translationConfig.provider,
        // Stack config secrets arrive decrypted: wrap the key before it touches a resource.
        ...(translationConfig.apiKey !== undefined && { apiKey: pulumi.secret(translationConfig.apiKey) }),
        deeplPlan: translationConfig.deeplPlan,
        ...(translationConfig.endpoint && { endpoint: translationConfig.endpoint }),
        parameterPrefix: parameterPrefix,
      },
      { parent },
    );
  }
  return { mail, search, translation };
}
