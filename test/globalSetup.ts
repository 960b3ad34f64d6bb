/** Jest's global setup: the directory the test files share their program runs through (sharedRuns.ts). */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SHARED_RUNS_ENV } from "./sharedRuns";
import { MASTODON_LIFECYCLE, programPath } from "../src/host/programs";

export default function globalSetup(): void {
  // Set before jest starts its workers, which inherit the environment.
  process.env[SHARED_RUNS_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-test-runs-"));
  // The host programs that source mastodon-ready's library from beside them on a host
  // (mastodon-database, mastodon-restore) find it in the package when a test runs them from here.
  process.env["MASTODON_LIFECYCLE_LIBRARY"] = programPath(MASTODON_LIFECYCLE);
}
