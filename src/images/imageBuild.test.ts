/**
 * mastodon:image.source "image-builder": the build the package renders for EC2 Image Builder (the
 * component document, checked by the `yaml` library; its script, by shellcheck and by running its
 * offline parts against stand-in extracted roots), and the stack that bakes and boots it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { parseStackConfig } from "../config";
import {
  BUILD_VOLUME_GIB,
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
import { fakeCloud } from "../testing/fakeCloud";
import type { MockRun, RecordedResource } from "../testing/mocks";
import { all, configProblems, decodeUserData, runStack, stackConfig } from "../../test/helpers";

const SCRIPT = programPath(IMAGE_BUILD_SCRIPT);
const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const IMAGE = "aws:imagebuilder/image:Image";
const IMAGE_SOURCE = { source: "image-builder" };

describe("the component document", () => {
  const text = renderComponentDocument({ version: "v4.6.5", registry: "ghcr.io/mastodon" });
  const doc = parse(text) as {
    name: string;
    schemaVersion: number;
    phases: { name: string; steps: { name: string; action: string; inputs: unknown }[] }[];
  };

  test("is an AWSTOE document with build and validate phases that name the version and registry", () => {
    expect(doc.schemaVersion).toBe(1.0);
    expect(doc.name).toBe("mastodon-v4.6.5");
    expect(doc.phases.map((p) => p.name)).toEqual(["build", "validate"]);
    const [build, validate] = doc.phases;
    expect(build?.steps.map((s) => s.action)).toEqual(["CreateFile", "ExecuteBash"]);
    // The script is written byte for byte, then run with the version and registry.
    expect(build?.steps[0]?.inputs).toEqual([
      { path: IMAGE_BUILD_SCRIPT_PATH, content: imageBuildScript(), overwrite: true },
    ]);
    expect(build?.steps[1]?.inputs).toEqual({
      commands: [`bash ${IMAGE_BUILD_SCRIPT_PATH} 'build' 'v4.6.5' 'ghcr.io/mastodon'`],
    });
    expect(validate?.steps[0]?.inputs).toEqual({
      commands: [`bash ${IMAGE_BUILD_SCRIPT_PATH} 'validate' 'v4.6.5'`],
    });
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
});

describe("a stack whose source is image-builder", () => {
  const named = (run: MockRun, type: string) => all(run, type);
  /** The AMI the fake cloud answers for a built image (its outputResources). */
  const builtAmi = (image: RecordedResource): string => {
    const answer = fakeCloud("us-east-1").mocks.newResource({
      type: IMAGE,
      name: image.name,
      inputs: image.inputs,
      custom: true,
      id: "",
    } as never) as unknown as { state: { outputResources: { amis: { image: string }[] }[] } };
    return answer.state.outputResources[0]?.amis[0]?.image as string;
  };

  test.each(["staging", "production"])(
    "%s: one build per architecture; each launch template boots its architecture's AMI, natively",
    async (stack) => {
      const run = await runStack(stack, { image: IMAGE_SOURCE });
      const { config } = parseStackConfig({ ...stackConfig(stack), image: IMAGE_SOURCE });
      const architectures = [...new Set(config.fleets.map((f) => f.instance.architecture))].sort();
      const images = named(run, IMAGE);
      expect(images.map((i) => i.name).sort()).toEqual(
        architectures.map((a) => `mastodon-image-${a.replace("_", "-")}-image`).sort(),
      );
      for (const fleet of config.fleets) {
        const template = all(run, LT).find((t) => t.name === `mastodon-${fleet.name}-template`);
        const arch = fleet.instance.architecture.replace("_", "-");
        const image = images.find((i) => i.name === `mastodon-image-${arch}-image`) as RecordedResource;
        expect(template?.inputs["imageId"]).toBe(builtAmi(image));
        // The native units: no container runtime on the host.
        const text = decodeUserData(template as RecordedResource);
        expect(text).not.toMatch(/podman|ghcr\.io/);
        expect(text).toMatch(/\/home\/mastodon\/\.rbenv\/shims\/bundle exec|\/usr\/bin\/node \.\/streaming/);
      }
      // The build: a recipe on the pinned Debian AMI, a c-family instance, IMDSv2, egress only.
      for (const recipe of named(run, "aws:imagebuilder/imageRecipe:ImageRecipe")) {
        expect(recipe.inputs["version"]).toBe(config.version.slice(1));
        expect(String(recipe.inputs["parentImage"])).toMatch(/^ami-/);
      }
      for (const infra of named(
        run,
        "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration",
      )) {
        expect(String((infra.inputs["instanceTypes"] as string[])[0])).toMatch(/^c7[gi]\.large$/);
        expect(infra.inputs["instanceMetadataOptions"]).toMatchObject({ httpTokens: "required" });
        expect(infra.inputs["terminateInstanceOnFailure"]).toBe(true);
      }
      const component = named(run, "aws:imagebuilder/component:Component");
      expect(component).toHaveLength(1);
      expect(String(component[0]?.inputs["data"])).toContain(
        `'build' '${config.version}' 'ghcr.io/mastodon'`,
      );
      expect(
        named(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule").map((r) => r.name),
      ).not.toContain(expect.stringContaining("mastodon-image"));
    },
  );

  test("a version change touches the image build and the launch templates only (the native migrations run the host's install)", async () => {
    const changed = (a: MockRun, b: MockRun) => {
      const before = new Map(a.resources.map((r) => [r.urn, JSON.stringify(r.inputs)]));
      return b.resources.filter((r) => before.get(r.urn) !== JSON.stringify(r.inputs)).map((r) => r.urn);
    };
    const before = await runStack("staging", { image: IMAGE_SOURCE });
    const after = await runStack("staging", { image: IMAGE_SOURCE, version: "v4.6.6" });
    const types = [
      "aws:imagebuilder/component:Component",
      "aws:imagebuilder/imageRecipe:ImageRecipe",
      "aws:imagebuilder/distributionConfiguration:DistributionConfiguration",
      IMAGE,
      LT,
    ];
    const expected = types.flatMap((t) => all(before, t).map((r) => r.urn));
    expect(changed(before, after).sort()).toEqual(expected.sort());
    for (const template of all(after, LT)) expect(decodeUserData(template)).not.toContain("v4.6.5");
  });

  describe("is refused by key", () => {
    const problems = (override: Record<string, unknown>) =>
      configProblems({ ...stackConfig("staging"), image: IMAGE_SOURCE, ...override }).map(
        (p) => `${p.key}: ${p.message}`,
      );
    test("with an operator's AMIs", () => {
      expect(problems({ image: { ...IMAGE_SOURCE, amiIds: { arm64: "ami-0aaaaaaaaaaaaaaa1" } } })).toEqual([
        expect.stringMatching(/^mastodon:image\.amiIds: is read only with mastodon:image.source ami/),
      ]);
    });
    test("without NAT for the build instance", () => {
      expect(problems({ network: { egress: "public-subnets" } })).toEqual([
        expect.stringMatching(/^mastodon:network\.egress: cannot carry an EC2 Image Builder build/),
      ]);
    });
    test("with a fleet root volume smaller than the baked AMI", () => {
      const raw = stackConfig("staging") as {
        fleets: Record<string, unknown>[] | Record<string, Record<string, unknown>>;
      };
      const fleets = JSON.parse(JSON.stringify(raw.fleets)) as Record<string, Record<string, unknown>>;
      const first = Object.keys(fleets)[0] as string;
      (fleets[first] as Record<string, unknown>)["rootVolumeGiB"] = BUILD_VOLUME_GIB - 1;
      expect(problems({ fleets }).join("\n")).toContain(
        `is smaller than the baked AMI's ${BUILD_VOLUME_GIB} GiB`,
      );
    });
  });
});
