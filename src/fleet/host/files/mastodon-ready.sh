#!/bin/bash
# mastodon-ready: tell the Auto Scaling group whether this host is ready to serve.
#
#   mastodon-ready CONFIG                   wait (bounded) until every check passes, then complete
#                                           the launch lifecycle action with CONTINUE; on timeout
#                                           or any failure, complete it with ABANDON (the group
#                                           then terminates the instance and launches another)
#   mastodon-ready --abandon REASON CONFIG  complete it with ABANDON now, logging REASON (the boot
#                                           unit's OnFailure=), unless it was already completed
#   mastodon-ready --watch CONFIG           after a boot that completed with CONTINUE, check every
#                                           watch_interval seconds; after `strikes` failed checks
#                                           in a row, mark the instance Unhealthy so the group
#                                           replaces it (mastodon-watch.service runs it)
#   mastodon-ready --drain CONFIG           once the group terminates this instance (scale-in, an
#                                           instance refresh: its target lifecycle state turns
#                                           Terminated), quiet Sidekiq (TSTP: it fetches no more
#                                           jobs), wait at most drain_timeout seconds for the jobs
#                                           it runs, stop mastodon.target, and complete the
#                                           termination hook with CONTINUE (mastodon-drain.service)
#
# CONFIG (core/host/readiness.ts renders it) has one "key value" per line:
#   region R           the instance's region
#   hook NAME          the group's launch lifecycle hook
#   timeout S          how long to wait for the checks to pass (whole seconds)
#   interval S         the pause between two rounds of checks
#   watch_interval S   --watch: the pause between two rounds of checks
#   strikes N          --watch: failed rounds in a row before the instance is marked Unhealthy
#   state DIR          where the lifecycle action's outcome is kept (survives a reboot)
#   unit U             a check: `systemctl is-active U` says active (repeatable)
#   http URL           a check: URL answers 2xx (repeatable)
#   drain_hook NAME    --drain: the group's termination lifecycle hook
#   drain_timeout S    --drain: how long the running jobs may take to finish (whole seconds)
#   drain_interval S   --drain: the pause between two reads of the lifecycle state, and of the jobs
#   drain_tag TAG      --drain: Sidekiq's process tag (sidekiq -g TAG): which processes to quiet
#
# Sidekiq rewrites its process title on every heartbeat: "sidekiq 6.4.1 TAG [3 of 10 busy]", with
# " stopping" once quiet (Sidekiq's launcher, PROCTITLES); the drain reads the running jobs there.
# The target lifecycle state is in instance metadata (Amazon EC2 Auto Scaling User Guide, "Retrieve
# the target lifecycle state through instance metadata").
#
# The instance id comes from the instance metadata service (IMDSv2: a session token first), the
# group's name from the instance's tags there (aws:autoscaling:groupName; the launch template
# enables instance tags in metadata). Amazon EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling
# lifecycle hooks" and "Complete a lifecycle action"; Amazon EC2 User Guide, "Use the Instance
# Metadata Service to access instance metadata" and "View tags for your EC2 instances from
# instance metadata". Every wait here is bounded; no secret is read or printed.
set -euo pipefail

# Test only: MASTODON_IMDS_URL points at a stand-in metadata service (test/real/boot.real.test.ts).
# On a host it is never set, and the link-local address is the metadata service.
readonly IMDS="${MASTODON_IMDS_URL:-http://169.254.169.254}"
# How long one AWS CLI call may take before it counts as failed, and how often to try one.
readonly AWS_CALL_SECONDS=30
readonly AWS_ATTEMPTS=5

log() { printf 'mastodon-ready: %s\n' "$*" >&2; }

usage() {
  echo "usage: mastodon-ready [--abandon REASON | --watch | --drain] CONFIG" >&2
  exit 2
}

mode=ready
reason=""
case "${1:-}" in
  --abandon)
    [ "$#" -eq 3 ] || usage
    mode=abandon
    reason=$2
    shift 2
    ;;
  --watch)
    [ "$#" -eq 2 ] || usage
    mode=watch
    shift
    ;;
  --drain)
    [ "$#" -eq 2 ] || usage
    mode=drain
    shift
    ;;
  -*) usage ;;
  *) [ "$#" -eq 1 ] || usage ;;
esac
config=$1
[ -r "$config" ] || { log "cannot read $config"; exit 2; }

region=""
hook=""
timeout=600
interval=5
watch_interval=60
strikes=5
state=/var/lib/mastodon-ready
units=()
urls=()
drain_hook=""
drain_timeout=300
drain_interval=5
drain_tag=""
while read -r key value; do
  case "$key" in
    "" | "#"*) ;;
    region) region=$value ;;
    hook) hook=$value ;;
    timeout) timeout=$value ;;
    interval) interval=$value ;;
    watch_interval) watch_interval=$value ;;
    strikes) strikes=$value ;;
    state) state=$value ;;
    unit) units+=("$value") ;;
    http) urls+=("$value") ;;
    drain_hook) drain_hook=$value ;;
    drain_timeout) drain_timeout=$value ;;
    drain_interval) drain_interval=$value ;;
    drain_tag) drain_tag=$value ;;
    *)
      log "$config: unknown key $key"
      exit 2
      ;;
  esac
done <"$config"
number='^[0-9]+(\.[0-9]+)?$'
if ! [[ $timeout =~ ^[0-9]+$ && $strikes =~ ^[1-9][0-9]*$ && $interval =~ $number && $watch_interval =~ $number &&
  $drain_timeout =~ ^[0-9]+$ && $drain_interval =~ $number ]]; then
  log "$config: timeout, interval, watch_interval, strikes, drain_timeout and drain_interval must be numbers"
  exit 2
fi
if [ "$mode" = drain ] && ! [[ $drain_hook =~ ^[A-Za-z0-9_.-]+$ && $drain_tag =~ ^[A-Za-z0-9_.-]+$ ]]; then
  log "$config: --drain needs drain_hook and drain_tag (letters, digits, ., _ and -)"
  exit 2
fi
if [ -z "$region" ] || [ -z "$hook" ]; then
  log "$config: region and hook are required"
  exit 2
fi
[ "$((${#units[@]} + ${#urls[@]}))" -gt 0 ] || { log "$config: no check (unit or http)"; exit 2; }

instance_id=""
group=""
# The result this run sent or tried to send (so the exit trap never sends a second one).
sent=""

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

# complete RESULT: complete this instance's launch lifecycle action, once per instance.
complete() {
  local result=$1
  mkdir -p "$state"
  if [ -s "$state/completed" ]; then
    log "the lifecycle action was already completed with $(cat "$state/completed"); not sending $result"
    return 0
  fi
  sent=$result
  identify || return 1
  if aws_call autoscaling complete-lifecycle-action --region "$region" \
    --lifecycle-hook-name "$hook" --auto-scaling-group-name "$group" \
    --instance-id "$instance_id" --lifecycle-action-result "$result"; then
    echo "$result" >"$state/completed"
    log "completed lifecycle hook $hook of $group for $instance_id: $result"
  else
    log "could not complete lifecycle hook $hook with $result; the hook's heartbeat timeout will (its default result is ABANDON)"
    return 1
  fi
}

# abandon WHY: log why, complete with ABANDON, exit 1.
abandon() {
  log "abandoning: $1"
  complete ABANDON || true
  exit 1
}

# One round of checks; the ones that fail are left in `failing`.
failing=()
probe() {
  failing=()
  local unit url status
  for unit in "${units[@]}"; do
    status=$(systemctl is-active "$unit" 2>/dev/null) || true
    [ "$status" = active ] || failing+=("$unit is ${status:-unknown}")
  done
  for url in "${urls[@]}"; do
    curl -fsS -o /dev/null --max-time 5 "$url" 2>/dev/null || failing+=("$url does not answer")
  done
  [ "${#failing[@]}" -eq 0 ]
}

# Whatever stops this run before it completed the action (a failed command under set -e, a
# signal, systemd's TimeoutStartSec) still ends in ABANDON.
on_exit() {
  local status=$?
  trap - EXIT
  if [ "$status" -ne 0 ] && [ -z "$sent" ]; then
    log "abandoning: stopped with status $status before the host was ready"
    complete ABANDON || true
  fi
  exit "$status"
}

# Microseconds since the epoch (bash 5; the separator in EPOCHREALTIME follows the locale).
now() { echo "${EPOCHREALTIME//[!0-9]/}"; }

ready() {
  trap on_exit EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  local start deadline last=""
  start=$(now)
  deadline=$((start + timeout * 1000000))
  identify || abandon "the instance could not identify itself"
  log "waiting at most ${timeout}s for $instance_id in $group: ${units[*]} ${urls[*]}"
  until probe; do
    if [ "${failing[*]}" != "$last" ]; then
      last="${failing[*]}"
      log "not ready: $last"
    fi
    [ "$(now)" -lt "$deadline" ] || abandon "not ready after ${timeout}s: ${failing[*]}"
    sleep "$interval"
  done
  log "ready after $((($(now) - start) / 1000000))s"
  complete CONTINUE || exit 1
}

# Runs for as long as the host does (mastodon-watch.service), each round bounded.
watch() {
  if [ "$(cat "$state/completed" 2>/dev/null)" != CONTINUE ]; then
    log "the boot did not complete with CONTINUE; nothing to watch"
    return 0
  fi
  local count=0
  log "checking every ${watch_interval}s; $strikes failed checks in a row mark the instance Unhealthy"
  while :; do
    sleep "$watch_interval"
    if probe; then
      [ "$count" -eq 0 ] || log "healthy again after $count failed checks"
      count=0
      continue
    fi
    count=$((count + 1))
    log "check $count of $strikes failed: ${failing[*]}"
    [ "$count" -ge "$strikes" ] || continue
    if identify && log "marking $instance_id Unhealthy: the group will replace it" &&
      aws_call autoscaling set-instance-health --region "$region" --instance-id "$instance_id" \
        --health-status Unhealthy; then
      return 0
    fi
    log "could not mark the instance Unhealthy; trying again after the next failed check"
  done
}

# "PID BUSY" for each Sidekiq process with this host's tag, from its process title.
sidekiq_processes() {
  local dir title pattern="^sidekiq [^ ]+ ${drain_tag} \\[([0-9]+) of [0-9]+ busy\\]"
  for dir in /proc/[0-9]*; do
    title=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
    if [[ $title =~ $pattern ]]; then
      echo "${dir#/proc/} ${BASH_REMATCH[1]}"
    fi
  done
}

# Runs for as long as the host does (mastodon-drain.service); acts once, when it is terminated.
drain() {
  local lifecycle pid busy total deadline
  until [ "$(imds autoscaling/target-lifecycle-state 2>/dev/null)" = Terminated ]; do
    sleep "$drain_interval"
  done
  identify || exit 1
  log "$instance_id is being terminated: quieting Sidekiq ($drain_tag), at most ${drain_timeout}s for its jobs"
  while read -r pid _; do
    kill -TSTP "$pid" 2>/dev/null || true
  done < <(sidekiq_processes)
  deadline=$(($(now) + drain_timeout * 1000000))
  while :; do
    total=0
    while read -r _ busy; do
      total=$((total + busy))
    done < <(sidekiq_processes)
    if [ "$total" -eq 0 ]; then
      log "no job running"
      break
    fi
    if [ "$(now)" -ge "$deadline" ]; then
      log "$total jobs still running after ${drain_timeout}s; stopping (Sidekiq pushes them back onto their queues)"
      break
    fi
    sleep "$drain_interval"
  done
  timeout 120 systemctl stop mastodon.target || log "mastodon.target did not stop within 120s"
  lifecycle=CONTINUE
  if aws_call autoscaling complete-lifecycle-action --region "$region" \
    --lifecycle-hook-name "$drain_hook" --auto-scaling-group-name "$group" \
    --instance-id "$instance_id" --lifecycle-action-result "$lifecycle"; then
    log "completed lifecycle hook $drain_hook of $group for $instance_id: $lifecycle"
  else
    log "could not complete lifecycle hook $drain_hook; its heartbeat timeout will (default CONTINUE)"
  fi
}

case "$mode" in
  ready) ready ;;
  abandon)
    log "abandoning: $reason"
    complete ABANDON
    ;;
  watch) watch ;;
  drain) drain ;;
esac
