/**
 * How a secret is written into .env.production at boot: dotenvQuote (TypeScript, for validating
 * config at plan time) and dotenv_quote in the boot renderer (Python) must be one rule. Whether the
 * rule makes Ruby's and Node's dotenv read every value back exactly is src/host/envfile.real.test.ts.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
  SSM_READ_RETRY,
  dotenvProblem,
  dotenvQuote,
  dotenvRepresentable,
  renderManifest,
  ssmReadBoundSeconds,
} from "./boot";
import { programPath, RENDER_SECRETS } from "./programs";
import { requireProgram } from "../../test/real/servers";

/** value -> what follows `KEY=` in the filled file. */
const WRITTEN: readonly (readonly [string, string])[] = [
  ["s3cr3tDB", "s3cr3tDB"],
  ["pa#ss", "'pa#ss'"],
  ["#starts", "'#starts'"],
  ["pa$ss", "'pa$ss'"],
  ["$HOME", "'$HOME'"],
  ["${X}", "'${X}'"],
  ["$(id)", "'$(id)'"],
  ["pass word", "'pass word'"],
  ["  both ends  ", "'  both ends  '"],
  ['say "hi"', `'say "hi"'`],
  ["back\\slash", "'back\\slash'"],
  ["not\\na newline", "'not\\na newline'"],
  ["a=b==", "'a=b=='"],
  ["`tick`", "'`tick`'"],
  ["tab\there", "'tab\there'"],
  ["pässwörd€", "'pässwörd€'"],
  ["", "''"],
  ["it's", `"it's"`],
  ["it's #1 = 'best'", `"it's #1 = 'best'"`],
  ["' leading quote ", `"' leading quote "`],
];

/** value -> why neither quoting reads back exactly. */
const REFUSED: readonly (readonly [string, string])[] = [
  ["line\nbreak", "it contains a line break"],
  ["carriage\rreturn", "it contains a line break"],
  ["'\n'", "it contains a line break"],
  ["ends with \\", "it ends with a backslash (\\)"],
  [
    "it's $5",
    "it contains a single quote (') and also a double quote (\"), a backslash (\\) or a dollar sign ($)",
  ],
  [
    `it's "x"`,
    "it contains a single quote (') and also a double quote (\"), a backslash (\\) or a dollar sign ($)",
  ],
  [
    "it's a\\b",
    "it contains a single quote (') and also a double quote (\"), a backslash (\\) or a dollar sign ($)",
  ],
];

test.each(WRITTEN)("%j is written as %s", (value, written) => {
  expect(dotenvQuote(value)).toBe(written);
  expect(dotenvProblem(value)).toBeUndefined();
  expect(dotenvRepresentable(value)).toBe(true);
});

test.each(REFUSED)("%j is refused: %s", (value, reason) => {
  expect(dotenvProblem(value)).toBe(reason);
  expect(dotenvRepresentable(value)).toBe(false);
  expect(() => dotenvQuote(value)).toThrow(reason);
  // The message says why, never what: it may end up in a log.
  let message = "";
  try {
    dotenvQuote(value);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).not.toContain(value);
});

/** Deterministic strings over every character the rule looks at (no clock, no Math.random). */
function generated(count: number): string[] {
  const alphabet = [..."aZ09 #$'\"\\=`{}()n\t:;!&|*?~"];
  alphabet.push("\n", "\r", "é");
  let seed = 20240601;
  const next = () => (seed = (seed * 1103515245 + 12345) % 2147483648);
  return Array.from({ length: count }, () =>
    Array.from({ length: 1 + (next() % 12) }, () => alphabet[next() % alphabet.length]).join(""),
  );
}

test("the boot renderer's dotenv_quote (python3) and dotenvQuote are the same rule", () => {
  const python = requireProgram("/usr/bin/python3");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-boot-rule-"));
  try {
    // Importable under a module name (src/host/files/render-secrets.py has a dash).
    fs.copyFileSync(programPath(RENDER_SECRETS), path.join(dir, "render_secrets.py"));
    const values = [...WRITTEN.map(([v]) => v), ...REFUSED.map(([v]) => v), ...generated(3000)];
    const r = spawnSync(
      python,
      [
        "-c",
        "import json, sys; sys.path.insert(0, sys.argv[1]); import render_secrets as r; " +
          "print(json.dumps([r.dotenv_quote(v) for v in json.load(sys.stdin)]))",
        dir,
      ],
      { input: JSON.stringify(values), encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    const fromPython = JSON.parse(r.stdout) as [string | null, string | null][];
    const fromTs = values.map((v) => {
      const problem = dotenvProblem(v);
      return problem ? [null, problem] : [dotenvQuote(v), null];
    });
    expect(fromPython).toEqual(fromTs);
    // The table reaches every branch: as is, single, double, refused.
    expect(fromTs.some(([w], i) => w === values[i])).toBe(true);
    expect(fromTs.some(([w]) => w?.startsWith("'"))).toBe(true);
    expect(fromTs.some(([w]) => w?.startsWith('"'))).toBe(true);
    expect(fromTs.filter(([w]) => w === null).length).toBeGreaterThan(100);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("the renderer's backoff (python3) waits within SSM_READ_RETRY's bound: about five minutes in all", () => {
  const python = requireProgram("/usr/bin/python3");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-boot-backoff-"));
  try {
    fs.copyFileSync(programPath(RENDER_SECRETS), path.join(dir, "render_secrets.py"));
    // The retry the manifest carries, read back as the renderer reads it.
    const { retry } = JSON.parse(renderManifest("/mastodon/p/m", "us-east-1", [])) as {
      retry: typeof SSM_READ_RETRY;
    };
    expect(retry).toEqual(SSM_READ_RETRY);
    const r = spawnSync(
      python,
      [
        "-c",
        "import json, sys; sys.path.insert(0, sys.argv[1]); import render_secrets as r; " +
          "retry = json.load(sys.stdin); n = retry['attempts']; " +
          "print(json.dumps([[r.backoff_delay(a, retry, lambda: 0.0), r.backoff_delay(a, retry, lambda: 1.0)] for a in range(1, n)]))",
        dir,
      ],
      { input: JSON.stringify(retry), encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    const waits = JSON.parse(r.stdout) as [number, number][];
    // Half of each wait is fixed, half jitter: 5, 10, 20, 40 s, then 80 s at the ceiling.
    expect(waits.map(([, most]) => most)).toEqual([5, 10, 20, 40, 80, 80, 80]);
    expect(waits.map(([least]) => least)).toEqual([2.5, 5, 10, 20, 40, 40, 40]);
    const most = waits.reduce((sum, [, w]) => sum + w, 0);
    expect(most).toBe(315);
    // Every call timed out and every wait at its ceiling: what the boot unit budgets for the render.
    expect(ssmReadBoundSeconds()).toBe(retry.attempts * retry.callTimeoutSeconds + most);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
