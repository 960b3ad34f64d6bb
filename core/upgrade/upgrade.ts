/**
 * An upgrade in Mastodon's order, as one command (`npm run upgrade`, bin/upgrade.ts). Mastodon's
 * release notes give the order for a deploy across hosts: run the pre-deployment migrations on the
 * new version with SKIP_POST_DEPLOYMENT_MIGRATIONS=true while the old version keeps serving, restart
 * every process on the new version, then run the post-deployment migrations (docs/design.md,
 * "Deploys and migrations").
 *
 * Pure: what touches Pulumi and AWS is an `UpgradeOperations` the caller passes in (the CLI's real
 * ones, or stand-ins that record the calls in tests). `planUpgrade` decides the steps from what the
 * stack says; `runUpgrade` runs them in order and stops at the first failure with the step and the
 * state the stack is left in. Every step is safe to repeat: `pulumi up` with nothing to change
 * changes nothing, a finished instance refresh is just seen as finished, and `rails db:migrate` runs
 * only the migrations still pending; the migrations record (SSM keeps each command's parameters) only
 * saves a re-run from repeating the pre-deployment migrations.
 */
import { DEFAULTS } from "../defaults";
import { officialImages } from "../host/containers";
import { checkReleaseTag, compareReleases, parseTag } from "../release";

export type ImageSource = "official" | "ami";
export type Phase = "pre" | "post";
/** The scheduler's fleet alone, or every fleet. */
export type Scope = "scheduler" | "all";

/** What the stack says before anything changes. */
export interface StackState {
  /** The version the last complete `pulumi up` deployed (the stack output `mastodonVersion`). */
  readonly deployedVersion?: string;
  /** `mastodon:version` in stacks/Pulumi.<stack>.yaml. */
  readonly configuredVersion?: string;
  /** `mastodon:image.source`. */
  readonly source: ImageSource;
  /** `mastodon:image.registry`: where the official images come from (ghcr.io/mastodon, or a pull-through cache). */
  readonly imageRegistry: string;
}

export interface MigrationRun {
  readonly phase: Phase;
  /** The release tag: the record of what ran, and (image source ami) what the host must run. */
  readonly version: string;
  /** The image to migrate with (image source official); absent: the scheduler host's own code. */
  readonly image?: string;
}

/** Everything that reaches outside: Pulumi's Automation API and AWS. Each throws on failure. */
export interface UpgradeOperations {
  readState(): Promise<StackState>;
  /** Whether a migrations command of this phase for this version succeeded before. */
  migrationsRan(phase: Phase, version: string): Promise<boolean>;
  /** Runs the migrations document on the scheduler's host and waits for it to end. */
  migrate(run: MigrationRun): Promise<void>;
  /** Sets `mastodon:version` in the stack file. */
  setVersion(version: string): Promise<void>;
  /** `pulumi up`: the whole stack, or only the scheduler fleet's launch template and group. */
  deploy(scope: Scope): Promise<void>;
  /** Waits until the latest instance refresh of each group in scope has ended, and ended well. */
  waitForRefreshes(scope: Scope): Promise<void>;
}

export type Action =
  | { readonly kind: "migrate"; readonly run: MigrationRun }
  | { readonly kind: "set-version"; readonly version: string }
  | { readonly kind: "deploy"; readonly scope: Scope }
  | { readonly kind: "wait-for-refreshes"; readonly scope: Scope };

export interface Step {
  /** What the operator reads: "pre-deployment migrations on v4.6.5". */
  readonly title: string;
  readonly action: Action;
  /** The state of the stack if this step fails, and what to do. */
  readonly ifFails: string;
}

export type Plan =
  | { readonly kind: "up-to-date"; readonly message: string }
  | {
      readonly kind: "upgrade";
      readonly from?: string;
      readonly to: string;
      readonly steps: readonly Step[];
    };

/** The official Rails image of a release in a registry (Mastodon's, or an ECR pull-through cache). */
export function officialImage(version: string, registry: string): string {
  return officialImages({ version, registry }).rails;
}

/** The image source `mastodon:image` names (core/config/schema: `source`, "official" by default). */
export function imageSourceOf(image: Record<string, unknown> | undefined): ImageSource {
  const source = image?.["source"] ?? DEFAULTS.image.source;
  if (source === "official" || source === "ami") return source;
  throw new Error(`mastodon:image.source is ${JSON.stringify(source)}: official or ami`);
}

/** A refusal before anything changed (bad tag, a downgrade, a state the command cannot read). */
export class UpgradeRefused extends Error {
  override readonly name = "UpgradeRefused";
}

/** A step failed: which one, the cause, and the state the stack is in. */
export class UpgradeFailed extends Error {
  override readonly name = "UpgradeFailed";
  constructor(
    readonly step: string,
    readonly number: number,
    readonly total: number,
    readonly reason: string,
    readonly state: string,
  ) {
    super(`step ${number}/${total} failed: ${step}: ${reason}\nstate: ${state}`);
  }
}

export interface PlanInput {
  readonly stack: string;
  readonly version: string;
  readonly state: StackState;
  /** Whether the pre- and post-deployment migrations for `version` are recorded as done. */
  readonly ran: { readonly pre: boolean; readonly post: boolean };
}

/**
 * The steps, in Mastodon's order, for moving `stack` to `version`. Throws UpgradeRefused for a bad
 * tag or a downgrade.
 */
export function planUpgrade(input: PlanInput): Plan {
  const { stack, version, state, ran } = input;
  const checked = checkReleaseTag(version);
  if ("problem" in checked)
    throw new UpgradeRefused(`--version ${JSON.stringify(version)} ${checked.problem}`);
  const target = checked.release;
  const current = state.deployedVersion ?? state.configuredVersion;
  const currentRelease = current === undefined ? undefined : parseTag(current);
  if (currentRelease && compareReleases(target, currentRelease) < 0) {
    throw new UpgradeRefused(
      `stack ${stack} runs ${current}; ${version} is older. Mastodon's migrations go forward only: going back means restoring the database from before the upgrade`,
    );
  }
  if (current === version && state.configuredVersion === version && ran.post) {
    return {
      kind: "up-to-date",
      message: `stack ${stack} already runs ${version} and its post-deployment migrations ran: nothing to do`,
    };
  }

  const file = `stacks/Pulumi.${stack}.yaml`;
  const old = current ?? "the version it runs now";
  const again =
    "Run the same command again once that is fixed: the steps already done are not repeated or are harmless.";
  const rollBack = `To give up instead, set mastodon:version back to ${old} in ${file} and run pulumi up (the old version tolerates the pre-deployment migrations).`;
  const steps: Step[] = [];
  const preDone = ran.pre || ran.post;

  if (state.source === "official") {
    if (!preDone) {
      const image = officialImage(version, state.imageRegistry);
      steps.push({
        title: `pre-deployment migrations on ${version} (${image} on the scheduler's host, while ${old} serves)`,
        action: { kind: "migrate", run: { phase: "pre", version, image } },
        ifFails: `nothing was rolled and ${file} is unchanged: every host still runs ${old}. Some pre-deployment migrations may have run; ${old} tolerates them (that is what they are for). ${again}`,
      });
    }
  } else if (!preDone) {
    // The new code exists only in the new AMI: roll the scheduler's fleet first (its refresh
    // terminates before it launches, so two schedulers never run), then migrate there. The
    // document refuses if that host does not report the new version.
    steps.push(
      {
        title: `set mastodon:version to ${version} in ${file}`,
        action: { kind: "set-version", version },
        ifFails: `nothing changed: every host runs ${old}. ${again}`,
      },
      {
        title: `roll the scheduler's fleet onto ${version} (pulumi up of its launch template and group only)`,
        action: { kind: "deploy", scope: "scheduler" },
        ifFails: `mastodon:version is ${version} in ${file}; the scheduler's fleet may be between ${old} and ${version}, the other fleets run ${old}; no migrations ran. Check that the AMI pinned in ${file} holds ${version}. ${again} ${rollBack}`,
      },
      {
        title: `wait for the scheduler fleet's instance refresh`,
        action: { kind: "wait-for-refreshes", scope: "scheduler" },
        ifFails: `mastodon:version is ${version} in ${file}; the scheduler fleet's refresh did not finish (its host may be missing or on ${old}); the other fleets run ${old}; no migrations ran. ${again} ${rollBack}`,
      },
      {
        title: `pre-deployment migrations on ${version} (on the scheduler's new host, while the other fleets serve ${old})`,
        action: { kind: "migrate", run: { phase: "pre", version } },
        ifFails: `mastodon:version is ${version} in ${file}; the scheduler's fleet was rolled (if the document says its host runs another version, the AMI pinned in ${file} does not hold ${version}); the other fleets run ${old}; some pre-deployment migrations may have run. ${again} ${rollBack}`,
      },
    );
  }

  const preState = preDone
    ? `the pre-deployment migrations for ${version} ran before`
    : `the pre-deployment migrations for ${version} ran`;
  if (state.source === "official" || preDone) {
    steps.push({
      title: `set mastodon:version to ${version} in ${file}`,
      action: { kind: "set-version", version },
      ifFails: `${preState}; ${file} is unchanged and no fleet rolled: every host runs ${old}. ${again}`,
    });
  }
  steps.push(
    {
      title: `pulumi up: every fleet rolls onto ${version} by instance refresh`,
      action: { kind: "deploy", scope: "all" },
      ifFails: `${preState}; mastodon:version is ${version} in ${file}; pulumi up stopped part-way, so fleets may run ${old} and ${version} side by side (the pre-deployment migrations allow that); the post-deployment migrations did not run. ${again}`,
    },
    {
      title: `wait for every fleet's instance refresh`,
      action: { kind: "wait-for-refreshes", scope: "all" },
      ifFails: `${preState}; pulumi up finished, but not every fleet finished rolling: some hosts may still run ${old}; the post-deployment migrations did not run. Start a failed refresh again with its preferences (aws autoscaling start-instance-refresh; the scheduler's keeps MinHealthyPercentage 0) or fix its cause. ${again}`,
    },
    {
      title: `post-deployment migrations on ${version}`,
      action: {
        kind: "migrate",
        run: {
          phase: "post",
          version,
          ...(state.source === "official" && { image: officialImage(version, state.imageRegistry) }),
        },
      },
      ifFails: `every fleet runs ${version} and serves; the post-deployment migrations did not finish (those that ran are kept). ${again} Do not go back to ${old} once any post-deployment migration ran.`,
    },
  );
  return { kind: "upgrade", ...(current !== undefined && { from: current }), to: version, steps };
}

export interface UpgradeResult {
  readonly plan: Plan;
  /** Titles of the steps that ran, in order. */
  readonly ran: readonly string[];
}

const reasonOf = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function perform(action: Action, ops: UpgradeOperations): Promise<void> {
  switch (action.kind) {
    case "migrate":
      return ops.migrate(action.run);
    case "set-version":
      return ops.setVersion(action.version);
    case "deploy":
      return ops.deploy(action.scope);
    case "wait-for-refreshes":
      return ops.waitForRefreshes(action.scope);
  }
}

/**
 * Checks, plans and runs an upgrade of `stack` to `version`. Logs one line per step. Throws
 * UpgradeRefused before anything changes, UpgradeFailed at the first step that fails.
 */
export async function runUpgrade(
  request: { readonly stack: string; readonly version: string; readonly dryRun?: boolean },
  ops: UpgradeOperations,
  log: (line: string) => void = () => {},
): Promise<UpgradeResult> {
  const { stack, version } = request;
  // A bad tag is refused before the stack is even read.
  const checked = checkReleaseTag(version);
  if ("problem" in checked)
    throw new UpgradeRefused(`--version ${JSON.stringify(version)} ${checked.problem}`);
  let state: StackState;
  try {
    state = await ops.readState();
  } catch (e) {
    throw new UpgradeRefused(`cannot read stack ${stack}: ${reasonOf(e)}; nothing changed`);
  }
  const recorded = async (phase: Phase) => {
    try {
      return await ops.migrationsRan(phase, version);
    } catch (e) {
      log(`cannot read the migrations record (${reasonOf(e)}): running them again is harmless`);
      return false;
    }
  };
  const ran = { pre: await recorded("pre"), post: await recorded("post") };
  const plan = planUpgrade({ stack, version, state, ran });
  if (plan.kind === "up-to-date") {
    log(plan.message);
    return { plan, ran: [] };
  }
  log(
    `stack ${stack}: ${plan.from ?? "no version recorded"} -> ${version}, image source ${state.source}, ${plan.steps.length} steps`,
  );
  const done: string[] = [];
  for (const [i, step] of plan.steps.entries()) {
    const n = i + 1;
    if (request.dryRun) {
      log(`would run step ${n}/${plan.steps.length}: ${step.title}`);
      continue;
    }
    log(`step ${n}/${plan.steps.length}: ${step.title}`);
    try {
      await perform(step.action, ops);
    } catch (e) {
      throw new UpgradeFailed(step.title, n, plan.steps.length, reasonOf(e), step.ifFails);
    }
    done.push(step.title);
  }
  if (!request.dryRun) log(`stack ${stack} runs ${version}: the upgrade is complete`);
  return { plan, ran: done };
}
