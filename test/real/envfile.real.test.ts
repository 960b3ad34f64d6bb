/**
 * .env.production as a host gets it: the fleet's template from the launch template's user-data,
 * filled by the boot renderer (python3), then read by the two parsers Mastodon uses: Ruby's dotenv
 * (Rails) and Node's dotenv (the streaming server). Both must see exactly the values the package
 * computed, secrets included.
 */
import { spawnSync } from "child_process";
import * as dotenv from "dotenv";
import * as fs from "fs";
import * as path from "path";
import { placeholdersIn, RENDER_SECRETS_PY, renderManifest } from "../../core/boot";
import { fleetArtifacts } from "../../plan/fleetArtifacts";
import { runStack } from "../helpers";
import { requireProgram, tempDir } from "./servers";

const dir = tempDir("mastodon-envfile-");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A stand-in secret per parameter, shaped like the real ones (alphanumeric, or base64 for VAPID). */
const secretFor = (name: string) =>
  name.endsWith("vapid-private-key")
    ? "Zm9vYmFyLWJhei1xdXV4LTEyMzQ1Njc4OTAtYWJjZGVm="
    : `s${Buffer.from(name).toString("hex").slice(-24)}`;

describe.each(["dev", "production"])("stack %s", (stack) => {
  let template: string;
  let filled: string;
  beforeAll(async () => {
    requireProgram("/usr/bin/python3");
    const [first] = fleetArtifacts((await runStack(stack)).resources);
    template = Object.entries(first!.files).find(([p]) => p.endsWith("env.production.template"))![1];
    const templateFile = path.join(dir, `${stack}.template`);
    const target = path.join(dir, `${stack}.env.production`);
    fs.writeFileSync(templateFile, template);
    const parameters = path.join(dir, `${stack}.parameters.json`);
    fs.writeFileSync(
      parameters,
      JSON.stringify({
        Parameters: placeholdersIn(template).map((Name) => ({ Name, Value: secretFor(Name) })),
      }),
    );
    const manifest = path.join(dir, `${stack}.manifest.json`);
    const owner = `${process.getuid?.() === 0 ? "root:root" : `${process.env["USER"]}:${process.env["USER"]}`}`;
    fs.writeFileSync(
      manifest,
      renderManifest(`/mastodon/${stack}/mastodon`, "us-east-1", [
        { template: templateFile, target, mode: "0600", owner },
      ]),
    );
    fs.writeFileSync(path.join(dir, "render"), RENDER_SECRETS_PY, { mode: 0o755 });
    const r = spawnSync("python3", [path.join(dir, "render"), manifest, "--parameters", parameters], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    filled = fs.readFileSync(target, "utf8");
  });

  /** What the package meant: the template's lines with each placeholder replaced. */
  const expected = () =>
    Object.fromEntries(
      template
        .split("\n")
        .filter((l) => l && !l.startsWith("#"))
        .map((l) => {
          const [key, ...rest] = l.split("=");
          return [key, rest.join("=").replace(/\{\{ssm:([^}]+)\}\}/g, (_m, name: string) => secretFor(name))];
        }),
    );

  test("no placeholder is left", () => {
    expect(placeholdersIn(filled)).toEqual([]);
    expect(Object.keys(expected()).length).toBeGreaterThan(30);
  });

  test("Node's dotenv (the streaming server) reads exactly the computed values", () => {
    expect(dotenv.parse(filled)).toEqual(expected());
  });

  test("Ruby's dotenv (Rails) reads exactly the computed values", () => {
    requireProgram("/usr/bin/ruby");
    const file = path.join(dir, `${stack}.filled`);
    fs.writeFileSync(file, filled);
    const r = spawnSync(
      "ruby",
      ["-rdotenv", "-rjson", "-e", "puts JSON.generate(Dotenv::Parser.call(File.read(ARGV[0])))", file],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(JSON.parse(r.stdout)).toEqual(expected());
  });
});
