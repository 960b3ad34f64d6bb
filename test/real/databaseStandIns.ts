/**
 * The stand-ins src/database/database.real.test.ts puts on PATH for what the scheduler's host has and
 * the test cannot run: each a small /bin/sh program that records its argv into $FAKE_LOG/calls.log,
 * in order (that file's header says what each plays).
 */
const record = (program: string) =>
  `{ printf ${program}; printf '\\t%s' "$@"; printf '\\n'; } >>"$FAKE_LOG/calls.log"`;

export const AWS = `#!/bin/sh
# aws stand-in: s3 cp of an object under $FAKE_S3; ssm get-parameter from files under $FAKE_SSM
# (NAME holds the value, NAME.version the version once a put-parameter wrote one: 1 before, as for
# the stack's placeholder); put-parameter records its --cli-input-json file and makes the next version;
# a lifecycle heartbeat is recorded only.
${record("aws")}
# s3 cp s3://BUCKET/KEY FILE: the object from $FAKE_S3/BUCKET/KEY, as the CLI fails on a missing one.
if [ "$1 $2" = "s3 cp" ]; then
  for a; do from=\${to:-}; to=$a; done
  case "$from" in s3://*) ;; *) echo "aws stand-in: s3 cp from $from" >&2; exit 252 ;; esac
  cp "$FAKE_S3/\${from#s3://}" "$to" 2>/dev/null || { echo "fatal error: An error occurred (404) when calling the HeadObject operation: Key not found" >&2; exit 1; }
  exit 0
fi
command="$1 $2" name= query= input=
while [ $# -gt 0 ]; do
  case "$1" in
    --name) name=$2; shift ;;
    --query) query=$2; shift ;;
    --cli-input-json) input=\${2#file://}; shift ;;
  esac
  shift
done
version() { cat "$FAKE_SSM$1.version" 2>/dev/null || echo 1; }
case "$command $query" in
  "ssm get-parameter Parameter.Value") exec cat "$FAKE_SSM$name" ;;
  "ssm get-parameter Parameter.Version") version "$name" ;;
  "autoscaling record-lifecycle-action-heartbeat ") ;;
  "ssm put-parameter ")
    { cat "$input"; echo; } >>"$FAKE_LOG/put-parameter.log"
    name=$(sed -n 's/.*"Name":"\\([^"]*\\)".*/\\1/p' "$input")
    [ -f "$FAKE_SSM$name" ] || { echo "aws stand-in: ParameterNotFound $name" >&2; exit 254; }
    next=$(($(version "$name") + 1))
    sed -n 's/.*"Value":"\\([^"]*\\)".*/\\1/p' "$input" >"$FAKE_SSM$name"
    echo "$next" >"$FAKE_SSM$name.version"
    printf '{"Version": %s, "Tier": "Standard"}\\n' "$next" ;;
  *) echo "aws stand-in: unexpected $command $query" >&2; exit 252 ;;
esac
`;

export const PODMAN = `#!/bin/sh
# podman stand-in: records its argv, then plays the Rails commands mastodon-database runs, with psql
# as the role .env.production names, where the container's environment (-e) says.
${record("podman")}
[ "$1" = run ] || { echo "podman stand-in: not a run: $*" >&2; exit 125; }
envfile= ca= host= port= sslmode=
while [ $# -gt 0 ]; do
  case "$1" in
    --volume=*:/opt/mastodon/.env.production:ro) envfile=\${1#--volume=}; envfile=\${envfile%%:*} ;;
    --volume=*:/opt/mastodon/.postgresql/root.crt:ro) ca=\${1#--volume=}; ca=\${ca%%:*} ;;
    -e)
      shift
      case "$1" in
        DB_HOST=*) host=\${1#DB_HOST=} ;;
        DB_PORT=*) port=\${1#DB_PORT=} ;;
        DB_SSLMODE=*) sslmode=\${1#DB_SSLMODE=} ;;
      esac ;;
    bundle) break ;;
  esac
  shift
done
[ "$1 $2" = "bundle exec" ] || { echo "podman stand-in: no bundle exec" >&2; exit 125; }
shift 2
[ -r "$envfile" ] || { echo "podman stand-in: no .env.production volume" >&2; exit 125; }
setting() { sed -n "s/^$1=//p" "$envfile"; }
# dotenv leaves what the environment already has: -e wins over the file.
host=\${host:-$(setting DB_HOST)}
port=\${port:-$(setting DB_PORT)}
sql() {
  PGPASSWORD=$(setting DB_PASS) PGSSLMODE=\${sslmode:-prefer} PGSSLROOTCERT=$ca PGCONNECT_TIMEOUT=30 \\
    psql -X -w -q -v ON_ERROR_STOP=1 -h "$host" -p "$port" -U "$(setting DB_USER)" -d "$(setting DB_NAME)" -c "$1"
}
hex() { od -An -N16 -tx1 /dev/urandom | tr -d ' \\n'; }
case "$*" in
  "rails db:schema:load")
    sql "CREATE TABLE schema_migrations (version varchar PRIMARY KEY);
      CREATE TABLE ar_internal_metadata (key varchar PRIMARY KEY, value varchar);
      CREATE TABLE oauth_applications (id bigserial PRIMARY KEY, superapp boolean NOT NULL DEFAULT false);
      CREATE TABLE accounts (id bigserial PRIMARY KEY, username varchar NOT NULL, domain varchar);
      CREATE TABLE users (id bigserial PRIMARY KEY, account_id bigint NOT NULL REFERENCES accounts,
        sign_in_count integer NOT NULL DEFAULT 0);
      CREATE TABLE statuses (id bigserial PRIMARY KEY, text text NOT NULL DEFAULT '');
      INSERT INTO schema_migrations VALUES ('20250101000000')" ;;
  "rails db:seed") sql "INSERT INTO oauth_applications (superapp) VALUES (true)" ;;
  "rails db:migrate") ;;
  "bin/tootctl accounts create $4 --email $6 --confirmed --role Owner")
    sql "WITH a AS (INSERT INTO accounts (username) VALUES ('$4') RETURNING id)
      INSERT INTO users (account_id) SELECT id FROM a"
    echo OK
    echo "New password: $(hex)" ;;
  "bin/tootctl accounts modify $4 --reset-password")
    echo OK
    echo "New password: $(hex)" ;;
  *) echo "podman stand-in: unexpected command: $*" >&2; exit 1 ;;
esac
`;

export const SYSTEMCTL = `#!/bin/sh
# systemctl stand-in: records only.
${record("systemctl")}
`;
