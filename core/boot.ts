/**
 * What a fleet host does at boot, rendered as files (pure): the env file and PgBouncer userlist as
 * templates whose secrets are `{{ssm:<parameter name>}}` placeholders, and a small Python program
 * that fills them from SSM Parameter Store. No secret value is ever in user-data or a launch
 * template: only parameter names are.
 */
import type { Env } from "./env";

const PLACEHOLDER = /\{\{ssm:([A-Za-z0-9_.\-/]+)\}\}/g;

/** The placeholder for an SSM SecureString, filled in at boot. */
export function ssmPlaceholder(parameterName: string): string {
  return `{{ssm:${parameterName}}}`;
}

/** Parameter names a text refers to. */
export function placeholdersIn(text: string): string[] {
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1] as string))].sort();
}

/**
 * An env file Ruby's dotenv and Node's dotenv read alike: one KEY=value per line, sorted. Values
 * are refused if they could be read differently by either (spaces, quotes, #, $, backslashes):
 * everything this package emits is a URL, a name, a number or a placeholder.
 */
export function renderEnvFile(env: Env, header: string): string {
  const lines = Object.keys(env)
    .sort()
    .map((key) => {
      const value = env[key] as string;
      if (/[\s"'`#$\\]/.test(value)) throw new Error(`${key}: value would need quoting in .env.production`);
      return `${key}=${value}`;
    });
  return [`# ${header}`, ...lines, ""].join("\n");
}

export interface RenderedFile {
  /** Template with placeholders, written by cloud-init. */
  readonly template: string;
  /** Where the filled-in file goes. */
  readonly target: string;
  readonly mode: string;
  readonly owner: string;
}

export const BOOT_PATHS = {
  dir: "/etc/mastodon",
  manifest: "/etc/mastodon/secrets-manifest.json",
  renderer: "/usr/local/sbin/mastodon-render-secrets",
} as const;

/** The manifest the renderer reads: which templates to fill, where to put them, with what mode. */
export function renderManifest(
  parameterPath: string,
  region: string,
  files: readonly RenderedFile[],
): string {
  return `${JSON.stringify({ parameterPath, region, files }, null, 2)}\n`;
}

/**
 * The boot-time renderer (Python 3, standard library only). It reads every parameter under the
 * stack's path with the instance role (`aws ssm get-parameters-by-path --with-decryption`), fills
 * each template, and writes the result atomically with its mode and owner. It fails, writing
 * nothing, if a placeholder names a parameter that does not exist. `--parameters FILE` reads the
 * parameters from a JSON file in the same shape instead of calling AWS (used by the tests).
 */
export const RENDER_SECRETS_PY = `#!/usr/bin/env python3
"""Fill {{ssm:NAME}} placeholders in Mastodon's config templates from SSM Parameter Store."""
import json, os, pwd, grp, re, subprocess, sys, tempfile

PLACEHOLDER = re.compile(r"\\{\\{ssm:([A-Za-z0-9_.\\-/]+)\\}\\}")


def load_parameters(manifest, parameters_file):
    if parameters_file:
        with open(parameters_file) as f:
            data = json.load(f)
    else:
        out = subprocess.run(
            ["aws", "ssm", "get-parameters-by-path", "--region", manifest["region"],
             "--path", manifest["parameterPath"], "--recursive", "--with-decryption", "--output", "json"],
            check=True, capture_output=True, text=True).stdout
        data = json.loads(out)
    return {p["Name"]: p["Value"] for p in data["Parameters"]}


def main(argv):
    manifest_path = argv[1]
    parameters_file = argv[3] if len(argv) > 3 and argv[2] == "--parameters" else None
    with open(manifest_path) as f:
        manifest = json.load(f)
    values = load_parameters(manifest, parameters_file)
    rendered, missing = [], set()
    for spec in manifest["files"]:
        with open(spec["template"]) as f:
            text = f.read()
        missing.update(name for name in PLACEHOLDER.findall(text) if name not in values)
        rendered.append((spec, PLACEHOLDER.sub(lambda m: values.get(m.group(1), ""), text)))
    if missing:
        sys.stderr.write("missing SSM parameters: %s\\n" % ", ".join(sorted(missing)))
        return 1
    for spec, text in rendered:
        user, _, group = spec["owner"].partition(":")
        directory = os.path.dirname(spec["target"])
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".render-")
        try:
            os.fchmod(fd, int(spec["mode"], 8))
            if os.geteuid() == 0:
                os.fchown(fd, pwd.getpwnam(user).pw_uid, grp.getgrnam(group or user).gr_gid)
            with os.fdopen(fd, "w") as f:
                f.write(text)
            os.replace(tmp, spec["target"])
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
`;
