#!/usr/bin/env node
// Makes dist/provider a component provider Pulumi can run from node_modules (`pulumi package add
// node_modules/mastodon-aws/dist/provider`), as policy-dist.cjs does for the policy pack. The
// package ships no TypeScript source, and the provider a clone runs (provider/index.ts: Pulumi's
// ComponentProvider, credentials marked secret) reads the components' args from TypeScript at each
// start, so this asks that provider for its schema once, now, over the sources (what
// provider/componentSchema.test.ts checks), and leaves beside the compiled provider:
//   - schema.json, which provider/packaged.ts serves;
//   - PulumiPlugin.yaml (runtime: nodejs), so the CLI knows the directory is a plugin (Pulumi docs,
//     "PulumiPlugin.yaml Reference");
//   - package.json whose `main` is serve.js: the Node language host runs a plugin by requiring its
//     directory (@pulumi/pulumi's cmd/run-plugin). No dependencies of its own: Pulumi runs
//     `npm install` in a plugin's directory, and the provider must share the consumer's
//     @pulumi/pulumi with the components (the package's peers), not install a second copy.
// Run by `npm run build`, after tsc.
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const out = path.join(root, "dist", "provider");
for (const f of ["serve.js", "packaged.js", "mastodonProvider.js"])
  if (!fs.existsSync(path.join(out, f)))
    throw new Error(`dist/provider/${f} is missing: run tsc -p tsconfig.build.json first`);

const pkg = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8"));
const source = JSON.parse(fs.readFileSync(path.join(root, "provider", "package.json"), "utf8"));
if (source.version !== pkg.version)
  throw new Error(
    `provider/package.json has version ${source.version}, package.json ${pkg.version}: keep them equal`,
  );

async function main() {
  const { MastodonProvider } = require(path.join(out, "mastodonProvider.js"));
  const analysed = new MastodonProvider(path.join(root, "provider"));
  fs.writeFileSync(
    path.join(out, "schema.json"),
    `${JSON.stringify(JSON.parse(await analysed.getSchema()), null, 2)}\n`,
  );
  fs.copyFileSync(path.join(root, "provider", "PulumiPlugin.yaml"), path.join(out, "PulumiPlugin.yaml"));
  const manifest = {
    name: source.name,
    version: pkg.version,
    description: source.description,
    license: source.license,
    private: true,
    main: "serve.js",
  };
  fs.writeFileSync(path.join(out, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
}

main().catch((e) => {
  process.stderr.write(`provider-dist: ${e.stack}\n`);
  process.exit(1);
});
