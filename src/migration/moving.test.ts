/**
 * The README's "Moving an existing instance here", step 1, run as written by bash: its commands
 * against an old instance's .env.production, with stand-ins for what it reaches (scp, the Pulumi
 * CLI, npm, shred) that record what they are given. Each secret reaches `pulumi config set --secret`
 * exactly, through its standard input; and the values it set are a config the stack accepts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";
import { configProblems, withConfig } from "../../test/helpers";
import { vapidKeysFromPrivate } from "./vapid";

const README = fs.readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");

/** The first sh block of the README's section `heading`. */
function commandsOf(heading: string): string {
  const section = README.split(/^## /m).find((s) => s.startsWith(`${heading}\n`));
  const block = section && /```sh\n([\s\S]*?)```/.exec(section)?.[1];
  if (!block) throw new Error(`no sh block under "## ${heading}"`);
  return block;
}

const seeded = (seed: string) => createHash("sha512").update(seed).digest();
const vapid = vapidKeysFromPrivate(seeded("readme vapid").subarray(0, 32).toString("base64"));
const OLD: Record<string, string> = {
  SECRET_KEY_BASE: seeded("readme skb").toString("hex"),
  ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY: "Xq3vB8yZ1kLmN0pQrS2tU4wV6xY8zA0b",
  ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT: "c9D8e7F6g5H4i3J2k1L0mN9oP8qR7sT6",
  ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY: "uV5wX4yZ3aB2cD1eF0gH9iJ8kL7mN6oP",
  VAPID_PRIVATE_KEY: vapid.privateKey,
  VAPID_PUBLIC_KEY: vapid.publicKey,
};

/** An old instance's file as `mastodon:setup` writes it, with the quoting people add by hand. */
const ENV_PRODUCTION = [
  "# Generated with mastodon:setup on 2024-03-01 12:00:00 UTC",
  "LOCAL_DOMAIN=old.example",
  "SECRET_KEY_BASE=stale-one-replaced-below",
  `SECRET_KEY_BASE=${OLD.SECRET_KEY_BASE}`,
  `OTP_SECRET=${seeded("readme otp").toString("hex")}`,
  `ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY="${OLD.ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY}"`,
  `ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT='${OLD.ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT}'`,
  `ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY=${OLD.ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY}`,
  `VAPID_PRIVATE_KEY=${OLD.VAPID_PRIVATE_KEY}`,
  `VAPID_PUBLIC_KEY=${OLD.VAPID_PUBLIC_KEY}`,
  "SMTP_PASSWORD=not-for-this-stack",
  "",
].join("\n");

/** A command that records its arguments (one per line) and, for `pulumi config set <key>`, its standard input. */
const recorder = (name: string, extra = "") => `#!/bin/bash
n=$(ls "$RECORD" | wc -l)
printf '%s\\n' ${name} "$@" > "$RECORD/$(printf %03d "$n").args"
${extra}
`;

interface Call {
  readonly args: string[];
  readonly stdin?: string;
}

let calls: Call[];
let status: number | null;
let stderr: string;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-moving-"));
  const bin = path.join(dir, "bin");
  const record = path.join(dir, "record");
  const work = path.join(dir, "work");
  for (const d of [bin, record, work]) fs.mkdirSync(d);
  const fixture = path.join(dir, "env.production");
  fs.writeFileSync(fixture, ENV_PRODUCTION);
  const stand = (name: string, body: string) => fs.writeFileSync(path.join(bin, name), body, { mode: 0o755 });
  // scp old-host:<path> <file>: the old host's file arrives.
  stand("scp", recorder("scp", `cp "$FIXTURE" "$2"`));
  // pulumi config set ... <key>: the value comes on standard input.
  stand(
    "pulumi",
    recorder(
      "pulumi",
      `if [ "$1 $2" = "config set" ] && [[ "\${@: -1}" == mastodon:* ]]; then cat > "$RECORD/$(printf %03d "$n").stdin"; fi`,
    ),
  );
  stand("npm", recorder("npm"));
  stand("shred", recorder("shred", `[ "$1" = "-u" ] && rm -- "$2"`));
  const run = spawnSync(
    "bash",
    ["--norc", "-euo", "pipefail", "-c", commandsOf("Moving an existing instance here")],
    {
      cwd: work,
      stdio: ["ignore", "pipe", "pipe"],
      encoding: "utf8",
      env: { PATH: `${bin}:${process.env["PATH"] ?? "/usr/bin:/bin"}`, RECORD: record, FIXTURE: fixture },
    },
  );
  status = run.status;
  stderr = run.stderr;
  calls = fs
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
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the commands run to the end, in order: the file copied, each value set, the copy removed, then the checks", () => {
  expect({ status, stderr }).toEqual({ status: 0, stderr: "" });
  expect(calls.map((c) => c.args.slice(0, 3).join(" "))).toEqual([
    "scp old-host:/home/mastodon/live/.env.production old.env",
    ...Array(6).fill("pulumi config set"),
    "shred -u old.env",
    "npm run plan",
    "pulumi preview",
  ]);
  expect(fs.readdirSync(path.join(dir, "work"))).toEqual([]);
});

test("each secret goes to `pulumi config set --secret --path` through standard input, exactly as dotenv reads it", () => {
  const sets = calls.filter((c) => c.args[1] === "config");
  const secret = (leaf: string, env: string) => ({
    args: ["pulumi", "config", "set", "--secret", "--path", `mastodon:existingSecrets.${leaf}`],
    stdin: OLD[env],
  });
  expect(sets).toEqual([
    secret("secretKeyBase", "SECRET_KEY_BASE"),
    secret("activeRecordEncryption.deterministicKey", "ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY"),
    secret("activeRecordEncryption.keyDerivationSalt", "ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT"),
    secret("activeRecordEncryption.primaryKey", "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY"),
    secret("vapid.privateKey", "VAPID_PRIVATE_KEY"),
    // The public key, in plain text, as an argument.
    {
      args: [
        "pulumi",
        "config",
        "set",
        "--path",
        "mastodon:existingSecrets.vapid.publicKey",
        OLD["VAPID_PUBLIC_KEY"],
      ],
    },
  ]);
  // No secret was ever an argument.
  const args = calls.flatMap((c) => c.args).join("\n");
  for (const [env, value] of Object.entries(OLD))
    if (env !== "VAPID_PUBLIC_KEY") expect(args).not.toContain(value);
});

test("what they set is a config the stack accepts as it is: nothing to fix", () => {
  const slice: Record<string, any> = {};
  for (const call of calls.filter((c) => c.args[1] === "config")) {
    const key = call.args.find((a) => a.startsWith("mastodon:existingSecrets."))!;
    const leafPath = key.slice("mastodon:existingSecrets.".length).split(".");
    const parent = leafPath.slice(0, -1).reduce((node, s) => (node[s] ??= {}), slice);
    parent[leafPath[leafPath.length - 1]!] = call.stdin ?? call.args[call.args.length - 1];
  }
  expect(
    configProblems(
      withConfig((c) => (c.existingSecrets = slice)),
      { secretPaths: [["existingSecrets"]] },
    ),
  ).toEqual([]);
});
