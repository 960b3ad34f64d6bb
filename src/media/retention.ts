/**
 * Retention of cached remote content on the scheduler's host (pure): a daily timer that runs
 * `tootctl media remove` and `tootctl preview_cards remove` (Mastodon docs, "Setting up", "Running
 * periodic cleanup tasks"), as the official Helm chart's cron jobs do. Without it the media cache
 * grows in S3 forever: every remote post's images and previews, fetched once, kept until removed.
 *
 * Exactly one host runs it: the scheduler's fleet, whose group holds one instance (the config rules
 * refuse a scheduler fleet above maxSize 1), the same host that prepares the database. Each run is
 * one oneshot whose commands run in order, logged to the journal (hence the fleet's log group,
 * src/monitoring/logs.ts), bounded by TimeoutStartSec. Persistent=true: a run the host missed while down
 * runs at its next boot.
 *
 * The commands connect straight to PostgreSQL as the app role and count against the budget's admin
 * headroom: each holds at most its --concurrency threads' connections plus one.
 */
import { DEFAULTS } from "../vocabulary/defaults";
import { type DirectDatabase, type RailsSource, renderOneOffUnit } from "../fleet/host/oneOff";
import { renderUnit, type UnitFile } from "../host/systemd";

export const RETENTION_UNITS = {
  service: "mastodon-retention.service",
  timer: "mastodon-retention.timer",
} as const;

/** Threads per tootctl command: its own default (lib/mastodon/cli/media.rb, preview_cards.rb). */
export const RETENTION_CONCURRENCY = 5;

export interface RetentionInput {
  readonly mediaDays: number;
  readonly previewCardsDays: number;
}

/** The tootctl arguments of one run, in order. */
export function retentionCommands(input: RetentionInput): string[][] {
  for (const [key, days] of Object.entries(input))
    if (!Number.isInteger(days) || days < 1)
      throw new Error(`retention ${key}: ${days} is not a whole number of days`);
  const concurrency = ["--concurrency", String(RETENTION_CONCURRENCY)];
  return [
    ["media", "remove", "--days", String(input.mediaDays), ...concurrency],
    ["preview_cards", "remove", "--days", String(input.previewCardsDays), ...concurrency],
  ];
}

/** The service and its timer; the timer is what the boot enables. */
export function renderRetentionUnits(
  input: RetentionInput,
  source: RailsSource,
  db: DirectDatabase,
): UnitFile[] {
  const r = DEFAULTS.retention;
  return [
    renderOneOffUnit(
      RETENTION_UNITS.service,
      "Mastodon: remove cached remote media and preview cards (tootctl)",
      retentionCommands(input),
      r.timeoutSeconds,
      source,
      db,
    ),
    {
      name: RETENTION_UNITS.timer,
      content: renderUnit({
        unit: [["Description", "Runs mastodon-retention.service daily"]],
        timer: [
          ["OnCalendar", r.onCalendar],
          ["RandomizedDelaySec", r.randomizedDelaySeconds],
          ["Persistent", "true"],
          ["Unit", RETENTION_UNITS.service],
        ],
        install: [["WantedBy", "mastodon.target"]],
      }),
    },
  ];
}
