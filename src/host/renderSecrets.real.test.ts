/**
 * The boot renderer (src/host/files/render-secrets.py, run by python3 as on the host) on the
 * production plan's own fleets: their templates and manifest as their user-data writes them,
 * against an `aws` stand-in that answers `ssm get-parameters` as SSM does (test/real/ssmStandIn.ts:
 * at most 10 names a call, unknown names in InvalidParameters) and records every call. What it reads
 * is held to what the fleet's role may read (its `-parameters` policy in the same plan).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { BOOT_PATHS, placeholdersIn } from "./boot";
import { programPath, RENDER_SECRETS } from "./programs";
import { type FleetArtifacts, fleetArtifacts } from "../cli/fleetArtifacts";
import type { MockRun } from "../testing/mocks";
import { all, runStack } from "../../test/helpers";
import { requireProgram, tempDir } from "../../test/real/servers";
import { SSM_GET_PARAMETERS_PY } from "../../test/real/ssmStandIn";

jest.setTimeout(120000);

const dir = tempDir("mastodon-render-secrets-");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
const owner = `${process.getuid?.() === 0 ? "root:root" : `${process.env["USER"]}:${process.env["USER"]}`}`;

let run: MockRun;
let fleets: FleetArtifacts[];
beforeAll(async () => {
  requireProgram("/usr/bin/python3");
  run = await runStack("production");
  fleets = fleetArtifacts(run.resources);
});

const fleet = (name: string) => fleets.find((f) => f.fleet === name)!;

/** The parameter names the fleet's role may read: its `-parameters` policy's resources. */
function policyNames(name: string): string[] {
  const policy = all(run, "aws:iam/rolePolicy:RolePolicy").find(
    (p) => p.name === `mastodon-${name}-parameters`,
  )!;
  const [read] = JSON.parse(policy.inputs["policy"] as string).Statement;
  return (read.Resource as string[]).map((arn) => arn.slice(arn.indexOf(":parameter") + ":parameter".length));
}

/** The templates the fleet's manifest names, and their placeholders. */
function templatesOf(f: FleetArtifacts) {
  const manifest = JSON.parse(f.files[BOOT_PATHS.manifest]!) as { files: { template: string }[] };
  const texts = manifest.files.map((s) => f.files[s.template]!);
  return { manifest, names: placeholdersIn(texts.join("\n")) };
}

interface Rendered {
  readonly status: number | null;
  readonly stderr: string;
  /** Each `aws` call's arguments. */
  readonly calls: string[][];
  /** The files the renderer wrote, by host path. */
  readonly written: Record<string, string>;
}

/** The fleet's renderer run in a directory of its own, SSM holding `known` (name -> value). */
function render(f: FleetArtifacts, known: Record<string, string>): Rendered {
  const root = fs.mkdtempSync(path.join(dir, `${f.fleet}-`));
  const bin = path.join(root, "bin");
  fs.mkdirSync(bin);
  fs.writeFileSync(path.join(root, "ssm.py"), SSM_GET_PARAMETERS_PY);
  fs.writeFileSync(
    path.join(root, "parameters.json"),
    JSON.stringify({ Parameters: Object.entries(known).map(([Name, Value]) => ({ Name, Value })) }),
  );
  fs.writeFileSync(
    path.join(bin, "aws"),
    `#!/bin/sh\n{ printf aws; printf '\\t%s' "$@"; printf '\\n'; } >>"${root}/calls.log"\nexec /usr/bin/python3 "${root}/ssm.py" "${root}/parameters.json" "$@"\n`,
    { mode: 0o755 },
  );
  const inRoot = (p: string) => path.join(root, "host", p);
  const manifest = structuredClone(JSON.parse(f.files[BOOT_PATHS.manifest]!));
  for (const spec of manifest.files) {
    fs.mkdirSync(path.dirname(inRoot(spec.template)), { recursive: true });
    fs.writeFileSync(inRoot(spec.template), f.files[spec.template]!);
    spec.template = inRoot(spec.template);
    spec.target = inRoot(spec.target);
    spec.owner = owner;
    fs.mkdirSync(path.dirname(spec.target), { recursive: true });
  }
  manifest.retry = { ...manifest.retry, baseSeconds: 0.05, maxDelaySeconds: 0.2 };
  const manifestFile = path.join(root, "manifest.json");
  fs.writeFileSync(manifestFile, JSON.stringify(manifest));
  const r = spawnSync("/usr/bin/python3", [programPath(RENDER_SECRETS), manifestFile], {
    encoding: "utf8",
    env: { PATH: `${bin}:/usr/bin:/bin` },
  });
  const log = path.join(root, "calls.log");
  const calls = fs.existsSync(log)
    ? fs
        .readFileSync(log, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => l.split("\t").slice(1))
    : [];
  const written: Record<string, string> = {};
  for (const spec of JSON.parse(f.files[BOOT_PATHS.manifest]!).files as { target: string }[])
    if (fs.existsSync(inRoot(spec.target)))
      written[spec.target] = fs.readFileSync(inRoot(spec.target), "utf8");
  return { status: r.status, stderr: r.stderr, calls, written };
}

const namesOf = (call: string[]) => call.slice(call.indexOf("--names") + 1);
/** A value per name, alphanumeric as the stack's generated secrets are. */
const valuesFor = (names: readonly string[]) =>
  Object.fromEntries(names.map((n) => [n, `v${Buffer.from(n).toString("hex").slice(-20)}`]));

test("a web host reads exactly its templates' parameters, by name, at most 10 a call, decrypted: what its role may read", () => {
  const web = fleet("web");
  const { names } = templatesOf(web);
  // More than one call's worth: the batching is exercised.
  expect(names.length).toBeGreaterThan(10);
  const r = render(web, valuesFor([...names, "/mastodon/other/not-named"]));
  expect(r.stderr).toBe("");
  expect(r.status).toBe(0);
  expect(r.calls.map((c) => c.slice(0, 2))).toEqual(r.calls.map(() => ["ssm", "get-parameters"]));
  expect(r.calls.length).toBe(Math.ceil(names.length / 10));
  for (const c of r.calls) {
    expect(namesOf(c).length).toBeLessThanOrEqual(10);
    expect(c).toContain("--with-decryption");
  }
  const read = r.calls.flatMap(namesOf);
  expect(read).toEqual(names);
  // The role may read exactly these: nothing the host does not read, nothing it reads is refused.
  expect(policyNames("web")).toEqual(names);
  const env = r.written["/home/mastodon/live/.env.production"]!;
  expect(placeholdersIn(env)).toEqual([]);
  for (const [name, value] of Object.entries(valuesFor(names)))
    if (name.endsWith("/secret-key-base")) expect(env).toContain(`\nSECRET_KEY_BASE=${value}\n`);
});

test("a streaming host reads its database's and its Redis's passwords, in one call, and nothing of Rails", () => {
  const streaming = fleet("streaming");
  const { names } = templatesOf(streaming);
  const r = render(streaming, valuesFor(templatesOf(fleet("web")).names));
  expect(r.status).toBe(0);
  expect(r.calls).toHaveLength(1);
  expect(namesOf(r.calls[0]!).map((n) => n.slice(n.lastIndexOf("/") + 1))).toEqual([
    "db-password",
    "redis-persistent-password",
  ]);
  expect(policyNames("streaming")).toEqual(names);
  expect(r.written["/home/mastodon/live/.env.production"]).not.toMatch(
    /SECRET_KEY_BASE|VAPID_PRIVATE_KEY|SMTP_/,
  );
});

test("a parameter SSM does not have (InvalidParameters) fails the render at once: no retry, nothing written", () => {
  const web = fleet("web");
  const { names } = templatesOf(web);
  const gone = names.find((n) => n.endsWith("/vapid-private-key"))!;
  const r = render(web, valuesFor(names.filter((n) => n !== gone)));
  expect(r.status).toBe(1);
  expect(r.stderr).toBe(`missing SSM parameters: ${gone}\n`);
  expect(r.calls).toHaveLength(Math.ceil(names.length / 10));
  expect(r.written).toEqual({});
});

test("the stand-in refuses a call of more than 10 names, as SSM does", () => {
  const root = fs.mkdtempSync(path.join(dir, "limit-"));
  fs.writeFileSync(path.join(root, "ssm.py"), SSM_GET_PARAMETERS_PY);
  fs.writeFileSync(path.join(root, "parameters.json"), JSON.stringify({ Parameters: [] }));
  const names = Array.from({ length: 11 }, (_, i) => `/p/${i}`);
  const r = spawnSync(
    "/usr/bin/python3",
    [
      path.join(root, "ssm.py"),
      path.join(root, "parameters.json"),
      "ssm",
      "get-parameters",
      "--with-decryption",
      "--names",
      ...names,
    ],
    { encoding: "utf8" },
  );
  expect(r.status).toBe(254);
  expect(r.stderr).toContain("ValidationException");
});
