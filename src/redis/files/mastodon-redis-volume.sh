#!/bin/bash
# mastodon-redis-volume: the on-host persistent Redis's own EBS volume, attached to this instance
# and mounted at that Redis's data directory, at every boot, before the Redis starts
# (mastodon-redis-volume.service, which the Redis requires; core/host/redisVolume.ts).
#
#   mastodon-redis-volume --volume-id vol-... --data-dir DIR --owner USER:GROUP [--mode MODE]
#                         [--device-name /dev/sdf] [--wait-seconds N] [--wait-until-uptime U]
#                         [--interval S]
#
# 1. The volume's device already here (a reboot: EBS keeps it attached): EC2 is not asked.
#    Otherwise, with the instance role: the volume is read (DescribeVolumes); free, it is attached
#    here (AttachVolume); held by another instance (the one this host replaces, still draining or
#    shutting down: its termination detaches it), it is read again every S seconds for at most N,
#    or until this host has been up U seconds if that is later (the old instance began terminating
#    when this one launched: its drain and shutdown are bounded from then, not from this step)
#    (Amazon EC2 API Reference, AttachVolume: VolumeInUse, IncorrectState).
# 2. Its NVMe device awaited: udev names it by the volume ID without the dash (Amazon EBS User
#    Guide, "Amazon EBS and NVMe").
# 3. A filesystem made only on a blank device: blkid's low-level probe finds no signature at all
#    and its first MiB reads as zeros (a new EBS volume does). A device holding anything else is
#    never formatted, and one that is not ext4 is not mounted either.
# 4. Mounted at DIR (noatime, nodev, nosuid, noexec), the mount's root owned USER:GROUP with MODE.
#
# Exits 0 once mounted, 1 on any failure (the Redis then does not start: it requires this), 2 on
# bad usage. Test hooks: MASTODON_IMDS_URL (the instance metadata service), MASTODON_BY_ID_DIR
# (where udev's by-id names are).
set -euo pipefail

readonly PROGRAM=mastodon-redis-volume
# log and imds (IMDSv2: a session token first, each request bounded): mastodon-ready's library,
# beside this program on a host (/usr/local/sbin). Test only: MASTODON_LIFECYCLE_LIBRARY names its
# file where it is not beside it.
# shellcheck source-path=SCRIPTDIR source=../../fleet/host/files/mastodon-lifecycle.sh
source "${MASTODON_LIFECYCLE_LIBRARY:-$(dirname "${BASH_SOURCE[0]}")/mastodon-lifecycle.sh}"
readonly BY_ID="${MASTODON_BY_ID_DIR:-/dev/disk/by-id}"
# Each AWS CLI call, end to end (5 s to connect, 10 s to read, the CLI's own retries inside).
readonly CALL_SECONDS=30
readonly DEVICE_SECONDS=60
readonly FORMAT_SECONDS=60

fail() {
  log "$*"
  exit 1
}
usage() {
  echo "usage: $0 --volume-id vol-... --data-dir DIR --owner USER:GROUP [--mode MODE] [--device-name NAME] [--wait-seconds N] [--wait-until-uptime U] [--interval S]" >&2
  exit 2
}

volume_id="" data_dir="" owner="" mode=0750 device_name=/dev/sdf wait_seconds=600 until_uptime=0 interval=5
while [ "$#" -gt 0 ]; do
  [ "$#" -ge 2 ] || usage
  case "$1" in
    --volume-id) volume_id=$2 ;;
    --data-dir) data_dir=$2 ;;
    --owner) owner=$2 ;;
    --mode) mode=$2 ;;
    --device-name) device_name=$2 ;;
    --wait-seconds) wait_seconds=$2 ;;
    --wait-until-uptime) until_uptime=$2 ;;
    --interval) interval=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $volume_id =~ ^vol-[0-9a-f]{8,17}$ ]] || usage
[[ $data_dir == /* ]] || usage
[[ $owner =~ ^[a-z_][a-z0-9_-]*:[a-z_][a-z0-9_-]*$ ]] || usage
[[ $mode =~ ^0?[0-7]{3}$ ]] || usage
[[ $device_name =~ ^/dev/[a-z0-9]+$ ]] || usage
[[ $wait_seconds =~ ^[0-9]+$ && $until_uptime =~ ^[0-9]+$ && $interval =~ ^[0-9]+([.][0-9]+)?$ ]] || usage

device="$BY_ID/nvme-Amazon_Elastic_Block_Store_${volume_id/-/}"
errors=$(mktemp)
trap 'rm -f "$errors"' EXIT

# The unit run again while mounted: the mount must be this volume's.
if mountpoint -q "$data_dir"; then
  if [ -b "$device" ] && [ "$(mountpoint -d "$data_dir")" = "$(mountpoint -x "$device")" ]; then
    log "$volume_id is mounted at $data_dir already"
    exit 0
  fi
  fail "$data_dir is a mount point, but not of $volume_id ($device): refusing to use it"
fi

# ec2 ARGS...: one EC2 API call, its output on stdout; on failure `code` holds the API's error code
# (empty when there was none: no answer, a timeout).
code=""
ec2() {
  code=""
  if timeout "$CALL_SECONDS" aws --region "$region" --cli-connect-timeout 5 --cli-read-timeout 10 \
    ec2 "$@" 2>"$errors"; then
    return 0
  fi
  local message
  message=$(cat "$errors")
  if [[ $message =~ An\ error\ occurred\ \(([A-Za-z0-9.]+)\) ]]; then code=${BASH_REMATCH[1]}; fi
  log "aws ec2 $1 failed${code:+ ($code)}: ${message//$'\n'/ }"
  return 1
}

# Whether a failed call may succeed when asked again: the volume held elsewhere, throttling, EC2's
# own errors, no answer. Anything else (no such volume, another zone, not authorized) will not.
retryable() {
  case "$code" in
    "" | VolumeInUse | IncorrectState | RequestLimitExceeded | Throttling | InternalError | ServiceUnavailable | Unavailable) return 0 ;;
    *) return 1 ;;
  esac
}

attach() {
  local instance_id zone deadline out state="" volume_zone="" holder="" attachment="" seen=""
  instance_id=$(imds instance-id) || fail "no instance id from the instance metadata service"
  zone=$(imds placement/availability-zone) || fail "no availability zone from the instance metadata service"
  region=$(imds placement/region) || fail "no region from the instance metadata service"
  local uptime
  read -r uptime _ </proc/uptime
  uptime=${uptime%.*}
  if [ $((until_uptime - uptime)) -gt "$wait_seconds" ]; then wait_seconds=$((until_uptime - uptime)); fi
  deadline=$((SECONDS + wait_seconds))
  while :; do
    if out=$(ec2 describe-volumes --volume-ids "$volume_id" --output text \
      --query 'Volumes[0].[State, AvailabilityZone, Attachments[0].InstanceId, Attachments[0].State]'); then
      read -r state volume_zone holder attachment <<<"$out"
      [ "$volume_zone" = "$zone" ] ||
        fail "$volume_id is in $volume_zone, this instance in $zone: an EBS volume attaches only in its own zone (the group must launch in $volume_zone)"
      if [ "$holder" = "$instance_id" ] && [ "$attachment" = attached ]; then
        log "$volume_id is attached to $instance_id"
        return 0
      fi
      if [ "$state" = available ]; then
        if ec2 attach-volume --volume-id "$volume_id" --instance-id "$instance_id" \
          --device "$device_name" >/dev/null; then
          log "attaching $volume_id to $instance_id as $device_name"
        else
          retryable || fail "could not attach $volume_id"
        fi
      elif [ "$seen" != "$state $holder $attachment" ]; then
        seen="$state $holder $attachment"
        log "$volume_id is $state (attachment: $holder $attachment): waiting until it is free"
      fi
    else
      retryable || fail "could not read $volume_id"
    fi
    [ "$SECONDS" -lt "$deadline" ] ||
      fail "$volume_id was not attached to $instance_id within ${wait_seconds}s (last: ${seen:-$state})"
    sleep "$interval"
  done
}

region=""
if [ -b "$device" ]; then
  log "$volume_id is attached here already ($device)"
else
  attach
  for ((i = 0; i < DEVICE_SECONDS; i++)); do
    [ -b "$device" ] && break
    sleep 1
  done
  [ -b "$device" ] || fail "$volume_id is attached, but $device did not appear within ${DEVICE_SECONDS}s"
fi

# blkid's low-level probe: 0 and what it found, 2 when the device holds no signature at all.
status=0
type=$(blkid -p -o value -s TYPE "$device") || status=$?
case "$status" in
  2)
    # A new EBS volume reads as zeros: anything else is someone's data that blkid does not know.
    cmp -s -n 1048576 "$device" /dev/zero ||
      fail "$device holds data but no filesystem blkid knows: refusing to format it (inspect it with e2fsck or file -s)"
    log "$device is blank: making an ext4 filesystem"
    # No blocks reserved for root (Redis runs as its own user); a new volume needs no discard.
    timeout "$FORMAT_SECONDS" mkfs.ext4 -q -m 0 -E nodiscard -L mastodon-redis "$device"
    ;;
  0)
    [ "$type" = ext4 ] ||
      fail "$device holds ${type:-a signature that is no filesystem (a partition table?)}, not ext4: refusing to format or mount it"
    log "$device holds an ext4 filesystem: keeping its data"
    ;;
  *) fail "blkid could not probe $device (status $status)" ;;
esac

mkdir -p "$data_dir"
mount -t ext4 -o noatime,nodev,nosuid,noexec "$device" "$data_dir"
chown "$owner" "$data_dir"
chmod "$mode" "$data_dir"
log "mounted $volume_id at $data_dir, holding: $(find "$data_dir" -mindepth 1 -maxdepth 1 -printf '%f\n' | sort | tr '\n' ' ')"
