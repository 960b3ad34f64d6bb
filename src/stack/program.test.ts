/**
 * The program and its components under Pulumi's mocks, through the same recorder the plan uses.
 */
import * as pulumi from "@pulumi/pulumi";
import { MastodonStack } from "./mastodonStack";
import { namespaceConfig } from "../config";
import { plainInputs, runUnderMocks } from "../testing/mocks";
import { readStackFile } from "../config/stackFile";
import { ROOT, baseArgs } from "../../test/helpers";
import program from "../../index";
import * as path from "path";

const STACKS_DIR = path.join(ROOT, "stacks");

test("the program exports the budget it computed from the stack config", async () => {
  const file = readStackFile(STACKS_DIR, "production");
  const run = await runUnderMocks(program, {
    project: "mastodon-aws",
    stack: "production",
    config: file.config,
  });
  expect(run.outputs["budget"]).toMatchObject({
    maxConnections: 500,
    limit: 445,
    pooler: "pgbouncer",
    // 408 at maximum size, 18 for the web and streaming hosts launched first, 15 of headroom.
    total: 441,
  });
  expect(run.outputs["replicaBudget"]).toBeUndefined();
  const root = run.resources.find((r) => r.type === "mastodon:index:MastodonStack");
  expect(root).toMatchObject({ name: "mastodon", parent: null, custom: false });
});

test("invalid config stops the program with a RunError (no stack trace) before any resource", async () => {
  const file = readStackFile(STACKS_DIR, "dev");
  const config = { ...file.config, "mastodon:fleets": '{"app":{"instanceType":"t3.micro","web":{}}}' };
  let caught: unknown;
  const run = runUnderMocks(program, { project: "mastodon-aws", stack: "dev", config }).catch(
    (e) => (caught = e),
  );
  await run;
  expect(pulumi.RunError.isInstance(caught as Error)).toBe(true);
  expect((caught as Error).message).toContain(
    'mastodon:fleets.app.instanceType: "t3.micro" is not a c-family instance type',
  );
});

test("a component given invalid args throws before registering anything", async () => {
  let message = "";
  const run = await runUnderMocks(
    () => {
      try {
        new MastodonStack("bad", { ...baseArgs(), environment: "qa" as never });
      } catch (e) {
        message = (e as Error).message;
      }
      return {};
    },
    { project: "p", stack: "s", config: {} },
  );
  expect(message).toContain('mastodon:environment: "qa" is not allowed');
  expect(run.resources).toEqual([]);
});

test("two MastodonStacks in one program declare no duplicate (type, name) pair", async () => {
  const run = await runUnderMocks(
    () => {
      const a = new MastodonStack("blue", baseArgs());
      const b = new MastodonStack("green", baseArgs());
      return { a: a.budget, b: b.budget };
    },
    { project: "p", stack: "s", config: {} },
  );
  const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
  expect(new Set(pairs).size).toBe(pairs.length);
  expect(run.resources.filter((r) => r.type === "mastodon:index:MastodonStack").map((r) => r.name)).toEqual([
    "blue",
    "green",
  ]);
});

test("the recorder turns wire-format secrets and references into plain JSON", () => {
  const secret = { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: "hunter2" };
  const ref = {
    "4dabf18193072939515e22adb298388d": "5cf8f73096256a8f31e491e813e4eb8e",
    urn: "urn:x",
    id: "i",
  };
  expect(plainInputs({ a: secret, b: [ref, "04da6b54-80e4-46f7-96ec-b56ff0331ba9"], c: 1 })).toEqual({
    a: "[secret]",
    b: ["urn:x", "[unknown]"],
    c: 1,
  });
});

test("namespaceConfig + readStackFile give the program the stack file's values", () => {
  const raw = namespaceConfig(readStackFile(STACKS_DIR, "staging").config);
  expect(raw["environment"]).toBe("staging");
  expect((raw["fleets"] as Record<string, unknown>)["scheduler"]).toMatchObject({ maxSize: 1 });
});
