/**
 * A fleet host's logs in CloudWatch Logs (pure). The Amazon CloudWatch agent tails files; it does
 * not read journald (Amazon CloudWatch User Guide, "Manually create or edit the CloudWatch agent
 * configuration file", logs_collected: files and Windows events). So one small unit,
 * mastodon-journal-export.service, follows the journal of this package's units (Mastodon's,
 * PgBouncer's, the metrics collector's: every unit is named mastodon-*) into one file, and the
 * agent ships that file to the fleet's log group under the instance's id. journalctl keeps its
 * place in a cursor file, so a restarted export resumes after the last entry it wrote, with no
 * duplicate and no gap (journalctl(1), --cursor-file). logrotate bounds the file.
 */
import { type BootStep, execLine } from "../fleet/host/bootStep";
import { type Directive, renderUnit, type UnitFile } from "../host/systemd";
import { daemonSandbox, restartAlways, startLimits } from "../host/unitPolicy";

export const JOURNAL_EXPORT_UNIT = "mastodon-journal-export.service";
/** Installs (where needed) and starts the CloudWatch agent, and makes the export's directory. */
export const LOGS_AGENT_UNIT = "mastodon-logs-agent.service";

/** The units whose journal is shipped: every unit this package writes on a fleet host is mastodon-*. */
export const SHIPPED_UNITS = ["mastodon-*.service"] as const;

/** Where the pieces live on a host. */
export const LOGS_PATHS = {
  journalctl: "/usr/bin/journalctl",
  /** Written by PID 1 (StandardOutput=append:), so it needs no writable path in the sandbox. */
  dir: "/var/log/mastodon",
  file: "/var/log/mastodon/journal.log",
  /** StateDirectory= of the export unit: /var/lib/<this>. */
  stateDirectory: "mastodon-journal-export",
  cursor: "/var/lib/mastodon-journal-export/cursor",
  logrotate: "/etc/logrotate.d/mastodon-journal",
  /**
   * The agent's configuration, where cloud-init writes it and every boot's fetch-config reads it: not
   * the agent's own etc/amazon-cloudwatch-agent.json, which its ctl deletes after each fetch-config
   * (aws/amazon-cloudwatch-agent, packaging/dependencies/amazon-cloudwatch-agent-ctl, cwa_config:
   * `rm -f "${JSON}"` for multi_config "default"), so the unit would fail at the next boot and the
   * watch would replace a rebooted host.
   */
  agentConfig: "/etc/mastodon/amazon-cloudwatch-agent.json",
  agentCtl: "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl",
} as const;

/**
 * journalctl's output format and the agent's reading of its timestamp. short-iso-precise in UTC
 * (--utc) starts each entry with e.g. `2026-11-30T05:20:00.123456+0000`: the agent's %f takes
 * 1 to 9 fractional digits and %z a `[+-]hhmm` offset (the agent's strftime table).
 */
export const JOURNAL_OUTPUT = "short-iso-precise";
export const TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%f%z";

/** Rotated when logrotate finds it over this; two rotations kept, compressed. */
export const LOG_FILE_MAX_MEGABYTES = 100;
export const LOG_FILE_ROTATIONS = 2;

/**
 * The fleet's log group: `/mastodon/<project>/<stack>/<name>/<fleet>` for a deployment whose SSM
 * path is /mastodon/<project>/<stack>/<name> (src/aws/naming/scope.ts): log group names are unique
 * per account and Region, so they carry the same scope. Fleet's log group and the agent's config
 * both read it here.
 */
export function fleetLogGroupName(parameterPath: string, fleetName: string): string {
  return `/mastodon${parameterPath.replace(/^\/mastodon/, "")}/${fleetName}`;
}

/** journalctl's arguments: follow from the cursor (all of the journal the first time), in UTC. */
export function journalExportArgv(): string[] {
  return [
    LOGS_PATHS.journalctl,
    "--follow",
    "--no-pager",
    // No "-- No entries --" or "-- Boot ... --" lines in the shipped file: entries only.
    "--quiet",
    "--utc",
    `--output=${JOURNAL_OUTPUT}`,
    // Without a cursor yet (a new host), everything the journal holds for these units.
    "--lines=all",
    `--cursor-file=${LOGS_PATHS.cursor}`,
    ...SHIPPED_UNITS.map((u) => `--unit=${u}`),
  ];
}

/**
 * The export unit. A dynamic user in the systemd-journal group (journalctl(1): members of that
 * group read the system journal), the C daemons' sandbox, restarted like the other units. Its
 * errors go to the journal, never into the shipped file.
 */
export function renderJournalExportUnit(): UnitFile {
  return {
    name: JOURNAL_EXPORT_UNIT,
    content: renderUnit({
      unit: [
        ["Description", "Mastodon's journal to a file the CloudWatch agent ships"],
        // After the setup, which makes the directory of the file PID 1 opens for it.
        ["Wants", LOGS_AGENT_UNIT],
        ["After", `systemd-journald.service ${LOGS_AGENT_UNIT}`],
        ["PartOf", "mastodon.target"],
        ...startLimits,
      ],
      service: [
        ["Type", "simple"],
        ["DynamicUser", "true"],
        ["SupplementaryGroups", "systemd-journal"],
        ["StateDirectory", LOGS_PATHS.stateDirectory],
        ["ExecStart", execLine(journalExportArgv())],
        ["StandardOutput", `append:${LOGS_PATHS.file}`],
        ["StandardError", "journal"],
        ...restartAlways,
        ...daemonSandbox({ readWritePaths: [], removeIpc: true }),
      ],
      install: [["WantedBy", "mastodon.target"]],
    }),
  };
}

/** The CloudWatch agent's configuration (its JSON schema: translator/config/schema.json). */
export interface AgentConfig {
  readonly logs: {
    readonly logs_collected: {
      readonly files: {
        readonly collect_list: readonly {
          readonly file_path: string;
          readonly log_group_name: string;
          readonly log_stream_name: string;
          readonly timestamp_format: string;
          readonly timezone: "UTC";
          readonly multi_line_start_pattern: string;
        }[];
      };
    };
  };
}

/**
 * One file, one stream per instance ({instance_id}, the agent's placeholder). A message that spans
 * lines (a Ruby backtrace) is printed by journalctl with indented continuation lines: an event
 * starts only at a timestamp. Retention is the log group's (config logs.retentionDays), not the
 * agent's, which would need PutRetentionPolicy.
 */
export function agentConfig(logGroupName: string): AgentConfig {
  return {
    logs: {
      logs_collected: {
        files: {
          collect_list: [
            {
              file_path: LOGS_PATHS.file,
              log_group_name: logGroupName,
              log_stream_name: "{instance_id}",
              timestamp_format: TIMESTAMP_FORMAT,
              timezone: "UTC",
              multi_line_start_pattern: "{timestamp_format}",
            },
          ],
        },
      },
    },
  };
}

export function renderAgentConfig(logGroupName: string): string {
  return `${JSON.stringify(agentConfig(logGroupName))}\n`;
}

/**
 * logrotate(8) for the file. copytruncate: journalctl keeps the file open (O_APPEND, so it writes
 * at the new end after the truncation) and the agent notices the truncation and reads from the
 * start again. `file` is the host's path but in the tests that rotate a file for real.
 */
export function renderLogrotate(file: string = LOGS_PATHS.file): string {
  const directives = [
    "missingok",
    "notifempty",
    "copytruncate",
    `size ${LOG_FILE_MAX_MEGABYTES}M`,
    `rotate ${LOG_FILE_ROTATIONS}`,
    "compress",
  ];
  return [`${file} {`, ...directives.map((d) => `    ${d}`), "}", ""].join("\n");
}

/**
 * The agent's setup, a oneshot unit beside the services rather than a step of the boot unit: it
 * runs while the services start (with containers, during the image pulls), so it adds nothing to
 * the boot's bound. It makes the export's directory, installs the agent where the image has none
 * (`install`: the stock Debian host's installer), then starts it on the rendered configuration
 * (Amazon CloudWatch User Guide, "Start the CloudWatch agent using the command line").
 */
export function renderLogsAgentUnit(install: readonly BootStep[]): UnitFile {
  const steps: BootStep[] = [
    { argv: ["/usr/bin/install", "-d", "-m", "0755", LOGS_PATHS.dir], boundSeconds: 10 },
    ...install,
    {
      argv: [
        LOGS_PATHS.agentCtl,
        "-a",
        "fetch-config",
        "-m",
        "ec2",
        "-s",
        "-c",
        `file:${LOGS_PATHS.agentConfig}`,
      ],
      boundSeconds: 60,
    },
  ];
  return {
    name: LOGS_AGENT_UNIT,
    content: renderUnit({
      unit: [
        ["Description", "The CloudWatch agent, shipping the journal export to the fleet's log group"],
        ["Wants", "network-online.target"],
        ["After", "network-online.target"],
      ],
      service: [
        ["Type", "oneshot"],
        ["RemainAfterExit", "yes"],
        ["TimeoutStartSec", steps.reduce((sum, step) => sum + step.boundSeconds, 0)],
        ...steps.map((step): Directive => ["ExecStart", execLine(step.argv)]),
      ],
      install: [["WantedBy", "mastodon.target"]],
    }),
  };
}
