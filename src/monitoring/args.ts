/**
 * mastodon:alarms and mastodon:logs written out for Pulumi's component analyzer: MastodonStack's
 * `alarms` and `logs` args, the alarms' thresholds and the logs' retention. Only what the analyzer
 * reads (interfaces, `as const` enums, doc comments with `(@default ...)`); src/config/args.ts says
 * why.
 */
/** mastodon:alarms.queueLatency: a duration per queue, e.g. "30s", "10m". */
export interface StackQueueLatencyArgs {
  /** The default queue: home timelines and local posts, what users notice first (@default "30s"). */
  default?: string;
  /** Deliveries to other servers (@default "10m"). */
  push?: string;
  /** Activities arriving from other servers (@default "1m"). */
  ingress?: string;
  /** Mail: sign-up confirmations and password resets (@default "5m"). */
  mailers?: string;
  /** Fetches from other servers: remote media, link previews (@default "15m"). */
  pull?: string;
  /** Sidekiq's scheduled jobs (@default "5m"). */
  scheduler?: string;
  /** Fediverse auxiliary service providers (FASP) (@default "15m"). */
  fasp?: string;
}

/** mastodon:alarms */
export interface StackAlarmsArgs {
  /** Where alarm notifications go (an SNS e-mail subscription) (@default none). */
  email?: string;
  /** Per queue, the latency above which its alarm fires for five minutes running (@default {}). */
  queueLatency?: StackQueueLatencyArgs;
  /** Jobs added to Sidekiq's dead set within an hour above which an alarm fires (@default 10). */
  deadJobsPerHour?: number;
  /** A fleet's longest PgBouncer wait above which its alarm fires, a duration (@default "2s"). */
  pgbouncerMaxWait?: string;
}

/** mastodon:logs */
export interface StackLogsArgs {
  /** Days the fleets' journald logs are kept, one of CloudWatch Logs' periods (@default 30). */
  retentionDays?: number;
}
