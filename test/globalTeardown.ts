/** Jest's global teardown: removes the shared runs' directory (sharedRuns.ts). */
import * as fs from "fs";
import { SHARED_RUNS_ENV } from "./sharedRuns";

export default function globalTeardown(): void {
  const dir = process.env[SHARED_RUNS_ENV];
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
}
