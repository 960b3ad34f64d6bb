/**
 * mastodon:existingSecrets refused by key, before any resource: each refusal with its message, and
 * never the secret it is about, in the problem, its value or the text the operator reads.
 */
import { createHash } from "crypto";
import { formatProblems } from "../config";
import { SECRET_PLACEHOLDER } from "../config/stackFile";
import { configErrors, configProblems, withConfig } from "../../test/helpers";
import { OTP_SECRET_REFUSED } from "./schema";
import { VAPID_MISMATCH } from "./rules";
import { vapidKeysFromPrivate } from "./vapid";

const seeded = (seed: string) => createHash("sha512").update(seed).digest();
/** An old instance's .env.production, as `rails secret`, `rails db:encryption:init` and the webpush gem write it. */
const OLD = {
  secretKeyBase: seeded("secret-key-base").toString("hex"),
  deterministicKey: seeded("deterministic").toString("hex").slice(0, 32),
  keyDerivationSalt: seeded("salt").toString("hex").slice(0, 32),
  primaryKey: seeded("primary").toString("hex").slice(0, 32),
  vapid: vapidKeysFromPrivate(seeded("vapid").subarray(0, 32).toString("base64")),
};
const OTHER_VAPID = vapidKeysFromPrivate(seeded("another vapid").subarray(0, 32).toString("base64"));

/** The whole slice as pulumi up hands it over: decrypted, the top-level key a secret. */
const given = () => ({
  secretKeyBase: OLD.secretKeyBase,
  activeRecordEncryption: {
    deterministicKey: OLD.deterministicKey,
    keyDerivationSalt: OLD.keyDerivationSalt,
    primaryKey: OLD.primaryKey,
  },
  vapid: { privateKey: OLD.vapid.privateKey, publicKey: OLD.vapid.publicKey },
});
const SECRET_TOP = { secretPaths: [["existingSecrets"]] };
/** Each secret leaf stored as a secret, as `pulumi config set --secret --path` writes them (the plan's view). */
const LEAVES = [
  ["existingSecrets", "secretKeyBase"],
  ["existingSecrets", "activeRecordEncryption", "deterministicKey"],
  ["existingSecrets", "activeRecordEncryption", "keyDerivationSalt"],
  ["existingSecrets", "activeRecordEncryption", "primaryKey"],
  ["existingSecrets", "vapid", "privateKey"],
];

/** Every secret text a problem must never carry: the old values, and the bad values a row gives. */
const SECRETS = [
  OLD.secretKeyBase,
  OLD.deterministicKey,
  OLD.keyDerivationSalt,
  OLD.primaryKey,
  OLD.vapid.privateKey,
];

test("the whole set, kept a secret, is accepted without a word", () => {
  expect(
    configProblems(
      withConfig((c) => (c.existingSecrets = given())),
      SECRET_TOP,
    ),
  ).toEqual([]);
  // Each leaf a secret, as `pulumi config set --secret --path` writes them (the plan's view).
  expect(
    configProblems(
      withConfig((c) => (c.existingSecrets = given())),
      { secretPaths: LEAVES },
    ),
  ).toEqual([]);
  // Any one group alone: the rest is generated.
  for (const part of ["secretKeyBase", "activeRecordEncryption", "vapid"] as const)
    expect(
      configErrors(
        withConfig((c) => (c.existingSecrets = { [part]: given()[part] })),
        SECRET_TOP,
      ),
    ).toEqual([]);
});

test("a key whose base64 reads like NAME= is a key: accepted, and never mistaken for a variable's line", () => {
  // 32 bytes of 0x10: "EBAQ...EBA=", capitals and one = at the end.
  const pair = vapidKeysFromPrivate(Buffer.alloc(32, 0x10).toString("base64"));
  expect(pair.privateKey).toMatch(/^[A-Z]+=$/);
  const slice = { ...given(), vapid: { privateKey: pair.privateKey, publicKey: pair.publicKey } };
  expect(
    configProblems(
      withConfig((c) => (c.existingSecrets = slice)),
      SECRET_TOP,
    ),
  ).toEqual([]);
});

/** A row: what the operator wrote, the secret paths, the key refused, and what the message says. */
interface Refusal {
  readonly what: string;
  readonly slice: () => Record<string, unknown>;
  readonly secretPaths?: readonly (readonly string[])[];
  readonly key: string;
  readonly message: string | RegExp;
  /** Secret text beyond OLD's that this row writes. */
  readonly secret?: string;
}

const without = (path: string[]) => {
  const slice = given() as Record<string, any>;
  const parent = path.slice(0, -1).reduce((n, s) => n[s], slice);
  delete parent[path[path.length - 1] as string];
  return slice;
};
const withValue = (path: string[], value: unknown) => {
  const slice = given() as Record<string, any>;
  const parent = path.slice(0, -1).reduce((n, s) => n[s], slice);
  parent[path[path.length - 1] as string] = value;
  return slice;
};

const K = "mastodon:existingSecrets";
const REFUSALS: Refusal[] = [
  // Given in plain text: the stack file would hold the old instance's secret.
  ...(
    [
      ["secretKeyBase", "SECRET_KEY_BASE"],
      ["activeRecordEncryption.deterministicKey", "ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY"],
      ["activeRecordEncryption.keyDerivationSalt", "ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT"],
      ["activeRecordEncryption.primaryKey", "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY"],
      ["vapid.privateKey", "VAPID_PRIVATE_KEY"],
    ] as const
  ).map(([leaf, env]) => ({
    what: `${leaf} in plain text`,
    slice: given,
    // Every other secret set with --secret --path, this one without.
    secretPaths: LEAVES.filter((p) => p.slice(1).join(".") !== leaf),
    key: `${K}.${leaf}`,
    message: `is in plain text in the stack file, where everyone who reads the repository (and its history) reads ${env}; keep it a secret: pulumi config set --secret --path '${K}.${leaf}' "<${env} of the old instance's .env.production>"`,
  })),
  {
    what: "the VAPID public key as a secret",
    slice: given,
    secretPaths: [...LEAVES, ["existingSecrets", "vapid", "publicKey"]],
    key: `${K}.vapid.publicKey`,
    message: /^is stored as a secret, but the package needs it in plain text .* Set it without --secret/,
  },
  // Half a VAPID pair.
  {
    what: "a private key without its public key",
    slice: () => without(["vapid", "publicKey"]),
    key: `${K}.vapid.publicKey`,
    message: `is missing while vapid.privateKey is given: a VAPID key pair is used whole (the private key signs every push, and each browser's subscription was made with the public key: RFC 8292). Give it: pulumi config set --path '${K}.vapid.publicKey' "<VAPID_PUBLIC_KEY of the old instance's .env.production>"; or remove vapid.privateKey to have a new pair generated (every browser then has to subscribe again)`,
  },
  {
    what: "a public key without its private key",
    slice: () => without(["vapid", "privateKey"]),
    key: `${K}.vapid.privateKey`,
    message: /^is missing while vapid\.publicKey is given: .* pulumi config set --secret --path/,
  },
  {
    what: "a public key of another pair",
    slice: () => withValue(["vapid", "publicKey"], OTHER_VAPID.publicKey),
    key: `${K}.vapid.publicKey`,
    message: VAPID_MISMATCH,
  },
  // Part of the Active Record set.
  {
    what: "two Active Record keys of three",
    slice: () => without(["activeRecordEncryption", "primaryKey"]),
    key: `${K}.activeRecordEncryption.primaryKey`,
    message: `is missing while deterministicKey and keyDerivationSalt are given: Rails derives the encryption keys from the three together, so with one generated the stack reads nothing the old instance encrypted (two-factor secrets among it). Give it: pulumi config set --secret --path '${K}.activeRecordEncryption.primaryKey' "<ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY of the old instance's .env.production>"; or remove the others to have all three generated`,
  },
  // Malformed values.
  {
    what: "a blank SECRET_KEY_BASE",
    slice: () => withValue(["secretKeyBase"], "   "),
    key: `${K}.secretKeyBase`,
    message:
      "is blank: Mastodon does not start without SECRET_KEY_BASE. Give the value it has in the old instance's .env.production",
  },
  {
    what: "the whole line of .env.production",
    slice: () => withValue(["secretKeyBase"], `SECRET_KEY_BASE=${OLD.secretKeyBase}`),
    key: `${K}.secretKeyBase`,
    message:
      "starts with SECRET_KEY_BASE=: give only what follows the = on the line of SECRET_KEY_BASE in .env.production",
  },
  {
    what: "another variable's line",
    slice: () =>
      withValue(
        ["activeRecordEncryption", "primaryKey"],
        `ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY=${OLD.primaryKey}`,
      ),
    key: `${K}.activeRecordEncryption.primaryKey`,
    message:
      "starts with ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY=: give only what follows the = on the line of ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY in .env.production",
  },
  {
    what: "a quoted value",
    slice: () => withValue(["activeRecordEncryption", "primaryKey"], `"${OLD.primaryKey}"`),
    key: `${K}.activeRecordEncryption.primaryKey`,
    message: /^is wrapped in quotes: .* Give what is between them$/,
  },
  {
    what: "a value with a trailing space",
    slice: () => withValue(["activeRecordEncryption", "keyDerivationSalt"], `${OLD.keyDerivationSalt} `),
    key: `${K}.activeRecordEncryption.keyDerivationSalt`,
    message: /^starts or ends with white space/,
  },
  {
    what: "a value with a line break",
    slice: () => withValue(["activeRecordEncryption", "deterministicKey"], `${OLD.deterministicKey}\nx`),
    key: `${K}.activeRecordEncryption.deterministicKey`,
    message: /both read it back unchanged: it contains a line break$/,
  },
  {
    what: "a number",
    slice: () => withValue(["secretKeyBase"], 1234567890123456),
    key: `${K}.secretKeyBase`,
    message: "is a number; expected string",
    secret: "1234567890123456",
  },
  {
    what: "a private key that is not base64",
    slice: () => withValue(["vapid", "privateKey"], "not-a-key!really"),
    key: `${K}.vapid.privateKey`,
    message: /^is not base64: Mastodon's VAPID_PRIVATE_KEY is a P-256 private key/,
    secret: "not-a-key!really",
  },
  {
    what: "a private key too long",
    slice: () => withValue(["vapid", "privateKey"], OLD.vapid.publicKey),
    key: `${K}.vapid.privateKey`,
    message: /^decodes to more than 32 bytes: /,
  },
  {
    what: "a public key that is no point",
    slice: () => withValue(["vapid", "publicKey"], OLD.vapid.privateKey),
    key: `${K}.vapid.publicKey`,
    message: /^is not an uncompressed point \(65 bytes starting with 0x04\): /,
  },
  // What 4.6 does not read, and a key that is not one.
  {
    what: "OTP_SECRET",
    slice: () => ({ ...given(), otpSecret: "0123456789abcdef0123456789abcdef" }),
    key: `${K}.otpSecret`,
    message: OTP_SECRET_REFUSED,
    secret: "0123456789abcdef0123456789abcdef",
  },
  {
    what: "a misspelt key",
    slice: () => ({ vapid: { ...given().vapid, private_key: "fedcba9876543210fedcba9876543210" } }),
    key: `${K}.vapid.private_key`,
    message: "is not a known key; did you mean privateKey?",
    secret: "fedcba9876543210fedcba9876543210",
  },
];

describe.each(REFUSALS)("$what", (row) => {
  const problems = configProblems(
    withConfig((c) => (c.existingSecrets = row.slice())),
    row.secretPaths ? { secretPaths: row.secretPaths } : SECRET_TOP,
  );
  const errors = problems.filter((p) => p.severity === "error");

  test("is refused by its key, with the message that says what to do", () => {
    expect(errors.map((p) => p.key)).toEqual([row.key]);
    if (typeof row.message === "string") expect(errors[0]?.message).toBe(row.message);
    else expect(errors[0]?.message).toMatch(row.message);
  });

  test("never shows a secret: not in the problem, its value, or the text printed", () => {
    const printed = formatProblems(problems, "test");
    for (const secret of [...SECRETS, ...(row.secret ? [row.secret] : [])]) {
      expect(JSON.stringify(problems)).not.toContain(secret);
      expect(printed).not.toContain(secret);
    }
  });
});

test("a value the offline plan cannot decrypt is checked for presence only, with a note saying so", () => {
  const encrypted = given();
  encrypted.secretKeyBase = SECRET_PLACEHOLDER;
  encrypted.vapid.privateKey = SECRET_PLACEHOLDER;
  const problems = configProblems(
    withConfig((c) => (c.existingSecrets = encrypted)),
    {
      secretPaths: [
        ["existingSecrets", "secretKeyBase"],
        ["existingSecrets", "activeRecordEncryption"],
        ["existingSecrets", "vapid", "privateKey"],
      ],
    },
  );
  expect(problems).toEqual([
    {
      severity: "warning",
      key: K,
      message:
        "holds secretKeyBase, vapid.privateKey encrypted (secure:), which the offline plan cannot decrypt (it has no passphrase): it checked that they are given, not their form or that vapid.publicKey is their public key. pulumi preview and pulumi up check them decrypted, before any resource",
    },
  ]);
  // Presence is still checked: half a pair is refused even encrypted.
  const half = configErrors(
    withConfig((c) => (c.existingSecrets = { vapid: { privateKey: SECRET_PLACEHOLDER } })),
    { secretPaths: [["existingSecrets", "vapid", "privateKey"]] },
  );
  expect(half.map((p) => p.key)).toEqual([`${K}.vapid.publicKey`]);
});

test("every problem in one pass: a malformed value, half a pair and OTP_SECRET together", () => {
  const errors = configErrors(
    withConfig((c) => {
      c.existingSecrets = {
        secretKeyBase: " ",
        activeRecordEncryption: { primaryKey: OLD.primaryKey },
        vapid: { privateKey: OLD.vapid.privateKey },
        otpSecret: "x",
      };
    }),
    SECRET_TOP,
  );
  expect(errors.map((p) => p.key).sort()).toEqual(
    [
      `${K}.activeRecordEncryption.deterministicKey`,
      `${K}.activeRecordEncryption.keyDerivationSalt`,
      `${K}.otpSecret`,
      `${K}.secretKeyBase`,
      `${K}.vapid.publicKey`,
    ].sort(),
  );
});
