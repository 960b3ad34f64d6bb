/**
 * `npm run upgrade` (core/upgrade): Mastodon's order proven with stand-in operations that record
 * every call: the pre-deployment migrations on the new version before anything rolls, then
 * `pulumi up` and every instance refresh, then the post-deployment migrations; a failure at any
 * step stops there and says what state the stack is in; bad tags and downgrades are refused before
 * anything changes; a stack already on the version is left alone; a re-run resumes.
 */
import { stackConfigSchema } from "../core/config";
import { checkReleaseTag, compareReleases, parseTag } from "../core/release";
import { refreshVerdict, type RefreshStatus, waitForRefreshes } from "../core/upgrade/refreshes";
import {
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
} from "../core/upgrade/upgrade";

/** Stand-in operations: each call is recorded as one line; `failOn` makes the matching call throw. */
class Recorder implements UpgradeOperations {
  readonly calls: string[] = [];
  constructor(
    private readonly state: StackState,
    private readonly options: {
      recorded?: Partial<Record<Phase, string[]>>;
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
    return (this.options.recorded?.[phase] ?? []).includes(version);
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

const state = (source: ImageSource, version = "v4.6.4", extra: Partial<StackState> = {}): StackState => ({
  deployedVersion: version,
  configuredVersion: version,
  source,
  imageRegistry: "ghcr.io/mastodon",
  ...extra,
});
const READS = ["readState", "migrationsRan pre v4.6.5", "migrationsRan post v4.6.5"];
const mutations = (calls: string[]) => calls.filter((c) => !READS.includes(c));

const OFFICIAL_ORDER = [
  "migrate pre v4.6.5 ghcr.io/mastodon/mastodon:v4.6.5",
  "setVersion v4.6.5",
  "deploy all",
  "waitForRefreshes all",
  "migrate post v4.6.5 ghcr.io/mastodon/mastodon:v4.6.5",
];
const AMI_ORDER = [
  "setVersion v4.6.5",
  "deploy scheduler",
  "waitForRefreshes scheduler",
  "migrate pre v4.6.5",
  "deploy all",
  "waitForRefreshes all",
  "migrate post v4.6.5",
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

describe("official images: Mastodon's order", () => {
  test("pre-deployment migrations in the new image while the old serves, then roll, wait, post", async () => {
    const ops = new Recorder(state("official"));
    const { result, log } = await upgrade(ops);
    expect(ops.calls).toEqual([...READS, ...OFFICIAL_ORDER]);
    expect(result.ran).toHaveLength(5);
    expect(log[0]).toBe("stack production: v4.6.4 -> v4.6.5, image source official, 5 steps");
    expect(log).toContain(
      "step 1/5: pre-deployment migrations on v4.6.5 (ghcr.io/mastodon/mastodon:v4.6.5 on the scheduler's host, while v4.6.4 serves)",
    );
    expect(log.at(-1)).toBe("stack production runs v4.6.5: the upgrade is complete");
  });

  test("an ECR pull-through cache's registry gives the migrations the same image the fleets pull", async () => {
    const ops = new Recorder(
      state("official", "v4.6.4", {
        imageRegistry: "123456789012.dkr.ecr.eu-west-3.amazonaws.com/ghcr/mastodon",
      }),
    );
    await upgrade(ops);
    expect(ops.calls).toContain(
      "migrate pre v4.6.5 123456789012.dkr.ecr.eu-west-3.amazonaws.com/ghcr/mastodon/mastodon:v4.6.5",
    );
  });

  test.each([
    [
      1,
      "migrate pre",
      "pre-deployment migrations on v4.6.5",
      ["nothing was rolled", "every host still runs v4.6.4", "Run the same command again"],
    ],
    [
      2,
      "setVersion",
      "set mastodon:version to v4.6.5 in stacks/Pulumi.production.yaml",
      ["the pre-deployment migrations for v4.6.5 ran", "no fleet rolled"],
    ],
    [
      3,
      "deploy all",
      "pulumi up: every fleet rolls onto v4.6.5",
      ["fleets may run v4.6.4 and v4.6.5 side by side", "the post-deployment migrations did not run"],
    ],
    [
      4,
      "waitForRefreshes all",
      "wait for every fleet's instance refresh",
      ["some hosts may still run v4.6.4", "start-instance-refresh", "MinHealthyPercentage 0"],
    ],
    [
      5,
      "migrate post",
      "post-deployment migrations on v4.6.5",
      ["every fleet runs v4.6.5 and serves", "Do not go back to v4.6.4"],
    ],
  ])("a failure at step %i (%s) stops there and says where", async (n, failOn, title, state_) => {
    const ops = new Recorder(state("official"), { failOn });
    const error = await failure(ops);
    expect(mutations(ops.calls)).toEqual(OFFICIAL_ORDER.slice(0, n));
    expect(error.number).toBe(n);
    expect(error.step.startsWith(title)).toBe(true);
    expect(error.reason).toContain("stand-in");
    expect(error.message).toMatch(new RegExp(`^step ${n}/5 failed: `));
    for (const phrase of state_) expect(error.state).toContain(phrase);
  });
});

describe("an operator's AMI: the scheduler's fleet rolls first, pre runs on it", () => {
  test("the order", async () => {
    const ops = new Recorder(state("ami"));
    await upgrade(ops);
    expect(ops.calls).toEqual([...READS, ...AMI_ORDER]);
  });

  test.each([
    [1, "setVersion", ["nothing changed"]],
    [
      2,
      "deploy scheduler",
      [
        "the scheduler's fleet may be between v4.6.4 and v4.6.5",
        "no migrations ran",
        "Check that the AMI pinned",
      ],
    ],
    [
      3,
      "waitForRefreshes scheduler",
      [
        "the scheduler fleet's refresh did not finish",
        "no migrations ran",
        "set mastodon:version back to v4.6.4",
      ],
    ],
    [
      4,
      "migrate pre",
      ["the scheduler's fleet was rolled", "does not hold v4.6.5", "the other fleets run v4.6.4"],
    ],
    [5, "deploy all", ["side by side"]],
    [6, "waitForRefreshes all", ["not every fleet finished rolling"]],
    [7, "migrate post", ["every fleet runs v4.6.5"]],
  ])("a failure at step %i (%s) stops there", async (n, failOn, state_) => {
    const ops = new Recorder(state("ami"), { failOn });
    const error = await failure(ops);
    expect(mutations(ops.calls)).toEqual(AMI_ORDER.slice(0, n));
    expect(error.number).toBe(n);
    expect(error.total).toBe(7);
    for (const phrase of state_) expect(error.state).toContain(phrase);
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

  test("a downgrade is refused after reading the stack, with nothing changed", async () => {
    const ops = new Recorder(state("official", "v4.6.6"));
    await expect(upgrade(ops)).rejects.toThrow("stack production runs v4.6.6; v4.6.5 is older");
    expect(mutations(ops.calls)).toEqual([]);
  });

  test("the version the stack already runs, post-deployment migrations done: nothing to do", async () => {
    const ops = new Recorder(state("official", "v4.6.5"), {
      recorded: { pre: ["v4.6.5"], post: ["v4.6.5"] },
    });
    const { result, log } = await upgrade(ops);
    expect(result.plan.kind).toBe("up-to-date");
    expect(mutations(ops.calls)).toEqual([]);
    expect(log).toEqual([
      "stack production already runs v4.6.5 and its post-deployment migrations ran: nothing to do",
    ]);
  });

  test("a re-run after the post-deployment migrations failed goes on to them without repeating pre", async () => {
    const ops = new Recorder(state("official", "v4.6.5"), { recorded: { pre: ["v4.6.5"] } });
    await upgrade(ops);
    expect(mutations(ops.calls)).toEqual(OFFICIAL_ORDER.slice(1));
  });

  test("a re-run after pulumi up failed (version set, fleets mixed) does not repeat pre", async () => {
    const ops = new Recorder(state("ami", "v4.6.4", { configuredVersion: "v4.6.5" }), {
      recorded: { pre: ["v4.6.5"] },
    });
    await upgrade(ops);
    expect(mutations(ops.calls)).toEqual([
      "setVersion v4.6.5",
      "deploy all",
      "waitForRefreshes all",
      "migrate post v4.6.5",
    ]);
  });

  test("pre-deployment migrations recorded for another version do not count", async () => {
    const ops = new Recorder(state("official"), { recorded: { pre: ["v4.6.4"], post: ["v4.6.4"] } });
    await upgrade(ops);
    expect(mutations(ops.calls)).toEqual(OFFICIAL_ORDER);
  });

  test("an unreadable migrations record is said, and the migrations simply run (they are idempotent)", async () => {
    const ops = new Recorder(state("official"), { recordError: true });
    const { log } = await upgrade(ops);
    expect(mutations(ops.calls.filter((c) => !c.startsWith("migrationsRan")))).toEqual(OFFICIAL_ORDER);
    expect(log[0]).toContain("cannot read the migrations record (AccessDenied)");
  });

  test("a stack that cannot be read is refused with nothing changed", async () => {
    const ops = new Recorder(state("official"), { failOn: "readState" });
    await expect(upgrade(ops)).rejects.toThrow(
      "cannot read stack production: stand-in: readState failed; nothing changed",
    );
  });

  test("--dry-run lists the steps and changes nothing", async () => {
    const ops = new Recorder(state("ami"));
    const { log } = await upgrade(ops, "v4.6.5", true);
    expect(mutations(ops.calls)).toEqual([]);
    expect(log.filter((l) => l.startsWith("would run"))).toHaveLength(7);
  });

  test("a stack with no version recorded yet is upgraded, not refused", () => {
    const plan = planUpgrade({
      stack: "dev",
      version: "v4.6.5",
      state: { source: "official", imageRegistry: "ghcr.io/mastodon" },
      ran: { pre: false, post: false },
    });
    expect(plan.kind).toBe("upgrade");
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

  test("the image source: official unless mastodon:image says ami", () => {
    expect(imageSourceOf(undefined)).toBe("official");
    expect(imageSourceOf({ registry: "ghcr.io/mastodon" })).toBe("official");
    expect(imageSourceOf({ source: "ami", amiIds: { arm64: "ami-0123456789abcdef0" } })).toBe("ami");
    expect(() => imageSourceOf({ source: "docker" })).toThrow('mastodon:image.source is "docker"');
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
