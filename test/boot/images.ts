/**
 * Stand-in release images for the whole-host boot, and the SSM agent's stand-in package. The
 * images are `podman import`s of one small root: Perl (without modules) for what the units run,
 * bundle, node, a web server answering Puma's /health and the streaming server's health and
 * metrics, Sidekiq with its process title (the units' sandbox kills busybox, which calls setgid(2)
 * at every start); busybox-static and psql with its libraries (ldd) for the database steps, which
 * run in podman (test/boot/release-image/: bundle, node, httpd, sidekiq, rails, schema.sql). They live in a podman storage of their own in the cache, and each boot pushes
 * them into its registry under the names and tags the rendered units pull.
 */
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { CACHE_DIR, removeTree, withLock } from "./image";

const SOURCES = path.join(__dirname, "release-image");
const BUSYBOX = "/bin/busybox";
const PSQL = "/usr/lib/postgresql/15/bin/psql";
const PERL = "/usr/bin/perl";
/** The images as podman names them locally; a boot pushes them as the units name them. */
export const STANDIN_IMAGES = {
  rails: "localhost/standin/mastodon:latest",
  streaming: "localhost/standin/mastodon-streaming:latest",
};
/** The release image's user (Mastodon's Dockerfile: uid 991), which the units' files are owned by. */
const MASTODON_UID = 991;

export interface CachedImages {
  readonly dir: string;
  /** podman --root / --runroot for the stand-in images. */
  readonly storage: string;
  readonly runroot: string;
  /** The stand-in amazon-ssm-agent .deb. */
  readonly ssmAgentDeb: string;
}

function inputsHash(): string {
  const h = createHash("sha256");
  for (const f of fs.readdirSync(SOURCES).sort()) h.update(f).update(fs.readFileSync(path.join(SOURCES, f)));
  h.update(fs.readFileSync(__filename));
  for (const bin of [BUSYBOX, PSQL, PERL]) h.update(String(fs.statSync(bin).mtimeMs));
  return h.digest("hex").slice(0, 16);
}

const podman = (images: { storage: string; runroot: string }) => [
  "--root",
  images.storage,
  "--runroot",
  images.runroot,
  "--storage-driver",
  "overlay",
];

/** The libraries `ldd` lists for a program (and the dynamic loader). */
function libraries(program: string): string[] {
  const out = execFileSync("ldd", [program], { encoding: "utf8" });
  return [...out.matchAll(/(\/\S+) \(0x/g)].map((m) => m[1]!).filter((l) => fs.existsSync(l));
}

function copyInto(root: string, file: string, dest = file): void {
  const target = path.join(root, dest);
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(fs.realpathSync(file), target);
  fs.chmodSync(target, fs.statSync(fs.realpathSync(file)).mode & 0o777);
}

function imageRoot(root: string): void {
  const w = (p: string, content: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(root, p)), { recursive: true });
    fs.writeFileSync(path.join(root, p), content, { mode });
  };
  copyInto(root, BUSYBOX, "/bin/busybox");
  const applets = execFileSync(BUSYBOX, ["--list"], { encoding: "utf8" }).split("\n").filter(Boolean);
  for (const a of applets) if (a !== "busybox") fs.symlinkSync("busybox", path.join(root, "bin", a));
  for (const program of [PSQL, PERL]) {
    copyInto(root, program);
    for (const lib of libraries(program)) copyInto(root, lib);
  }
  fs.symlinkSync(PSQL, path.join(root, "bin", "psql-standin"));
  for (const f of ["bundle", "node"])
    w(`/usr/local/bin/${f}`, fs.readFileSync(path.join(SOURCES, f), "utf8"), 0o755);
  w("/usr/local/bin/psql", `#!/bin/sh\nexec ${PSQL} "$@"\n`, 0o755);
  for (const f of ["rails", "sidekiq", "httpd", "schema.sql"])
    w(
      `/usr/local/lib/standin/${f}`,
      fs.readFileSync(path.join(SOURCES, f), "utf8"),
      f === "rails" ? 0o755 : 0o644,
    );
  w("/srv/puma/health", "OK");
  w("/srv/streaming/api/v1/streaming/health", "OK");
  w(
    "/srv/streaming/metrics",
    '# TYPE connected_clients gauge\nconnected_clients{type="websocket"} 0\nconnected_clients{type="eventsource"} 0\n',
  );
  w(
    "/etc/passwd",
    `root:x:0:0:root:/root:/bin/sh\nmastodon:x:${MASTODON_UID}:${MASTODON_UID}::/opt/mastodon:/bin/sh\n`,
  );
  w("/etc/group", `root:x:0:\nmastodon:x:${MASTODON_UID}:\n`);
  w("/etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n");
  for (const d of ["/opt/mastodon/tmp", "/tmp", "/root"])
    fs.mkdirSync(path.join(root, d), { recursive: true });
  // Mastodon's Dockerfile: `chown -R mastodon:mastodon /opt/mastodon/tmp`, the one place it writes.
  fs.chownSync(path.join(root, "opt/mastodon/tmp"), MASTODON_UID, MASTODON_UID);
}

function ssmAgentPackage(dir: string): string {
  const pkg = path.join(dir, "ssm-agent");
  const w = (p: string, content: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(path.join(pkg, p)), { recursive: true });
    fs.writeFileSync(path.join(pkg, p), content, { mode });
  };
  w(
    "DEBIAN/control",
    [
      "Package: amazon-ssm-agent",
      "Version: 3.3.0.0-standin",
      "Architecture: amd64",
      "Maintainer: mastodon-aws tests <tests@invalid>",
      "Description: stand-in for the AWS Systems Manager agent (test/boot/images.ts)",
      "",
    ].join("\n"),
  );
  w(
    "usr/bin/amazon-ssm-agent",
    "#!/bin/sh\n# stand-in: idles as the agent would\nexec sleep infinity\n",
    0o755,
  );
  w(
    "lib/systemd/system/amazon-ssm-agent.service",
    "[Unit]\nDescription=amazon-ssm-agent (stand-in)\nAfter=network-online.target\n\n[Service]\nExecStart=/usr/bin/amazon-ssm-agent\n\n[Install]\nWantedBy=multi-user.target\n",
  );
  const deb = path.join(dir, "amazon-ssm-agent.deb");
  execFileSync("dpkg-deb", ["--root-owner-group", "--build", pkg, deb], { stdio: "pipe" });
  return deb;
}

/** The cached images and package, built now if missing (under a lock). */
export function ensureImages(): CachedImages {
  fs.mkdirSync(CACHE_DIR, { recursive: true });
  const hash = inputsHash();
  const dir = path.join(CACHE_DIR, `images-${hash}`);
  const result: CachedImages = {
    dir,
    storage: path.join(dir, "storage"),
    // podman refuses a runroot longer than 50 characters; it holds only locks and state of this boot of the machine.
    runroot: `/run/mastodon-aws-boot/${hash}`,
    ssmAgentDeb: path.join(dir, "amazon-ssm-agent.deb"),
  };
  if (fs.existsSync(path.join(dir, "complete"))) return result;
  // In place (podman's storage records its own path), one build at a time.
  return withLock(path.join(CACHE_DIR, ".images.lock"), () => {
    if (!fs.existsSync(path.join(dir, "complete"))) buildImages(result);
    return result;
  });
}

function buildImages(result: CachedImages): void {
  const { dir } = result;
  if (fs.existsSync(dir)) removeTree(dir);
  const root = path.join(dir, "root");
  fs.mkdirSync(root, { recursive: true });
  imageRoot(root);
  ssmAgentPackage(dir);
  const tar = path.join(dir, "root.tar");
  // Owned as made here: root's, but tmp/ (the image's mastodon user's).
  execFileSync("tar", ["-C", root, "--numeric-owner", "-cf", tar, "."]);
  const changes = [
    "WORKDIR=/opt/mastodon",
    `USER=${MASTODON_UID}`,
    "ENV=PATH=/usr/local/bin:/usr/bin:/bin",
    "ENV=HOME=/opt/mastodon",
    // The units' own PORT must win over the image's (the streaming image sets PORT 4000): were the
    // image's to win, Puma's stand-in would listen on 9 and readiness would never see it serve.
    "ENV=PORT=9",
    // Every character systemd's environment-file parser treats specially, for mastodon-image-root
    // to carry through to the process unchanged (the stand-in Puma prints what it got).
    'ENV MASTODON_STANDIN_ENV="a \\"b\\" \\\\c $d `e`"',
  ].flatMap((c) => ["--change", c]);
  for (const name of Object.values(STANDIN_IMAGES)) {
    execFileSync("podman", [...podman(result), "import", "--quiet", ...changes, tar, name], {
      stdio: ["ignore", "ignore", "pipe"],
      timeout: 120000,
    });
  }
  removeTree(root);
  fs.rmSync(tar);
  fs.writeFileSync(path.join(dir, "complete"), `${new Date().toISOString()}\n`);
}

/** `podman push` of the stand-in images, run inside the boot's namespace, to the boot's registry. */
export function pushImages(
  images: CachedImages,
  netns: string,
  registry: string,
  targets: { rails: string[]; streaming: string[] },
): void {
  for (const [kind, refs] of Object.entries(targets) as [keyof typeof STANDIN_IMAGES, string[]][]) {
    for (const ref of refs) {
      // ref: host/name:tag; the registry at `registry` answers for host.
      const repo = ref.slice(ref.indexOf("/") + 1);
      execFileSync(
        "ip",
        [
          "netns",
          "exec",
          netns,
          "podman",
          ...podman(images),
          "push",
          "--quiet",
          "--tls-verify=false",
          STANDIN_IMAGES[kind],
          `docker://${registry}/${repo}`,
        ],
        { stdio: ["ignore", "ignore", "pipe"], timeout: 120000 },
      );
    }
  }
}
