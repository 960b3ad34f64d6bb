// Says why `npm ci` must run, or nothing: node_modules/ is missing, or a package package-lock.json
// pins is absent from node_modules/ or installed at another version. Compares the lock with npm's own
// record of what it installed (node_modules/.package-lock.json, the "hidden lockfile" npm writes
// on every install), so a checkout that only touches package-lock.json's mtime installs nothing.
// Plain Node.js, no dependencies: it runs before any are installed. Exit 0: in sync; exit 1: the
// reason on stdout.
"use strict";
const fs = require("fs");
const path = require("path");

const root = path.join(__dirname, "..");
const lock = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8"));
const pinned = Object.entries(lock.packages).filter(([key, entry]) => key !== "" && !entry.link);

// npm leaves out an optional package that does not fit this machine (a native build for another
// platform, a WebAssembly fallback): absent, it is no reason to reinstall.
const required = (entry) => !(entry.optional || entry.devOptional);

const hiddenFile = path.join(root, "node_modules", ".package-lock.json");
if (!fs.existsSync(hiddenFile)) {
  process.stdout.write(`node_modules/ is missing: package-lock.json pins ${pinned.length} packages`);
  process.exit(1);
}
const installed = JSON.parse(fs.readFileSync(hiddenFile, "utf8")).packages;
const differ = [];
for (const [key, entry] of pinned) {
  const have = installed[key];
  const name = key.slice(key.lastIndexOf("node_modules/") + "node_modules/".length);
  if (!have && required(entry)) differ.push(`${name} ${entry.version} (not installed)`);
  else if (have && have.version !== entry.version)
    differ.push(`${name} ${entry.version} (installed: ${have.version})`);
}
if (differ.length) {
  const shown = differ.slice(0, 5).join(", ");
  const more = differ.length > 5 ? ` and ${differ.length - 5} more` : "";
  process.stdout.write(
    `node_modules/ differs from package-lock.json in ${differ.length} package(s): ${shown}${more}`,
  );
  process.exit(1);
}
