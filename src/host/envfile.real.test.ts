/**
 * .env.production as a host gets it: the fleet's template from the launch template's user-data,
 * filled by the boot renderer (python3), then read by the two parsers Mastodon uses: Ruby's dotenv
 * (Rails; Debian's ruby-dotenv here) and Node's dotenv (the streaming server). Both must see exactly
 * the values the package computed, secrets included, whatever characters the operator put in the
 * SMTP password.
 */
import { spawnSync } from "child_process";
import * as dotenv from "dotenv";
import * as fs from "fs";
import * as path from "path";
import { placeholdersIn, renderManifest } from "./boot";
import { programPath, RENDER_SECRETS } from "./programs";
import { fleetArtifacts } from "../cli/fleetArtifacts";
import { runStack } from "../../test/helpers";
import { requireProgram, tempDir } from "../../test/real/servers";

const dir = tempDir("mastodon-envfile-");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

const renderer = path.join(dir, "mastodon-render-secrets");
// The program as it is in the package, installed as cloud-init installs it (0755).
fs.copyFileSync(programPath(RENDER_SECRETS), renderer);
fs.chmodSync(renderer, 0o755);
const owner = `${process.getuid?.() === 0 ? "root:root" : `${process.env["USER"]}:${process.env["USER"]}`}`;

/** A stand-in secret per parameter, shaped like the real ones (alphanumeric, or base64 for VAPID). */
const secretFor = (name: string) =>
  name.endsWith("vapid-private-key")
    ? "Zm9vYmFyLWJhei1xdXV4LTEyMzQ1Njc4OTAtYWJjZGVm="
    : `s${Buffer.from(name).toString("hex").slice(-24)}`;

/** The env template of the stack's first fleet, as its user-data writes it. */
async function envTemplate(stack: string): Promise<string> {
  const [first] = fleetArtifacts((await runStack(stack)).resources);
  return Object.entries(first!.files).find(([p]) => p.endsWith("env.production.template"))![1];
}

/** Every placeholder's stand-in, with some replaced. */
const parametersFor = (template: string, chosen: Record<string, string> = {}) =>
  Object.fromEntries(placeholdersIn(template).map((name) => [name, chosen[name] ?? secretFor(name)]));

interface Rendered {
  readonly status: number | null;
  readonly stderr: string;
  readonly target: string;
  /** The filled file, when the renderer wrote one. */
  readonly filled?: string;
}

/** Runs the real renderer on one template with these parameters (its --parameters file). */
function render(name: string, template: string, values: Record<string, string>): Rendered {
  requireProgram("/usr/bin/python3");
  const templateFile = path.join(dir, `${name}.template`);
  const target = path.join(dir, `${name}.env.production`);
  fs.writeFileSync(templateFile, template);
  const parameters = path.join(dir, `${name}.parameters.json`);
  fs.writeFileSync(
    parameters,
    JSON.stringify({
      Parameters: Object.entries(values).map(([Name, Value]) => ({ Name, Value, Type: "SecureString" })),
    }),
  );
  const manifest = path.join(dir, `${name}.manifest.json`);
  fs.writeFileSync(
    manifest,
    renderManifest("/mastodon/test/mastodon", "us-east-1", [
      { template: templateFile, target, mode: "0600", owner },
    ]),
  );
  const r = spawnSync("python3", [renderer, manifest, "--parameters", parameters], { encoding: "utf8" });
  return {
    status: r.status,
    stderr: r.stderr,
    target,
    ...(fs.existsSync(target) && { filled: fs.readFileSync(target, "utf8") }),
  };
}

/** What the package meant: the template's lines with each placeholder replaced by its value. */
const expectedEnv = (template: string, values: Record<string, string>) =>
  Object.fromEntries(
    template
      .split("\n")
      .filter((l) => l && !l.startsWith("#"))
      .map((l) => {
        const [key, ...rest] = l.split("=");
        return [key, rest.join("=").replace(/\{\{ssm:([^}]+)\}\}/g, (_m, name: string) => values[name]!)];
      }),
  );

/**
 * Ruby's dotenv on each text, read as its Dotenv::Environment reads a file (binary, BOM-aware
 * UTF-8). Run without the test's environment: the gem substitutes $VARS from ENV.
 */
function rubyDotenv(texts: readonly string[]): Record<string, string>[] {
  requireProgram("/usr/bin/ruby");
  const files = texts.map((text, i) => {
    const file = path.join(dir, `ruby-${i}.env`);
    fs.writeFileSync(file, text);
    return file;
  });
  const r = spawnSync(
    "ruby",
    [
      "-rdotenv",
      "-rjson",
      "-e",
      'puts JSON.generate(ARGV.map { |f| Dotenv::Parser.call(File.open(f, "rb:bom|utf-8", &:read)) })',
      ...files,
    ],
    { encoding: "utf8", env: { PATH: process.env["PATH"] ?? "/usr/bin:/bin", HOME: "/nonexistent" } },
  );
  expect(r.stderr).toBe("");
  return JSON.parse(r.stdout) as Record<string, string>[];
}

describe.each(["dev", "production"])("stack %s", (stack) => {
  let template: string;
  let values: Record<string, string>;
  let filled: string;
  beforeAll(async () => {
    template = await envTemplate(stack);
    values = parametersFor(template);
    const r = render(stack, template, values);
    expect(r.stderr).toBe("");
    filled = r.filled!;
  });

  test("no placeholder is left, and every one the template holds names a parameter of the stack", () => {
    expect(placeholdersIn(filled)).toEqual([]);
    // Not only what parametersFor supplies: a placeholder-shaped comment (the header once said
    // "{{ssm:...}} are filled at boot") would name a parameter "..." that no stack has, and every
    // real boot would fail on it.
    expect(placeholdersIn(template).filter((n) => !n.startsWith(`/mastodon/mastodon-aws/${stack}/`))).toEqual(
      [],
    );
    expect(Object.keys(expectedEnv(template, values)).length).toBeGreaterThan(30);
  });

  test("Node's dotenv (the streaming server) reads exactly the computed values", () => {
    expect(dotenv.parse(filled)).toEqual(expectedEnv(template, values));
  });

  test("Ruby's dotenv (Rails) reads exactly the computed values", () => {
    expect(rubyDotenv([filled])[0]).toEqual(expectedEnv(template, values));
  });
});

/**
 * What an operator may set as mastodon:mail.smtp.password: every character dotenv gives a meaning
 * (comment, substitution, command, escape, quote, surrounding space), alone and together.
 */
const PASSWORDS = [
  "pa#ss",
  "#starts-with-hash",
  "pa$ss",
  "$HOME",
  "${X}",
  "$(id)",
  "`id`",
  "pass word",
  " leading",
  "trailing ",
  "  both ends  ",
  "it's",
  'say "hi"',
  "back\\slash",
  "\\starts-with-backslash",
  "not\\na newline",
  "a=b==",
  "'single-quoted'",
  '"double-quoted"',
  ' #$HOME ${X} $(id) \\n \\t "q" = \\ x ',
  "it's #1 = 'best' (really) ",
  "pässwörd € ñ",
];

describe("an operator-chosen SMTP password survives .env.production", () => {
  let template: string;
  let smtpPassword: string;
  const rendered: { password: string; values: Record<string, string>; result: Rendered }[] = [];
  beforeAll(async () => {
    template = await envTemplate("dev");
    smtpPassword = placeholdersIn(template).find((n) => n.endsWith("/smtp-password"))!;
    PASSWORDS.forEach((password, i) => {
      const values = parametersFor(template, { [smtpPassword]: password });
      rendered.push({ password, values, result: render(`smtp-${i}`, template, values) });
    });
  });

  test("the renderer writes every one", () => {
    for (const { result } of rendered) {
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
    }
  });

  test("Node's dotenv reads back each password exactly, and every other key as computed", () => {
    for (const { password, values, result } of rendered) {
      const parsed = dotenv.parse(result.filled!);
      expect(parsed["SMTP_PASSWORD"]).toBe(password);
      expect(parsed).toEqual(expectedEnv(template, values));
    }
  });

  test("Ruby's dotenv reads back each password exactly, and every other key as computed", () => {
    const parsed = rubyDotenv(rendered.map(({ result }) => result.filled!));
    rendered.forEach(({ password, values }, i) => {
      expect(parsed[i]!["SMTP_PASSWORD"]).toBe(password);
      expect(parsed[i]).toEqual(expectedEnv(template, values));
    });
  });

  test("written raw, as the renderer did before it quoted, both parsers misread many of them", () => {
    const raw = rendered.map(({ values }) =>
      template.replace(/\{\{ssm:([^}]+)\}\}/g, (_m, name: string) => values[name]!),
    );
    const ruby = rubyDotenv(raw);
    const misread = (parsed: (Record<string, string> | undefined)[]) =>
      rendered.filter(({ password }, i) => parsed[i]?.["SMTP_PASSWORD"] !== password).map((r) => r.password);
    // A comment cuts the value; surrounding spaces and quotes are stripped.
    const both = ["pa#ss", "#starts-with-hash", " leading", "trailing ", "  both ends  ", "'single-quoted'"];
    expect(misread(raw.map((text) => dotenv.parse(text)))).toEqual(expect.arrayContaining(both));
    // Rails also substitutes variables and runs commands.
    expect(misread(ruby)).toEqual(expect.arrayContaining([...both, "pa$ss", "$HOME", "${X}", "$(id)"]));
  });

  test("why a trailing backslash is refused: single-quoted, Node's dotenv swallows the next line", () => {
    // The value's last \ and the closing quote read as an escaped quote; the quoted value runs on.
    const text = "A='ends with \\'\nB='#starts with a hash'\nC=plain\n";
    expect(dotenv.parse(text)).toEqual({ A: "ends with \\'\nB=", C: "plain" });
  });
});

describe("values the renderer refuses: the boot fails naming the parameter, never the value, and writes nothing", () => {
  let template: string;
  let names: string[];
  beforeAll(async () => {
    template = await envTemplate("dev");
    names = placeholdersIn(template);
  });
  const refuse = (name: string, suffix: string, value: string) => {
    const parameter = names.find((n) => n.endsWith(suffix))!;
    const result = render(name, template, parametersFor(template, { [parameter]: value }));
    expect(result.status).toBe(1);
    expect(result.filled).toBeUndefined();
    expect(result.stderr).not.toContain(value);
    return { ...result, parameter };
  };
  const QUOTE_AND =
    "it contains a single quote (') and also a double quote (\"), a backslash (\\) or a dollar sign ($)";

  test.each([
    ["quote-dollar", "it's $5", QUOTE_AND],
    ["quote-double", 'it\'s "x"', QUOTE_AND],
    ["quote-backslash", "it's a\\b", QUOTE_AND],
    ["trailing-backslash", "ends with a backslash \\", "it ends with a backslash (\\)"],
    ["line-break", "two\nlines", "it contains a line break"],
    ["carriage-return", "two\rlines", "it contains a line break"],
  ])("SMTP password (%s)", (name, value, reason) => {
    const { stderr, parameter, target } = refuse(name, "/smtp-password", value);
    expect(stderr).toBe(
      `SSM parameter ${parameter} cannot be the value of SMTP_PASSWORD in ${target}: ${reason}\n`,
    );
  });

  test("a Redis password that is not alphanumeric, inside REDIS_URL and SIDEKIQ_REDIS_URL", () => {
    const { stderr, parameter, target } = refuse("redis", "/redis-persistent-password", "pa#ss@x");
    expect(template).toContain(`REDIS_URL=rediss://:{{ssm:${parameter}}}@`);
    const line = `SSM parameter ${parameter} is filled inside a larger value in ${target}, where it must be alphanumeric (A-Z, a-z, 0-9) and is not\n`;
    expect(stderr).toBe(line.repeat(2));
  });
});
