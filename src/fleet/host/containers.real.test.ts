/**
 * The release-image hosts' units (src/fleet/host/containers.ts, imageRoot.ts) checked by the programs
 * that consume them: `systemd-analyze verify` and `security --offline=true` on every unit the
 * shipped stacks render, and mastodon-image-root (src/images/files/mastodon-image-root.sh, the
 * images unit's lay-out) run for real with Debian's podman against images imported here, into a
 * directory of its own (MASTODON_IMAGE_ROOTS). No registry is reached: the images exist only in
 * local storage under the references officialImages renders for a `localhost/...` registry.
 *
 * What systemd then does with a tree (the process as uid 991 in it, read-only but tmp/, the unit's
 * variables over the image's, the env file readable) needs systemd as PID 1: a whole host booted
 * here shows it (test/real/wholeHost.real.test.ts, the stand-in Puma's probe line).
 *
 * Measured with systemd 252 (Debian bookworm): web and Sidekiq 1.5, streaming 1.3 (the machine image's: 1.7 and 1.5)
 * (7.1 when each ran `podman run`: a rootful runtime keeps root's capabilities and the host's mount
 * namespace), the pull and lay-out 6.9 (root, podman, mounts in the host's namespace; it runs no
 * Mastodon code).
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parseStackConfig } from "../../config";
import {
  type ContainerImages,
  IMAGES_UNIT,
  IMAGE_ROOT_PROGRAM,
  officialImages,
  renderContainerUnits,
} from "./containers";
import { programPath, MASTODON_IMAGE_ROOT } from "../../host/programs";
import { STACKS, stackConfig } from "../../../test/helpers";
import { isRoot, requireProgram, tempDir } from "../../../test/real/servers";
import { exposure, systemdRoot } from "../../../test/real/systemd";

const PODMAN = "/usr/bin/podman";
const VERSION = "v4.6.5";
/** A registry name podman never contacts: the images exist only in local storage. */
const LOCAL_REGISTRY = "localhost/mastodon-aws-test";
const images: ContainerImages = officialImages({ version: VERSION, registry: LOCAL_REGISTRY });
const dev = parseStackConfig(stackConfig("dev")).config;

/** Every distinct unit of the release images the shipped stacks render, by name. */
function shippedUnits(): Map<string, string> {
  const units = new Map<string, string>();
  for (const stack of STACKS) {
    const { config } = parseStackConfig(stackConfig(stack));
    const ctx = { pooled: config.database.pooler === "pgbouncer" };
    for (const f of config.fleets)
      for (const u of renderContainerUnits(f, ctx, officialImages({ version: VERSION })))
        units.set(u.name, u.content);
  }
  return units;
}

describe("systemd", () => {
  let root: string;
  let unitDir: string;
  const units = shippedUnits();
  const services = [...units.keys()].filter((n) => n.endsWith(".service"));

  beforeAll(() => {
    requireProgram("/usr/bin/systemd-analyze");
    root = systemdRoot("mastodon-containers-", [
      "usr/bin/podman",
      IMAGE_ROOT_PROGRAM.slice(1),
      "usr/sbin/pgbouncer",
      "usr/local/bin/bundle",
      "usr/local/bin/node",
    ]);
    unitDir = path.join(root, "etc/systemd/system");
    fs.mkdirSync(unitDir, { recursive: true });
    for (const [name, content] of units) fs.writeFileSync(path.join(unitDir, name), content);
  });
  afterAll(() => {
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  test("systemd-analyze verify accepts every unit of the release images and the pull, without a warning", () => {
    const instances = services.map((n) => n.replace("@.service", "@10.service"));
    const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, "mastodon.target", ...instances], {
      cwd: unitDir,
      encoding: "utf8",
    });
    expect({ status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({ status: 0, output: "" });
  });

  test("systemd-analyze security: every Mastodon unit at most 2.0 (measured 1.3 to 1.5), the pull 6.9", () => {
    const byKind = new Map<string, Set<number>>();
    for (const name of services) {
      const kind =
        name === IMAGES_UNIT
          ? "pull"
          : name.startsWith("mastodon-sidekiq-")
            ? "sidekiq"
            : name.replace(/^mastodon-|@?\.service$/g, "");
      byKind.set(kind, new Set([...(byKind.get(kind) ?? []), exposure(path.join(unitDir, name))]));
    }
    const measured = Object.fromEntries([...byKind].map(([k, v]) => [k, [...v]]));
    for (const kind of ["web", "streaming", "sidekiq"])
      for (const e of measured[kind]!) expect(`${kind} ${e}`).toBe(`${kind} ${Math.min(e, 2.0)}`);
    expect(measured).toEqual({ pull: [6.9], web: [1.5], streaming: [1.3], sidekiq: [1.5] });
  });

  test("the sandbox is what scores: the web unit without Mastodon's dist/ settings is exposed", () => {
    const sandbox =
      /^(CapabilityBoundingSet|NoNewPrivileges|Protect\w+|Private\w+|Restrict\w+|LockPersonality|RemoveIPC|SystemCall\w+)=/;
    const bare = units
      .get("mastodon-web.service")!
      .split("\n")
      .filter((l) => !sandbox.test(l))
      .join("\n");
    const file = path.join(root, "bare-web.service");
    fs.writeFileSync(file, bare);
    expect(exposure(file)).toBeGreaterThan(8);
  });
});

describe("mastodon-image-root lays out an image podman pulled", () => {
  const dir = tempDir("mastodon-image-root-");
  const roots = path.join(dir, "roots");
  const program = programPath(MASTODON_IMAGE_ROOT);
  /** Every character systemd's environment-file parser treats specially. */
  const TRICKY = 'a \\"b\\" \\\\c $d `e`';

  /** An image in the shape of Mastodon's: a root with the stand-in bundle, Mastodon's ENV and tini. */
  function buildImage(ref: string): void {
    const rootfs = path.join(dir, "rootfs");
    const put = (file: string, content: string, mode = 0o644) => {
      fs.mkdirSync(path.dirname(path.join(rootfs, file)), { recursive: true });
      fs.writeFileSync(path.join(rootfs, file), content, { mode });
    };
    put("usr/local/bin/bundle", "#!/bin/sh\n", 0o755);
    put("usr/bin/tini", "#!/bin/sh\n", 0o755);
    put("opt/mastodon/tmp/cache/bootsnap", "precompiled\n");
    put("etc/hosts", "127.0.0.1 image\n");
    const tar = path.join(dir, "rails.tar");
    execFileSync("tar", ["-C", rootfs, "-cf", tar, "."]);
    const changes = [
      'ENTRYPOINT ["/usr/bin/tini", "--"]',
      "ENV PATH=/usr/local/bin:/usr/bin:/bin",
      "ENV RAILS_ENV=production",
      "ENV BIND=0.0.0.0",
      "ENV PORT=4000",
      "ENV MALLOC_CONF=narenas:2,background_thread:true,thp:never,dirty_decay_ms:1000,muzzy_decay_ms:0",
      `ENV TRICKY="${TRICKY}"`,
    ];
    const r = spawnSync(PODMAN, ["import", "--quiet", ...changes.flatMap((c) => ["--change", c]), tar, ref], {
      encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`podman import failed: ${r.stderr}`);
  }

  /** The images unit's lay-out of the Rails tree for dev's one fleet, as rendered, into `roots`. */
  function layOut(reference = images.rails) {
    const unit = renderContainerUnits(dev.fleets[0]!, { pooled: true }, { ...images, rails: reference }).find(
      (u) => u.name === IMAGES_UNIT,
    )!;
    const line = unit.content
      .split("\n")
      .find((l) => l.startsWith(`ExecStart=${IMAGE_ROOT_PROGRAM} rails `))!;
    const [, ...args] = line.slice("ExecStart=".length).split(" ");
    return spawnSync(program, args, {
      encoding: "utf8",
      env: { ...process.env, MASTODON_IMAGE_ROOTS: roots },
      timeout: 60000,
    });
  }
  const mounts = () =>
    fs
      .readFileSync("/proc/self/mounts", "utf8")
      .split("\n")
      .filter((l) => l.split(" ")[1] === path.join(roots, "rails"));

  beforeAll(() => {
    requireProgram(PODMAN);
    if (!isRoot)
      throw new Error("mastodon-image-root mounts as root, as the hosts run it: run these tests as root");
    buildImage(images.rails);
  }, 120000);
  afterAll(() => {
    while (mounts().length > 0) spawnSync("umount", [path.join(roots, "rails")]);
    spawnSync(PODMAN, ["rm", "--force", "mastodon-root-rails"]);
    spawnSync(PODMAN, ["rmi", "--force", images.rails]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test("the tree at <roots>/rails, the bind targets made, the image's own files kept", () => {
    const r = layOut();
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const tree = path.join(roots, "rails");
    expect(mounts()).toHaveLength(1);
    expect(fs.existsSync(path.join(tree, "usr/local/bin/bundle"))).toBe(true);
    expect(fs.readFileSync(path.join(tree, "opt/mastodon/tmp/cache/bootsnap"), "utf8")).toBe("precompiled\n");
    // Made for the units' BindReadOnlyPaths= (systemd refuses a missing target), empty; the image's kept.
    expect(fs.readFileSync(path.join(tree, "opt/mastodon/.env.production"), "utf8")).toBe("");
    expect(fs.readFileSync(path.join(tree, "etc/resolv.conf"), "utf8")).toBe("");
    expect(fs.readFileSync(path.join(tree, "etc/hosts"), "utf8")).toBe("127.0.0.1 image\n");
  });

  test("the image's environment for EnvironmentFile=: quoted for systemd, without what the units set", () => {
    expect(layOut().status).toBe(0);
    const lines = fs.readFileSync(path.join(roots, "rails.env"), "utf8").split("\n").filter(Boolean);
    // PORT, BIND and RAILS_ENV are the units' own (an EnvironmentFile= would override Environment=).
    expect(lines).toEqual([
      'PATH="/usr/local/bin:/usr/bin:/bin"',
      'MALLOC_CONF="narenas:2,background_thread:true,thp:never,dirty_decay_ms:1000,muzzy_decay_ms:0"',
      `TRICKY="a \\\\\\"b\\\\\\" \\\\\\\\c \\$d \\\`e\\\`"`,
    ]);
  });

  test("run again within a boot (Restart=on-failure), it replaces its tree: one mount, not two", () => {
    expect(layOut().status).toBe(0);
    expect(layOut().status).toBe(0);
    expect(mounts()).toHaveLength(1);
  });

  test("an image not in local storage fails at once, reaching no registry (--pull=never)", () => {
    const r = layOut(`${LOCAL_REGISTRY}/mastodon:v9.9.9`);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("v9.9.9");
  });
});
