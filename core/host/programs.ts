/**
 * The programs a host runs at boot, kept as real files in core/host/files/ (where shellcheck and
 * Python's compiler see them: test/programs.test.ts) and read when a host's files are rendered,
 * byte for byte. They take per-stack values as arguments or from a manifest, never by editing
 * their text.
 */
import * as fs from "fs";
import * as path from "path";

export const PROGRAMS_DIR = path.join(__dirname, "files");

/** The boot-time secret renderer (Python 3, standard library only): see boot.ts. */
export const RENDER_SECRETS = "render-secrets.py";
/** The self-managed Redis host's first-boot setup (bash): see redis.ts. */
export const REDIS_HOST_SETUP = "redis-host-setup.sh";

export type Program = typeof RENDER_SECRETS | typeof REDIS_HOST_SETUP;

const cache = new Map<Program, string>();

/** The text of core/host/files/<name>. */
export function programText(name: Program): string {
  let text = cache.get(name);
  if (text === undefined) {
    text = fs.readFileSync(path.join(PROGRAMS_DIR, name), "utf8");
    cache.set(name, text);
  }
  return text;
}
