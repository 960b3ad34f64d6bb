/**
 * mastodon:image.source "image-builder" in a whole stack: one build per architecture the fleets run,
 * the launch templates booting the built AMIs with the native units, a version change touching the
 * build and the templates only, and the configurations the source refuses.
 */
import { parseStackConfig } from "../config";
import { BUILD_VOLUME_GIB } from "./imageRecipe";
import { fakeCloud } from "../testing/fakeCloud";
import type { MockRun, RecordedResource } from "../testing/mocks";
import { all, configProblems, decodeUserData, runStack, stackConfig } from "../../test/helpers";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";
const IMAGE = "aws:imagebuilder/image:Image";
const IMAGE_SOURCE = { source: "image-builder" };

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
