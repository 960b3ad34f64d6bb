/**
 * The Pulumi program: `pulumi up` (and the offline `npm run plan`) call the exported function.
 * Config is read from the `mastodon:` namespace of stacks/Pulumi.<stack>.yaml.
 */
import * as pulumi from "@pulumi/pulumi";
import { MastodonStack, type MastodonStackArgs } from "./components/mastodonStack";
import { ConfigError, namespaceConfig } from "./core/config";

function program() {
  let mastodon: MastodonStack;
  try {
    // Untyped until validated: the component's first act is the full validation pass.
    const args = namespaceConfig(pulumi.runtime.allConfig()) as MastodonStackArgs;
    mastodon = new MastodonStack("mastodon", args);
  } catch (e) {
    // RunError: Pulumi prints the message alone, without a stack trace.
    if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
    throw e;
  }
  const scheduler = mastodon.fleetComponents.find((f) => f.fleetName === mastodon.schedulerFleet);
  return {
    budget: mastodon.budget,
    replicaBudget: mastodon.replicaBudget,
    albDnsName: mastodon.loadBalancer.dnsName,
    mediaHost: mastodon.media.aliasHost,
    parameterPath: mastodon.parameterPrefix,
    migrationsDocument: mastodon.migrations.name,
    schedulerFleet: mastodon.schedulerFleet,
    schedulerGroupUrn: scheduler?.group.urn,
    mailNote: mastodon.mail.note,
    dkimRecords: mastodon.mail.dkimRecords,
  };
}

export = program;
