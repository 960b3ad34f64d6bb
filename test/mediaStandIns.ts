/**
 * docs/moving-media.md's commands run as written by bash, with stand-ins for what they reach: the
 * Pulumi CLI (the stack's outputs), ssh to the old host (the remote command run by bash, in a
 * fixture of the old host's live directory), the AWS CLI and sleep. Every stand-in records its
 * arguments and working directory; `aws s3 ...` goes to `s3` when given (the real AWS CLI in
 * src/media/movingMedia.real.test.ts), else it is only recorded.
 */
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const DOC = fs.readFileSync(path.join(__dirname, "..", "docs", "moving-media.md"), "utf8");

/** The first sh block after the heading `heading` (`## From a directory`, `### On AWS`). */
export function docCommands(heading: string): string {
  const at = DOC.split("\n").findIndex((l) => l === heading);
  const block = at >= 0 && /```sh\n([\s\S]*?)```/.exec(DOC.split("\n").slice(at).join("\n"))?.[1];
  if (!block) throw new Error(`no sh block under "${heading}" in docs/moving-media.md`);
  return block;
}

export const BUCKET = "mastodon-media-bucket-0a1b2c3";
export const GROUP = "mastodon-scheduler-group-4d5e6f7";
export const INSTANCE = "i-0123456789abcdef0";
export const COMMAND_ID = "0b6f3a2e-1c4d-4e5f-8a9b-0c1d2e3f4a5b";

export interface Call {
  /** The stand-in's name, then its arguments. */
  readonly args: string[];
  readonly cwd: string;
}

export interface DocRun {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
  readonly calls: Call[];
  /** The fixture of the old host's /home/mastodon/live. */
  readonly oldLive: string;
}

/** A stand-in that records its name, arguments and directory (NUL-separated), then runs `body`. */
const recorder = (name: string, body = "") => `#!/bin/bash
# Named by the time it started (in ns) and its process: stand-ins in one pipeline run at once.
{ printf '%s\\0' "$PWD" ${name} "$@"; } > "$RECORD/$(date +%s%N).$$"
${body}
`;

const STAND_INS: Record<string, string> = {
  pulumi: recorder(
    "pulumi",
    `case "$*" in
  "stack output mediaBucket") echo ${BUCKET} ;;
  "stack output schedulerFleet") echo scheduler ;;
  "stack output fleetGroups --json") echo '{"web": "mastodon-web-group-1a2b3c4", "scheduler": "${GROUP}"}' ;;
  *) echo "pulumi stand-in: unexpected $*" >&2; exit 2 ;;
esac`,
  ),
  // ssh <host> <command>: the old host's paths are the fixture's.
  ssh: recorder("ssh", `exec bash -c "\${2//\\/home\\/mastodon\\/live/$OLD_LIVE}"`),
  sleep: recorder("sleep"),
  aws: recorder(
    "aws",
    `case "$1 $2" in
  "s3 sync") if [ -n "\${S3:-}" ]; then exec "$S3" "$@"; fi ;;
  "autoscaling describe-auto-scaling-groups") echo ${INSTANCE} ;;
  "ssm send-command") echo ${COMMAND_ID} ;;
  "ssm get-command-invocation")
    if [[ "$*" == *"--query Status "* ]]; then
      # Not there yet, then running, then done.
      if [ ! -e "$RECORD/.asked" ]; then touch "$RECORD/.asked"; echo "InvocationDoesNotExist" >&2; exit 254; fi
      if [ ! -e "$RECORD/.running" ]; then touch "$RECORD/.running"; echo InProgress; exit 0; fi
      echo Success
    else
      printf 'Success\\tRemoved 3 media attachments (approx. 1.2 MB)\\n'
    fi ;;
  *) echo "aws stand-in: unexpected $*" >&2; exit 2 ;;
esac`,
  ),
};

/**
 * Runs `commands` with bash (errexit, nounset, pipefail) in a fresh directory, the stand-ins first
 * on PATH; `oldLive` files are the old host's (relative to /home/mastodon/live), `env` adds to the
 * environment (S3: the program `aws s3 ...` runs).
 */
export async function runDocCommands(
  commands: string,
  options: { readonly oldLive?: Readonly<Record<string, string>>; readonly env?: NodeJS.ProcessEnv } = {},
): Promise<DocRun> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-moving-media-"));
  try {
    const bin = path.join(dir, "bin");
    const record = path.join(dir, "record");
    const work = path.join(dir, "work");
    const oldLive = path.join(dir, "old-live");
    for (const d of [bin, record, work, oldLive]) fs.mkdirSync(d);
    for (const [file, content] of Object.entries(options.oldLive ?? {})) {
      fs.mkdirSync(path.dirname(path.join(oldLive, file)), { recursive: true });
      fs.writeFileSync(path.join(oldLive, file), content);
    }
    for (const [name, body] of Object.entries(STAND_INS))
      fs.writeFileSync(path.join(bin, name), body, { mode: 0o755 });
    // Not spawnSync: a stand-in server of the same process (the real test's S3) must go on answering.
    const child = spawn("bash", ["--norc", "-euo", "pipefail", "-c", commands], {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}`,
        HOME: dir,
        RECORD: record,
        OLD_LIVE: oldLive,
        ...options.env,
      },
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const status = await new Promise<number | null>((resolve) => child.on("close", resolve));
    const calls = fs
      .readdirSync(record)
      .filter((f) => /^\d+\.\d+$/.test(f))
      .sort()
      .map((f) => {
        const [cwd = "", ...args] = fs.readFileSync(path.join(record, f), "utf8").split("\0").slice(0, -1);
        return { cwd: path.relative(dir, cwd), args };
      });
    return { status, stdout, stderr, calls, oldLive: "old-live" };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
