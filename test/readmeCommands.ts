/**
 * The README's shell blocks, run as written by bash with stand-ins for what they reach (ssh, scp,
 * the Pulumi CLI, npm, ...) that record what they are given: one argument per line, and for
 * `pulumi config set <mastodon:key>` its standard input.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";

const README = fs.readFileSync(path.join(__dirname, "..", "README.md"), "utf8");

/** The sh blocks of the README's section `heading` (a `## ` heading), in order. */
export function shBlocksOf(heading: string): string[] {
  const section = README.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  const blocks = [...(section ?? "").matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!);
  if (blocks.length === 0) throw new Error(`no sh block under "## ${heading}"`);
  return blocks;
}

/** A stand-in that records its arguments, then runs `extra` (bash, with $n its call's number). */
export const recorder = (name: string, extra = "") => `#!/bin/bash
n=$(ls "$RECORD" | wc -l)
printf '%s\\n' ${name} "$@" > "$RECORD/$(printf %03d "$n").args"
${extra}
`;

/** pulumi: records; `config set ... mastodon:<key>` also keeps its standard input. */
export const PULUMI_RECORDER = recorder(
  "pulumi",
  `if [ "$1 $2" = "config set" ] && [[ "\${@: -1}" == mastodon:* ]]; then cat > "$RECORD/$(printf %03d "$n").stdin"; fi`,
);

export interface Call {
  readonly args: string[];
  readonly stdin?: string;
}

export interface RecordedRun {
  readonly status: number | null;
  readonly stderr: string;
  readonly calls: Call[];
  /** The directory the commands ran in. */
  readonly work: string;
}

/**
 * `script` run by bash (-euo pipefail) in `dir`/work, with `stands` (name -> program text) first on
 * PATH and `env` beside RECORD.
 */
export function runRecorded(
  dir: string,
  script: string,
  stands: Record<string, string>,
  env: Record<string, string> = {},
): RecordedRun {
  const bin = path.join(dir, "bin");
  const record = path.join(dir, "record");
  const work = path.join(dir, "work");
  for (const d of [bin, record, work]) fs.mkdirSync(d, { recursive: true });
  for (const [name, body] of Object.entries(stands))
    fs.writeFileSync(path.join(bin, name), body, { mode: 0o755 });
  const run = spawnSync("bash", ["--norc", "-euo", "pipefail", "-c", script], {
    cwd: work,
    stdio: ["ignore", "pipe", "pipe"],
    encoding: "utf8",
    env: { PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}`, RECORD: record, ...env },
  });
  const calls = fs
    .readdirSync(record)
    .filter((f) => f.endsWith(".args"))
    .sort()
    .map((f) => {
      const stdinFile = path.join(record, f.replace(/\.args$/, ".stdin"));
      return {
        args: fs.readFileSync(path.join(record, f), "utf8").trimEnd().split("\n"),
        ...(fs.existsSync(stdinFile) && { stdin: fs.readFileSync(stdinFile, "utf8") }),
      };
    });
  return { status: run.status, stderr: run.stderr, calls, work };
}
