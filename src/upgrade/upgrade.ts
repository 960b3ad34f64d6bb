/**
 * An upgrade in Mastodon's order, as one command (`npm run upgrade`, bin/upgrade.ts). Mastodon's
 * release notes give the order for a deploy across hosts: run the pre-deployment migrations
 * (SKIP_POST_DEPLOYMENT_MIGRATIONS=true) on the NEW code while the OLD code keeps serving, restart
 * every process on the new version, then run the post-deployment migrations (docs/design.md,
 * "Deploys and migrations").
 *
 * The pre-deployment step is the scheduler's boot, whatever the image source (official, ami,
 * image-builder). At its first boot, before any Mastodon unit starts and before it completes its
 * launch lifecycle hook, the scheduler fleet's host prepares the database with the code it boots
 * (src/database/files/mastodon-database.sh prepare): on a database that has a schema, that is the
 * pending pre-deployment migrations. So the command sets the version and rolls the scheduler's
 * fleet alone first (`pulumi up` of its launch template and group; image-builder: with the build of
 * the AMI they boot). Its refresh terminates the one old host before it launches the next (its
 * group's instance maintenance policy, src/fleet/replacement.ts), so two schedulers never run,
 * and the new host goes InService only once its migrations succeeded: that fleet's refresh
 * succeeding IS the pre-deployment migrations on the new code, run while every other fleet serves
 * the old one. Then every fleet rolls, and the post-deployment migrations run through
 * the migrations SSM document on the scheduler's host.
 *
 * Pure: what touches Pulumi and AWS is an `UpgradeOperations` the caller passes in (the CLI's real
 * ones, or stand-ins that record the calls in tests). `planUpgrade` decides the steps from what the
 * stack says; `runUpgrade` runs them in order and stops at the first failure with the step and the
 * state the stack is left in. Every step is safe to repeat: setting the version it has changes
 * nothing, nor does `pulumi up` with nothing to change, a finished instance refresh is just seen as
 * finished, and `rails db:migrate` runs only the migrations still pending. The migrations record
 * (SSM keeps each command's parameters) tells a stack whose upgrade finished, post-deployment
 * migrations included, so that it is left alone.
 */
import { DEFAULTS } from "../vocabulary/defaults";
import { officialImages } from "../fleet/host/containers";
import { checkReleaseTag, compareReleases, parseTag } from "../vocabulary/release";
import { SCHEDULER_POLICY } from "../fleet/replacement";

export type ImageSource = "official" | "ami" | "image-builder";
/** The migrations the command runs through SSM: the pre-deployment ones run at the scheduler's boot. */
export type Phase = "post";
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
  /** The release tag: the record of what ran, and (AMI sources) the version the host must run. */
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
  /**
   * `pulumi up`: the whole stack, or only the scheduler fleet's launch template and group (image
   * source image-builder: with the image build whose AMI the template boots).
   */
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
  /** What the operator reads: "post-deployment migrations on v4.6.5 (...)". */
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

const SOURCES: readonly ImageSource[] = ["official", "ami", "image-builder"];

/** The image source `mastodon:image` names (src/config/schema: `source`, "official" by default). */
export function imageSourceOf(image: Record<string, unknown> | undefined): ImageSource {
  const source = image?.["source"] ?? DEFAULTS.image.source;
  if (SOURCES.includes(source as ImageSource)) return source as ImageSource;
  throw new Error(`mastodon:image.source is ${JSON.stringify(source)}: official, image-builder or ami`);
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
  /** Whether the post-deployment migrations for `version` are recorded as done. */
  readonly postRan: boolean;
}

/**
 * The steps, in Mastodon's order, for moving `stack` to `version`. Throws UpgradeRefused for a bad
 * tag or a downgrade.
 */
export function planUpgrade(input: PlanInput): Plan {
  const { stack, version, state, postRan } = input;
  const checked = checkReleaseTag(version);
  if ("problem" in checked)
    throw new UpgradeRefused(`--version ${JSON.stringify(version)} ${checked.problem}`);
  const current = state.deployedVersion ?? state.configuredVersion;
  const currentRelease = current === undefined ? undefined : parseTag(current);
  if (currentRelease && compareReleases(checked.release, currentRelease) < 0) {
    throw new UpgradeRefused(
      `stack ${stack} runs ${current}; ${version} is older. Mastodon's migrations go forward only: going back means restoring the database from before the upgrade`,
    );
  }
  if (current === version && state.configuredVersion === version && postRan) {
    return {
      kind: "up-to-date",
      message: `stack ${stack} already runs ${version} and its post-deployment migrations ran: nothing to do`,
    };
  }

  const file = `stacks/Pulumi.${stack}.yaml`;
  // A re-run once the version was deployed knows no older version to name.
  const old =
    current === undefined
      ? "the version it runs now"
      : current === version
        ? "the previous version"
        : current;
  const set = `mastodon:version is ${version} in ${file}`;
  const again =
    "Run the same command again once that is fixed: every step already done is harmless to repeat.";
  const rollBack = `To give up instead, set mastodon:version back to ${old} in ${file} and run pulumi up (${old} tolerates the pre-deployment migrations).`;
  const pinned = "the AMI pinned in mastodon:image.amiIds";
  const imageCheck = {
    official: "",
    ami: ` Check that ${pinned} holds ${version}.`,
    "image-builder": ` If EC2 Image Builder's build of ${version} failed (its console keeps the log), the scheduler's launch template did not change: nothing rolled and no migration ran.`,
  }[state.source];
  const image = state.source === "official" ? officialImage(version, state.imageRegistry) : undefined;
  const wrongAmi =
    state.source === "ami"
      ? ` If the document says the host runs another version, ${pinned} does not hold ${version}: no host runs it and none of its migrations ran; pin one that does and run the same command again (the scheduler's fleet rolls first again).`
      : "";
  const after = `the scheduler's fleet runs ${version}, whose boot ran the pre-deployment migrations`;
  // With no preferences a refresh takes the group's policy (API Reference, RefreshPreferences).
  const restart = `aws autoscaling start-instance-refresh --auto-scaling-group-name <group>, no --preferences: each group's instance maintenance policy applies (web and streaming launch first; the scheduler's MinHealthyPercentage ${SCHEDULER_POLICY.minHealthyPercentage}, MaxHealthyPercentage ${SCHEDULER_POLICY.maxHealthyPercentage})`;

  const steps: Step[] = [
    {
      title: `set mastodon:version to ${version} in ${file}`,
      action: { kind: "set-version", version },
      ifFails: `nothing changed: every host runs ${old}. ${again}`,
    },
    {
      title: `roll the scheduler's fleet onto ${version}: pulumi up of its launch template and group only${state.source === "image-builder" ? `, with the image build (EC2 Image Builder bakes the ${version} AMI first)` : ""}`,
      action: { kind: "deploy", scope: "scheduler" },
      ifFails: `${set}; pulumi up of the scheduler's fleet stopped: if it changed that fleet's launch template, a refresh is replacing its one host with a ${version} host, which runs the pre-deployment migrations at boot; the other fleets run ${old}; no post-deployment migration ran.${imageCheck} ${again} ${rollBack}`,
    },
    {
      title: `wait for the scheduler fleet's instance refresh: its new host runs the pre-deployment migrations on ${version} at boot, while the other fleets serve ${old}`,
      action: { kind: "wait-for-refreshes", scope: "scheduler" },
      ifFails: `${set}; the scheduler fleet's refresh did not succeed, most likely because the pre-deployment migrations on ${version} failed at its new host's boot (mastodon-boot.service, in that fleet's CloudWatch log group, says why); those that ran are kept, and ${old} tolerates them. Its ${old} host was terminated first, so that fleet may have no host in service (scheduled jobs wait) while Auto Scaling replaces each new host whose boot fails. The other fleets still run ${old} and serve; no post-deployment migration ran. Fix the cause; once the refresh has ended, start it again on the scheduler's group (${restart}), then run the same command again. ${rollBack}`,
    },
    {
      title: `pulumi up: every fleet rolls onto ${version} by instance refresh`,
      action: { kind: "deploy", scope: "all" },
      ifFails: `${after}; ${set}; pulumi up stopped part-way, so the other fleets may run ${old} and ${version} side by side (the pre-deployment migrations allow that); the post-deployment migrations did not run. ${again}`,
    },
    {
      title: `wait for every fleet's instance refresh`,
      action: { kind: "wait-for-refreshes", scope: "all" },
      ifFails: `${after}; pulumi up finished, but not every fleet finished rolling: some hosts may still run ${old}; the post-deployment migrations did not run. Start a failed refresh again (${restart}) or fix its cause. ${again}`,
    },
    {
      title: `post-deployment migrations on ${version} (${image ? `${image} on the scheduler's host` : `the scheduler host's installation, which must report ${version}`})`,
      action: { kind: "migrate", run: { phase: "post", version, ...(image && { image }) } },
      ifFails: `every fleet ${state.source === "ami" ? "rolled" : `runs ${version}`} and serves; the post-deployment migrations did not finish (those that ran are kept).${wrongAmi} ${again} Do not go back to ${old} once any post-deployment migration ran.`,
    },
  ];
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
  let postRan = false;
  try {
    postRan = await ops.migrationsRan("post", version);
  } catch (e) {
    log(`cannot read the migrations record (${reasonOf(e)}): running them again is harmless`);
  }
  const plan = planUpgrade({ stack, version, state, postRan });
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
