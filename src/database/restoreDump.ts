/**
 * mastodon:database.restoreFrom.dump: a new stack's database starts from a `pg_dump` archive (pure,
 * but for reading the archive's header and size). The way in for an instance that runs outside RDS:
 * `pulumi up` uploads the archive to a private bucket of the stack's (PostgresDatabase), and the
 * scheduler's host restores it at its first boot, before Mastodon's schema step and before any
 * Mastodon unit starts (src/database/files/mastodon-restore.sh): once, into the empty database, as
 * the app's role, so that the role owns every table, sequence and index it makes.
 *
 * The archive must be pg_dump's custom format (`pg_dump -Fc`): pg_restore then leaves out what the
 * app's role may not make or must not keep (the old owners and grants, extensions, which Mastodon's
 * schema does not use and RDS lets only rds_superuser create) and restores it in one transaction. A
 * plain SQL dump carries its owners and grants as statements, a directory archive is not a file the
 * stack can upload. The header (PostgreSQL's pg_backup_archiver.c, WriteHead: "PGDMP", the archive
 * version's major, minor and revision, the int and offset sizes, the format, 1 for custom) tells
 * which pg_dump made it: the hosts' pg_restore is Debian 12's PostgreSQL 15, which reads archives up
 * to version 1.14 (pg_dump 15 writes 1.14, 16 writes 1.15, 17 writes 1.16; PostgreSQL 16 release
 * notes, "pg_dump": the compression method in the header).
 */
import * as fs from "fs";
import * as path from "path";

/** What the hosts' pg_restore (Debian 12's postgresql-client, 15) reads: archive versions up to this. */
export const HOST_PG_RESTORE = { major: 15, archive: [1, 14] as const };

/** pg_dump's archive formats (pg_backup.h ArchiveFormat) that start with the magic. */
const FORMATS: Record<number, string> = { 1: "custom", 3: "tar", 5: "directory" };

/**
 * How fast a restore goes, in MiB of archive per second: a conservative figure, about a quarter of
 * what one core restored here (src/database/restoredDump.real.test.ts prints it), as an RDS
 * instance builds Mastodon's many indexes from a compressed archive. With the fixed part (the
 * download, a Rails-free transaction's start and commit), the boot step's bound.
 */
export const RESTORE_RATE_MIB_PER_SECOND = 2;
const RESTORE_FIXED_SECONDS = 300;

/**
 * The longest a restore may take. The restore records lifecycle heartbeats while it runs
 * (mastodon-restore.sh), so it may outlast the launch hook's heartbeat timeout; what bounds it is
 * the hook's global timeout, 48 hours or 100 times the heartbeat timeout, whichever is smaller
 * (Amazon EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling lifecycle hooks"). A day keeps the
 * whole first boot well inside it.
 */
export const RESTORE_MAX_SECONDS = 86400;

/** How often the restore records a heartbeat (mastodon-restore.sh). */
export const RESTORE_HEARTBEAT_SECONDS = 60;

/**
 * The longest the hook goes without a heartbeat while the archive restores, the calls answering:
 * the pause, then one call (at most mastodon-lifecycle.sh's AWS_CALL_SECONDS, 30). What the restore
 * adds to the launch hook's heartbeat timeout, whatever its size: the scheduler's boot is the
 * longest of all and already near the 7200 s AWS allows (src/fleet/host/readiness.ts).
 */
export const RESTORE_UNHEARD_SECONDS = RESTORE_HEARTBEAT_SECONDS + 30;

/** The restore step's bound for an archive of `bytes`. */
export function restoreSeconds(bytes: number): number {
  return RESTORE_FIXED_SECONDS + Math.ceil(bytes / (RESTORE_RATE_MIB_PER_SECOND * 1024 * 1024));
}

/** The largest archive that restores within RESTORE_MAX_SECONDS, in bytes. */
export const MAX_DUMP_BYTES =
  (RESTORE_MAX_SECONDS - RESTORE_FIXED_SECONDS) * RESTORE_RATE_MIB_PER_SECOND * 1024 * 1024;

/** The path as the program reads it: relative to the Pulumi project's directory, where `pulumi up` runs. */
export function dumpPath(value: string, cwd = process.cwd()): string {
  return path.resolve(cwd, value);
}

const MAKE_ONE = "make one with pg_dump 15's custom format (pg_dump -Fc -f mastodon.dump <database>)";

/** Every way `value` is not an archive the scheduler's host can restore, each with its fix. */
export function dumpFileProblems(value: string, cwd = process.cwd()): string[] {
  const file = dumpPath(value, cwd);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(file);
  } catch {
    return [
      `is not a file: ${file} does not exist (a path relative to the project's directory). Give the path of the archive, or ${MAKE_ONE}`,
    ];
  }
  if (stat.isDirectory())
    return [
      `is a directory (${file}): a directory archive (pg_dump -Fd) cannot be uploaded as one object; ${MAKE_ONE}`,
    ];
  if (!stat.isFile()) return [`is not a regular file (${file}); give the archive's path`];
  const header = Buffer.alloc(11);
  let read: number;
  try {
    const fd = fs.openSync(file, "r");
    try {
      read = fs.readSync(fd, header, 0, header.length, 0);
    } finally {
      fs.closeSync(fd);
    }
  } catch (e) {
    return [`cannot be read (${(e as Error).message}); make it readable by the user who runs pulumi`];
  }
  if (read < header.length || header.toString("latin1", 0, 5) !== "PGDMP")
    return [
      `is not a pg_dump archive (${file} does not start with PGDMP: a plain SQL dump carries its old owners and grants as statements); ${MAKE_ONE}`,
    ];
  const [major, minor] = [header[5]!, header[6]!];
  const format = header[10]!;
  const problems: string[] = [];
  if (format !== 1)
    problems.push(`is a pg_dump ${FORMATS[format] ?? `format ${format}`} archive; ${MAKE_ONE}`);
  const [maxMajor, maxMinor] = HOST_PG_RESTORE.archive;
  if (major > maxMajor || (major === maxMajor && minor > maxMinor))
    problems.push(
      `is an archive of version ${major}.${minor}, made by pg_dump 16 or later; the hosts restore with PostgreSQL ${HOST_PG_RESTORE.major}'s pg_restore (Debian 12), which reads up to ${maxMajor}.${maxMinor}. Make it with pg_dump ${HOST_PG_RESTORE.major} (it dumps servers up to ${HOST_PG_RESTORE.major}); from a newer server, restore the dump into an RDS PostgreSQL of the stack's major version yourself, snapshot it, and give restoreFrom.snapshot instead`,
    );
  if (stat.size > MAX_DUMP_BYTES)
    problems.push(
      `is ${(stat.size / 1024 ** 3).toFixed(1)} GiB; the scheduler's first boot restores at most ${(MAX_DUMP_BYTES / 1024 ** 3).toFixed(1)} GiB (${RESTORE_RATE_MIB_PER_SECOND} MiB/s for at most a day, inside the launch hook's 48-hour global timeout). Restore it into an RDS PostgreSQL of the stack's major version yourself, snapshot it, and give restoreFrom.snapshot instead`,
    );
  return problems;
}

/** The archive's size, for the restore step's bound (dumpFileProblems has accepted it). */
export function dumpBytes(value: string, cwd = process.cwd()): number {
  return fs.statSync(dumpPath(value, cwd)).size;
}
