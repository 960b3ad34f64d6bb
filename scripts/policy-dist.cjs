#!/usr/bin/env node
// Makes dist/policy a policy pack Pulumi can run from node_modules (`pulumi preview --policy-pack
// node_modules/mastodon-aws/dist/policy`): the pack's PulumiPolicy.yaml, and its package.json pointing
// at the compiled index.js (ts-node will not compile .ts under node_modules). Run by `npm run build`.
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const out = path.join(root, "dist", "policy");
if (!fs.existsSync(path.join(out, "index.js")))
  throw new Error("dist/policy/index.js is missing: run tsc first");
fs.copyFileSync(path.join(root, "policy", "PulumiPolicy.yaml"), path.join(out, "PulumiPolicy.yaml"));
const manifest = JSON.parse(fs.readFileSync(path.join(root, "policy", "package.json"), "utf8"));
fs.writeFileSync(
  path.join(out, "package.json"),
  `${JSON.stringify({ ...manifest, main: "index.js" }, null, 2)}\n`,
);
