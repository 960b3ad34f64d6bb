/**
 * The README's "Moving an existing instance here", step 1, run as written by bash: its commands
 * against an old instance's .env.production, with stand-ins for what it reaches (scp, the Pulumi
 * CLI, npm, shred) that record what they are given. Each secret reaches `pulumi config set --secret`
 * exactly, through its standard input; and the values it set are a config the stack accepts.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { createHash } from "crypto";
import { configProblems, withConfig } from "../../test/helpers";
import { vapidKeysFromPrivate } from "./vapid";
import { type Call, PULUMI_RECORDER, recorder, runRecorded, shBlocksOf } from "../../test/readmeCommands";

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

let calls: Call[];
let status: number | null;
let stderr: string;
let dir: string;
let work: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-moving-"));
  const fixture = path.join(dir, "env.production");
  fs.writeFileSync(fixture, ENV_PRODUCTION);
  ({ status, stderr, calls, work } = runRecorded(
    dir,
    shBlocksOf("Moving an existing instance here")[0]!,
    {
      // scp old-host:<path> <file>: the old host's file arrives.
      scp: recorder("scp", `cp "$FIXTURE" "$2"`),
      pulumi: PULUMI_RECORDER,
      npm: recorder("npm"),
      shred: recorder("shred", `[ "$1" = "-u" ] && rm -- "$2"`),
    },
    { FIXTURE: fixture },
  ));
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
  expect(fs.readdirSync(work)).toEqual([]);
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
