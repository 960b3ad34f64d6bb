/**
 * The migrations document's `setup` phase (core/host/migrations.ts): present only with the role's
 * input, run before any migration, and clean under shellcheck with the other phases.
 */
import { spawnSync } from "child_process";
import { renderRoleSetupCommands } from "../core/host/databaseRole";
import { renderMigrationsDocument } from "../core/host/migrations";
import { productionRoleSetup } from "./helpers";
import { requireProgram } from "./real/servers";

const setup = {
  ...productionRoleSetup(),
  databaseHost: "db.example",
  databasePort: 5432,
  region: "us-east-1",
};

describe("the migrations document", () => {
  test("without the role's input, no setup phase", () => {
    const doc = JSON.parse(renderMigrationsDocument({ databaseHost: "db.example", databasePort: 5432 }));
    expect(doc.parameters.phase.allowedValues).toEqual(["pre", "post"]);
    expect(doc.mainSteps[0].inputs.runCommand.join("\n")).not.toContain("setup");
  });

  test("with it, phase setup runs the role's lines and stops before any migration", () => {
    const { databaseHost, databasePort, ...roleSetup } = setup;
    const doc = JSON.parse(renderMigrationsDocument({ databaseHost, databasePort, roleSetup }));
    expect(doc.parameters.phase.allowedValues).toEqual(["pre", "post", "setup"]);
    const lines: string[] = doc.mainSteps[0].inputs.runCommand;
    const start = lines.indexOf('if [ "$stage" = "setup" ]; then');
    expect(start).toBeGreaterThan(0);
    const commands = renderRoleSetupCommands(setup);
    expect(lines.slice(start + 1, start + 1 + commands.length)).toEqual(commands);
    expect(lines.slice(start + 1 + commands.length, start + 3 + commands.length)).toEqual(["  exit 0", "fi"]);
    expect(lines.findIndex((l) => l.includes("db:migrate"))).toBeGreaterThan(start + commands.length);
    // No password in the document: only the parameters' names.
    expect(JSON.stringify(doc)).not.toMatch(/PASSWORD '/);
  });

  test("shellcheck finds nothing in the document with the setup phase", () => {
    const shellcheck = requireProgram("/usr/bin/shellcheck");
    const { databaseHost, databasePort, ...roleSetup } = setup;
    const doc = JSON.parse(renderMigrationsDocument({ databaseHost, databasePort, roleSetup }));
    // SSM substitutes the parameters before the shell sees the script; variables stand for them here.
    const script = ["#!/bin/sh", ...doc.mainSteps[0].inputs.runCommand]
      .join("\n")
      .replace(/\{\{ (\w+) \}\}/g, (_m, name: string) => `$PARAM_${name.toUpperCase()}`);
    const r = spawnSync(shellcheck, ["-"], { input: script, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
