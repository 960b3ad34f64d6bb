#!/bin/bash
# mastodon-pool: a warm pool host's wait between its preparation and its service.
#
#   mastodon-pool CONFIG
#
# mastodon-pool.service runs it after mastodon-prepare.service on the instance's first boot, and
# at every later boot until the host has served once. It reads the instance's target lifecycle
# state from instance metadata (Amazon EC2 Auto Scaling User Guide, "Retrieve the target lifecycle
# state through instance metadata"):
#
#   Warmed:*    the group launched the instance into its warm pool, and holds it in
#               Warmed:Pending:Wait on the launch lifecycle hook: complete that action with
#               CONTINUE, once (mastodon-ready CONFIG, whose checks are the preparation's units and
#               whose state directory is the pool's), so the group stops the instance (or keeps it
#               running, in a Running pool); then wait
#   InService   the group wants the instance serving (started out of the pool, or launched
#               straight into the group): exit 0, and the unit starts mastodon-boot.service, which
#               renders the secrets, starts the units and completes the action again
#   otherwise   (Terminated, or no answer yet) wait; the instance never serves from here, nor
#               once its completion into the pool was ABANDON
#
# Amazon EC2 Auto Scaling User Guide, "Use lifecycle hooks with a warm pool in Auto Scaling group":
# the launch hook pauses a pooled instance in Warmed:Pending:Wait on its way into the pool, and
# again in Pending:Wait once it is started out of it. Nothing here is bounded but each request: a
# host that never reads InService is abandoned by the hook's heartbeat timeout (default ABANDON).
#
# CONFIG is mastodon-ready's (src/fleet/host/readiness.ts renders it); this reads its `interval`
# and `state`. No secret is read or printed.
set -euo pipefail

readonly PROGRAM=mastodon-pool
# log and imds (IMDSv2: a session token first): shared with mastodon-ready and mastodon-drain.
# shellcheck source-path=SCRIPTDIR source=mastodon-lifecycle.sh
source "$(dirname "${BASH_SOURCE[0]}")/mastodon-lifecycle.sh"

# Test only: MASTODON_READY_PROGRAM points at the readiness program's file, as MASTODON_IMDS_URL
# (mastodon-lifecycle.sh) at a stand-in metadata service (src/fleet/host/pool.real.test.ts). On a
# host neither is set.
readonly READY="${MASTODON_READY_PROGRAM:-/usr/local/sbin/mastodon-ready}"

[ "$#" -eq 1 ] || { echo "usage: mastodon-pool CONFIG" >&2; exit 2; }
config=$1
[ -r "$config" ] || { log "cannot read $config"; exit 2; }

interval=5
state=""
while read -r key value; do
  case "$key" in
    interval) interval=$value ;;
    state) state=$value ;;
  esac
done <"$config"
[[ $interval =~ ^[0-9]+(\.[0-9]+)?$ ]] || { log "$config: interval must be a number"; exit 2; }
[ -n "$state" ] || { log "$config: no state directory"; exit 2; }

# The target lifecycle state, or nothing when metadata does not answer.
target() { imds autoscaling/target-lifecycle-state || true; }

last=""
while :; do
  current=$(target)
  if [ "$current" != "$last" ]; then
    log "target lifecycle state: ${current:-no answer}"
    last=$current
  fi
  result=$(cat "$state/completed" 2>/dev/null || true)
  case "$current" in
    InService)
      # An instance whose preparation was abandoned is being terminated: it never serves.
      [ "$result" = ABANDON ] || exit 0
      ;;
    Warmed:*)
      if [ -z "$result" ]; then
        log "launched into the warm pool: prepared, completing the launch lifecycle action"
        # mastodon-ready completes the action itself, with ABANDON when the preparation does not
        # pass: the group then terminates the instance, so a failure here is not this unit's (its
        # OnFailure= would try a second completion, which AWS refuses). A call that could not be
        # made at all left no result: the next round tries again.
        "$READY" "$config" || log "the preparation did not pass or the action could not be completed"
      fi
      ;;
  esac
  sleep "$interval"
done
