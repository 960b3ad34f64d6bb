#!/bin/bash
# Builds the whole-host boot's Debian 12 root into DIR/root (test/boot/image.ts runs it under
# flock): debootstrap's minbase from Debian's mirror, then in a chroot what a stock Debian 12 EC2
# host has and what the fleets' user-data installs, so that cloud-init's package step finds every
# package it names installed (the boot's namespace reaches no mirror). Then a test CA (DIR/ca.crt,
# DIR/ca.key) and the test-only changes (test/boot/image.ts, IMAGE_CHANGES), a script given on
# stdin, run in the chroot. Built in DIR.build-PID and renamed to DIR once complete; a build left
# by a process that is gone is removed first.
#
#   build-root.sh DIR MIRROR < changes.sh
set -euo pipefail
final=$1
mirror=$2
changes=$(cat)
[ -e "$final/complete" ] && exit 0

# Leftovers of builds whose process is gone: this one holds the lock, so no other build is running.
for stale in "$(dirname "$final")"/*.build-*; do
  [ -d "$stale" ] || continue
  pid=${stale##*.build-}
  kill -0 "$pid" 2>/dev/null && continue
  grep -F " $stale/" /proc/self/mounts | cut -d' ' -f2 | sort -r | xargs -r -n1 umount -l
  rm -rf "$stale"
done
rm -rf "$final"
dir=$final.build-$$
mkdir -p "$dir"
root=$dir/root

openssl req -x509 -newkey rsa:2048 -nodes -keyout "$dir/ca.key" -out "$dir/ca.crt" -days 3650 \
  -subj "/CN=mastodon-aws boot test CA" 2>/dev/null

# What a Debian 12 cloud image brings that minbase lacks: systemd as init, D-Bus (hostnamectl,
# cloud-init's hostname module), cloud-init itself, curl, CA certificates, Python, the locales.
base=systemd,systemd-sysv,dbus,ca-certificates,curl,python3,locales,iproute2,procps,less
# What the fleets' user-data names (packages:, every stack's fleets together: wholeHost.real checks
# it), and the runtime this harness uses (runc).
user_data=(podman pgbouncer awscli postgresql-client gpg logrotate redis-server runc)

debootstrap --variant=minbase --include="$base" bookworm "$root" "$mirror" >&2

mounts=()
cleanup() {
  local m
  for ((i = ${#mounts[@]} - 1; i >= 0; i--)); do
    m=${mounts[$i]}
    umount -l "$m" 2>/dev/null || true
  done
  rm -f "$root/usr/sbin/policy-rc.d"
}
trap cleanup EXIT
for d in proc sys dev dev/pts; do
  case "$d" in
    proc) mount -t proc proc "$root/proc" ;;
    sys) mount -t sysfs sysfs "$root/sys" ;;
    dev) mount --bind /dev "$root/dev" ;;
    dev/pts) mount --bind /dev/pts "$root/dev/pts" ;;
  esac
  mounts+=("$root/$d")
done
cp /etc/resolv.conf "$root/etc/resolv.conf"
# No service starts inside the chroot (invoke-rc.d asks policy-rc.d).
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 0755 "$root/usr/sbin/policy-rc.d"

in_root() { chroot "$root" env DEBIAN_FRONTEND=noninteractive LC_ALL=C "$@"; }
in_root apt-get update -qq >&2
# podman and awscli in one go fail on alternative dependencies; these first settle them.
in_root apt-get install -y -qq --no-install-recommends python3-cffi-backend netavark aardvark-dns >&2
in_root apt-get install -y -qq --no-install-recommends cloud-init "${user_data[@]}" >&2
in_root apt-get clean

mkdir -p "$root/usr/local/share/ca-certificates"
cp "$dir/ca.crt" "$root/usr/local/share/ca-certificates/mastodon-boot-test-ca.crt"
printf '%s\n' "$changes" | chroot "$root" env LC_ALL=C /bin/bash -euo pipefail -s >&2
rm -f "$root/etc/resolv.conf"
cleanup
trap - EXIT
date -u +%FT%TZ >"$dir/complete"
mv "$dir" "$final"
