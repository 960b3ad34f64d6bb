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
#
# The drain at termination is mastodon-drain's (mastodon-drain.service), which reads the drain_*
# keys of the same CONFIG; the pieces the three programs share are mastodon-lifecycle.sh's.
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
#   drain_hook, drain_timeout, drain_interval, drain_tag
#                      mastodon-drain's (mastodon-drain.sh): accepted here, read there
#
# The instance knows itself from instance metadata (its id, and its group's name from its
# aws:autoscaling:groupName tag: mastodon-lifecycle.sh's identify). Amazon EC2 Auto Scaling User
# Guide, "Amazon EC2 Auto Scaling lifecycle hooks" and "Complete a lifecycle action". Every wait
# here is bounded; no secret is read or printed.
set -euo pipefail

readonly PROGRAM=mastodon-ready
# log, now, imds, identify, aws_call, complete_action: shared with mastodon-drain and mastodon-pool.
# shellcheck source-path=SCRIPTDIR source=mastodon-lifecycle.sh
source "$(dirname "${BASH_SOURCE[0]}")/mastodon-lifecycle.sh"

usage() {
  echo "usage: mastodon-ready [--abandon REASON | --watch] CONFIG" >&2
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
    drain_hook | drain_timeout | drain_interval | drain_tag) ;; # mastodon-drain's
    *)
      log "$config: unknown key $key"
      exit 2
      ;;
  esac
done <"$config"
number='^[0-9]+(\.[0-9]+)?$'
if ! [[ $timeout =~ ^[0-9]+$ && $strikes =~ ^[1-9][0-9]*$ && $interval =~ $number && $watch_interval =~ $number ]]; then
  log "$config: timeout, interval, watch_interval and strikes must be numbers"
  exit 2
fi
if [ -z "$region" ] || [ -z "$hook" ]; then
  log "$config: region and hook are required"
  exit 2
fi
[ "$((${#units[@]} + ${#urls[@]}))" -gt 0 ] || { log "$config: no check (unit or http)"; exit 2; }

# The result this run sent or tried to send (so the exit trap never sends a second one).
sent=""

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
  if complete_action "$region" "$hook" "$result"; then
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

case "$mode" in
  ready) ready ;;
  abandon)
    log "abandoning: $reason"
    complete ABANDON
    ;;
  watch) watch ;;
esac
