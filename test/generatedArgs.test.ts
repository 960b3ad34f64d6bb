/**
 * Each config key is written once, in the zod schema beside its check: the args Pulumi's component
 * analyzer reads and docs/config.md's table are generated from it (bin/generateArgs.ts), and this
 * keeps them current. The generator itself is tested over small schemas of its own.
 */
import { spawnSync } from "child_process";
import { z } from "zod";
import { ArgsModel } from "../bin/configArgs";
import { renderArgsFiles, renderTable, tableRows } from "../bin/configDocs";
import { argsType, documented, enumType } from "../src/config/schema/keyDoc";
import { ROOT } from "./helpers";

test("the args files and docs/config.md's table are as the schema writes them (npm run generate)", () => {
  // Its own process: prettier, which lays the files out, does not load inside jest's module sandbox.
  const run = spawnSync(process.execPath, ["-r", "@swc-node/register", "bin/generateArgs.ts", "--check"], {
    cwd: ROOT,
    encoding: "utf8",
  });
  expect(run.stderr).toBe("");
  expect(run.status).toBe(0);
}, 120_000);

const Colour = { Red: "red", Blue: "blue" } as const;

/** A stack of two keys and a nested object, each documented as the real schema is. */
const small = argsType(
  z.strictObject({
    name: documented(z.string(), { description: "The name." }),
    size: documented(z.int().default(3), { description: "How many." }),
    colour: documented(enumType(z.enum(Colour), "Colour", "src/colours").optional(), {
      description: "Its colour.",
      default: "none: uncoloured",
    }),
    secret: documented(z.string().optional(), { description: "A key.", default: "none" }),
    parts: documented(
      z.record(
        z.string(),
        argsType(
          z.strictObject({ on: documented(z.boolean().default(false), { description: "Is it on?" }) }),
          {
            name: "PartArgs",
            folder: "fleet",
            description: "mastodon:parts.<name>",
          },
        ),
      ),
      { description: "The parts by name." },
    ),
  }),
  { name: "SmallArgs", folder: "stack", description: "A small stack." },
);

test("GIVEN a small documented schema WHEN written THEN the analyzer's args: optionality, defaults, Inputs, imports", () => {
  const model = new ArgsModel(small, [["secret"]]);
  expect(model.problems).toEqual([]);
  const files = renderArgsFiles(model);
  const stack = files.get("src/stack/mastodonStackArgs.ts") ?? "";
  expect(stack).toContain('import type { Colour } from "../colours";');
  expect(stack).toContain('import type { PartArgs } from "../fleet/args";');
  expect(stack).toContain('import type * as pulumi from "@pulumi/pulumi";');
  expect(stack).toContain("/** The name. */\n  name: string;");
  expect(stack).toContain("/** How many (@default 3). */\n  size?: number;");
  expect(stack).toContain("/** Its colour (@default none: uncoloured). */\n  colour?: Colour;");
  expect(stack).toContain("secret?: pulumi.Input<string>;");
  expect(stack).toContain("parts: { [name: string]: PartArgs };");
  expect(files.get("src/fleet/args.ts")).toContain("/** Is it on? (@default false). */\n  on?: boolean;");
});

test("GIVEN a small documented schema WHEN tabled THEN a row per leaf, a record's keys under <name>", () => {
  const rows = tableRows(small, () => ["red", "blue"]);
  expect(rows.map((r) => [r.key, r.default])).toEqual([
    ["name", "required"],
    ["size", "`3`"],
    ["colour", "none: uncoloured"],
    ["secret", "none"],
    ["parts", "required"],
    ["parts.<name>.on", "`false`"],
  ]);
  expect(rows[2]?.meaning).toBe("Its colour. One of `red`, `blue`.");
  expect(renderTable(rows).split("\n")[3]).toBe("| `size` | `3` | How many. |");
});

test("GIVEN keys without their docs WHEN written THEN every one is named, none written silently", () => {
  const bare = argsType(
    z.strictObject({
      undocumented: z.string(),
      silentDefault: documented(z.string().optional(), { description: "Says nothing of its absence." }),
      anonymous: documented(z.strictObject({}), { description: "An object without a name." }),
      untypedEnum: documented(z.union([z.literal(1), z.literal(2)]), { description: "1 or 2." }),
      tagged: documented(z.string(), { description: "Served on port @4000." }),
    }),
    { name: "BareArgs", folder: "stack", description: "Bare." },
  );
  expect(new ArgsModel(bare, []).problems).toEqual([
    "undocumented: no description (documented() in src/config/schema/keyDoc.ts)",
    "silentDefault: optional, but says no default",
    "anonymous: an object without argsType()",
    "untypedEnum: a union the generator cannot write as a type (argsType or enumType?)",
    'tagged: "@" after a space ends the description',
  ]);
});
