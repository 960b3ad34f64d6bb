/**
 * What each Mastodon process of the release images runs, as the machine image's unit of the same
 * process runs it (units.ts): the tree, the command inside it, the variables, mounts and timeouts
 * (imageRoot.ts renders the units from these). Pure.
 */
import { poolOf } from "../../budget/budget";
import type { Fleet } from "../../config/stackConfig";
import { DEFAULTS } from "../../vocabulary/defaults";
import {
  MASTODON_PATHS,
  MASTODON_TIMEOUT_SEC,
  SIDEKIQ_STOP_TIMEOUT_SECONDS,
  SIDEKIQ_TAG,
  sidekiqQueueArgs,
} from "./units";
import { type ContainerContext, IMAGE_PROGRAMS, type RootedSpec, mountsFor } from "../../images/imageRoot";

/** Puma, as the machine image's mastodon-web.service runs it (units.ts, renderWebUnit). */
export function webSpec(fleet: Fleet, ctx: ContainerContext): RootedSpec {
  if (!fleet.web) throw new Error(`fleet ${fleet.name} runs no web`);
  return {
    root: "rails",
    runtime: "ruby",
    // Read by config/puma.rb before .env.production is loaded (units.ts, renderWebUnit).
    env: [
      ["RAILS_ENV", "production"],
      ["PORT", DEFAULTS.web.port],
      ["BIND", "0.0.0.0"],
      ["WEB_CONCURRENCY", fleet.web.processes],
      ["MAX_THREADS", poolOf(fleet, "web")],
    ],
    mounts: mountsFor("rails", ctx),
    writableTmp: true,
    timeouts: [["TimeoutSec", MASTODON_TIMEOUT_SEC]],
    commands: [[IMAGE_PROGRAMS.bundle, "exec", "puma", "-C", "config/puma.rb"]],
  };
}

/** One streaming server per port, %i = port, as mastodon-streaming@.service. */
export function streamingSpec(fleet: Fleet, ctx: ContainerContext): RootedSpec {
  if (!fleet.streaming) throw new Error(`fleet ${fleet.name} runs no streaming`);
  return {
    root: "streaming",
    runtime: "node",
    env: [
      ["NODE_ENV", "production"],
      ["PORT", "%i"],
      ["BIND", "0.0.0.0"],
      ["DB_POOL", poolOf(fleet, "streaming")],
      ...(ctx.pooled ? [] : [["NODE_EXTRA_CA_CERTS", MASTODON_PATHS.rdsCaBundle] as const]),
    ],
    mounts: mountsFor("streaming", ctx),
    writableTmp: false,
    timeouts: [["TimeoutSec", MASTODON_TIMEOUT_SEC]],
    commands: [[IMAGE_PROGRAMS.node, "./streaming/index.js"]],
  };
}

/** Every Sidekiq process of the fleet (one template each, %i = threads: units.ts, renderSidekiqUnits). */
export function sidekiqSpec(fleet: Fleet, ctx: ContainerContext): RootedSpec {
  const sidekiq = fleet.sidekiq;
  if (!sidekiq) throw new Error(`fleet ${fleet.name} runs no sidekiq`);
  return {
    root: "rails",
    runtime: "ruby",
    env: [
      ["RAILS_ENV", "production"],
      ["DB_POOL", "%i"],
      // eigenmagic-systemd-template-units.txt; the image's Ruby allocates with jemalloc
      // (narenas:2 in its MALLOC_CONF), so this bounds only what glibc's malloc still serves.
      ["MALLOC_ARENA_MAX", 2],
    ],
    mounts: mountsFor("rails", ctx),
    writableTmp: true,
    timeouts: [["TimeoutStopSec", SIDEKIQ_STOP_TIMEOUT_SECONDS]],
    commands: [
      [
        IMAGE_PROGRAMS.bundle,
        "exec",
        "sidekiq",
        "-g",
        SIDEKIQ_TAG,
        "-c",
        "%i",
        ...sidekiqQueueArgs(sidekiq.queues).split(" "),
      ],
    ],
  };
}

/** The fleet's processes, each with the tree it runs in. */
export function fleetSpecs(fleet: Fleet, ctx: ContainerContext): RootedSpec[] {
  return [
    ...(fleet.web ? [webSpec(fleet, ctx)] : []),
    ...(fleet.streaming ? [streamingSpec(fleet, ctx)] : []),
    ...(fleet.sidekiq ? [sidekiqSpec(fleet, ctx)] : []),
  ];
}
