/**
 * The fleet hosts' log shipping (src/monitoring/logs.ts), each piece run by the program that consumes
 * it: the export's journalctl command line by Debian's journalctl against a journal written by
 * systemd-journal-remote (our units' entries and another's, a restart resuming from the cursor),
 * the agent's configuration validated by python3-jsonschema against the agent's own schema
 * (test/fixtures/cloudwatch-agent/), and the logrotate configuration by logrotate itself.
 * systemd-analyze verify checks the unit with the others (hosts.real.test.ts).
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import {
  JOURNAL_EXPORT_UNIT,
  LOGS_PATHS,
  TIMESTAMP_FORMAT,
  agentConfig,
  fleetLogGroupName,
  journalExportArgv,
  renderAgentConfig,
  renderJournalExportUnit,
  renderLogrotate,
} from "./logs";
import { requireProgram, tempDir } from "../../test/real/servers";
import { ROOT } from "../../test/helpers";

const SCHEMA = path.join(ROOT, "test/fixtures/cloudwatch-agent/schema.json");
const JOURNAL_REMOTE = "/lib/systemd/systemd-journal-remote";
const BOOT_ID = "0123456789abcdef0123456789abcdef";
const T0 = 1_764_480_000_000_000; // 2025-11-30T05:20:00Z, in microseconds

interface Entry {
  readonly unit: string;
  readonly ident: string;
  readonly message: string;
  readonly at: number;
}

/**
 * journald's export format (systemd's "Journal Export Format"): a field per line, a message with a
 * line break in the binary form (name, newline, 64-bit little-endian length, data, newline).
 */
function exportFormat(entries: readonly Entry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    const text = [
      `__REALTIME_TIMESTAMP=${e.at}`,
      `__MONOTONIC_TIMESTAMP=${e.at - T0 + 1}`,
      `_BOOT_ID=${BOOT_ID}`,
      `_SYSTEMD_UNIT=${e.unit}`,
      `SYSLOG_IDENTIFIER=${e.ident}`,
      "_PID=42",
      "_HOSTNAME=ip-10-0-1-23",
    ].join("\n");
    parts.push(Buffer.from(`${text}\n`));
    const data = Buffer.from(e.message);
    const length = Buffer.alloc(8);
    length.writeBigUInt64LE(BigInt(data.length));
    parts.push(Buffer.from("MESSAGE\n"), length, data, Buffer.from("\n\n"));
  }
  return Buffer.concat(parts);
}

/** Appends entries to a journal file, as journald would have written them. */
function writeJournal(file: string, entries: readonly Entry[]): void {
  const r = spawnSync(requireProgram(JOURNAL_REMOTE), [`--output=${file}`, "-"], {
    input: exportFormat(entries),
    encoding: "utf8",
  });
  expect({ status: r.status, stderr: r.stderr }).toEqual({
    status: 0,
    stderr: expect.stringContaining(`Finishing after writing ${entries.length} entries`),
  });
}

/** The export's command line, run once over `journal` instead of following the host's journal. */
function runExport(journal: string, cursor: string): string {
  const argv = journalExportArgv();
  // The rendered arguments but two: no --follow (the run ends), and this test's journal and cursor.
  const args = argv
    .slice(1)
    .filter((a) => a !== "--follow")
    .map((a) => (a.startsWith("--cursor-file=") ? `--cursor-file=${cursor}` : a));
  expect(args).toHaveLength(argv.length - 2);
  const r = spawnSync(requireProgram(argv[0]!), [`--file=${journal}`, ...args], {
    encoding: "utf8",
    env: { ...process.env, TZ: "Asia/Tokyo" },
  });
  expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
  return r.stdout;
}

/**
 * The agent's reading of TIMESTAMP_FORMAT as a regular expression, from its strftime table
 * (amazon-cloudwatch-agent, internal/util/timestamp: %Y \d{4}, %m and %d \s{0,1}\d{1,2}, %H %M %S
 * \d{2}, %f \d{1,9}, %z [+-]\d{4}; `.` escaped), anchored where an event starts.
 */
function agentTimestampRegex(format: string): RegExp {
  const table: Record<string, string> = {
    "%Y": "\\d{4}",
    "%m": "\\s{0,1}\\d{1,2}",
    "%d": "\\s{0,1}\\d{1,2}",
    "%H": "\\d{2}",
    "%M": "\\d{2}",
    "%S": "\\d{2}",
    "%f": "(\\d{1,9})",
    "%z": "[+-]\\d{4}",
  };
  const source = format.replace(/\./g, "\\.").replace(/%[A-Za-z]/g, (d) => {
    const re = table[d];
    if (!re) throw new Error(`no regex for ${d}`);
    return re;
  });
  return new RegExp(`^${source}`);
}

describe("the journal export's journalctl, run by journalctl", () => {
  const dir = tempDir("mastodon-logs-");
  const journal = path.join(dir, "system.journal");
  const cursor = path.join(dir, "cursor");
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const first: Entry[] = [
    { unit: "mastodon-web.service", ident: "bundle", message: "Puma starting", at: T0 + 123_456 },
    { unit: "sshd.service", ident: "sshd", message: "not ours", at: T0 + 200_000 },
    { unit: "mastodon-pgbouncer.service", ident: "pgbouncer", message: "process up", at: T0 + 300_000 },
    {
      unit: "mastodon-sidekiq-default@25.service",
      ident: "bundle",
      message: "RuntimeError: boom\n  app/workers/x.rb:1",
      at: T0 + 400_000,
    },
    { unit: "mastodon-streaming@4000.service", ident: "node", message: "listening", at: T0 + 500_000 },
  ];
  const second: Entry[] = [
    { unit: "mastodon-web.service", ident: "bundle", message: "after restart", at: T0 + 600_000 },
    { unit: "cron.service", ident: "cron", message: "not ours either", at: T0 + 700_000 },
  ];

  test("ships the mastodon-* units' entries only, in UTC, each event starting at a timestamp the agent reads", () => {
    writeJournal(journal, first);
    const out = runExport(journal, cursor);
    const sidekiq = "2025-11-30T05:20:00.400000+0000 ip-10-0-1-23 bundle[42]: ";
    expect(out).toBe(
      [
        "2025-11-30T05:20:00.123456+0000 ip-10-0-1-23 bundle[42]: Puma starting",
        "2025-11-30T05:20:00.300000+0000 ip-10-0-1-23 pgbouncer[42]: process up",
        `${sidekiq}RuntimeError: boom`,
        // journalctl indents a message's further lines to its first line's column.
        `${" ".repeat(sidekiq.length)}  app/workers/x.rb:1`,
        "2025-11-30T05:20:00.500000+0000 ip-10-0-1-23 node[42]: listening",
        "",
      ].join("\n"),
    );
    // The agent's multi_line_start_pattern is the timestamp: the backtrace line joins its event.
    const starts = agentTimestampRegex(TIMESTAMP_FORMAT);
    expect(out.split("\n").filter((l) => starts.test(l))).toHaveLength(4);
    expect(starts.test("                      app/workers/x.rb:1")).toBe(false);
  });

  test("a restart resumes after the cursor: no entry twice, none lost", () => {
    writeJournal(journal, second);
    expect(runExport(journal, cursor)).toBe(
      "2025-11-30T05:20:00.600000+0000 ip-10-0-1-23 bundle[42]: after restart\n",
    );
    expect(runExport(journal, cursor)).toBe("");
  });
});

test("the export unit runs that command line, writes the shipped file and reads the journal as a group member", () => {
  const unit = renderJournalExportUnit();
  expect(unit.name).toBe(JOURNAL_EXPORT_UNIT);
  const lines = unit.content.split("\n");
  expect(lines).toEqual(
    expect.arrayContaining([
      `ExecStart=${journalExportArgv().join(" ")}`,
      `StandardOutput=append:${LOGS_PATHS.file}`,
      "SupplementaryGroups=systemd-journal",
      `StateDirectory=${path.basename(path.dirname(LOGS_PATHS.cursor))}`,
      "WantedBy=mastodon.target",
    ]),
  );
});

describe("the agent's configuration, against the agent's JSON schema (python3-jsonschema)", () => {
  /** Errors python3-jsonschema finds in `config` (one per line), and its exit status. */
  function validate(config: string): { status: number | null; errors: string } {
    const python = requireProgram("/usr/bin/python3");
    const r = spawnSync(
      python,
      [
        "-c",
        [
          "import json, sys, jsonschema",
          "schema = json.load(open(sys.argv[1]))",
          "jsonschema.Draft4Validator.check_schema(schema)",
          "errors = [e.message for e in jsonschema.Draft4Validator(schema).iter_errors(json.load(sys.stdin))]",
          "print('\\n'.join(errors))",
          "sys.exit(1 if errors else 0)",
        ].join("\n"),
        SCHEMA,
      ],
      { input: config, encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    return { status: r.status, errors: r.stdout.trim() };
  }

  test("the rendered configuration is valid, and ships the export's file to the fleet's log group", () => {
    const group = fleetLogGroupName("/mastodon/production", "web");
    expect(group).toBe("/mastodon/production/web");
    const text = renderAgentConfig(group);
    expect(validate(text)).toEqual({ status: 0, errors: "" });
    expect(JSON.parse(text)).toEqual(agentConfig(group));
    expect(agentConfig(group).logs.logs_collected.files.collect_list).toEqual([
      expect.objectContaining({
        file_path: LOGS_PATHS.file,
        log_group_name: group,
        log_stream_name: "{instance_id}",
      }),
    ]);
  });

  test("the schema has teeth: an unknown key and a bad timezone are refused", () => {
    const bad = JSON.parse(renderAgentConfig("/mastodon/dev/all")) as {
      logs: { logs_collected: { files: { collect_list: Record<string, unknown>[] } } };
    };
    bad.logs.logs_collected.files.collect_list[0]!["timezone"] = "Europe/Paris";
    bad.logs.logs_collected.files.collect_list[0]!["stream_name"] = "x";
    const r = validate(JSON.stringify(bad));
    expect(r.status).toBe(1);
    expect(r.errors).toContain("'Europe/Paris' is not one of");
    expect(r.errors).toContain("'stream_name' was unexpected");
  });
});

describe("the logrotate configuration, run by logrotate", () => {
  const logrotate = () => requireProgram("/usr/sbin/logrotate");

  test("logrotate -d reads the host's configuration without an error", () => {
    const dir = tempDir("mastodon-logrotate-");
    try {
      const conf = path.join(dir, "mastodon-journal");
      fs.writeFileSync(conf, renderLogrotate());
      const r = spawnSync(logrotate(), ["-d", "-s", path.join(dir, "state"), conf], { encoding: "utf8" });
      expect(r.status).toBe(0);
      expect(`${r.stdout}${r.stderr}`).not.toMatch(/error/i);
      expect(r.stderr).toContain(`considering log ${LOGS_PATHS.file}`);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a forced rotation copies and truncates the file in place, and keeps the rotations bounded", () => {
    const dir = tempDir("mastodon-logrotate-");
    try {
      const log = path.join(dir, "journal.log");
      const conf = path.join(dir, "mastodon-journal");
      fs.writeFileSync(conf, renderLogrotate(log));
      fs.mkdirSync(path.join(dir, "dummy"));
      const state = path.join(dir, "state");
      // Held open in append mode as journalctl holds it: the same inode must stay the live file.
      fs.writeFileSync(log, "first\n");
      const inode = fs.statSync(log).ino;
      for (let i = 1; i <= 4; i++) {
        fs.appendFileSync(log, `round ${i}\n`);
        const r = spawnSync(logrotate(), ["-f", "-s", state, conf], { encoding: "utf8" });
        expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
        expect(fs.statSync(log).ino).toBe(inode);
        expect(fs.statSync(log).size).toBe(0);
      }
      expect(
        fs
          .readdirSync(dir)
          .filter((f) => f.startsWith("journal.log."))
          .sort(),
      ).toEqual(["journal.log.1.gz", "journal.log.2.gz"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
