/**
 * The Pulumi program: `pulumi up` (and the offline `npm run plan`) call the exported function.
 * Config is read from the `mastodon:` namespace of stacks/Pulumi.<stack>.yaml.
 */
import * as pulumi from "@pulumi/pulumi";
import { MastodonStack, type MastodonStackArgs } from "./src/stack/mastodonStack";
import { ConfigError, PROGRAM_STACK_NAME, namespaceConfig } from "./src/config";

/** Which top-level config keys are secrets (`--secret` or `secure:`): Pulumi knows them per key. */
function secretPaths(all: Record<string, string>): string[][] {
  const isSecret = (pulumi.runtime as unknown as { isConfigSecret(key: string): boolean }).isConfigSecret;
  return Object.keys(all)
    .filter((key) => key.startsWith("mastodon:") && isSecret(key))
    .map((key) => [key.slice("mastodon:".length)]);
}

function program() {
  let mastodon: MastodonStack;
  try {
    // One validation pass over the namespace, the region and which keys are secrets: the component
    // parses its args (the namespace as the stack file holds it) before it declares anything.
    const all = pulumi.runtime.allConfig();
    mastodon = new MastodonStack(PROGRAM_STACK_NAME, namespaceConfig(all) as unknown as MastodonStackArgs, {
      check: {
        region: all["aws:region"],
        secretPaths: secretPaths(all),
        allKeys: { keys: Object.keys(all), project: pulumi.getProject() },
      },
    });
  } catch (e) {
    // RunError: Pulumi prints the message alone, without a stack trace.
    if (e instanceof ConfigError) throw new pulumi.RunError(e.message);
    throw e;
  }
  const scheduler = mastodon.fleetComponents.find((f) => f.fleetName === mastodon.schedulerFleet);
  return {
    budget: mastodon.budget,
    images: mastodon.images,
    replicaBudget: mastodon.replicaBudget,
    albDnsName: mastodon.loadBalancer.dnsName,
    mediaHost: mastodon.media.aliasHost,
    mediaBucket: mastodon.media.bucket.bucket,
    parameterPath: mastodon.parameterPrefix,
    migrationsDocument: mastodon.migrations.name,
    drillDocument: mastodon.drill.name,
    schedulerFleet: mastodon.schedulerFleet,
    schedulerGroupUrn: scheduler?.group.urn,
    // For npm run upgrade (bin/upgrade.ts): what the last complete `pulumi up` deployed, every
    // fleet's Auto Scaling group (whose instance refreshes it waits for), and the scheduler's launch
    // template (image source ami: rolled first, targeted with its group).
    mastodonVersion: mastodon.config.version,
    // Image source official: the release image, for one-off commands (tootctl) on a host.
    mastodonImage: mastodon.releaseImage,
    imageRegistry: mastodon.imageRegistry,
    fleetGroups: pulumi.all(
      Object.fromEntries(mastodon.fleetComponents.map((f) => [f.fleetName, f.group.name] as const)),
    ),
    schedulerTemplateUrn: scheduler?.launchTemplate.urn,
    // Image source image-builder: the build, rolled with the scheduler's fleet by npm run upgrade.
    imageBuildUrn: mastodon.imageBuild?.urn,
    // With mastodon:owner: how to read the owner's first password (never the password itself).
    ownerPassword: mastodon.ownerPassword,
    mailNote: mastodon.mail.note,
    dkimRecords: mastodon.mail.dkimRecords,
  };
}

export = program;
