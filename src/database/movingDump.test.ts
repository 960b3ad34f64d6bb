/**
 * The README's "Moving an existing instance here", step 2 (a pg_dump archive), run as written by
 * bash with stand-ins for ssh, scp, the Pulumi CLI and npm that record what they are given: the old
 * instance stopped before its dump, pg_dump's custom format, the archive fetched and removed from the
 * old host, its path set; and what they set is a config the stack accepts with that archive.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../config";
import { dumpFileProblems } from "./restoreDump";
import { stackConfig } from "../../test/helpers";
import {
  PULUMI_RECORDER,
  type RecordedRun,
  recorder,
  runRecorded,
  shBlocksOf,
} from "../../test/readmeCommands";

let run: RecordedRun;
let dir: string;

beforeAll(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-moving-dump-"));
  // What pg_dump 15 -Fc writes first (restoredDump.real.test.ts checks a real one): the old host's archive.
  const fixture = path.join(dir, "old-host.dump");
  fs.writeFileSync(
    fixture,
    Buffer.concat([Buffer.from("PGDMP"), Buffer.from([1, 14, 0, 4, 8, 1]), Buffer.alloc(64)]),
  );
  run = runRecorded(
    dir,
    shBlocksOf("Moving an existing instance here")[1]!,
    {
      ssh: recorder("ssh"),
      // scp old-host:<path> <file>: the old host's archive arrives.
      scp: recorder("scp", `cp "$FIXTURE" "$2"`),
      pulumi: PULUMI_RECORDER,
      npm: recorder("npm"),
    },
    { FIXTURE: fixture },
  );
});

afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

test("the commands run to the end, in order: Mastodon stopped, dumped, fetched, removed there, set, checked", () => {
  expect({ status: run.status, stderr: run.stderr }).toEqual({ status: 0, stderr: "" });
  expect(run.calls.map((c) => c.args)).toEqual([
    ["ssh", "old-host", "sudo systemctl stop 'mastodon-*.service'"],
    ["ssh", "old-host", "sudo -u mastodon pg_dump -Fc -f /tmp/mastodon.dump mastodon_production"],
    ["scp", "old-host:/tmp/mastodon.dump", "mastodon.dump"],
    ["ssh", "old-host", "rm /tmp/mastodon.dump"],
    ["pulumi", "config", "set", "--path", "mastodon:database.restoreFrom.dump", "mastodon.dump"],
    ["npm", "run", "plan", "--", "--stack", "production"],
  ]);
});

test("the path they set names the fetched archive, from where they ran, and the stack accepts it", () => {
  const set = run.calls.find((c) => c.args[1] === "config")!;
  const value = set.args[set.args.length - 1]!;
  expect(dumpFileProblems(value, run.work)).toEqual([]);
  const config = stackConfig("production");
  const database = { ...(config["database"] as object), restoreFrom: { dump: path.join(run.work, value) } };
  const parsed = parseStackConfig({ ...config, database }, "production");
  expect(parsed.config.database.restoreFrom).toEqual({ dump: path.join(run.work, value) });
});
