/** Jest's global setup: the directory the test files share their program runs through (sharedRuns.ts). */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { SHARED_RUNS_ENV } from "./sharedRuns";

export default function globalSetup(): void {
  // Set before jest starts its workers, which inherit the environment.
  process.env[SHARED_RUNS_ENV] = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-test-runs-"));
}
