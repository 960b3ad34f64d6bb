/**
 * mastodon:image.source "image-builder": the build the package renders for EC2 Image Builder (the
 * component document, checked by the `yaml` library; its script, by shellcheck and by running its
 * offline parts against stand-in extracted roots), and the stack that bakes and boots it.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
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
import { type MockRun, type RecordedResource, runUnderMocks } from "../testing/mocks";
import { type ImageBuildArgs, ImageBuild } from "./imageBuild";
import {
  all,
  configProblems,
  decodeUserData,
  find,
  idOf,
  resolve,
  runStack,
  stackConfig,
  stateOf,
} from "../../test/helpers";

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

describe("ImageBuild on its own", () => {
  const REGION = "eu-west-1";
  const ARM = "ami-0aaaaaaaaaaaaaaa1";
  const X86 = "ami-0bbbbbbbbbbbbbbb2";
  const RECIPE = "aws:imagebuilder/imageRecipe:ImageRecipe";
  const INFRA = "aws:imagebuilder/infrastructureConfiguration:InfrastructureConfiguration";
  const DISTRIBUTION = "aws:imagebuilder/distributionConfiguration:DistributionConfiguration";
  const COMPONENT = "aws:imagebuilder/component:Component";
  const args = (over: Partial<ImageBuildArgs> = {}): ImageBuildArgs => ({
    version: "v4.6.5",
    registry: "ghcr.io/mastodon",
    parentImages: { arm64: ARM },
    vpcId: "vpc-0aaaaaaaaaaaaaaa1",
    subnetId: "subnet-0aaaaaaaaaaaaaaa1",
    ...over,
  });
  /** The ImageBuilds `declare` builds, under mocks; kept for their outputs. */
  async function build(declare: () => ImageBuild[]): Promise<{ run: MockRun; builds: ImageBuild[] }> {
    let builds: ImageBuild[] = [];
    const run = await runUnderMocks(
      () => {
        builds = declare();
        return {};
      },
      { project: "p", stack: "s", config: { "aws:region": REGION } },
    );
    return { run, builds };
  }
  const one = async (over: Partial<ImageBuildArgs> = {}, name = "ib") => {
    const built = await build(() => [new ImageBuild(name, args(over))]);
    return { ...built, imageBuild: built.builds[0] as ImageBuild };
  };
  const only = (run: MockRun, type: string) => {
    const found = all(run, type);
    if (found.length !== 1) throw new Error(`expected one ${type}, found ${found.length}`);
    return found[0] as RecordedResource;
  };

  test("GIVEN an arm64 parent image WHEN built THEN one pipeline for arm64: the component installs the version from the registry, the recipe builds it on that image, a Graviton instance with IMDSv2 runs it, the AMI is distributed in the stack's region", async () => {
    const { run } = await one();
    const component = only(run, COMPONENT);
    expect(component.inputs).toMatchObject({
      platform: "Linux",
      version: "4.6.5",
      supportedOsVersions: ["Debian 12"],
    });
    expect(component.inputs["data"]).toBe(
      renderComponentDocument({ version: "v4.6.5", registry: "ghcr.io/mastodon" }),
    );
    const recipe = only(run, RECIPE);
    expect(recipe.name).toBe("ib-arm64-recipe");
    expect(recipe.inputs).toMatchObject({
      parentImage: ARM,
      version: "4.6.5",
      components: [{ componentArn: component.arn }],
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda",
          ebs: {
            volumeSize: BUILD_VOLUME_GIB,
            volumeType: "gp3",
            encrypted: "true",
            deleteOnTermination: "true",
          },
        },
      ],
      systemsManagerAgent: { uninstallAfterBuild: false },
    });
    expect(Buffer.from(String(recipe.inputs["userDataBase64"]), "base64").toString("utf8")).toBe(
      buildUserData(),
    );
    const infra = only(run, INFRA);
    expect(infra.inputs).toMatchObject({
      instanceTypes: ["c7g.large"],
      subnetId: "subnet-0aaaaaaaaaaaaaaa1",
      securityGroupIds: [idOf(run, "aws:ec2/securityGroup:SecurityGroup", "ib-build")],
      instanceProfileName: find(run, "aws:iam/instanceProfile:InstanceProfile", "ib-build").inputs["name"],
      instanceMetadataOptions: { httpTokens: "required", httpPutResponseHopLimit: 1 },
      terminateInstanceOnFailure: true,
    });
    const distribution = only(run, DISTRIBUTION);
    expect(
      (distribution.inputs["distributions"] as any[]).map((d) => [
        d.region,
        d.amiDistributionConfiguration.name,
      ]),
    ).toEqual([[REGION, "ib-arm64-mastodon-v4.6.5-{{ imagebuilder:buildDate }}"]]);
    const image = only(run, IMAGE);
    expect(image.inputs).toMatchObject({
      imageRecipeArn: recipe.arn,
      infrastructureConfigurationArn: infra.arn,
      distributionConfigurationArn: distribution.arn,
      imageTestsConfiguration: { imageTestsEnabled: false },
      enhancedImageMetadataEnabled: true,
    });
  });

  test("GIVEN both architectures WHEN built THEN one component and a pipeline per architecture, each on its parent image and its own instance type", async () => {
    const { run } = await one({ parentImages: { arm64: ARM, x86_64: X86 } });
    expect(all(run, COMPONENT)).toHaveLength(1);
    expect(all(run, RECIPE).map((r) => [r.name, r.inputs["parentImage"]])).toEqual([
      ["ib-arm64-recipe", ARM],
      ["ib-x86-64-recipe", X86],
    ]);
    expect(all(run, INFRA).map((i) => [i.name, i.inputs["instanceTypes"]])).toEqual([
      ["ib-arm64-infrastructure", ["c7g.large"]],
      ["ib-x86-64-infrastructure", ["c7i.large"]],
    ]);
    expect(all(run, IMAGE).map((i) => i.name)).toEqual(["ib-arm64-image", "ib-x86-64-image"]);
  });

  test("GIVEN an x86_64 parent image alone WHEN built THEN no arm64 pipeline, and no arm64 AMI", async () => {
    const { run, imageBuild } = await one({ parentImages: { x86_64: X86 } });
    expect(all(run, RECIPE).map((r) => r.name)).toEqual(["ib-x86-64-recipe"]);
    expect(imageBuild.amis.arm64).toBeUndefined();
    expect(imageBuild.images.arm64).toBeUndefined();
  });

  test("GIVEN a root device name WHEN built THEN the recipe sizes and encrypts that device", async () => {
    const { run } = await one({ rootDeviceName: "/dev/sda1" });
    expect((only(run, RECIPE).inputs["blockDeviceMappings"] as any[]).map((m) => m.deviceName)).toEqual([
      "/dev/sda1",
    ]);
  });

  test("GIVEN the VPC WHEN built THEN the build instance's group in it lets out HTTP and HTTPS only, and nothing in", async () => {
    const { run } = await one();
    const group = find(run, "aws:ec2/securityGroup:SecurityGroup", "ib-build");
    expect(group.inputs["vpcId"]).toBe("vpc-0aaaaaaaaaaaaaaa1");
    expect(group.inputs["ingress"] ?? []).toEqual([]);
    expect(all(run, "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")).toEqual([]);
    expect(all(run, "aws:vpc/securityGroupEgressRule:SecurityGroupEgressRule").map((r) => r.inputs)).toEqual(
      [80, 443].map((port) => ({
        securityGroupId: group.id,
        ipProtocol: "tcp",
        fromPort: port,
        toPort: port,
        cidrIpv4: "0.0.0.0/0",
      })),
    );
  });

  test("GIVEN the build WHEN built THEN its instance role is EC2's alone, with Image Builder's two managed policies and nothing else", async () => {
    const { run } = await one();
    const role = only(run, "aws:iam/role:Role");
    expect(JSON.parse(String(role.inputs["assumeRolePolicy"])).Statement).toEqual([
      { Effect: "Allow", Principal: { Service: "ec2.amazonaws.com" }, Action: "sts:AssumeRole" },
    ]);
    expect(
      all(run, "aws:iam/rolePolicyAttachment:RolePolicyAttachment").map((a) => a.inputs["policyArn"]),
    ).toEqual([
      "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
      "arn:aws:iam::aws:policy/EC2InstanceProfileForImageBuilder",
    ]);
    expect(all(run, "aws:iam/rolePolicy:RolePolicy")).toEqual([]);
    expect(find(run, "aws:iam/instanceProfile:InstanceProfile", "ib-build").inputs["role"]).toBe(
      role.inputs["name"],
    );
  });

  test("GIVEN tags WHEN built THEN every resource carries them, and the version tags only what is rebuilt for it, the AMI included", async () => {
    const { run } = await one({ tags: { "mastodon:stack": "p/s/m" } });
    const versioned = [COMPONENT, RECIPE, DISTRIBUTION, IMAGE];
    const unversioned = [
      "aws:ec2/securityGroup:SecurityGroup",
      "aws:iam/role:Role",
      "aws:iam/instanceProfile:InstanceProfile",
      INFRA,
    ];
    for (const type of versioned)
      expect(only(run, type).inputs["tags"]).toEqual({
        "mastodon:stack": "p/s/m",
        "mastodon:version": "v4.6.5",
      });
    for (const type of unversioned)
      expect(only(run, type).inputs["tags"]).toEqual({ "mastodon:stack": "p/s/m" });
    expect(only(run, INFRA).inputs["resourceTags"] as object).toEqual({ "mastodon:stack": "p/s/m" });
    expect(
      (only(run, DISTRIBUTION).inputs["distributions"] as any[])[0].amiDistributionConfiguration.amiTags,
    ).toEqual({
      "mastodon:stack": "p/s/m",
      "mastodon:version": "v4.6.5",
    });
  });

  test("GIVEN a new version WHEN built again THEN the component, recipe, distribution and image change; the group, role, profile and instance settings do not", async () => {
    const inputs = (run: MockRun) =>
      new Map(run.resources.map((r) => [`${r.type}::${r.name}`, JSON.stringify(r.inputs)]));
    const before = inputs((await one({ parentImages: { arm64: ARM, x86_64: X86 } })).run);
    const after = await one({ version: "v4.6.6", parentImages: { arm64: ARM, x86_64: X86 } });
    const changed = after.run.resources.filter(
      (r) => before.get(`${r.type}::${r.name}`) !== JSON.stringify(r.inputs),
    );
    expect([...new Set(changed.filter((r) => r.custom).map((r) => r.type))].sort()).toEqual(
      [COMPONENT, RECIPE, DISTRIBUTION, IMAGE].sort(),
    );
    expect(only(after.run, COMPONENT).inputs["version"]).toBe("4.6.6");
  });

  test("GIVEN a build WHEN it completes THEN each architecture's AMI is the one its image distributed in the stack's region", async () => {
    const { run, imageBuild } = await one({ parentImages: { arm64: ARM, x86_64: X86 } });
    for (const architecture of ["arm64", "x86_64"] as const) {
      const image = find(run, IMAGE, `ib-${architecture.replace("_", "-")}-image`);
      const distributed = stateOf(run, IMAGE, image.name)["outputResources"][0].amis[0];
      expect(distributed.region).toBe(REGION);
      expect(await resolve(imageBuild.amis[architecture]!)).toBe(distributed.image);
      expect(await resolve(imageBuild.images[architecture]!.arn)).toBe(image.arn);
    }
    expect(await resolve(imageBuild.component.arn)).toBe(only(run, COMPONENT).arn);
  });

  test("GIVEN two builds in one program WHEN built THEN every name derives from its component's and none collides, the AMI names included", async () => {
    const { run } = await build(() => [
      new ImageBuild("blue-image", args()),
      new ImageBuild("green-image", args()),
    ]);
    const pairs = run.resources.map((r) => `${r.type}::${r.name}`);
    expect(new Set(pairs).size).toBe(pairs.length);
    for (const r of run.resources.filter((r) => r.parent !== null))
      expect(r.name.startsWith(`${r.parent}-`)).toBe(true);
    const amiNames = all(run, DISTRIBUTION).map(
      (d) => (d.inputs["distributions"] as any[])[0].amiDistributionConfiguration.name,
    );
    expect(new Set(amiNames).size).toBe(2);
  });

  test("GIVEN a component name too long for IAM WHEN built THEN the role's name is cut to fit, with a hash", async () => {
    const long = `image-${"x".repeat(70)}`;
    const { run } = await one({}, long);
    const role = only(run, "aws:iam/role:Role");
    expect(role.name).not.toBe(`${long}-build`);
    expect(String(role.inputs["name"]).length).toBeLessThanOrEqual(64);
  });

  test.each([
    [
      "no parent image",
      { parentImages: {} },
      "ib: parentImages names no architecture to build (arm64 or x86_64)",
    ],
    [
      "a version that is not a release tag",
      { version: "latest" },
      "latest is not a Mastodon release tag such as v4.6.5",
    ],
    [
      "a registry path with a quote",
      { registry: "ghcr.io/x'y" },
      "ghcr.io/x'y is not an image registry path",
    ],
  ])("GIVEN %s WHEN built THEN it is refused", async (_, over, message) => {
    await expect(one(over)).rejects.toThrow(message);
    // The component registered before it refused: let that registration finish within the test.
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
  });
});
