/**
 * Which Mastodon a stack runs and on what image: pinned per stack, never "latest", and a version
 * change touches only the resources that carry the image.
 */
import { officialImages } from "../fleet/host/containers";
import { debianAmiName, imageLookup } from "./amis";
import { parseStackConfig } from "../config";
import { DEFAULTS } from "../vocabulary/defaults";
import * as path from "path";
import { AMI_NO_RESULTS, fakeCloud } from "../testing/fakeCloud";
import { type MockRun, runUnderMocks } from "../testing/mocks";
import { readStackFile } from "../config/stackFile";
import program from "../../index";
import { ROOT, STACKS, all, decodeUserData, find, runStack, stackConfig } from "../../test/helpers";

const LT = "aws:ec2/launchTemplate:LaunchTemplate";

/** What the fake cloud answers for a Debian AMI lookup by name, as of `now`. */
function lookupDebian(
  architecture: "arm64" | "x86_64",
  serial: string,
  options: { includeDeprecated?: boolean; now?: Date } = {},
): Record<string, unknown> {
  return fakeCloud("us-east-1", options.now ? { now: options.now } : {}).mocks.call({
    token: "aws:ec2/getAmi:getAmi",
    inputs: {
      owners: [DEFAULTS.image.debianOwner],
      ...(options.includeDeprecated !== undefined && { includeDeprecated: options.includeDeprecated }),
      filters: [
        { name: "name", values: [debianAmiName(architecture, serial)] },
        { name: "architecture", values: [architecture] },
      ],
    },
  }) as Record<string, unknown>;
}

/** What the fake cloud answers for the pinned Debian AMI of an architecture (as the program asks). */
function debianAmi(architecture: "arm64" | "x86_64"): string {
  return String(lookupDebian(architecture, DEFAULTS.image.debianSerial, { includeDeprecated: true })["id"]);
}

describe("a pinned Debian image past its deprecation (public AMIs: two years after creation)", () => {
  // A real Debian 12 serial, deprecated by default on 2025-06-12 (Amazon EC2 User Guide, "Deprecate
  // an Amazon EC2 AMI"); DescribeImages then finds it only with IncludeDeprecated.
  const OLD_SERIAL = "20230612-1409";

  test("the fake cloud finds it only when the query includes deprecated images, as EC2 does", () => {
    const day = (d: string) => new Date(`${d}T00:00:00Z`);
    expect(lookupDebian("arm64", OLD_SERIAL, { now: day("2025-06-11") })["deprecationTime"]).toBe(
      "2025-06-12T00:00:00.000Z",
    );
    expect(() => lookupDebian("arm64", OLD_SERIAL, { now: day("2025-06-12") })).toThrow(AMI_NO_RESULTS);
    expect(() => lookupDebian("arm64", OLD_SERIAL, { includeDeprecated: false })).toThrow(
      /deprecated since 2025-06-12/,
    );
    expect(lookupDebian("arm64", OLD_SERIAL, { includeDeprecated: true })["name"]).toBe(
      `debian-12-arm64-${OLD_SERIAL}`,
    );
  });

  test("still boots every fleet and the self-managed Redis host", async () => {
    const redis = {
      ...(stackConfig("production")["redis"] as object),
      persistent: { mode: "self-managed-aof", instanceType: "c7g.large", volumeGiB: 50 },
    };
    const run = await runStack("production", { image: { debianSerial: OLD_SERIAL }, redis });
    const ami = String(lookupDebian("arm64", OLD_SERIAL, { includeDeprecated: true })["id"]);
    expect(all(run, LT).length).toBeGreaterThan(1);
    for (const template of all(run, LT)) expect(template.inputs["imageId"]).toBe(ami);
    expect(find(run, "aws:ec2/instance:Instance", "mastodon-persistent-host").inputs["ami"]).toBe(ami);
  });

  test.each(STACKS)("%s: the shipped pin keeps resolving after its own deprecation date", async (stack) => {
    const { config } = parseStackConfig(stackConfig(stack));
    const file = readStackFile(path.join(ROOT, "stacks"), stack);
    // A day after the pinned serial's second anniversary.
    const created = /^([0-9]{4})([0-9]{2})([0-9]{2})/.exec(config.image.debianSerial) as RegExpExecArray;
    const now = new Date(Date.UTC(Number(created[1]) + 2, Number(created[2]) - 1, Number(created[3]) + 1));
    expect(() => lookupDebian("arm64", config.image.debianSerial, { now })).toThrow(AMI_NO_RESULTS);
    const run = await runUnderMocks(program, {
      project: "mastodon-aws",
      stack,
      config: file.config,
      secretKeys: file.secretKeys,
      cloud: { now },
    });
    for (const template of all(run, LT)) expect(template.inputs["imageId"]).toMatch(/^ami-[0-9a-f]{17}$/);
  });
});

test("the official images are the release of the stack's version, in the configured registry", () => {
  expect(officialImages({ registry: "ghcr.io/mastodon", version: "v4.6.5" })).toEqual({
    rails: "ghcr.io/mastodon/mastodon:v4.6.5",
    streaming: "ghcr.io/mastodon/mastodon-streaming:v4.6.5",
  });
  // Debian names its architectures amd64 and arm64.
  expect(debianAmiName("x86_64", "20250331-1966")).toBe("debian-12-amd64-20250331-1966");
  expect(debianAmiName("arm64", "20250331-1966")).toBe("debian-12-arm64-20250331-1966");
});

describe.each(STACKS)("stack %s", (stack) => {
  let run: MockRun;
  beforeAll(async () => {
    run = await runStack(stack);
  });

  test("every stack file pins its version and no image configuration is needed", () => {
    expect(stackConfig(stack)["version"]).toMatch(/^v4\.6\.\d+$/);
    expect(stackConfig(stack)["image"]).toBeUndefined();
  });

  test("every launch template boots the pinned Debian 12 AMI of its architecture", () => {
    const { config } = parseStackConfig(stackConfig(stack));
    for (const fleet of config.fleets) {
      const template = all(run, LT).find((t) => t.name === `mastodon-${fleet.name}-template`);
      expect(template?.inputs["imageId"]).toBe(debianAmi(fleet.instance.architecture));
      expect(imageLookup(config, fleet.instance.architecture)).toEqual({
        kind: "debian",
        owner: "136693071363",
        name: debianAmiName(fleet.instance.architecture, config.image.debianSerial),
      });
    }
    // Nothing resolves an image alias that moves: no SSM parameter lookups, no "latest". (The host
    // files are programs, not image references: the agents' installers fetch AWS's current agent
    // packages and check their signatures, core/host/files/install-*-agent.sh.)
    const images = run.resources.filter((r) => r.type !== "aws:s3/bucketObjectv2:BucketObjectv2");
    expect(JSON.stringify(images)).not.toMatch(/latest/);
  });
});

describe("an operator's AMI", () => {
  const config = (amis: Record<string, string>) => {
    const out: Record<string, string> = { "aws:region": "us-east-1" };
    const raw = { ...stackConfig("staging"), image: { source: "ami", amiIds: amis } };
    for (const [k, v] of Object.entries(raw))
      out[`mastodon:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    return out;
  };

  test("is used as given for its architecture", async () => {
    const run = await runUnderMocks(program, {
      project: "mastodon-aws",
      stack: "staging",
      config: config({ arm64: "ami-0aaaaaaaaaaaaaaa1" }),
      cloud: { amis: { "ami-0aaaaaaaaaaaaaaa1": "arm64" } },
    });
    for (const template of all(run, LT)) expect(template.inputs["imageId"]).toBe("ami-0aaaaaaaaaaaaaaa1");
  });

  test("whose architecture disagrees with the fleets' is refused when AWS answers, naming the key", async () => {
    const run = runUnderMocks(program, {
      project: "mastodon-aws",
      stack: "staging",
      config: config({ arm64: "ami-0bbbbbbbbbbbbbbb2" }),
      cloud: { amis: { "ami-0bbbbbbbbbbbbbbb2": "x86_64" } },
    });
    await expect(run).rejects.toThrow(
      "mastodon:image.amiIds.arm64: ami-0bbbbbbbbbbbbbbb2 is an x86_64 AMI; the fleets it is for run arm64 instances",
    );
  });
});

describe("a version change touches only what carries the image", () => {
  /** URNs whose inputs differ between two runs of the same program. */
  const changed = (a: MockRun, b: MockRun) => {
    const before = new Map(a.resources.map((r) => [r.urn, JSON.stringify(r.inputs)]));
    return b.resources.filter((r) => before.get(r.urn) !== JSON.stringify(r.inputs)).map((r) => r.urn);
  };

  test.each(STACKS)(
    "%s: v4.6.5 -> v4.6.6 changes exactly its launch templates and the migrations' image",
    async (stack) => {
      const before = await runStack(stack);
      const after = await runStack(stack, { version: "v4.6.6" });
      const expected = [
        ...all(before, LT).map((t) => t.urn),
        // The migrations document's default image: the release the stack runs.
        find(before, "aws:ssm/document:Document", "mastodon-migrations").urn,
      ];
      expect(expected.length).toBe(parseStackConfig(stackConfig(stack)).config.fleets.length + 1);
      expect(changed(before, after).sort()).toEqual(expected.sort());
      // Their user-data names the new release's images; no other stack's file is read.
      for (const template of all(after, LT)) expect(decodeUserData(template)).toContain(":v4.6.6");
    },
  );

  test("the operator's AMI source: the version is on the instances, so the templates change alone", async () => {
    const image = { source: "ami", amiIds: { arm64: "ami-0aaaaaaaaaaaaaaa1" } };
    const before = await runStack("staging", { image });
    const after = await runStack("staging", { image, version: "v4.6.6" });
    expect(changed(before, after).sort()).toEqual(
      all(before, LT)
        .map((t) => t.urn)
        .sort(),
    );
  });
});

test("the images output names the AMI each architecture's fleets boot", async () => {
  const run = await runStack("staging");
  expect(run.outputs["images"]).toEqual({ arm64: debianAmi("arm64") });
});
