/**
 * `npm run drill`'s logic (drillCommand.ts) with stand-in operations: a fake clock, an SSM that has
 * no invocation at first, then runs it, then ends it with the program's output. The report is the
 * shape mastodon-drill.py prints (src/database/drill.real.test.ts runs the program itself).
 */
import {
  type DrillInvocation,
  type DrillOperations,
  type DrillReport,
  DRILL_WAIT,
  DrillFailed,
  formatDrillReport,
  parseDrillReport,
  runDrill,
} from "./drillCommand";

const MEDIA_URL =
  "https://files.mastodon.example/media_attachments/files/113/456/789/012/345/678/original/a1b2.png";
const report = (mediaOk: boolean): DrillReport => ({
  ok: mediaOk,
  database: "db.example:5432/mastodon_production",
  checks: [
    { name: "database", ok: true, detail: "mastodon_admin connected with sslmode verify-full" },
    { name: "schema", ok: true, detail: "version 20250923140000", version: "20250923140000" },
    { name: "rows.accounts", ok: true, detail: "4 rows (exact)", rows: 4, counted: "exact" },
    {
      name: "media",
      ok: mediaOk,
      detail: mediaOk ? "HTTP 200, 1234 bytes" : "HTTP 404, 0 bytes",
      url: MEDIA_URL,
      status: mediaOk ? 200 : 404,
      bytes: mediaOk ? 1234 : 0,
    },
  ],
});

/** SSM played in order: each poll takes the next state; the clock moves by each sleep. */
function standIn(states: (DrillInvocation | undefined)[]) {
  let clock = 0;
  const calls: string[] = [];
  const ops: DrillOperations = {
    async send() {
      calls.push("send");
      return { commandId: "cmd-1", instance: "i-0123456789abcdef0" };
    },
    async invocation(commandId, instance) {
      calls.push(`invocation ${commandId} ${instance}`);
      return states.length > 1 ? states.shift() : states[0];
    },
    async sleep(ms) {
      clock += ms;
    },
    now: () => clock,
  };
  return { ops, calls, clock: () => clock };
}

const ended = (status: string, out: DrillReport | string, stderr = ""): DrillInvocation => ({
  status,
  stdout: typeof out === "string" ? out : JSON.stringify(out, null, 2),
  stderr,
});

test("a passing drill: the command is sent once, polled until it ends, and every check printed", async () => {
  const { ops, calls } = standIn([
    undefined,
    { status: "InProgress", stdout: "", stderr: "" },
    ended("Success", report(true)),
  ]);
  const lines: string[] = [];
  const result = await runDrill("drill", ops, (l) => lines.push(l));
  expect(result.passed).toBe(true);
  expect(calls).toEqual(["send", ...Array(3).fill("invocation cmd-1 i-0123456789abcdef0")]);
  expect(lines).toEqual([
    "stack drill: restore drill on the scheduler's host i-0123456789abcdef0 (SSM command cmd-1)",
    "database db.example:5432/mastodon_production",
    "  PASS  database       mastodon_admin connected with sslmode verify-full",
    "  PASS  schema         version 20250923140000",
    "  PASS  rows.accounts  4 rows (exact)",
    "  PASS  media          HTTP 200, 1234 bytes",
    `                       ${MEDIA_URL}`,
    "all 4 checks passed",
  ]);
});

test("a failed check: the report is printed with FAIL, and the drill does not pass", async () => {
  const { ops } = standIn([
    ended("Failed", report(false), "mastodon-drill: media failed: HTTP 404, 0 bytes"),
  ]);
  const lines: string[] = [];
  const result = await runDrill("drill", ops, (l) => lines.push(l));
  expect(result.passed).toBe(false);
  expect(result.report.checks.filter((c) => !c.ok).map((c) => c.name)).toEqual(["media"]);
  expect(lines).toContain("  FAIL  media          HTTP 404, 0 bytes");
  expect(lines.at(-1)).toBe(
    "3 of 4 checks passed: the drill FAILED (each FAIL line says what is wrong; fix it and run the drill again)",
  );
});

test("a report that passed from a command that did not end Success does not pass", async () => {
  const { ops } = standIn([ended("TimedOut", report(true))]);
  const lines: string[] = [];
  expect((await runDrill("drill", ops, (l) => lines.push(l))).passed).toBe(false);
  expect(lines.at(-1)).toBe("but SSM command cmd-1 ended TimedOut");
});

test("no report in the output: the drill fails with the host's last lines", async () => {
  const stderr = "mastodon-drill: no /etc/mastodon/database.conf here: run the drill on the scheduler's host";
  const { ops } = standIn([ended("Failed", "", stderr)]);
  await expect(runDrill("drill", ops)).rejects.toThrow(
    new DrillFailed(`SSM command cmd-1 on i-0123456789abcdef0 ended Failed with no report:\n${stderr}`),
  );
});

test("a command that never ends is given up at the wait's bound, with how to look it up", async () => {
  const { ops, clock } = standIn([{ status: "InProgress", stdout: "", stderr: "" }]);
  await expect(runDrill("drill", ops, undefined, { pollMs: 30_000, timeoutMs: 120_000 })).rejects.toThrow(
    "SSM command cmd-1 is still InProgress after 2 min: aws ssm get-command-invocation --command-id cmd-1 --instance-id i-0123456789abcdef0 says where it stands",
  );
  expect(clock()).toBe(120_000);
  // The wait outlasts the document's own bound, so SSM ends the run before the command gives up.
  expect(DRILL_WAIT.timeoutMs).toBeGreaterThan(2100 * 1000);
});

test("a report is read only when it has the program's shape; ok only when every check passed", () => {
  expect(parseDrillReport("not json")).toBeUndefined();
  expect(parseDrillReport(JSON.stringify({ ok: true, database: "d", checks: [] }))).toBeUndefined();
  expect(
    parseDrillReport(JSON.stringify({ ok: true, checks: [{ name: "x", ok: true, detail: "" }] })),
  ).toBeUndefined();
  const lying = { ...report(false), ok: true };
  expect(parseDrillReport(JSON.stringify(lying))?.ok).toBe(false);
  // Figures are kept as the program gave them.
  expect(parseDrillReport(JSON.stringify(report(true)))?.checks[3]).toMatchObject({
    status: 200,
    bytes: 1234,
  });
  expect(formatDrillReport(report(true))[0]).toBe("database db.example:5432/mastodon_production");
});
