/**
 * mastodon:image.source "image-builder": what the build instance runs (src/images/imageRecipe.ts):
 * the component document, checked by the `yaml` library; its script, by shellcheck and by running its
 * offline parts (the lay-out, the packages, the contract's files) against stand-in roots.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import {
  CLOUDWATCH_AGENT_INSTALLER_PATH,
  COMPONENT_DATA_MAX,
  IMAGE_BUILD_SCRIPT,
  IMAGE_BUILD_SCRIPT_PATH,
  imageBuildScript,
  recipeVersion,
  buildUserData,
  IMAGE_BUILD_USER_DATA,
  renderComponentDocument,
} from "./imageRecipe";
import { programPath } from "../host/programs";
import { CLOUDWATCH_AGENT_INSTALLER, HOST_FILES } from "../fleet/host/hostFiles";
import { LOGS_PATHS } from "../monitoring/logs";
import { ROOT } from "../../test/helpers";

const SCRIPT = programPath(IMAGE_BUILD_SCRIPT);
/** The installer as the repository ships it, read here rather than through programs.ts. */
const SHIPPED_AGENT_INSTALLER = fs.readFileSync(
  path.join(ROOT, "src/monitoring/files/install-cloudwatch-agent.sh"),
  "utf8",
);

describe("the component document", () => {
  const text = renderComponentDocument({ version: "v4.6.5", registry: "ghcr.io/mastodon" });
  const doc = parse(text) as {
    name: string;
    schemaVersion: number;
    phases: {
      name: string;
      steps: { name: string; action: string; onFailure?: string; inputs: unknown }[];
    }[];
  };

  test("is an AWSTOE document with build and validate phases that name the version and registry", () => {
    expect(doc.schemaVersion).toBe(1.0);
    expect(doc.name).toBe("mastodon-v4.6.5");
    expect(doc.phases.map((p) => p.name)).toEqual(["build", "validate"]);
    const [build, validate] = doc.phases;
    expect(build?.steps.map((s) => s.action)).toEqual(["CreateFile", "ExecuteBash", "ExecuteBash"]);
    // The script is written byte for byte, then run with the version and registry.
    expect((build?.steps[0]?.inputs as object[])[0]).toEqual({
      path: IMAGE_BUILD_SCRIPT_PATH,
      content: imageBuildScript(),
      overwrite: true,
    });
    expect(build?.steps[1]?.inputs).toEqual({
      commands: [`bash ${IMAGE_BUILD_SCRIPT_PATH} 'build' 'v4.6.5' 'ghcr.io/mastodon'`],
    });
    expect(validate?.steps[0]?.inputs).toEqual({
      commands: [`bash ${IMAGE_BUILD_SCRIPT_PATH} 'validate' 'v4.6.5'`],
    });
    expect(text.length).toBeLessThan(COMPONENT_DATA_MAX);
  });

  test("the build installs the CloudWatch agent with the hosts' own installer, byte for byte, after the packages it needs and before validate", () => {
    const steps = doc.phases.flatMap((phase) => phase.steps.map((step) => ({ phase: phase.name, ...step })));
    const written = new Map(
      steps
        .filter((s) => s.action === "CreateFile")
        .flatMap((s) => s.inputs as { path: string; content: string }[])
        .map((f) => [f.path, f.content]),
    );
    // The file the component writes is the one the repository ships and every host fetches.
    expect(written.get(CLOUDWATCH_AGENT_INSTALLER_PATH)).toBe(SHIPPED_AGENT_INSTALLER);
    expect(HOST_FILES.find((f) => f.path === CLOUDWATCH_AGENT_INSTALLER)?.content).toBe(
      SHIPPED_AGENT_INSTALLER,
    );
    // Run in the build phase, aborting the build when it fails (a bad signature among the causes)...
    const runs = (file: string) =>
      steps.findIndex((s) => (s.inputs as { commands?: string[] }).commands?.[0] === `bash ${file}`);
    const agent = runs(CLOUDWATCH_AGENT_INSTALLER_PATH);
    expect(steps[agent]).toMatchObject({ phase: "build", action: "ExecuteBash", onFailure: "Abort" });
    // ...after the script's build, which installs the curl and gpg it runs...
    expect(runs(IMAGE_BUILD_SCRIPT_PATH)).toBeLessThan(agent);
    const hostPackages = /^readonly HOST_PACKAGES=\((.*)\)$/m.exec(imageBuildScript())?.[1]?.split(" ");
    for (const program of ["curl", "gpg"]) {
      expect(SHIPPED_AGENT_INSTALLER).toMatch(new RegExp(`(^|[\\s(|])${program} `, "m"));
      expect(hostPackages).toContain(program);
    }
    // ...and before the validate phase, which then finds the agent and removes the installer.
    expect(agent).toBeLessThan(steps.findIndex((s) => s.phase === "validate"));
    expect(JSON.stringify(steps.at(-1)?.inputs)).toContain(
      `rm -f ${IMAGE_BUILD_SCRIPT_PATH} ${CLOUDWATCH_AGENT_INSTALLER_PATH}`,
    );
    // Its downloads are HTTPS, which the build's security group lets out (imageBuild.test.ts).
    const urls = [...SHIPPED_AGENT_INSTALLER.matchAll(/\b[a-z]+:\/\/[^\s"/]+/g)].map((m) => m[0]);
    expect(urls.length).toBeGreaterThan(0);
    for (const url of urls) expect(url).toMatch(/^https:\/\//);
    expect(text.length).toBeLessThan(COMPONENT_DATA_MAX);
  });

  test("recipe versions are the release tag's semantic version; anything else is refused", () => {
    expect(recipeVersion("v4.6.5")).toBe("4.6.5");
    expect(() => recipeVersion("latest")).toThrow("not a Mastodon release tag");
    expect(() =>
      renderComponentDocument({ version: "v4.6.5'; rm -rf /", registry: "ghcr.io/mastodon" }),
    ).toThrow();
    expect(() => renderComponentDocument({ version: "v4.6.5", registry: "ghcr.io/x'y" })).toThrow();
  });

  test("the build instance's user data installs the SSM agent and is shellcheck-clean", () => {
    expect(buildUserData()).toContain("/latest/debian_$arch/amazon-ssm-agent.deb");
    const check = spawnSync("shellcheck", [programPath(IMAGE_BUILD_USER_DATA)], {
      encoding: "utf8",
    });
    expect(check.stdout + check.stderr).toBe("");
  });
});

describe("the build script", () => {
  test("is shellcheck-clean", () => {
    const check = spawnSync("shellcheck", [SCRIPT], { encoding: "utf8" });
    expect(check.stdout + check.stderr).toBe("");
    expect(check.status).toBe(0);
  });

  const run = (...args: string[]) => spawnSync("bash", [SCRIPT, ...args], { encoding: "utf8" });
  const write = (file: string, text: string, mode = 0o644) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text, { mode });
  };

  /** Stand-ins for the extracted release images: what their Dockerfiles put where. */
  function extractedRoots() {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "ib-"));
    const rails = path.join(dir, "rails");
    const streaming = path.join(dir, "streaming");
    write(path.join(rails, "usr/local/bin/ruby"), "#!/bin/sh\n", 0o755);
    write(path.join(rails, "usr/local/bundle/gems/puma/README"), "puma\n");
    write(path.join(rails, "usr/local/lib/libvips.so.42"), "vips\n");
    write(path.join(rails, "opt/mastodon/Gemfile.lock"), "GEM\n");
    write(path.join(rails, "opt/mastodon/package.json"), '{"name":"rails"}\n');
    write(path.join(rails, "opt/mastodon/public/packs/manifest.json"), "{}\n");
    write(path.join(streaming, "usr/local/bin/node"), "#!/bin/sh\necho v22\n", 0o755);
    write(path.join(streaming, "opt/mastodon/streaming/index.js"), "// streaming\n");
    write(path.join(streaming, "opt/mastodon/node_modules/pg/package.json"), "{}\n");
    write(path.join(streaming, "opt/mastodon/package.json"), '{"name":"streaming"}\n');
    const env = path.join(dir, "rails.env");
    write(
      env,
      [
        "PATH=/opt/mastodon/bin:/usr/local/bundle/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
        "GEM_HOME=/usr/local/bundle",
        "BUNDLE_APP_CONFIG=/usr/local/bundle",
        "BUNDLE_SILENCE_ROOT_WARNING=1",
        "MALLOC_CONF=narenas:2,background_thread:true,thp:never,dirty_decay_ms:1000,muzzy_decay_ms:0",
        "RUBY_YJIT_ENABLE=1",
        "HOSTNAME=buildkitsandbox",
        "RAILS_ENV=production",
        "",
      ].join("\n"),
    );
    return { dir, rails, streaming, env, target: path.join(dir, "target") };
  }

  test("lays out the paths the native units use from the extracted release images", () => {
    const roots = extractedRoots();
    const result = run("layout", roots.rails, roots.streaming, roots.env, roots.target);
    expect(result.stderr).toBe("");
    expect(result.status).toBe(0);
    const at = (p: string) => path.join(roots.target, p);
    expect(fs.existsSync(at("usr/local/bin/ruby"))).toBe(true);
    expect(fs.existsSync(at("usr/local/bundle/gems/puma/README"))).toBe(true);
    expect(fs.existsSync(at("home/mastodon/live/public/packs/manifest.json"))).toBe(true);
    expect(fs.existsSync(at("home/mastodon/live/streaming/index.js"))).toBe(true);
    expect(fs.existsSync(at("home/mastodon/live/node_modules/pg/package.json"))).toBe(true);
    // The Rails image's files win where both images have one.
    expect(fs.readFileSync(at("home/mastodon/live/package.json"), "utf8")).toContain("rails");
    expect(fs.statSync(at("usr/bin/node")).mode & 0o777).toBe(0o755);
    expect(fs.readlinkSync(at("opt/mastodon"))).toBe("/home/mastodon/live");
    // The bundle shim: the image's Ruby environment (its paths moved to live), then its bundle.
    const shim = at("home/mastodon/.rbenv/shims/bundle");
    expect(fs.statSync(shim).mode & 0o111).toBeTruthy();
    const text = fs.readFileSync(shim, "utf8");
    expect(text).toMatch(/exec \/usr\/local\/bin\/bundle "\$@"\n$/);
    expect(text).not.toContain("HOSTNAME");
    expect(text).not.toContain("/opt/mastodon");
    expect(spawnSync("shellcheck", [shim], { encoding: "utf8" }).stdout).toBe("");
    const exports = text.split("\n").filter((l) => l.startsWith("export "));
    const shell = spawnSync("sh", ["-c", `${exports.join("\n")}\necho "$GEM_HOME|$MALLOC_CONF|$PATH"`], {
      encoding: "utf8",
    });
    expect(shell.stdout.trim()).toBe(
      "/usr/local/bundle|narenas:2,background_thread:true,thp:never,dirty_decay_ms:1000,muzzy_decay_ms:0|/home/mastodon/live/bin:/usr/local/bundle/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    );
  });

  test("refuses a root that is not a Mastodon release image", () => {
    const roots = extractedRoots();
    fs.rmSync(path.join(roots.streaming, "opt/mastodon/streaming/index.js"));
    const result = run("layout", roots.rails, roots.streaming, roots.env, roots.target);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("has no streaming/index.js");
  });

  test("lists the packages installed in the extracted roots from their dpkg databases", () => {
    const roots = extractedRoots();
    const status = (pkgs: [string, string][]) =>
      pkgs
        .map(
          ([name, state]) =>
            `Package: ${name}\nStatus: ${state}\nArchitecture: arm64\nVersion: 1\nMaintainer: m\nDescription: d\n`,
        )
        .join("\n");
    write(
      path.join(roots.rails, "var/lib/dpkg/status"),
      status([
        ["libjemalloc2", "install ok installed"],
        ["libpq5", "install ok installed"],
        ["build-essential", "deinstall ok config-files"],
      ]),
    );
    write(
      path.join(roots.streaming, "var/lib/dpkg/status"),
      status([
        ["libpq5", "install ok installed"],
        ["libstdc++6", "install ok installed"],
      ]),
    );
    const result = run("packages", roots.rails, roots.streaming);
    expect(result.stderr).toBe("");
    expect(result.stdout.trim().split("\n")).toEqual(["libjemalloc2", "libpq5", "libstdc++6"]);
  });

  /**
   * An AMI's root as the build leaves it: `layout` of the stand-in images, then what Debian's
   * packages, the SSM agent, the CloudWatch agent and the release file add.
   */
  function bakedRoot() {
    const roots = extractedRoots();
    expect(run("layout", roots.rails, roots.streaming, roots.env, roots.target).status).toBe(0);
    const added = ["aws", "psql", "python3", "curl", "amazon-ssm-agent"].map((p) => `/usr/bin/${p}`);
    for (const program of [...added, "/usr/sbin/pgbouncer", LOGS_PATHS.agentCtl])
      write(path.join(roots.target, program), "#!/bin/sh\n", 0o755);
    write(path.join(roots.target, "etc/mastodon-release"), "MASTODON_VERSION=v4.6.5\nMASTODON_IMAGES=x\n");
    return roots.target;
  }

  test("validate refuses an AMI without the CloudWatch agent, or with its ctl not executable, at the path the hosts' installer skips on", () => {
    const root = bakedRoot();
    const contract = () => run("contract", root, "v4.6.5");
    expect(contract().stderr).toBe("");
    expect(contract().status).toBe(0);
    const refused = `mastodon-image-build: ${LOGS_PATHS.agentCtl} is missing or not executable\n`;
    const ctl = path.join(root, LOGS_PATHS.agentCtl);
    fs.chmodSync(ctl, 0o644);
    expect([contract().status, contract().stderr]).toEqual([1, refused]);
    fs.rmSync(ctl);
    expect([contract().status, contract().stderr]).toEqual([1, refused]);
    // The path the logs unit runs is the one the hosts' installer exits on without downloading.
    expect(SHIPPED_AGENT_INSTALLER).toContain(`[ -x ${LOGS_PATHS.agentCtl} ] && exit 0\n`);
  });

  test("validate checks the contract on the build instance's own root first", () => {
    // No root names this release, so validate stops at the contract before any check of its own.
    const result = run("validate", "v0.0.0");
    expect([result.status, result.stderr]).toEqual([
      1,
      "mastodon-image-build: /etc/mastodon-release does not name v0.0.0\n",
    ]);
  });
});
