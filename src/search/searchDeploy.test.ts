/**
 * tootctl search deploy: the migrations document's search phase, run as SSM runs it, in a one-off
 * container of the release image or on the host's installation.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { renderMigrationsDocument } from "../database/migrations";
import { requireProgram } from "../../test/real/servers";

describe("the migrations document's search phase, run as SSM runs it", () => {
  const doc = JSON.parse(
    renderMigrationsDocument({
      databaseHost: "db.example",
      databasePort: 5432,
      defaultImage: "ghcr.io/mastodon/mastodon:v4.6.5",
      search: true,
    }),
  );
  const lines: string[] = doc.mainSteps[0].inputs.runCommand;
  const substitute = (params: Record<string, string>) =>
    ["#!/bin/sh", ...lines].join("\n").replace(/\{\{ (\w+) \}\}/g, (_, n: string) => params[n] ?? "");

  /** The script with stand-in podman and sudo that print their arguments. */
  function runPhase(params: Record<string, string>) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-search-phase-"));
    try {
      for (const name of ["podman", "sudo"])
        fs.writeFileSync(path.join(dir, name), `#!/bin/sh\necho ${name} "$@"\n`, { mode: 0o755 });
      const script = substitute(params).replaceAll("/home/mastodon/live", dir);
      return spawnSync("/bin/sh", ["-c", script], {
        encoding: "utf8",
        env: { PATH: `${dir}:/usr/bin:/bin` },
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }

  test("with an image: tootctl search deploy in a one-off container of it, never db:migrate", () => {
    const r = runPhase({ phase: "search", image: "ghcr.io/mastodon/mastodon:v4.6.5", version: "" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(
      /^podman run --rm .* ghcr\.io\/mastodon\/mastodon:v4\.6\.5 bin\/tootctl search deploy$/,
    );
  });

  test("on the host's installation: bundle exec bin/tootctl search deploy as mastodon", () => {
    const r = runPhase({ phase: "search", image: "", version: "" });
    expect(r.status).toBe(0);
    expect(r.stdout.trim()).toMatch(/^sudo -u mastodon env .* exec bin\/tootctl search deploy$/);
  });

  test("shellcheck finds nothing in it", () => {
    const shellcheck = requireProgram("/usr/bin/shellcheck");
    const script = substitute({ phase: "search", image: "", version: "" });
    const r = spawnSync(shellcheck, ["-"], { input: script, encoding: "utf8" });
    expect(r.stdout + r.stderr).toBe("");
  });

  test("without search the phase does not exist", () => {
    const plain = JSON.parse(renderMigrationsDocument({ databaseHost: "db.example", databasePort: 5432 }));
    expect(plain.parameters.phase.allowedValues).not.toContain("search");
  });
});
