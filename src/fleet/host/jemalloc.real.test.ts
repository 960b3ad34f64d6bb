/**
 * jemalloc really loads: the Environment= lines of the rendered web and Sidekiq units, parsed from
 * the unit text, given exactly to a real Ruby, whose /proc/<pid>/maps must then hold libjemalloc.
 * Debian's libjemalloc2 (as on the machine image) ships only libjemalloc.so.2; the seed's
 * `libjemalloc.so` (eigenmagic-systemd-template-units.txt) comes with libjemalloc-dev, and the
 * loader ignores it, which the last test shows.
 */
import { execFileSync, spawnSync } from "child_process";
import { parseStackConfig } from "../../config";
import { renderSidekiqUnits, renderWebUnit } from "./units";
import { stackConfig } from "../../../test/helpers";
import { requireProgram } from "../../../test/real/servers";

const RUBY = "/usr/bin/ruby";

/** Environment="NAME=value" lines as systemd reads them; %i (the thread count) as an instance would. */
function unitEnvironment(content: string, instance: string): Record<string, string> {
  return Object.fromEntries(
    content
      .split("\n")
      .filter((l) => l.startsWith("Environment="))
      .map((l) => {
        const m = /^Environment="([A-Za-z_][A-Za-z0-9_]*)=(.*)"$/.exec(l);
        if (!m) throw new Error(`unparsed: ${l}`);
        return [m[1]!, m[2]!.replaceAll("%i", instance)];
      }),
  );
}

/** A real Ruby started with exactly `env`, reporting its own pid and /proc/<pid>/maps. */
function rubyMaps(env: Record<string, string>): { pid: number; maps: string; stderr: string } {
  const r = spawnSync(RUBY, ["-e", 'print Process.pid, "\\n", File.read("/proc/#{Process.pid}/maps")'], {
    env,
    encoding: "utf8",
    timeout: 20000,
  });
  if (r.status !== 0) throw new Error(`ruby failed (${r.status}): ${r.stderr}`);
  const [pid, ...maps] = r.stdout.split("\n");
  return { pid: Number(pid), maps: maps.join("\n"), stderr: r.stderr };
}

const jemallocMapped = (maps: string) => maps.split("\n").filter((l) => /\/libjemalloc\.so[.\d]*$/.test(l));

const production = parseStackConfig(stackConfig("production")).config;
const fleet = (name: string) => production.fleets.find((f) => f.name === name)!;

beforeAll(() => {
  requireProgram(RUBY);
  // The library the image gets from Debian: the versioned soname only.
  const files = execFileSync("dpkg", ["-L", "libjemalloc2"], { encoding: "utf8" }).split("\n");
  expect(files.filter((f) => /libjemalloc\.so/.test(f)).map((f) => f.replace(/^.*\//, ""))).toEqual([
    "libjemalloc.so.2",
  ]);
  // Ruby itself is not linked with jemalloc here, so a mapping can only come from LD_PRELOAD.
  expect(rubyMaps({}).maps).not.toMatch(/libjemalloc/);
});

test.each([
  ["web (mastodon-web.service)", () => renderWebUnit(fleet("web"), { pooled: true })],
  [
    "sidekiq (mastodon-sidekiq-default@.service)",
    () => renderSidekiqUnits(fleet("sidekiq-default"), { pooled: true })[0]!,
  ],
])("%s: the rendered environment preloads libjemalloc into a real Ruby", (_name, unit) => {
  const env = unitEnvironment(unit().content, "15");
  expect(env["LD_PRELOAD"]).toBeDefined();
  const { pid, maps, stderr } = rubyMaps(env);
  expect(pid).toBeGreaterThan(1);
  expect(stderr).toBe("");
  expect(jemallocMapped(maps).length).toBeGreaterThan(0);
});

test("Sidekiq keeps MALLOC_ARENA_MAX=2 (eigenmagic), web carries none (the seed sets it for Sidekiq only)", () => {
  expect(
    unitEnvironment(renderSidekiqUnits(fleet("sidekiq-default"), { pooled: true })[0]!.content, "15"),
  ).toMatchObject({
    MALLOC_ARENA_MAX: "2",
  });
  expect(unitEnvironment(renderWebUnit(fleet("web"), { pooled: true }).content, "15")).not.toHaveProperty(
    "MALLOC_ARENA_MAX",
  );
});

test("the old LD_PRELOAD=libjemalloc.so is not loaded: the loader ignores it with a warning", () => {
  const { maps, stderr } = rubyMaps({ LD_PRELOAD: "libjemalloc.so" });
  expect(jemallocMapped(maps)).toEqual([]);
  expect(stderr).toContain("object 'libjemalloc.so' from LD_PRELOAD cannot be preloaded");
});
