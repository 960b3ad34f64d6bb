#!/bin/bash
# mastodon-restore: restore a pg_dump archive into the stack's empty database, as the app's role
# (mastodon:database.restoreFrom.dump).
#
#   mastodon-restore CONFIG
#
# `mastodon-database prepare CONFIG` runs it after the role step and before the schema step, only
# while the database has no schema_migrations table. CONFIG is mastodon-database's (src/database/
# database.ts renders it); this reads its region, db_host, db_port, db_name, app_user,
# app_password_parameter, ssl_mode, ca_bundle and:
#   restore_url s3://BUCKET/KEY   the archive `pulumi up` uploaded (pg_dump's custom format, -Fc)
#   restore_seconds S             how long the download and the restore may take together
#   restore_hook NAME             the group's launch lifecycle hook, kept waiting while this runs
#   restore_heartbeat S           the pause between two heartbeats on it
#
# As the app's role, which owns the database and its public schema (the role step), every table,
# sequence, view and index the archive makes is the role's own. pg_restore leaves out (pg_restore's
# documentation): the archive's owners (--no-owner: the old instance's role names mean nothing
# here), its grants (--no-privileges: to roles this database does not have), publications,
# subscriptions and security labels; and this program takes the extensions out of the archive's list
# (pg_restore -l / -L), with their comments: Mastodon's schema needs none beyond plpgsql, which every
# database has, and RDS lets only rds_superuser create one. One transaction (--single-transaction,
# --exit-on-error): a restore that fails leaves the database empty, and the next boot tries again.
#
# A restore may take longer than the launch hook's heartbeat timeout: this records a heartbeat at
# its start and every restore_heartbeat seconds until it ends (RecordLifecycleActionHeartbeat
# restarts the timeout; Amazon EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling lifecycle
# hooks"), within the hook's global timeout (48 hours). The instance and its group come from
# instance metadata.
#
# The app role's password reaches libpq through a PGPASSFILE (mode 0600, removed on exit), never a
# command line or the journal.
set -euo pipefail

readonly PROGRAM=mastodon-restore
# log, identify and aws_call: mastodon-ready's library, beside this program on a host
# (/usr/local/sbin). Test only: MASTODON_LIFECYCLE_LIBRARY names its file where it is not beside it.
# shellcheck source-path=SCRIPTDIR source=../../fleet/host/files/mastodon-lifecycle.sh
source "${MASTODON_LIFECYCLE_LIBRARY:-$(dirname "${BASH_SOURCE[0]}")/mastodon-lifecycle.sh}"

[ "$#" -eq 1 ] || { echo "usage: mastodon-restore CONFIG" >&2; exit 2; }
config=$1
[ -r "$config" ] || { log "cannot read $config"; exit 2; }

declare -A conf=()
readonly KEYS=" region db_host db_port db_name app_user app_password_parameter ssl_mode ca_bundle restore_url restore_seconds restore_hook restore_heartbeat "
# mastodon-database's file: its other keys are its own.
while read -r key value; do
  if [[ $KEYS == *" $key "* ]]; then conf[$key]=$value; fi
done <"$config"
for key in $KEYS; do
  [ -n "${conf[$key]:-}" ] || { log "$config: $key is required"; exit 2; }
done
[[ ${conf[restore_url]} =~ ^s3://[a-z0-9.-]+/.+$ ]] || { log "restore_url ${conf[restore_url]} is not s3://BUCKET/KEY"; exit 2; }
for key in restore_seconds restore_heartbeat; do
  [[ ${conf[$key]} =~ ^[0-9]+$ ]] || { log "$key must be a number"; exit 2; }
done
readonly deadline=$((SECONDS + conf[restore_seconds]))
# What is left of the bound, at least a second (timeout refuses 0).
left() { local s=$((deadline - SECONDS)); echo $((s > 0 ? s : 1)); }

workdir=$(mktemp -d)
keeper=""
trap '[ -z "$keeper" ] || kill "$keeper" 2>/dev/null || true; rm -rf "$workdir"' EXIT
umask 077

# One heartbeat, bounded (AWS_CALL_SECONDS); a failed one is logged, and the next round tries again.
heartbeat() {
  timeout "$AWS_CALL_SECONDS" aws autoscaling record-lifecycle-action-heartbeat --region "${conf[region]}" \
    --lifecycle-hook-name "${conf[restore_hook]}" --auto-scaling-group-name "$group" \
    --instance-id "$instance_id" || log "no heartbeat recorded on ${conf[restore_hook]}"
}
# Then one every restore_heartbeat seconds. The pause holds no pipe of this program's, so that
# killing the loop ends it at once for the caller.
keep_alive() {
  while true; do
    sleep "${conf[restore_heartbeat]}" >/dev/null 2>&1
    heartbeat
  done
}
if identify; then
  # The first one before the restore starts, not in the loop: a small archive can be restored (and
  # the loop killed) before a background loop's first call would have run.
  heartbeat
  keep_alive &
  keeper=$!
else
  log "without the instance's identity, no heartbeat: the restore must end within the hook's timeout"
fi

password=$(aws_call ssm get-parameter --region "${conf[region]}" --with-decryption \
  --name "${conf[app_password_parameter]}" --query Parameter.Value --output text)
# Generated alphanumeric: nothing to escape in a pgpass line.
[[ $password =~ ^[A-Za-z0-9]+$ ]] || { log "the app role's password is not alphanumeric"; exit 1; }
printf '*:*:*:%s:%s\n' "${conf[app_user]}" "$password" >"$workdir/pgpass"
unset password
export PGHOST=${conf[db_host]} PGPORT=${conf[db_port]} PGDATABASE=${conf[db_name]} \
  PGUSER=${conf[app_user]} PGPASSFILE=$workdir/pgpass PGSSLMODE=${conf[ssl_mode]} \
  PGSSLROOTCERT=${conf[ca_bundle]} PGCONNECT_TIMEOUT=30

archive="$workdir/mastodon.dump"
log "fetching ${conf[restore_url]}"
timeout "$(left)" aws s3 cp --only-show-errors --region "${conf[region]}" "${conf[restore_url]}" "$archive"
log "fetched $(stat -c %s "$archive") bytes"

# An entry of pg_restore -l: "ID; TABLEOID OID TYPE ...", e.g. "3373; 0 0 COMMENT - EXTENSION x".
readonly EXTENSION_ENTRY='^[0-9]+; [0-9]+ [0-9]+ (EXTENSION|COMMENT - EXTENSION) '
timeout "$(left)" pg_restore --list "$archive" >"$workdir/archive.list"
while read -r entry; do
  log "leaving out: ${entry#*; * * }"
done < <(grep -E "$EXTENSION_ENTRY" "$workdir/archive.list" || true)
grep -v -E "$EXTENSION_ENTRY" "$workdir/archive.list" >"$workdir/restore.list" || true

log "restoring into $PGDATABASE as $PGUSER, in one transaction"
timeout "$(left)" pg_restore --no-owner --no-privileges --no-publications --no-subscriptions \
  --no-security-labels --single-transaction --exit-on-error --use-list="$workdir/restore.list" \
  --dbname="$PGDATABASE" "$archive"
log "restored ${conf[restore_url]}"
