/**
 * `npm run upgrade` (src/upgrade/): Mastodon's order proven with stand-in operations that record
 * every call, for each image source (official, ami, image-builder): the version set, the scheduler's
 * fleet rolled alone first (its new host runs the pre-deployment migrations at boot), then
 * `pulumi up` and every instance refresh, then the post-deployment migrations through SSM; a failure
 * at any step stops there and says what state the stack is in; bad tags and downgrades are refused
 * before anything changes; a stack already on the version is left alone; a re-run resumes.
 */
import { schedulerTargets } from "../../bin/upgrade";
import { stackConfigSchema } from "../config";
import { checkReleaseTag, compareReleases, parseTag } from "../vocabulary/release";
import { refreshVerdict, type RefreshStatus, waitForRefreshes } from "./refreshes";
import {
  type Action,
  type ImageSource,
  type MigrationRun,
  type Phase,
  type Scope,
  type StackState,
  UpgradeFailed,
  type UpgradeOperations,
  UpgradeRefused,
  imageSourceOf,
  planUpgrade,
  runUpgrade,
} from "./upgrade";

/** Stand-in operations: each call is recorded as one line; `failOn` makes the matching call throw. */
class Recorder implements UpgradeOperations {
  readonly calls: string[] = [];
  constructor(
    private readonly state: StackState,
    private readonly options: {
      /** Versions whose post-deployment migrations are recorded as done. */
      postRan?: string[];
      failOn?: string;
      recordError?: boolean;
    } = {},
  ) {}
  private async call(line: string): Promise<void> {
    this.calls.push(line);
    if (this.options.failOn && line.startsWith(this.options.failOn))
      throw new Error(`stand-in: ${line} failed`);
  }
  async readState() {
    await this.call("readState");
    return this.state;
  }
  async migrationsRan(phase: Phase, version: string) {
    this.calls.push(`migrationsRan ${phase} ${version}`);
    if (this.options.recordError) throw new Error("AccessDenied");
    return (this.options.postRan ?? []).includes(version);
  }
  migrate(run: MigrationRun) {
    return this.call(`migrate ${run.phase} ${run.version}${run.image ? ` ${run.image}` : ""}`);
  }
  setVersion(version: string) {
    return this.call(`setVersion ${version}`);
  }
  deploy(scope: Scope) {
    return this.call(`deploy ${scope}`);
  }
  waitForRefreshes(scope: Scope) {
    return this.call(`waitForRefreshes ${scope}`);
  }
}

const SOURCES: ImageSource[] = ["official", "ami", "image-builder"];
const state = (source: ImageSource, version = "v4.6.4", extra: Partial<StackState> = {}): StackState => ({
  deployedVersion: version,
  configuredVersion: version,
  source,
  imageRegistry: "ghcr.io/mastodon",
  ...extra,
});
const READS = ["readState", "migrationsRan post v4.6.5"];
const mutations = (calls: string[]) => calls.filter((c) => !READS.includes(c));
const IMAGE = "ghcr.io/mastodon/mastodon:v4.6.5";

/** The same six steps for every source; only where the post-deployment migrations' code comes from differs. */
const order = (source: ImageSource) => [
  "setVersion v4.6.5",
  "deploy scheduler",
  "waitForRefreshes scheduler",
  "deploy all",
  "waitForRefreshes all",
  source === "official" ? `migrate post v4.6.5 ${IMAGE}` : "migrate post v4.6.5",
];

async function upgrade(ops: Recorder, version = "v4.6.5", dryRun = false) {
  const log: string[] = [];
  const result = await runUpgrade({ stack: "production", version, dryRun }, ops, (l) => log.push(l));
  return { result, log };
}

async function failure(ops: Recorder, version = "v4.6.5"): Promise<UpgradeFailed> {
  const error = await upgrade(ops, version).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(UpgradeFailed);
  return error as UpgradeFailed;
}

const plan = (source: ImageSource, extra: Partial<StackState> = {}) => {
  const p = planUpgrade({
    stack: "production",
    version: "v4.6.5",
    state: state(source, "v4.6.4", extra),
    postRan: false,
  });
  if (p.kind !== "upgrade") throw new Error("expected an upgrade");
  return p;
};

describe.each(SOURCES)("image source %s: the scheduler's boot is the pre-deployment step", (source) => {
  test("the order: version, the scheduler's fleet alone and its refresh, every fleet, post", async () => {
    const ops = new Recorder(state(source));
    const { result, log } = await upgrade(ops);
    expect(ops.calls).toEqual([...READS, ...order(source)]);
    expect(ops.calls.some((c) => c.startsWith("migrate pre"))).toBe(false);
    expect(result.ran).toHaveLength(6);
    expect(log[0]).toBe(`stack production: v4.6.4 -> v4.6.5, image source ${source}, 6 steps`);
    expect(log.at(-1)).toBe("stack production runs v4.6.5: the upgrade is complete");
  });

  test("the plan's actions and titles", () => {
    const { steps, from, to } = plan(source);
    expect([from, to]).toEqual(["v4.6.4", "v4.6.5"]);
    const actions: Action[] = [
      { kind: "set-version", version: "v4.6.5" },
      { kind: "deploy", scope: "scheduler" },
      { kind: "wait-for-refreshes", scope: "scheduler" },
      { kind: "deploy", scope: "all" },
      { kind: "wait-for-refreshes", scope: "all" },
      {
        kind: "migrate",
        run: { phase: "post", version: "v4.6.5", ...(source === "official" && { image: IMAGE }) },
      },
    ];
    expect(steps.map((s) => s.action)).toEqual(actions);
    const titles = steps.map((s) => s.title);
    expect(titles[0]).toBe("set mastodon:version to v4.6.5 in stacks/Pulumi.production.yaml");
    expect(titles[1]).toMatch(
      /^roll the scheduler's fleet onto v4\.6\.5: pulumi up of its launch template and group only/,
    );
    expect(titles[1]!.includes("EC2 Image Builder bakes the v4.6.5 AMI first")).toBe(
      source === "image-builder",
    );
    expect(titles[2]).toBe(
      "wait for the scheduler fleet's instance refresh: its new host runs the pre-deployment migrations on v4.6.5 at boot, while the other fleets serve v4.6.4",
    );
    expect(titles[3]).toBe("pulumi up: every fleet rolls onto v4.6.5 by instance refresh");
    expect(titles[4]).toBe("wait for every fleet's instance refresh");
    expect(titles[5]).toBe(
      source === "official"
        ? `post-deployment migrations on v4.6.5 (${IMAGE} on the scheduler's host)`
        : "post-deployment migrations on v4.6.5 (the scheduler host's installation, which must report v4.6.5)",
    );
  });

  test("--dry-run lists the six steps and changes nothing", async () => {
    const ops = new Recorder(state(source));
    const { log, result } = await upgrade(ops, "v4.6.5", true);
    expect(ops.calls).toEqual(READS);
    expect(result.ran).toEqual([]);
    const lines = log.filter((l) => l.startsWith("would run"));
    expect(lines).toEqual(plan(source).steps.map((s, i) => `would run step ${i + 1}/6: ${s.title}`));
    expect(log.some((l) => l.includes("the upgrade is complete"))).toBe(false);
  });

  /** What each step's failure must say, whatever the source: [step, call, phrases]. */
  const common: [number, string, string[]][] = [
    [1, "setVersion", ["nothing changed", "every host runs v4.6.4", "Run the same command again"]],
    [
      2,
      "deploy scheduler",
      [
        "mastodon:version is v4.6.5 in stacks/Pulumi.production.yaml",
        "a refresh is replacing its one host with a v4.6.5 host, which runs the pre-deployment migrations at boot",
        "the other fleets run v4.6.4",
        "no post-deployment migration ran",
        "set mastodon:version back to v4.6.4",
      ],
    ],
    [
      3,
      "waitForRefreshes scheduler",
      [
        "the pre-deployment migrations on v4.6.5 failed at its new host's boot",
        "mastodon-boot.service",
        "v4.6.4 tolerates them",
        "may have no host in service",
        "The other fleets still run v4.6.4 and serve",
        "start-instance-refresh",
        // No --preferences: the group's instance maintenance policy keeps the one scheduler.
        "no --preferences: each group's instance maintenance policy applies",
        "MinHealthyPercentage 0, MaxHealthyPercentage 100",
        "set mastodon:version back to v4.6.4",
      ],
    ],
    [
      4,
      "deploy all",
      [
        "the scheduler's fleet runs v4.6.5, whose boot ran the pre-deployment migrations",
        "the other fleets may run v4.6.4 and v4.6.5 side by side",
        "the post-deployment migrations did not run",
      ],
    ],
    [
      5,
      "waitForRefreshes all",
      [
        "not every fleet finished rolling",
        "some hosts may still run v4.6.4",
        "web and streaming launch first",
        "MinHealthyPercentage 0, MaxHealthyPercentage 100",
      ],
    ],
    [
      6,
      "migrate post",
      [
        "the post-deployment migrations did not finish",
        "Do not go back to v4.6.4 once any post-deployment migration ran",
      ],
    ],
  ];
  /** What only this source's failures say (and the others' must not). */
  const specific: Record<ImageSource, Record<number, string[]>> = {
    official: { 6: ["every fleet runs v4.6.5 and serves"] },
    ami: {
      2: ["Check that the AMI pinned in mastodon:image.amiIds holds v4.6.5"],
      6: ["every fleet rolled and serves", "does not hold v4.6.5", "pin one that does"],
    },
    "image-builder": {
      2: ["If EC2 Image Builder's build of v4.6.5 failed", "nothing rolled and no migration ran"],
      6: ["every fleet runs v4.6.5 and serves"],
    },
  };

  test.each(common)("a failure at step %i (%s) stops there and says where", async (n, failOn, phrases) => {
    const ops = new Recorder(state(source), { failOn });
    const error = await failure(ops);
    expect(mutations(ops.calls)).toEqual(order(source).slice(0, n));
    expect(error.number).toBe(n);
    expect(error.total).toBe(6);
    const step = plan(source).steps[n - 1]!;
    expect(error.step).toBe(step.title);
    expect(error.state).toBe(step.ifFails);
    expect(error.reason).toContain("stand-in");
    expect(error.message).toMatch(new RegExp(`^step ${n}/6 failed: `));
    for (const phrase of [...phrases, ...(specific[source][n] ?? [])]) expect(error.state).toContain(phrase);
    for (const other of SOURCES.filter((s) => s !== source)) {
      for (const phrase of specific[other][n] ?? []) {
        if (!(specific[source][n] ?? []).includes(phrase)) expect(error.state).not.toContain(phrase);
      }
    }
  });
});

describe("official images", () => {
  test("an ECR pull-through cache's registry gives the post-deployment migrations the image the fleets pull", async () => {
    const ops = new Recorder(
      state("official", "v4.6.4", {
        imageRegistry: "123456789012.dkr.ecr.eu-west-3.amazonaws.com/ghcr/mastodon",
      }),
    );
    await upgrade(ops);
    expect(ops.calls.at(-1)).toBe(
      "migrate post v4.6.5 123456789012.dkr.ecr.eu-west-3.amazonaws.com/ghcr/mastodon/mastodon:v4.6.5",
    );
  });

  test("no failure text of the official source speaks of an AMI", () => {
    for (const step of plan("official").steps) expect(step.ifFails).not.toMatch(/AMI|Image Builder/);
  });
});

describe("refusals, no-ops and re-runs", () => {
  test.each([
    ["latest", "is not a release"],
    ["LATEST", "is not a release"],
    ["4.6.5", 'start with "v": v4.6.5'],
    ["v4.5.3", "is not a Mastodon 4.6 release"],
    ["v5.0.0", "is not a Mastodon 4.6 release"],
    ["v4.6", "is not a Mastodon release tag"],
    ["v4.6.0-rc.1", "is a pre-release"],
    ["v4.6.5; rm -rf /", "is not a Mastodon release tag"],
    ["", "is not a Mastodon release tag"],
  ])("--version %j is refused before the stack is read", async (tag, message) => {
    const ops = new Recorder(state("official"));
    await expect(upgrade(ops, tag)).rejects.toThrow(UpgradeRefused);
    await expect(upgrade(ops, tag)).rejects.toThrow(message);
    expect(ops.calls).toEqual([]);
  });

  test.each(SOURCES)(
    "a downgrade (image source %s) is refused after reading the stack, with nothing changed",
    async (source) => {
      const ops = new Recorder(state(source, "v4.6.6"));
      await expect(upgrade(ops)).rejects.toThrow(UpgradeRefused);
      await expect(upgrade(ops)).rejects.toThrow("stack production runs v4.6.6; v4.6.5 is older");
      expect(mutations(ops.calls)).toEqual([]);
    },
  );

  test("a downgrade is refused even when only the stack file names the newer version", () => {
    expect(() =>
      planUpgrade({
        stack: "production",
        version: "v4.6.5",
        state: { source: "ami", configuredVersion: "v4.6.6", imageRegistry: "ghcr.io/mastodon" },
        postRan: false,
      }),
    ).toThrow("stack production runs v4.6.6; v4.6.5 is older");
  });

  test.each(SOURCES)(
    "image source %s: the version the stack already runs, post-deployment migrations done: nothing to do",
    async (source) => {
      const ops = new Recorder(state(source, "v4.6.5"), { postRan: ["v4.6.5"] });
      const { result, log } = await upgrade(ops);
      expect(result.plan.kind).toBe("up-to-date");
      expect(result.ran).toEqual([]);
      expect(mutations(ops.calls)).toEqual([]);
      expect(log).toEqual([
        "stack production already runs v4.6.5 and its post-deployment migrations ran: nothing to do",
      ]);
    },
  );

  test("post-deployment migrations recorded, but the last complete pulumi up deployed another version: not up to date", async () => {
    const ops = new Recorder(state("ami", "v4.6.4", { configuredVersion: "v4.6.5" }), {
      postRan: ["v4.6.5"],
    });
    await upgrade(ops);
    expect(mutations(ops.calls)).toEqual(order("ami"));
  });

  test("a re-run after the post-deployment migrations failed runs every step again: all harmless", async () => {
    const ops = new Recorder(state("image-builder", "v4.6.5"));
    const { result } = await upgrade(ops);
    expect(mutations(ops.calls)).toEqual(order("image-builder"));
    // The stack already says v4.6.5: the texts do not claim the other fleets run it before they roll.
    if (result.plan.kind !== "upgrade") throw new Error("expected an upgrade");
    expect(result.plan.steps[2]!.title).toContain("while the other fleets serve the previous version");
    expect(result.plan.steps[5]!.ifFails).toContain("Do not go back to the previous version");
  });

  test("a re-run after pulumi up failed (version set, fleets mixed) starts over from the version", async () => {
    const ops = new Recorder(state("official", "v4.6.4", { configuredVersion: "v4.6.5" }));
    const { log } = await upgrade(ops);
    expect(mutations(ops.calls)).toEqual(order("official"));
    expect(log[0]).toBe("stack production: v4.6.4 -> v4.6.5, image source official, 6 steps");
  });

  test("post-deployment migrations recorded for another version do not count", async () => {
    const ops = new Recorder(state("official"), { postRan: ["v4.6.4"] });
    await upgrade(ops);
    expect(mutations(ops.calls)).toEqual(order("official"));
  });

  test("an unreadable migrations record is said, and the upgrade simply runs (every step is idempotent)", async () => {
    const ops = new Recorder(state("official", "v4.6.5"), { recordError: true });
    const { log } = await upgrade(ops);
    expect(mutations(ops.calls)).toEqual(order("official"));
    expect(log[0]).toBe("cannot read the migrations record (AccessDenied): running them again is harmless");
  });

  test("a stack that cannot be read is refused with nothing changed", async () => {
    const ops = new Recorder(state("official"), { failOn: "readState" });
    await expect(upgrade(ops)).rejects.toThrow(UpgradeRefused);
    await expect(upgrade(ops)).rejects.toThrow(
      "cannot read stack production: stand-in: readState failed; nothing changed",
    );
    expect(mutations(ops.calls)).toEqual([]);
  });

  test.each(SOURCES)(
    "image source %s: a stack with no version recorded yet is upgraded, not refused",
    (source) => {
      const p = planUpgrade({
        stack: "dev",
        version: "v4.6.5",
        state: { source, imageRegistry: "ghcr.io/mastodon" },
        postRan: false,
      });
      expect(p.kind).toBe("upgrade");
      if (p.kind !== "upgrade") return;
      expect(p.from).toBeUndefined();
      expect(p.steps).toHaveLength(6);
      expect(p.steps[1]!.ifFails).toContain("the other fleets run the version it runs now");
    },
  );
});

describe("what pulumi up targets to roll the scheduler's fleet alone (bin/upgrade.ts)", () => {
  const urn = (type: string, name: string) =>
    `urn:pulumi:production::mastodon-aws::mastodon:index:MastodonStack$${type}::${name}`;
  const fleet = (name: string, type: string, suffix: string) =>
    urn(`mastodon:index:Fleet$${type}`, `mastodon-${name}-${suffix}`);
  const build = urn("mastodon:index:ImageBuild", "mastodon-image");
  const outputs = (extra: Record<string, string> = {}) =>
    Object.fromEntries(
      Object.entries({
        schedulerTemplateUrn: fleet("scheduler", "aws:ec2/launchTemplate:LaunchTemplate", "template"),
        schedulerGroupUrn: fleet("scheduler", "aws:autoscaling/group:Group", "group"),
        ...extra,
      }).map(([k, value]) => [k, { value, secret: false }]),
    );
  /** Pulumi's engine matches a --target this way (pkg/resource/deploy: UrnTargets.getMatcher). */
  const matches = (targets: string[], candidate: string) =>
    targets.some((glob) => {
      const quote = (t: string) => t.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
      const source = glob
        .split("**")
        .map((segment) => segment.split("*").map(quote).join("[^:]*"))
        .join(".*");
      return new RegExp(`^${source}$`).test(candidate);
    });

  test.each(["official", "ami"] as const)(
    "image source %s: the scheduler's launch template and group",
    (source) => {
      expect(schedulerTargets(outputs(), "production", source)).toEqual([
        fleet("scheduler", "aws:ec2/launchTemplate:LaunchTemplate", "template"),
        fleet("scheduler", "aws:autoscaling/group:Group", "group"),
      ]);
    },
  );

  test("image source image-builder: with the image build and everything under it, nothing else", () => {
    const targets = schedulerTargets(outputs({ imageBuildUrn: build }), "production", "image-builder");
    const child = (type: string, name: string) =>
      urn(`mastodon:index:ImageBuild$${type}`, `mastodon-image-${name}`);
    for (const inside of [
      build,
      fleet("scheduler", "aws:ec2/launchTemplate:LaunchTemplate", "template"),
      fleet("scheduler", "aws:autoscaling/group:Group", "group"),
      child("aws:imagebuilder/image:Image", "arm64-image"),
      child("aws:imagebuilder/imageRecipe:ImageRecipe", "x86-64-recipe"),
      child("aws:imagebuilder/component:Component", "mastodon"),
      child("aws:imagebuilder/distributionConfiguration:DistributionConfiguration", "arm64-distribution"),
      child("aws:ec2/securityGroup:SecurityGroup", "build"),
    ])
      expect([inside, matches(targets, inside)]).toEqual([inside, true]);
    for (const outside of [
      fleet("web", "aws:ec2/launchTemplate:LaunchTemplate", "template"),
      fleet("web", "aws:autoscaling/group:Group", "group"),
      fleet("scheduler", "aws:autoscaling/policy:Policy", "cpu"),
      urn("aws:ssm/document:Document", "mastodon-migrations"),
      urn("mastodon:index:ImageBuilder", "mastodon-image"),
      "urn:pulumi:production::mastodon-aws::pulumi:pulumi:Stack::mastodon-aws-production",
    ])
      expect([outside, matches(targets, outside)]).toEqual([outside, false]);
  });

  test("image source image-builder without the output imageBuildUrn: refused, saying which output", () => {
    expect(() => schedulerTargets(outputs(), "production", "image-builder")).toThrow(
      "stack production has no output imageBuildUrn",
    );
  });
});

describe("release tags", () => {
  const tags = [
    "v4.6.0",
    "v4.6.5",
    "v4.6.12",
    "v4.6.0-rc.1",
    "v4.6.0-beta.2",
    "v4.6.0-alpha.1",
    "latest",
    "4.6.5",
    "v4.5.3",
    "v4.6",
    "v4.6.5-rc1",
    "v4.6.5+meta",
    " v4.6.5",
  ];
  test.each(tags)("%j: the upgrade command and mastodon:version agree", (tag) => {
    const schema = (
      stackConfigSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>
    )["version"]!;
    expect("release" in checkReleaseTag(tag)).toBe(schema.safeParse(tag).success);
  });

  test("releases in order: patches numerically", () => {
    const order = ["v4.5.9", "v4.6.0", "v4.6.1", "v4.6.2", "v4.6.10", "v5.0.0"];
    const releases = order.map((t) => parseTag(t)!);
    for (let i = 1; i < releases.length; i++) {
      expect(compareReleases(releases[i - 1]!, releases[i]!)).toBeLessThan(0);
    }
  });

  test("the image source: official unless mastodon:image says ami or image-builder", () => {
    expect(imageSourceOf(undefined)).toBe("official");
    expect(imageSourceOf({ registry: "ghcr.io/mastodon" })).toBe("official");
    expect(imageSourceOf({ source: "ami", amiIds: { arm64: "ami-0123456789abcdef0" } })).toBe("ami");
    expect(imageSourceOf({ source: "image-builder" })).toBe("image-builder");
    expect(() => imageSourceOf({ source: "docker" })).toThrow(
      'mastodon:image.source is "docker": official, image-builder or ami',
    );
  });
});

describe("waiting for instance refreshes (describe-instance-refreshes stand-in)", () => {
  /** Each group answers its statuses in turn, then repeats the last. */
  function script(answers: Record<string, (RefreshStatus | undefined)[]>) {
    const asked: string[] = [];
    let clock = 0;
    const opts = {
      describe: async (group: string) => {
        asked.push(group);
        const list = answers[group]!;
        return list.length > 1 ? list.shift() : list[0];
      },
      sleep: async (ms: number) => {
        clock += ms;
      },
      now: () => clock,
      pollMs: 30_000,
      timeoutMs: 10 * 60_000,
    };
    return { asked, opts, elapsed: () => clock };
  }

  test("verdicts", () => {
    expect(refreshVerdict(undefined)).toBe("done");
    expect(refreshVerdict({ status: "Successful" })).toBe("done");
    for (const s of ["Pending", "InProgress", "Cancelling", "RollbackInProgress", "Baking"]) {
      expect(refreshVerdict({ status: s })).toBe("running");
    }
    for (const s of ["Failed", "Cancelled", "RollbackSuccessful", "RollbackFailed"]) {
      expect(refreshVerdict({ status: s })).toBe("failed");
    }
  });

  test("waits until every group's latest refresh succeeded", async () => {
    const { asked, opts, elapsed } = script({
      web: [{ status: "Pending" }, { status: "InProgress", percentComplete: 50 }, { status: "Successful" }],
      sidekiq: [{ status: "Successful" }],
      scheduler: [undefined],
    });
    await waitForRefreshes(["web", "sidekiq", "scheduler"], opts);
    expect(asked).toEqual(["web", "sidekiq", "scheduler", "web", "web"]);
    expect(elapsed()).toBe(60_000);
  });

  test("a failed refresh is reported by group and reason, once the others have ended", async () => {
    const { asked, opts } = script({
      web: [{ status: "InProgress" }, { status: "Successful" }],
      sidekiq: [{ status: "Failed", reason: "instances failed to launch" }],
    });
    await expect(waitForRefreshes(["web", "sidekiq"], opts)).rejects.toThrow(
      "instance refresh did not succeed: sidekiq Failed (instances failed to launch)",
    );
    expect(asked).toEqual(["web", "sidekiq", "web"]);
  });

  test("gives up after the timeout, naming the groups still refreshing", async () => {
    const { opts } = script({ web: [{ status: "InProgress" }] });
    await expect(waitForRefreshes(["web"], opts)).rejects.toThrow(
      "after 10 min these groups are still refreshing: web",
    );
  });
});
