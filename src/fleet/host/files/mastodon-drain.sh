#!/bin/bash
# mastodon-drain: let a Sidekiq host's running jobs finish when the Auto Scaling group terminates it.
#
#   mastodon-drain CONFIG   once the group terminates this instance (scale-in, an instance refresh:
#                           its target lifecycle state turns Terminated), quiet Sidekiq (TSTP: it
#                           fetches no more jobs), wait at most drain_timeout seconds for the jobs it
#                           runs, stop mastodon.target, and complete the termination hook with
#                           CONTINUE. mastodon-drain.service runs it for as long as the host runs.
#
# CONFIG is mastodon-ready's (src/fleet/host/readiness.ts renders it, with the drain's keys on a
# host running Sidekiq); this reads these of its "key value" lines and leaves the others to
# mastodon-ready, which refuses a key neither knows:
#   region R           the instance's region
#   drain_hook NAME    the group's termination lifecycle hook
#   drain_timeout S    how long the running jobs may take to finish (whole seconds)
#   drain_interval S   the pause between two reads of the lifecycle state, and of the jobs
#   drain_tag TAG      Sidekiq's process tag (sidekiq -g TAG): which processes to quiet
#
# Sidekiq rewrites its process title on every heartbeat: "sidekiq 6.4.1 TAG [3 of 10 busy]", with
# " stopping" once quiet (Sidekiq's launcher, PROCTITLES); the drain reads the running jobs there.
# The target lifecycle state is in instance metadata (Amazon EC2 Auto Scaling User Guide, "Retrieve
# the target lifecycle state through instance metadata"); the hook's default result is CONTINUE
# (Amazon EC2 Auto Scaling User Guide, "Amazon EC2 Auto Scaling lifecycle hooks"), so a drain that
# cannot complete it holds the termination no longer than its heartbeat timeout. Every wait here is
# bounded but the wait for Terminated; no secret is read or printed.
set -euo pipefail

readonly PROGRAM=mastodon-drain
# log, now, imds, identify, aws_call, complete_action: shared with mastodon-ready and mastodon-pool.
# shellcheck source-path=SCRIPTDIR source=mastodon-lifecycle.sh
source "$(dirname "${BASH_SOURCE[0]}")/mastodon-lifecycle.sh"

if [ "$#" -ne 1 ] || [[ $1 == -* ]]; then
  echo "usage: mastodon-drain CONFIG" >&2
  exit 2
fi
config=$1
[ -r "$config" ] || { log "cannot read $config"; exit 2; }

region=""
drain_hook=""
drain_timeout=300
drain_interval=5
drain_tag=""
while read -r key value; do
  case "$key" in
    region) region=$value ;;
    drain_hook) drain_hook=$value ;;
    drain_timeout) drain_timeout=$value ;;
    drain_interval) drain_interval=$value ;;
    drain_tag) drain_tag=$value ;;
  esac
done <"$config"
if ! [[ $drain_timeout =~ ^[0-9]+$ && $drain_interval =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
  log "$config: drain_timeout and drain_interval must be numbers"
  exit 2
fi
if ! [[ $drain_hook =~ ^[A-Za-z0-9_.-]+$ && $drain_tag =~ ^[A-Za-z0-9_.-]+$ ]]; then
  log "$config: drain_hook and drain_tag are required (letters, digits, ., _ and -)"
  exit 2
fi
[ -n "$region" ] || { log "$config: region is required"; exit 2; }

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

# Acts once, when the instance is terminated.
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
  if complete_action "$region" "$drain_hook" "$lifecycle"; then
    log "completed lifecycle hook $drain_hook of $group for $instance_id: $lifecycle"
  else
    log "could not complete lifecycle hook $drain_hook; its heartbeat timeout will (default CONTINUE)"
  fi
}

drain
