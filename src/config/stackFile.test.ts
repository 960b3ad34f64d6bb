/**
 * Config from where Pulumi users keep it: a key written without `mastodon:` is refused by its key
 * (Pulumi puts it in the project's namespace, which nothing reads), and a stack file's Pulumi ESC
 * imports are read from their exported definitions, the stack file winning, with every value that
 * cannot be known offline said by key and environment.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { ConfigError, namespaceConfig, parseStackConfig } from "./index";
import { escNotes } from "./escEnvironments";
import { readStackFile } from "./stackFile";
import { PROJECT, planStack } from "../cli/plan";
import program from "../../index";
import { ROOT } from "../../test/helpers";

const DEV = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");

function stacksDir(files: Record<string, unknown>): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-stackfile-"));
  for (const [name, doc] of Object.entries(files)) {
    const file = path.join(dir, name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, typeof doc === "string" ? doc : stringify(doc));
  }
  return dir;
}

async function planErrors(dir: string): Promise<string> {
  try {
    await planStack({ stack: "t", stacksDir: dir, outDir: path.join(dir, "out"), program });
  } catch (e) {
    if (e instanceof ConfigError) return e.message;
    throw e;
  }
  throw new Error("the plan was not refused");
}

test("a key written without mastodon: is refused by the key Pulumi gives it, with the fix", async () => {
  const dir = stacksDir({ "Pulumi.t.yaml": DEV.replace("config:\n", "config:\n  domain: oops.example\n") });
  const message = await planErrors(dir);
  expect(message).toContain(
    `${PROJECT}:domain: is read by nothing: a key written without a namespace lands in the project's (${PROJECT}:), and this package reads mastodon:. Set it as mastodon:domain`,
  );
  expect(fs.existsSync(path.join(dir, "out"))).toBe(false);
});

test("pulumi up refuses it the same way: the program sees the project's namespace in all config", () => {
  const config = readStackFile(path.join(ROOT, "stacks"), "dev").config;
  expect(() =>
    parseStackConfig(namespaceConfig(config), "dev", {
      allKeys: { keys: [...Object.keys(config), `${PROJECT}:fleets`], project: PROJECT },
    }),
  ).toThrow(`${PROJECT}:fleets: is read by nothing`);
});

describe("Pulumi ESC imports, read from their exported definitions", () => {
  // The dev stack with its domain and region moved into environments: base, and dev importing it.
  const stack = DEV.replace(/^ {2}aws:region: .*\n/m, "")
    .replace(/^ {2}mastodon:domain: .*\n/m, "")
    .replace("config:\n", "environment:\n  - mastodon/dev\nconfig:\n");
  const esc = {
    "esc/mastodon/base.yaml": {
      values: { pulumiConfig: { "aws:region": "eu-west-1", "mastodon:domain": "base.example" } },
    },
    "esc/mastodon/dev.yaml": {
      imports: ["mastodon/base"],
      values: {
        pulumiConfig: {
          "mastodon:domain": "esc.mastodon.example",
          "mastodon:alarms": { email: "ops@mastodon.example" },
          "mastodon:webDomain": "${app.web}",
          "aws:profile": { "fn::open::aws-login": { oidc: { roleArn: "arn:aws:iam::1:role/x" } } },
          "mastodon:mail": { "fn::secret": { ciphertext: "ZXNj" } },
        },
      },
    },
  };

  test("values come in, the environment's own over its imports, the stack file's over both", () => {
    const dir = stacksDir({
      "Pulumi.t.yaml": stack.replace(
        "config:\n",
        "config:\n  mastodon:alarms:\n    email: own@mastodon.example\n",
      ),
      ...esc,
    });
    const file = readStackFile(dir, "t");
    expect(file.config["aws:region"]).toBe("eu-west-1");
    expect(file.config["mastodon:domain"]).toBe("esc.mastodon.example");
    expect(JSON.parse(file.config["mastodon:alarms"]!)).toEqual({ email: "own@mastodon.example" });
    // fn::secret is a secret, as secure: is: a placeholder, the key marked.
    expect(file.config["mastodon:mail"]).toBe("[secret]");
    expect(file.secretKeys).toContain("mastodon:mail");
    expect(file.esc.resolved).toEqual([
      { key: "aws:region", environment: "mastodon/base" },
      { key: "mastodon:domain", environment: "mastodon/dev" },
      { key: "mastodon:mail", environment: "mastodon/dev" },
    ]);
    expect(file.esc.unresolved).toEqual([
      { key: "mastodon:webDomain", environment: "mastodon/dev", why: "it interpolates ${...}" },
      { key: "aws:profile", environment: "mastodon/dev", why: "it is computed by fn::open::aws-login" },
    ]);
    expect(file.config["mastodon:webDomain"]).toBeUndefined();
  });

  test("what cannot be known offline is said by key and environment, beside the config's own problems", async () => {
    const dir = stacksDir({
      "Pulumi.t.yaml": stack.replace("- mastodon/dev", "- mastodon/dev\n  - team/secrets"),
      ...esc,
    });
    const message = await planErrors(dir);
    // The ESC secret stands in for mastodon:mail, whose shape a placeholder cannot satisfy: refused.
    expect(message).toContain(
      "mastodon:webDomain: comes from ESC environment mastodon/dev and cannot be resolved offline: it interpolates ${...}; it is left unset here",
    );
    expect(message).toContain(
      "environment: team/secrets: this ESC environment cannot be read offline: export its definition to stacks/esc/team/secrets.yaml",
    );
  });

  test("a stack importing an environment with no local definition still plans what it can, and says so", () => {
    const dir = stacksDir({
      "Pulumi.t.yaml": DEV.replace("config:\n", "environment:\n  - mastodon/prod\nconfig:\n"),
    });
    const file = readStackFile(dir, "t");
    expect(file.esc.missing).toEqual(["mastodon/prod"]);
    const validated = parseStackConfig(namespaceConfig(file.config), "t", { notes: escNotes(file.esc) });
    expect(validated.warnings.map((w) => w.key)).toContain("environment: mastodon/prod");
  });

  test.each([
    [{ environment: "not a list" }, '"environment" must list ESC environment names'],
    [{ environment: ["../../etc/passwd"] }, '"environment" must list ESC environment names'],
  ])("a malformed environment list is refused: %j", (extra, fragment) => {
    const dir = stacksDir({
      "Pulumi.t.yaml": stringify({ ...extra, config: { "mastodon:domain": "x.example" } }),
    });
    expect(() => readStackFile(dir, "t")).toThrow(fragment);
  });

  test("an environment importing itself is refused with the cycle", () => {
    const dir = stacksDir({
      "Pulumi.t.yaml": stringify({ environment: ["a"], config: {} }),
      "esc/a.yaml": { imports: ["b"] },
      "esc/b.yaml": { imports: ["a"] },
    });
    expect(() => readStackFile(dir, "t")).toThrow("ESC environment a imports itself: a -> b -> a");
  });
});

describe("YAML merge keys, read as the Pulumi CLI reads them (go-yaml v3)", () => {
  // The dev stack with its two Redis sharing a node type through an anchor and a merge.
  const merged = DEV.replace(
    /^ {2}mastodon:redis:\n(?: {4}.*\n)+/m,
    [
      "  mastodon:redis:",
      "    cache: &micro",
      "      nodeType: cache.t4g.micro",
      "    persistent:",
      "      <<: *micro",
      "      nodes: 1",
      "",
    ].join("\n"),
  );

  test("a stack file using <<: reads as the same stack written out", () => {
    expect(merged).toContain("<<: *micro");
    const dir = stacksDir({ "Pulumi.t.yaml": merged });
    const file = readStackFile(dir, "t");
    expect(file.config).toEqual(readStackFile(path.join(ROOT, "stacks"), "dev").config);
    expect(() => parseStackConfig(namespaceConfig(file.config), "t")).not.toThrow();
  });

  const read = (yaml: string) => {
    const dir = stacksDir({ "Pulumi.t.yaml": `config:\n${yaml}` });
    return JSON.parse(readStackFile(dir, "t").config["mastodon:b"] ?? "null") as unknown;
  };

  test("the mapping's own keys win wherever the << stands; in a list, earlier mappings win", () => {
    const anchors = "  mastodon:a: &a {x: 1, y: 2}\n  mastodon:c: &c {x: 5, z: 6}\n";
    expect(read(`${anchors}  mastodon:b: {<<: *a, x: 3}\n`)).toEqual({ x: 3, y: 2 });
    expect(read(`${anchors}  mastodon:b: {x: 3, <<: *a}\n`)).toEqual({ x: 3, y: 2 });
    expect(read(`${anchors}  mastodon:b: {<<: [*a, *c]}\n`)).toEqual({ x: 1, y: 2, z: 6 });
    expect(read(`${anchors}  mastodon:b: {<<: [*c, *a], z: 0}\n`)).toEqual({ x: 5, y: 2, z: 0 });
    // Merges inside a merged mapping are applied too, beneath its own keys.
    expect(read(`${anchors}  mastodon:d: &d {<<: *c, w: 7}\n  mastodon:b: {<<: *d}\n`)).toEqual({
      x: 5,
      z: 6,
      w: 7,
    });
  });

  test("a quoted or otherwise tagged << is an ordinary key, as go-yaml reads it", () => {
    expect(read(`  mastodon:b: {"<<": {x: 1}}\n`)).toEqual({ "<<": { x: 1 } });
    expect(read(`  mastodon:b: {!!str <<: {x: 1}}\n`)).toEqual({ "<<": { x: 1 } });
  });

  test.each([
    [
      "two << in one mapping",
      "  mastodon:a: &a {x: 1}\n  mastodon:b:\n    <<: *a\n    <<: *a\n",
      'line 5: mapping key "<<" already defined at line 4',
    ],
    [
      "a << and a quoted one",
      '  mastodon:b: {<<: {x: 1}, "<<": 2}\n',
      'line 2: mapping key "<<" already defined at line 2',
    ],
    [
      "an alias of a list",
      "  mastodon:a: &a [{x: 1}]\n  mastodon:b: {<<: *a}\n",
      "line 3: map merge requires map or sequence of maps as the value",
    ],
    [
      "a scalar",
      "  mastodon:b: {<<: 3}\n",
      "line 2: map merge requires map or sequence of maps as the value",
    ],
    [
      "a list holding a scalar",
      "  mastodon:b: {<<: [{x: 1}, 3]}\n",
      "line 2: map merge requires map or sequence of maps as the value",
    ],
  ])("%s is invalid YAML, as go-yaml says", (_what, yaml, message) => {
    const dir = stacksDir({ "Pulumi.t.yaml": `config:\n${yaml}` });
    expect(() => readStackFile(dir, "t")).toThrow(`is not valid YAML: ${message}`);
  });
});

test("docs/config.md's merge-key example reads as it says", () => {
  const doc = fs.readFileSync(path.join(ROOT, "docs", "config.md"), "utf8");
  const example = /merge keys included[\s\S]*?```yaml\n([\s\S]*?)```/.exec(doc)?.[1];
  expect(example).toContain("<<: *sidekiq-fleet");
  const indented = (example ?? "").replace(/^(?=.)/gm, "  ");
  const file = readStackFile(stacksDir({ "Pulumi.t.yaml": `config:\n${indented}` }), "t");
  expect(JSON.parse(file.config["mastodon:fleets"] ?? "{}").scheduler).toEqual({
    instanceType: "c7g.large",
    maxSize: 1,
    sidekiq: { queues: ["scheduler"] },
  });
});
