#!/bin/bash
# mastodon-database: the database's lifecycle, run on the scheduler's host (exactly one host).
#
#   mastodon-database prepare CONFIG    the first boot step before any Mastodon unit starts:
#                                       1. the app's role, as the RDS master (role_sql: LOGIN, its
#                                          connection limit, owner of the database and of public);
#                                       2. with restore_url, into a database without Mastodon's
#                                          schema: a pg_dump archive (restore_program CONFIG);
#                                       3. the schema: an empty database gets Mastodon's schema
#                                          (rails db:schema:load), one that has it gets its pending
#                                          pre-deployment migrations (rails db:migrate with
#                                          SKIP_POST_DEPLOYMENT_MIGRATIONS set);
#                                       4. Mastodon's seeds (rails db:seed), only while the web app
#                                          (the superapp of db/seeds/01_web_app.rb) is missing;
#                                       5. the owner account (owner_username), once: created with
#                                          tootctl, its first password put into an SSM SecureString
#                                          (owner_password_parameter, declared with a placeholder);
#                                       6. Mastodon's OpenSearch user (search_program), then the search
#                                          indices (search_unit) in the background while no post exists.
#   mastodon-database role CONFIG       step 1 alone.
#   mastodon-database run CONFIG ARG... a one-off Rails command (ARG... after `bundle exec`) for an
#                                       operator, straight to PostgreSQL (the timers' tootctl runs
#                                       in sandboxed units).
#
# Every step is idempotent: a second run on a prepared database restores, loads and seeds nothing.
# The one-offs connect straight to PostgreSQL (DB_HOST and DB_PORT override .env.production's
# PgBouncer): migrations take locks and use session features transaction pooling would break. They
# count against the budget's admin headroom, below the role's limit.
#
# CONFIG (core/host/database.ts renders it) has one "key value" per line:
#   region R                     the instance's region (SSM)
#   db_host H, db_port P, db_name N   the primary, straight (not PgBouncer), and the database
#   master_user U, app_user U    the RDS master and the role Mastodon connects as
#   admin_password_parameter P, app_password_parameter P   SSM SecureStrings: the master's
#                                password, the app role's (DB_PASS)
#   role_sql PATH                the role's SQL (core/host/databaseRole.ts renderRoleSetupSql)
#   ssl_mode M, ca_bundle PATH   libpq's sslmode (verify-full against the RDS CA bundle ca_bundle)
#   env_file PATH                the host's rendered .env.production
#   image REF, images_unit UNIT  the release image (podman), the unit that pulls it; or none and:
#   live DIR, bundle PATH        the host's installation
#   owner_username U, owner_email E, owner_password_parameter P   the owner account (optional)
#   search_unit UNIT             the unit that runs tootctl search deploy (optional)
#   search_program PATH, search_* ...  Mastodon's OpenSearch user (mastodon-search-user reads them)
#   restore_program PATH, restore_* ...  the archive (optional; mastodon-restore reads them)
#
# Passwords never reach a command line, the journal or a file that outlives the run: the master's
# goes to libpq through a PGPASSFILE (mode 0600, removed on exit), the app role's only as a
# SCRAM-SHA-256 verifier on psql's stdin, the owner's from tootctl's output to SSM on the CLI's stdin.
set -euo pipefail

readonly PROGRAM=mastodon-database
# log and aws_call: mastodon-ready's library, beside this program on a host (/usr/local/sbin).
# Test only: MASTODON_LIFECYCLE_LIBRARY names its file where it is not beside it.
# shellcheck source-path=SCRIPTDIR source=../../fleet/host/files/mastodon-lifecycle.sh
source "${MASTODON_LIFECYCLE_LIBRARY:-$(dirname "${BASH_SOURCE[0]}")/mastodon-lifecycle.sh}"

usage() { echo "usage: mastodon-database prepare|role CONFIG | mastodon-database run CONFIG ARG..." >&2; exit 2; }

[ "$#" -ge 2 ] || usage
mode=$1
config=$2
shift 2
case "$mode" in
  prepare | role) [ "$#" -eq 0 ] || usage ;;
  run) [ "$#" -gt 0 ] || usage ;;
  *) usage ;;
esac
[ -r "$config" ] || { log "cannot read $config"; exit 2; }

declare -A conf=()
readonly KEYS=" region db_host db_port db_name master_user app_user admin_password_parameter app_password_parameter role_sql ssl_mode ca_bundle env_file image images_unit live bundle owner_username owner_email owner_password_parameter search_unit search_program search_url search_api search_master_user search_master_password_parameter search_app_user search_app_password_parameter search_role search_role_file search_seconds restore_program restore_url restore_seconds restore_hook restore_heartbeat "
while read -r key value; do
  case "$key" in
    "" | "#"*) continue ;;
  esac
  [[ $KEYS == *" $key "* ]] || { log "$config: unknown key $key"; exit 2; }
  conf[$key]=$value
done <"$config"
for key in region db_host db_port db_name master_user app_user admin_password_parameter \
  app_password_parameter role_sql ssl_mode ca_bundle env_file; do
  [ -n "${conf[$key]:-}" ] || { log "$config: $key is required"; exit 2; }
done
[[ ${conf[db_port]} =~ ^[0-9]+$ ]] || { log "$config: db_port must be a number"; exit 2; }
if [ -z "${conf[image]:-}" ] && { [ -z "${conf[live]:-}" ] || [ -z "${conf[bundle]:-}" ]; }; then
  log "$config: without image, live and bundle are required"
  exit 2
fi
if [ -n "${conf[owner_username]:-}" ] && { [ -z "${conf[owner_email]:-}" ] || [ -z "${conf[owner_password_parameter]:-}" ]; }; then
  log "$config: owner_username needs owner_email and owner_password_parameter"
  exit 2
fi

workdir=$(mktemp -d)
trap 'rm -rf "$workdir"' EXIT
umask 077

parameter() {
  aws_call ssm get-parameter --region "${conf[region]}" --with-decryption --name "$1" \
    --query Parameter.Value --output text
}

# SQL as the RDS master, to the app's database: psql's own arguments after it (-c, -v, ...).
master_psql() {
  PGPASSFILE="$workdir/pgpass" PGSSLMODE="${conf[ssl_mode]}" PGSSLROOTCERT="${conf[ca_bundle]}" \
    PGCONNECT_TIMEOUT=30 psql -X -w -q -v ON_ERROR_STOP=1 -h "${conf[db_host]}" -p "${conf[db_port]}" \
    -U "${conf[master_user]}" -d "${conf[db_name]}" "$@"
}

master_login() {
  [ -s "$workdir/pgpass" ] && return 0
  local password
  password=$(parameter "${conf[admin_password_parameter]}")
  # Generated alphanumeric: nothing to escape in a pgpass line.
  [[ $password =~ ^[A-Za-z0-9]+$ ]] || { log "the master's password is not alphanumeric"; return 1; }
  printf '*:*:*:%s:%s\n' "${conf[master_user]}" "$password" >"$workdir/pgpass"
}

# PostgreSQL's stored SCRAM-SHA-256 verifier (RFC 5802 and 7677; PostgreSQL's documentation,
# "Password Authentication"), 4096 iterations as PostgreSQL's own scram_iterations; the password on
# stdin. The password is alphanumeric, so SASLprep leaves it unchanged.
# shellcheck disable=SC2016 # the $ signs are the Python program's own
readonly SCRAM_PY='
import base64, hashlib, hmac, os, sys
password = sys.stdin.read().encode()
salt = os.urandom(16)
salted = hashlib.pbkdf2_hmac("sha256", password, salt, 4096)
client = hmac.new(salted, b"Client Key", "sha256").digest()
server = hmac.new(salted, b"Server Key", "sha256").digest()
b64 = lambda b: base64.b64encode(b).decode()
print("SCRAM-SHA-256$4096:%s$%s:%s" % (b64(salt), b64(hashlib.sha256(client).digest()), b64(server)))
'

role() {
  local app_password verifier
  master_login
  app_password=$(parameter "${conf[app_password_parameter]}")
  [[ $app_password =~ ^[A-Za-z0-9]+$ ]] || { log "the app role's password is not alphanumeric"; return 1; }
  verifier=$(printf '%s' "$app_password" | python3 -c "$SCRAM_PY")
  { printf "\\\\set app_password_verifier '%s'\n" "$verifier"; cat "${conf[role_sql]}"; } | master_psql
  log "role ${conf[app_user]} is set up"
}

# The archive (restore_url), only into a database without Mastodon's schema.
restore() {
  [ "$(ask -c "SELECT to_regclass('public.schema_migrations') IS NULL")" = t ] ||
    { log "the database has a schema: the archive is not restored again"; return 0; }
  "${conf[restore_program]:?restore_url needs restore_program}" "$config"
}

# A one-off Rails command: `bundle exec ARG...` in the release image, or in the host's installation.
rails() {
  local direct=(RAILS_ENV=production "DB_HOST=${conf[db_host]}" "DB_PORT=${conf[db_port]}"
    DB_SSLMODE=verify-full PREPARED_STATEMENTS=true "${extra_env[@]}")
  if [ -n "${conf[image]:-}" ]; then
    # --log-driver=none: podman's default (journald) would copy the container's output into the
    # journal, the owner's password with it; what the caller does not capture reaches the journal
    # through this program's own stdout.
    local run=(podman run --rm --pull=never --log-driver=none --network=host --cap-drop=all
      --security-opt=no-new-privileges
      "--volume=${conf[env_file]}:/opt/mastodon/.env.production:ro"
      "--volume=${conf[ca_bundle]}:/opt/mastodon/.postgresql/root.crt:ro")
    local v
    for v in "${direct[@]}"; do run+=(-e "$v"); done
    "${run[@]}" "${conf[image]}" bundle exec "$@"
  else
    (cd "${conf[live]}" && sudo -u mastodon env "${direct[@]}" "${conf[bundle]}" exec "$@")
  fi
}
extra_env=()

# "t" or "f": a yes-or-no question to the database, as the master.
ask() { master_psql -tA "$@"; }

schema() {
  local loaded
  loaded=$(ask -c "SELECT to_regclass('public.schema_migrations') IS NOT NULL")
  if [ "$loaded" = f ]; then
    log "the database has no schema: loading Mastodon's (rails db:schema:load)"
    rails rails db:schema:load
  else
    log "the database has a schema: its pending pre-deployment migrations (rails db:migrate)"
    # Mastodon reads the variable's presence, not its value (lib/mastodon/database.rb); its db.rake
    # refuses it below schema 2023_09_07_150100, which a database this old must cross by hand.
    extra_env=(SKIP_POST_DEPLOYMENT_MIGRATIONS=true)
    rails rails db:migrate
    extra_env=()
  fi
  # Not the instance actor (-99): a migration and Account.representative make it too.
  if [ "$(ask -c "SELECT EXISTS (SELECT FROM oauth_applications WHERE superapp)")" = f ]; then
    log "no web app record: running Mastodon's seeds (rails db:seed)"
    rails rails db:seed
  else
    log "the seeds ran before: not seeding"
  fi
}

# The password line tootctl prints ("New password: <hex>"), kept out of every log.
store_password() {
  local output=$1 password
  # SecureRandom.hex: 32 hexadecimal digits (lib/mastodon/cli/accounts.rb).
  password=$(printf '%s\n' "$output" | sed -n 's/^New password: \([0-9a-f]\{32\}\)$/\1/p' | tail -n 1)
  printf '%s\n' "$output" | grep -v '^New password:' >&2 || true
  [ -n "$password" ] || { log "tootctl printed no new password"; return 1; }
  # The value reaches the CLI in a file only root reads (removed on exit), never on its command line.
  printf '{"Name":"%s","Type":"SecureString","Overwrite":true,"Value":"%s","Description":"%s"}' \
    "${conf[owner_password_parameter]}" "$password" "First password of the Mastodon owner ${conf[owner_username]}" \
    >"$workdir/owner.json"
  aws_call ssm put-parameter --region "${conf[region]}" --cli-input-json "file://$workdir/owner.json" >/dev/null
  rm -f "$workdir/owner.json"
  log "the owner's first password is in SSM parameter ${conf[owner_password_parameter]}"
}

# Whether the owner's first password was stored: 0 yes, 1 no, 2 cannot tell. The stack declares the
# parameter with a placeholder (its version 1); this program's write makes version 2 or later.
stored() {
  local version
  if ! version=$(aws_call ssm get-parameter --region "${conf[region]}" \
    --name "${conf[owner_password_parameter]}" --query Parameter.Version --output text); then
    log "cannot read ${conf[owner_password_parameter]}"
    return 2
  fi
  [[ $version =~ ^[0-9]+$ ]] || { log "${conf[owner_password_parameter]} has version $version"; return 2; }
  [ "$version" -gt 1 ]
}

owner() {
  local user=${conf[owner_username]} state output
  [[ $user =~ ^[A-Za-z0-9_]{1,30}$ ]] || { log "owner_username $user is not a Mastodon username"; return 1; }
  # exists / never signed in, as "t|t".
  state=$(ask -c "SELECT EXISTS (SELECT FROM accounts WHERE lower(username) = lower('$user') AND domain IS NULL),
    COALESCE((SELECT u.sign_in_count = 0 FROM users u JOIN accounts a ON a.id = u.account_id
      WHERE lower(a.username) = lower('$user') AND a.domain IS NULL), true)" -F '|')
  if [ "${state%|*}" = f ]; then
    log "creating the owner account $user"
    output=$(rails bin/tootctl accounts create "$user" --email "${conf[owner_email]}" --confirmed --role Owner)
    store_password "$output"
    return 0
  fi
  local have=0
  stored || have=$?
  [ "$have" -ne 2 ] || return 1
  if [ "$have" -eq 0 ]; then
    log "the owner account $user exists: nothing to do"
  elif [ "${state#*|}" = t ]; then
    # Created by a run that could not store its password: a new one, as nobody has used the first.
    log "the owner account $user exists, never signed in, and its password was never stored: resetting it"
    output=$(rails bin/tootctl accounts modify "$user" --reset-password)
    store_password "$output"
  else
    log "the owner account $user exists and has signed in: leaving its password alone"
  fi
}

case "$mode" in
  role) role ;;
  run) rails "$@" ;;
  prepare)
    if [ -n "${conf[images_unit]:-}" ]; then
      # The pull retries itself (Restart=on-failure); a start job still reports each failure.
      pulls=1
      until systemctl start "${conf[images_unit]}"; do
        [ "$pulls" -lt 10 ] || { log "${conf[images_unit]} failed $pulls times"; exit 1; }
        pulls=$((pulls + 1))
        sleep 10
      done
    fi
    role
    if [ -n "${conf[restore_url]:-}" ]; then restore; fi
    schema
    if [ -n "${conf[owner_username]:-}" ]; then owner; fi
    # While the database holds no post, tootctl search deploy creates the indices and has next to
    # nothing to import: at every such boot, so a first deploy that failed half-way still gets them.
    # Once there are posts it re-imports everything (hours on a large instance): not at every boot
    # of this host, but when the operator asks (npm run upgrade -- --search-deploy), as Mastodon's
    # docs and upgrade notes say.
    if [ -n "${conf[search_unit]:-}" ]; then
      # At every boot (it changes nothing once made): before anything indexes as that user.
      "${conf[search_program]:?search_unit needs search_program}" "$config"
      if [ "$(ask -c "SELECT NOT EXISTS (SELECT FROM statuses)")" = t ]; then
        log "starting ${conf[search_unit]} (tootctl search deploy) in the background"
        systemctl start --no-block "${conf[search_unit]}"
      else
        log "the database holds posts: the search indices are deployed on request (npm run upgrade -- --search-deploy)"
      fi
    fi
    log "the database is ready"
    ;;
esac
