#!/usr/bin/python3
"""mastodon-drill: a restore drill's checks, on the scheduler's host, as one JSON report on stdout.

  mastodon-drill CONFIG [--exact-below ROWS] [--media-seconds SECONDS]

CONFIG is the host's database config (/etc/mastodon/database.conf, src/database/database.ts renders
it, mastodon-database reads it): region, db_host, db_port, db_name, master_user,
admin_password_parameter, ssl_mode, ca_bundle and env_file are read here, any other key is left
alone. The stack's drill SSM document runs it (src/database/drill.ts; `npm run drill` sends it).

The checks, each passed or failed, every one in the report:
  database      the RDS master connects (libpq's sslmode, against the RDS CA bundle)
  schema        Mastodon's schema version: max(version) of schema_migrations, Active Record's record
                of the migrations that ran (Rails Guides, "Active Record Migrations")
  rows.<table>  the rows of each main table: exact count(*), or, above --exact-below, the planner's
                estimate pg_class.reltuples (PostgreSQL's documentation, "pg_class" and "Row
                Estimation Examples"), labelled "estimate"; accounts and users may not be empty
  media         the newest local media attachment with a stored file, fetched by curl (bounded)
                through the media host at the URL Mastodon gives it (media_url below)
Exit 0: every check passed; 1: a check failed; 2: bad usage or config (no report).

Read-only: every query runs in a READ ONLY transaction (PostgreSQL's documentation, "SET
TRANSACTION"), default_transaction_read_only set for the session besides. The master's password goes
from SSM to libpq through a PGPASSFILE (mode 0600, removed on exit): never in argv, output or a log.
Of .env.production only the S3_* lines that build media URLs are read.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from urllib.parse import quote

AWS_CALL_SECONDS = 30
AWS_ATTEMPTS = 5
PSQL_SECONDS = 900
STATEMENT_TIMEOUT_MS = 600_000
REQUIRED = ("region", "db_host", "db_port", "db_name", "master_user", "admin_password_parameter",
            "ssl_mode", "ca_bundle", "env_file")
# What an operator compares with the source: who (accounts, users), what they wrote (statuses, media),
# their graph (follows, favourites), and what keeps them signed in (sessions, apps' tokens, Web Push).
TABLES = ("accounts", "users", "statuses", "media_attachments", "follows", "favourites",
          "session_activations", "oauth_access_tokens", "web_push_subscriptions")
# A database that served has the instance actor (an account) and at least one local user.
NOT_EMPTY = ("accounts", "users")
# Paperclip's ID_PARTITION_LIMIT (kt-paperclip, lib/paperclip/interpolations.rb).
ID_PARTITION_LIMIT = 1_000_000_000


class DrillError(Exception):
    pass


def log(message):
    print(f"mastodon-drill: {message}", file=sys.stderr, flush=True)


def read_config(path):
    """The "key value" lines of CONFIG (comments and blank lines skipped); exits 2 on a bad one."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except OSError as e:
        usage_error(f"cannot read {path}: {e.strerror}: give the database config, {path} on the scheduler's host")
    conf = {}
    for line in lines:
        parts = line.strip().split(None, 1)
        if parts and not parts[0].startswith("#"):
            conf[parts[0]] = parts[1].strip() if len(parts) > 1 else ""
    for key in REQUIRED:
        if not conf.get(key):
            usage_error(f"{path}: {key} is missing: mastodon-database's config has it; pulumi up renders it")
    if not re.fullmatch(r"[0-9]{1,5}", conf["db_port"]):
        usage_error(f"{path}: db_port {conf['db_port']!r} is not a port number (1-65535)")
    return conf


def usage_error(message):
    log(message)
    sys.exit(2)


def aws(conf, *args):
    """An AWS CLI call's stdout, retried with a doubling pause (2, 4, 8, 16 s), each attempt bounded."""
    pause = 2
    for attempt in range(1, AWS_ATTEMPTS + 1):
        try:
            r = subprocess.run(["aws", *args, "--region", conf["region"]], capture_output=True, text=True,
                               timeout=AWS_CALL_SECONDS, check=False)
            if r.returncode == 0:
                return r.stdout
            why = (r.stderr.strip().splitlines() or [f"exit {r.returncode}"])[-1]
        except subprocess.TimeoutExpired:
            why = f"no answer in {AWS_CALL_SECONDS} s"
        if attempt == AWS_ATTEMPTS:
            raise DrillError(f"aws {args[0]} {args[1]} failed {attempt} times: {why}")
        log(f"aws {args[0]} {args[1]} failed (attempt {attempt} of {AWS_ATTEMPTS}): {why}; again in {pause} s")
        time.sleep(pause)
        pause *= 2
    raise AssertionError("unreachable")


def pgpass_field(value):
    return value.replace("\\", "\\\\").replace(":", "\\:")


def psql(conf, work, sql):
    """One query, as the RDS master, in a READ ONLY transaction: its one output value (text)."""
    env = dict(os.environ, PGPASSFILE=os.path.join(work, "pgpass"), PGSSLMODE=conf["ssl_mode"],
               PGSSLROOTCERT=conf["ca_bundle"], PGCONNECT_TIMEOUT="30", PGAPPNAME="mastodon-drill",
               PGOPTIONS=f"-c default_transaction_read_only=on -c statement_timeout={STATEMENT_TIMEOUT_MS}")
    script = f"BEGIN TRANSACTION READ ONLY;\n{sql};\nCOMMIT;\n"
    try:
        r = subprocess.run(["psql", "-X", "-w", "-q", "-t", "-A", "-v", "ON_ERROR_STOP=1", "-h", conf["db_host"],
                            "-p", conf["db_port"], "-U", conf["master_user"], "-d", conf["db_name"], "-f", "-"],
                           input=script, capture_output=True, text=True, env=env, timeout=PSQL_SECONDS,
                           check=False)
    except subprocess.TimeoutExpired as e:
        raise DrillError(f"psql gave no answer in {PSQL_SECONDS} s") from e
    if r.returncode != 0:
        raise DrillError(" ".join(r.stderr.split()) or f"psql exited {r.returncode}")
    return r.stdout.strip()


def catalog_sql():
    names = ", ".join(f"'{t}'" for t in ("schema_migrations", *TABLES))
    return ("SELECT coalesce(json_object_agg(c.relname, c.reltuples::bigint), '{}') FROM pg_class c "
            "JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
            f"AND c.relkind IN ('r', 'p') AND c.relname IN ({names})")


def figures_sql(present, exact):
    """Mastodon's schema version, the exact counts, and the newest local media attachment with a file
    (app/models/media_attachment.rb: local? is remote_url blank; processed, not not_processed?, is
    processing unset or complete, 2 in its enum)."""
    parts = []
    if "schema_migrations" in present:
        parts.append("'schema', (SELECT max(version) FROM schema_migrations)")
    counts = ", ".join(f"'{t}', (SELECT count(*) FROM \"{t}\")" for t in exact)
    parts.append(f"'rows', json_build_object({counts})")
    if "media_attachments" in present:
        parts.append("'media', (SELECT row_to_json(m) FROM (SELECT id::text AS id, file_file_name AS file "
                     "FROM media_attachments WHERE file_file_name IS NOT NULL "
                     "AND coalesce(remote_url, '') = '' AND coalesce(processing, 2) = 2 "
                     "ORDER BY id DESC LIMIT 1) m)")
    return "SELECT json_build_object(" + ", ".join(parts) + ")"


def id_partition(record_id):
    """Paperclip's :id_partition (kt-paperclip, lib/paperclip/interpolations.rb): the id zero-padded
    to 9 digits (12 from ID_PARTITION_LIMIT on), in groups of three; a shorter last group is dropped."""
    digits = "%09d" % record_id if record_id < ID_PARTITION_LIMIT else "%012d" % record_id
    return "/".join(digits[i:i + 3] for i in range(0, len(digits) - 2, 3))


def media_url(env, record_id, file_name):
    """The original's URL as Mastodon gives it with S3 (config/initializers/paperclip.rb): path
    ':class/:attachment/:id_partition/:style/:filename', no prefix for a local file, under
    Paperclip's :s3_alias_url, S3_PROTOCOL://S3_ALIAS_HOST (or S3_CLOUDFRONT_HOST)/path."""
    if env.get("S3_ENABLED") != "true":
        raise DrillError("S3_ENABLED is not true in .env.production: the stack keeps media in S3")
    host = env.get("S3_ALIAS_HOST") or env.get("S3_CLOUDFRONT_HOST")
    if not host:
        raise DrillError("no S3_ALIAS_HOST in .env.production: the media host is unknown")
    protocol = env.get("S3_PROTOCOL") or "https"
    path = f"media_attachments/files/{id_partition(record_id)}/original/{quote(file_name)}"
    return f"{protocol}://{host}/{path}"


def media_env(path):
    """The S3_* lines of .env.production that build media URLs (KEY=value, optionally quoted)."""
    env = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"(S3_ENABLED|S3_PROTOCOL|S3_ALIAS_HOST|S3_CLOUDFRONT_HOST)=(.*)$", line.strip())
            if m:
                env[m.group(1)] = re.sub(r"""^(['"])(.*)\1$""", r"\2", m.group(2))
    return env


def fetch(url, seconds):
    """GET through the media host, no redirect followed, bounded: (HTTP status, bytes, curl's error)."""
    r = subprocess.run(["curl", "--silent", "--show-error", "--proto", "=http,https", "--output", os.devnull,
                        "--connect-timeout", "10", "--max-time", str(seconds),
                        "--write-out", "%{http_code} %{size_download}", url],
                       capture_output=True, text=True, timeout=seconds + 30, check=False)
    status, _, size = r.stdout.strip().partition(" ")
    return int(status or 0), int(size or 0), " ".join(r.stderr.split())


def check(name, ok, detail, **figures):
    return {"name": name, "ok": ok, "detail": detail, **figures}


def media_check(conf, row, seconds):
    if row is None:
        return check("media", False, "no local media attachment with a stored file: nothing to fetch "
                     "(post an image on the source before the snapshot the drill restores)")
    try:
        url = media_url(media_env(conf["env_file"]), int(row["id"]), row["file"])
    except (OSError, DrillError) as e:
        return check("media", False, f"cannot build the media URL: {e}", id=row["id"])
    try:
        status, size, error = fetch(url, seconds)
    except subprocess.TimeoutExpired:
        status, size, error = 0, 0, f"no answer in {seconds} s"
    ok = status == 200 and size > 0
    detail = f"HTTP {status}, {size} bytes" + (f" ({error})" if error else "")
    return check("media", ok, detail, id=row["id"], url=url, status=status, bytes=size)


def run_checks(conf, work, args):
    names = ["schema", *(f"rows.{t}" for t in TABLES), "media"]
    try:
        password = aws(conf, "ssm", "get-parameter", "--with-decryption", "--name",
                       conf["admin_password_parameter"], "--query", "Parameter.Value", "--output", "text")
        password = password.rstrip("\n")
        # libpq ignores a password file others may read (PostgreSQL's documentation, "The Password File").
        fd = os.open(os.path.join(work, "pgpass"), os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(f"*:*:*:{pgpass_field(conf['master_user'])}:{pgpass_field(password)}\n")
        present = json.loads(psql(conf, work, catalog_sql()))
        exact = [t for t in TABLES if t in present and not present[t] >= args.exact_below]
        figures = json.loads(psql(conf, work, figures_sql(present, exact)))
    except (DrillError, OSError, ValueError) as e:
        return [check("database", False, str(e))] + [
            check(n, False, "not checked: the database did not answer") for n in names]
    checks = [check("database", True, f"{conf['master_user']} connected with sslmode {conf['ssl_mode']}")]
    version = figures.get("schema")
    if "schema_migrations" not in present:
        checks.append(check("schema", False, "no schema_migrations table: Mastodon's schema was never loaded"))
    elif not version:
        checks.append(check("schema", False, "schema_migrations is empty: no migration ever ran"))
    else:
        checks.append(check("schema", True, f"version {version}", version=version))
    for table in TABLES:
        if table not in present:
            checks.append(check(f"rows.{table}", False, "the table is missing: not Mastodon's schema, "
                                "or an incomplete restore"))
            continue
        counted = "exact" if table in exact else "estimate"
        rows = figures["rows"][table] if counted == "exact" else max(present[table], 0)
        empty = rows == 0 and table in NOT_EMPTY
        detail = f"{rows} rows ({counted})" + (": empty, where a database that served has some" if empty else "")
        checks.append(check(f"rows.{table}", not empty, detail, rows=rows, counted=counted))
    if "media_attachments" not in present:
        checks.append(check("media", False, "no media_attachments table: nothing to fetch"))
    else:
        checks.append(media_check(conf, figures.get("media"), args.media_seconds))
    return checks


def main(argv):
    parser = argparse.ArgumentParser(prog="mastodon-drill", description=__doc__.split("\n")[0])
    parser.add_argument("config")
    parser.add_argument("--exact-below", type=int, default=10_000_000, metavar="ROWS",
                        help="count exactly the tables the planner estimates below ROWS (default 10000000)")
    parser.add_argument("--media-seconds", type=int, default=120, metavar="SECONDS",
                        help="the media fetch's bound (default 120)")
    args = parser.parse_args(argv[1:])
    if args.exact_below < 0 or not 1 <= args.media_seconds <= 3600:
        parser.error("--exact-below must be 0 or more, --media-seconds 1 to 3600")
    conf = read_config(args.config)
    work = tempfile.mkdtemp(prefix="mastodon-drill-")
    try:
        checks = run_checks(conf, work, args)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    ok = all(c["ok"] for c in checks)
    database = f"{conf['db_host']}:{conf['db_port']}/{conf['db_name']}"
    print(json.dumps({"ok": ok, "database": database, "checks": checks}, indent=2))
    for c in checks:
        if not c["ok"]:
            log(f"{c['name']} failed: {c['detail']}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
