/**
 * mastodon:database.restoreFrom.dump as the config reads it: a pg_dump archive the hosts' pg_restore
 * (PostgreSQL 15) can restore, refused by key, value and fix before anything is declared, from the
 * archive's own header (pg_backup_archiver.c WriteHead); the restore step's bound from its size.
 * The archives here are headers written as pg_dump writes them (restoredDump.real.test.ts checks a
 * real pg_dump 15 archive against the same bytes), and sparse files for the size.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../config";
import {
  MAX_DUMP_BYTES,
  RESTORE_MAX_SECONDS,
  RESTORE_RATE_MIB_PER_SECOND,
  dumpFileProblems,
  restoreSeconds,
} from "./restoreDump";
import { configErrors, stackConfig } from "../../test/helpers";

const KEY = "mastodon:database.restoreFrom.dump";
const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-dump-config-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A file starting with pg_dump's header: magic, version major.minor.rev, int and offset sizes, format. */
function archive(
  name: string,
  header: { version?: [number, number]; format?: number } = {},
  size = 4096,
): string {
  const [major, minor] = header.version ?? [1, 14];
  const file = path.join(dir, name);
  const bytes = Buffer.concat([
    Buffer.from("PGDMP"),
    Buffer.from([major, minor, 0, 4, 8, header.format ?? 1]),
  ]);
  fs.writeFileSync(file, bytes);
  fs.truncateSync(file, size);
  return file;
}

function staging(dump: unknown): Record<string, unknown> {
  const config = stackConfig("staging");
  return { ...config, database: { ...(config["database"] as object), restoreFrom: { dump } } };
}

test("pg_dump 15's custom format: taken, the path as written", () => {
  const file = archive("good.dump");
  expect(dumpFileProblems(file)).toEqual([]);
  expect(parseStackConfig(staging(file), "staging").config.database.restoreFrom).toEqual({ dump: file });
});

test("a path relative to the project's directory, where pulumi runs", () => {
  archive("relative.dump");
  expect(dumpFileProblems("relative.dump", dir)).toEqual([]);
  expect(dumpFileProblems("relative.dump", os.tmpdir())[0]).toMatch(/^is not a file: .* does not exist/);
});

test.each([
  [
    "no such file",
    () => path.join(dir, "missing.dump"),
    /^is not a file: .*missing\.dump does not exist .*pg_dump -Fc/,
  ],
  [
    "a directory archive",
    () => fs.mkdtempSync(path.join(dir, "directory-")),
    /^is a directory .*pg_dump -Fd.*pg_dump -Fc/,
  ],
  [
    "a plain SQL dump",
    () => (
      fs.writeFileSync(path.join(dir, "plain.sql"), "--\n-- PostgreSQL database dump\n--\n"),
      path.join(dir, "plain.sql")
    ),
    /^is not a pg_dump archive .*does not start with PGDMP: a plain SQL dump carries its old owners and grants/,
  ],
  [
    "an empty file",
    () => (fs.writeFileSync(path.join(dir, "empty"), ""), path.join(dir, "empty")),
    /^is not a pg_dump archive/,
  ],
  [
    "a tar archive's table of contents",
    () => archive("tar.dump", { format: 3 }),
    /^is a pg_dump tar archive; make one with pg_dump 15's custom format/,
  ],
  [
    "pg_dump 16's archive",
    () => archive("v16.dump", { version: [1, 15] }),
    /^is an archive of version 1\.15, made by pg_dump 16 or later; .*reads up to 1\.14\. Make it with pg_dump 15 .*restoreFrom\.snapshot/,
  ],
  [
    "pg_dump 17's archive",
    () => archive("v17.dump", { version: [1, 16] }),
    /^is an archive of version 1\.16/,
  ],
])("%s: refused by key, value and fix", (_what, make, message) => {
  const file = make();
  const errors = configErrors(staging(file));
  expect(errors).toHaveLength(1);
  expect(errors[0]).toMatchObject({ key: KEY, value: file });
  expect(errors[0]?.message).toMatch(message);
});

test("too large to restore within the scheduler's boot: the snapshot path instead", () => {
  // Sparse: the size without the bytes.
  const file = archive("huge.dump", {}, MAX_DUMP_BYTES + 1);
  const [error] = configErrors(staging(file));
  expect(error).toMatchObject({ key: KEY, value: file });
  expect(error?.message).toMatch(
    /^is 16[0-9.]+ GiB; the scheduler's first boot restores at most 16[0-9.]+ GiB .*restoreFrom\.snapshot/,
  );
  expect(dumpFileProblems(archive("largest.dump", {}, MAX_DUMP_BYTES))).toEqual([]);
});

test("dump with snapshot or stack: one of them", () => {
  const [error] = configErrors({
    ...stackConfig("staging"),
    database: {
      ...(stackConfig("staging")["database"] as object),
      restoreFrom: { dump: archive("both.dump"), stack: "production" },
    },
  });
  expect(error).toMatchObject({ key: "mastodon:database.restoreFrom" });
  expect(error?.message).toContain("gives more than one of snapshot, stack and dump");
});

test("the restore's bound: a fixed part and the archive at the rate, the largest one within the maximum", () => {
  const mib = 1024 * 1024;
  expect(restoreSeconds(0)).toBe(300);
  expect(restoreSeconds(100 * mib)).toBe(300 + 100 / RESTORE_RATE_MIB_PER_SECOND);
  expect(restoreSeconds(MAX_DUMP_BYTES)).toBe(RESTORE_MAX_SECONDS);
  expect(restoreSeconds(MAX_DUMP_BYTES + mib)).toBeGreaterThan(RESTORE_MAX_SECONDS);
});
