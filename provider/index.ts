/**
 * The component provider other Pulumi languages run (PulumiPlugin.yaml beside this file): Pulumi's
 * Node component provider host serves the components, with the schema its analyzer builds from
 * their args interfaces. `pulumi package add <this directory>` generates the SDK of the caller's
 * language from it (Pulumi docs, "Build a Component").
 */
import { componentProviderHost } from "@pulumi/pulumi/provider/experimental";
import { COMPONENTS, PROVIDER_NAME } from "./components";

// Exported too: the analyzer looks for the components from this entry's imports and exports.
export * from "./components";

void componentProviderHost({ name: PROVIDER_NAME, components: COMPONENTS, dirname: __dirname });
