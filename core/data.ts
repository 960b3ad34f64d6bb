/**
 * The package's data files (price tables, Mastodon's env names, AWS Regions), resolved from the
 * package root wherever the module that reads them lives.
 */
import * as fs from "fs";
import * as path from "path";

export const DATA_DIR = path.join(__dirname, "..", "data");

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
