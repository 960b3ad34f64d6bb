/**
 * The entry of the component provider the npm package ships: dist/provider/package.json names this
 * file's compiled serve.js as its main, which the Node language host runs when Pulumi starts the
 * plugin (`pulumi package add node_modules/mastodon-aws/dist/provider`, then every deployment that
 * uses it). It serves the schema built with the package (packaged.ts). It exports nothing: Pulumi's
 * plugin runner would start a second, analysing host for any component an entry exports.
 */
import { main } from "@pulumi/pulumi/provider";
import { packagedProvider, readSchema } from "./packaged";

void main(packagedProvider(readSchema(__dirname)), process.argv.slice(2));
