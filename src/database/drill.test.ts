/**
 * The restore drill's SSM document (drill.ts): it carries mastodon-drill.py byte for byte, runs it
 * on the scheduler's host's database config, fits SSM's size limit, takes nothing SSM would
 * substitute, and its shell lines pass shellcheck. src/database/drill.real.test.ts runs the same
 * lines with /bin/sh against a real PostgreSQL; src/stack/drillDocument.test.ts declares it.
 */
import { spawnSync } from "child_process";
import { DATABASE_PATHS } from "../fleet/host/oneOff";
import { MASTODON_DRILL, programText } from "../host/programs";
import { DOCUMENT_MAX_BYTES, DRILL_TIMEOUT_SECONDS, PROGRAM_DELIMITER, renderDrillDocument } from "./drill";
import { requireProgram } from "../../test/real/servers";

const content = renderDrillDocument();
const doc = JSON.parse(content);
const step = doc.mainSteps[0];
const lines: string[] = step.inputs.runCommand;

test("one shell step, no parameters, bounded by the drill's own bound", () => {
  expect(doc.schemaVersion).toBe("2.2");
  expect(doc.parameters).toBeUndefined();
  expect(doc.mainSteps).toHaveLength(1);
  expect(step.action).toBe("aws:runShellScript");
  expect(step.inputs.timeoutSeconds).toBe(String(DRILL_TIMEOUT_SECONDS));
  expect(content).not.toContain("{{");
  expect(Buffer.byteLength(content)).toBeLessThan(DOCUMENT_MAX_BYTES);
});

test("it writes the program byte for byte and runs it on the host's database config", () => {
  const open = lines.indexOf(`cat >"$work/mastodon-drill" <<'${PROGRAM_DELIMITER}'`);
  const close = lines.indexOf(PROGRAM_DELIMITER);
  expect(open).toBeGreaterThan(0);
  expect(`${lines.slice(open + 1, close).join("\n")}\n`).toBe(programText(MASTODON_DRILL));
  expect(lines.slice(close + 1)).toEqual(['python3 "$work/mastodon-drill" "$config"']);
  expect(lines).toContain(`config=${DATABASE_PATHS.config}`);
  // A private directory (mktemp -d: mode 0700), removed when the script exits.
  expect(lines.slice(0, open)).toEqual(
    expect.arrayContaining(["set -eu", "work=$(mktemp -d)", `trap 'rm -rf "$work"' EXIT`]),
  );
});

test("shellcheck finds nothing in the document's shell lines", () => {
  const shellcheck = requireProgram("/usr/bin/shellcheck");
  const r = spawnSync(shellcheck, ["-"], { input: ["#!/bin/sh", ...lines].join("\n"), encoding: "utf8" });
  expect(r.stdout + r.stderr).toBe("");
  expect(r.status).toBe(0);
});

test.each([
  [
    "a line that is the delimiter",
    `print(1)\n${PROGRAM_DELIMITER}\n`,
    /holds the line MASTODON_DRILL_PROGRAM/,
  ],
  ["SSM's substitution braces", 'x = "{{ name }}"\n', /SSM would substitute it/],
])("refuses a program with %s", (_what, program, message) => {
  expect(() => renderDrillDocument({ program })).toThrow(message);
});

test("refuses a config path the shell would read otherwise, and a document over SSM's limit", () => {
  expect(() => renderDrillDocument({ config: "/etc/mastodon/my database.conf" })).toThrow(
    'drill document: config "/etc/mastodon/my database.conf" must be a plain path',
  );
  expect(() => renderDrillDocument({ program: "#".repeat(DOCUMENT_MAX_BYTES) })).toThrow(
    /bytes, over SSM's 65536 \(CreateDocument\): shorten src\/database\/files\/mastodon-drill.py/,
  );
});
