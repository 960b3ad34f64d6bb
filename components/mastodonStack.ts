import * as pulumi from "@pulumi/pulumi";
import type { Budget } from "../core/budget";
import {
  type StackConfig,
  type StackConfigInput,
  type ValidatedConfig,
  formatProblem,
  parseStackConfig,
} from "../core/config";

/**
 * The arguments of a whole Mastodon deployment: the same shape as the `mastodon:` stack config
 * (see README "Config reference"), so a platform engineer can pass an object built in code.
 */
export type MastodonStackArgs = StackConfigInput;

/**
 * One Mastodon instance: validates its config (every problem at once, before any resource is
 * declared), computes the connection budget and composes the tiers.
 */
export class MastodonStack extends pulumi.ComponentResource {
  /** The resolved config every tier reads (defaults filled in). */
  public readonly config: StackConfig;
  /** The Postgres connection budget at maximum fleet sizes. */
  public readonly budget: pulumi.Output<Budget>;
  /** The read replica's budget, when there is a replica. */
  public readonly replicaBudget: pulumi.Output<Budget | undefined>;
  /** Problems that did not stop the deployment (e.g. more than 25 Sidekiq threads). */
  public readonly warnings: ValidatedConfig["warnings"];

  constructor(name: string, args: MastodonStackArgs, opts?: pulumi.ComponentResourceOptions) {
    // Throws ConfigError before anything is registered with the engine.
    const validated = parseStackConfig(args, pulumi.getStack());
    super("mastodon:index:MastodonStack", name, {}, opts);
    this.config = validated.config;
    this.warnings = validated.warnings;
    for (const warning of validated.warnings) pulumi.log.warn(formatProblem(warning), this);

    this.budget = pulumi.output(validated.budget);
    this.replicaBudget = pulumi.output(validated.replicaBudget);
    this.registerOutputs({ budget: this.budget, replicaBudget: this.replicaBudget });
  }
}
