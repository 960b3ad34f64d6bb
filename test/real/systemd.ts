/** systemd-analyze for the real-tool tests: a root to verify units in, and a unit's exposure. */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { tempDir } from "./servers";

/**
 * A root for `systemd-analyze verify --root`: the system's own units, and empty stand-ins for the
 * executables our units name (paths relative to the root).
 */
export function systemdRoot(prefix: string, executables: readonly string[]): string {
  const root = tempDir(prefix);
  fs.mkdirSync(path.join(root, "usr/lib/systemd"), { recursive: true });
  fs.cpSync("/usr/lib/systemd/system", path.join(root, "usr/lib/systemd/system"), {
    recursive: true,
    verbatimSymlinks: true,
  });
  for (const exe of executables) {
    fs.mkdirSync(path.dirname(path.join(root, exe)), { recursive: true });
    fs.writeFileSync(path.join(root, exe), "#!/bin/sh\n", { mode: 0o755 });
  }
  return root;
}

/** The overall exposure `systemd-analyze security --offline=true` gives a unit file. */
export function exposure(file: string): number {
  const r = spawnSync("systemd-analyze", ["security", "--offline=true", "--no-pager", file], {
    cwd: path.dirname(file),
    encoding: "utf8",
  });
  const m = /Overall exposure level for \S+: (\d+\.\d)/.exec(r.stdout);
  if (!m) throw new Error(`no exposure for ${file} (${r.status}): ${r.stdout}${r.stderr}`);
  return Number(m[1]);
}
