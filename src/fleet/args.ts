/**
 * mastodon:fleets written out for Pulumi's component analyzer: MastodonStack's `fleets` arg, each
 * fleet and the services its hosts run. Only what the analyzer reads (interfaces, `as const` enums,
 * doc comments with `(@default ...)`); src/config/args.ts says why.
 */
import type { SidekiqQueue } from "../config/args";

/** A fleet's web service (Puma). */
export interface StackWebServiceArgs {
  /** Puma workers (WEB_CONCURRENCY) (@default round(1.5 x vCPU)). */
  processes?: number;
  /** Puma threads per worker (MAX_THREADS) (@default 5). */
  threads?: number;
}

/** A fleet's streaming service. */
export interface StackStreamingServiceArgs {
  /** Streaming processes per host, one per port from 4000 (@default 1). */
  processes?: number;
  /** DB_POOL of each streaming process (@default 10). */
  dbPool?: number;
}

/** A fleet's Sidekiq service. */
export interface StackSidekiqServiceArgs {
  /** The queues this fleet's Sidekiq processes serve, in priority order. */
  queues: SidekiqQueue[];
  /** Sidekiq processes per host (@default 1). */
  processes?: number;
  /** Threads per process (`sidekiq -c N`, DB_POOL = N) (@default 10). */
  threads?: number;
}

/** The state a warm pool keeps its prepared instances in. */
export const WarmPoolState = { Stopped: "Stopped", Running: "Running" } as const;
export type WarmPoolState = (typeof WarmPoolState)[keyof typeof WarmPoolState];

/** A fleet's warm pool: instances prepared once, started on scale-out (docs/deployed.md, "Warm pools"). */
export interface StackWarmPoolArgs {
  /** Prepared instances the pool keeps, at most maxSize - minSize. */
  size: number;
  /** Stopped: only their volumes are paid; Running: the instances are paid too (@default Stopped). */
  state?: WarmPoolState;
}

/** mastodon:fleets.<name>: a c-family fleet and the services its hosts run. */
export interface StackFleetArgs {
  /** A c-family instance type from the catalog, e.g. c7g.large. */
  instanceType: string;
  /** The fewest hosts the fleet's Auto Scaling group runs (@default 1). */
  minSize?: number;
  /** The hosts it runs when deployed; autoscaling moves it between minSize and maxSize (@default minSize). */
  desiredSize?: number;
  /** The budget counts this size: autoscaling can reach it (@default desiredSize). */
  maxSize?: number;
  /** Puma on the fleet's hosts, behind the ALB's web target group; `{}` takes every default (@default none). */
  web?: StackWebServiceArgs;
  /** The streaming API on the fleet's hosts, behind the ALB's /api/v1/streaming route (@default none). */
  streaming?: StackStreamingServiceArgs;
  /** Sidekiq on the fleet's hosts, serving the queues it names (@default none). */
  sidekiq?: StackSidekiqServiceArgs;
  /** PgBouncer default_pool_size on this fleet's hosts (@default database.pgbouncer.defaultPoolSize). */
  pgbouncerPoolSize?: number;
  /** Run above minSize on Spot, Sidekiq fleets without the scheduler only (@default false). */
  spot?: boolean;
  /** With spot: more c-family types of instanceType's architecture and vCPUs (@default none). */
  spotInstanceTypes?: string[];
  /** Target tracking on average CPU, percent (@default none). */
  cpuTarget?: number;
  /** Target tracking on this fleet's largest queue latency, a duration such as "30s" (@default none). */
  queueLatencyTarget?: string;
  /** Encrypted gp3 root volume, GiB (@default 30). */
  rootVolumeGiB?: number;
  /** Instances kept prepared for scale-out, on a fleet with a scaling target (@default none). */
  warmPool?: StackWarmPoolArgs;
}
