/**
 * The package's data files (price tables, Mastodon's env names, AWS Regions) and the host programs
 * (core/host/files/), resolved from the package root: the directory of the nearest package.json
 * above this module. That is the repository when the sources run (src/vocabulary/data.ts) and the installed
 * package when the compiled JavaScript runs from node_modules (dist/core/data.js), so both read
 * the one copy the package ships (package.json `files`).
 */
import * as fs from "fs";
import * as path from "path";

/** The nearest directory at or above `from` that holds a package.json. */
export function packageRootOf(from: string): string {
  for (let dir = from; ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, "package.json"))) return dir;
    if (path.dirname(dir) === dir) throw new Error(`mastodon-aws: no package.json above ${from}`);
  }
}

export const PACKAGE_ROOT = packageRootOf(__dirname);
export const DATA_DIR = path.join(PACKAGE_ROOT, "data");

/** The text of data/<name>. */
export function readDataFile(name: string): string {
  return fs.readFileSync(path.join(DATA_DIR, name), "utf8");
}

/** The non-empty lines of data/<name> that are not `#` comments, trimmed. */
export function dataLines(name: string): string[] {
  return readDataFile(name)
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line && !line.startsWith("#"));
}
