/**
 * ImageBuild on its own (src/images/imageBuild.ts): the resources it declares for EC2 Image Builder
 * per architecture, their names, tags and outputs, and what it refuses. The component document and
 * its script: imageRecipe.test.ts; a whole stack on image-builder: imageBuildStack.test.ts.
 */
import * as pulumi from "@pulumi/pulumi";
import { BUILD_VOLUME_GIB, buildUserData, renderComponentDocument } from "./imageRecipe";
import { type MockRun, type RecordedResource, runUnderMocks } from "../testing/mocks";
import { type ImageBuildArgs, ImageBuild } from "./imageBuild";
import { all, find, idOf, resolve, stateOf } from "../../test/helpers";

const IMAGE = "aws:imagebuilder/image:Image";

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
