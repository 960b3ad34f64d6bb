# shellcheck shell=bash
# mastodon-lifecycle: what mastodon-ready, mastodon-drain and mastodon-pool share, and the
# database's programs mastodon-database and mastodon-restore, and mastodon-redis-volume. Not a program: each of them sources it
# from its own directory (on a host /usr/local/sbin, where src/fleet/host/readiness.ts installs it
# beside them), after setting PROGRAM, its own name.
#
#   log MESSAGE...                     one line on stderr: "PROGRAM: MESSAGE"
#   now                                microseconds since the epoch
#   imds ITEM                          an instance metadata item (IMDSv2), each request bounded
#   identify                           sets instance_id and group (once; 1 when either is missing)
#   aws_call ARGS...                   an AWS CLI call, each attempt bounded, retried
#   complete_action REGION HOOK RESULT complete this instance's lifecycle action on HOOK (after identify)
#
# The instance id comes from the instance metadata service (IMDSv2: a session token first), the
# group's name from the instance's tags there (aws:autoscaling:groupName; the launch template
# enables instance tags in metadata). Amazon EC2 User Guide, "Use the Instance Metadata Service to
# access instance metadata" and "View tags for your EC2 instances from instance metadata"; Amazon
# EC2 Auto Scaling User Guide, "Complete a lifecycle action". Every wait here is bounded; no secret
# is read or printed. Each program reads the "key value" lines of its config itself: they share
# one file (mastodon-ready's) but not its keys.

# Test only: MASTODON_IMDS_URL points at a stand-in metadata service (src/host/boot.real.test.ts,
# src/fleet/host/drain.real.test.ts, src/fleet/host/pool.real.test.ts). On a host it is never set,
# and the link-local address is the metadata service.
readonly IMDS="${MASTODON_IMDS_URL:-http://169.254.169.254}"
# How long one AWS CLI call may take before it counts as failed, and how often to try one.
readonly AWS_CALL_SECONDS=30
readonly AWS_ATTEMPTS=5

instance_id=""
group=""

log() { printf '%s: %s\n' "$PROGRAM" "$*" >&2; }

# Microseconds since the epoch (bash 5; the separator in EPOCHREALTIME follows the locale).
now() { echo "${EPOCHREALTIME//[!0-9]/}"; }

# IMDSv2: PUT for a session token, then GET with it. curl retries refused connections and
# transient errors, each request bounded.
imds() {
  local token
  token=$(curl -fsS --max-time 5 --retry 3 --retry-connrefused --retry-max-time 30 -X PUT \
    -H "X-aws-ec2-metadata-token-ttl-seconds: 300" "$IMDS/latest/api/token") || return 1
  curl -fsS --max-time 5 --retry 3 --retry-connrefused --retry-max-time 30 \
    -H "X-aws-ec2-metadata-token: $token" "$IMDS/latest/meta-data/$1"
}

identify() {
  [ -n "$instance_id" ] && return 0
  instance_id=$(imds instance-id) || { log "no instance id from the instance metadata service"; return 1; }
  group=$(imds tags/instance/aws:autoscaling:groupName) ||
    { log "no aws:autoscaling:groupName tag in instance metadata (are instance tags enabled in metadata?)"; return 1; }
}

# An AWS CLI call, retried with a doubling pause (2, 4, 8, 16 s), each attempt killed after
# AWS_CALL_SECONDS.
aws_call() {
  local attempt=1 pause=2
  until timeout "$AWS_CALL_SECONDS" aws "$@"; do
    if [ "$attempt" -ge "$AWS_ATTEMPTS" ]; then
      log "aws $1 $2 failed $attempt times"
      return 1
    fi
    log "aws $1 $2 failed (attempt $attempt of $AWS_ATTEMPTS); again in ${pause}s"
    sleep "$pause"
    attempt=$((attempt + 1))
    pause=$((pause * 2))
  done
}

# complete_action REGION HOOK RESULT: CompleteLifecycleAction for this instance (identify first).
complete_action() {
  aws_call autoscaling complete-lifecycle-action --region "$1" \
    --lifecycle-hook-name "$2" --auto-scaling-group-name "$group" \
    --instance-id "$instance_id" --lifecycle-action-result "$3"
}
