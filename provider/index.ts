/**
 * The component provider other Pulumi languages run from a clone (PulumiPlugin.yaml beside this
 * file): Pulumi's provider server serving the components, with the schema the analyzer builds from
 * their args interfaces and the credentials marked secret (./mastodonProvider.ts). `pulumi package
 * add <this directory>` generates the SDK of the caller's language from it (Pulumi docs, "Build a
 * Component").
 *
 * It exports nothing: Pulumi's plugin runner (@pulumi/pulumi's cmd/run-plugin) starts a host of its
 * own, a plain ComponentProvider without the secrets, for any component the entry exports. The
 * analyzer finds the components through this file's imports (./mastodonProvider, ./components).
 */
import { main } from "@pulumi/pulumi/provider";
import { MastodonProvider } from "./mastodonProvider";

void main(new MastodonProvider(__dirname), process.argv.slice(2));
