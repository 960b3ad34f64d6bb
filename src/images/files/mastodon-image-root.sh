#!/bin/bash
# Lays out one pulled Mastodon release image as the root directory its systemd units run in
# (core/host/imageRoot.ts renders those units and the call to this program): the units then get
# systemd's own sandbox (RootDirectory= plus what Mastodon's dist/ units set) instead of a container
# runtime that needs root's capabilities and the host's mount namespace, as systemd's portable
# services run an image's tree.
#
#   mastodon-image-root <name> <image> [-m PATH]... [-e NAME]...
#
# - `podman create` of the pulled image (never started) and `podman mount`: the image's layers under
#   a writable layer of the container's own, where Rails keeps its tmp/; recreated (so emptied) at
#   every boot;
# - each PATH (-m) made there as an empty file unless the image has it: the targets of the units'
#   BindReadOnlyPaths= (the env file, the resolver's configuration), which systemd needs to exist;
# - that tree bound at /run/mastodon/root/<name>, the units' RootDirectory=; every unit makes it
#   read-only for itself (ProtectSystem=strict) but for the paths it may write;
# - the image's environment (its Config.Env: PATH, the gems' paths, MALLOC_CONF, ...) written to
#   /run/mastodon/root/<name>.env for the units' EnvironmentFile=, without the NAMEs (-e) the units
#   set themselves: systemd lets an EnvironmentFile= override Environment= (systemd.exec(5)), where
#   podman let `-e` override the image's ENV, and the units' values must win (PORT above all).
set -euo pipefail

# The units name /run/mastodon/root; a test lays out elsewhere (test/real/containers.real.test.ts).
readonly ROOTS=${MASTODON_IMAGE_ROOTS:-/run/mastodon/root}

die() {
  echo "mastodon-image-root: $*" >&2
  exit 1
}

# One NAME=value line as systemd's environment-file parser reads it back unchanged: double-quoted,
# with the characters it unescapes inside double quotes (\ " ` $) escaped.
quote_env_line() {
  local name=${1%%=*} value=${1#*=}
  [[ $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "the image sets an invalid variable name: $name"
  value=${value//\\/\\\\}
  value=${value//\"/\\\"}
  value=${value//\`/\\\`}
  value=${value//\$/\\\$}
  printf '%s="%s"\n' "$name" "$value"
}

# The image's environment, one variable a line, without the names given.
image_env() {
  local image=$1 lines line name
  shift
  local -A skip=()
  for name in "$@"; do skip[$name]=1; done
  # One variable a line (a value holding a newline would fail the name check of its second line).
  lines=$(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image")
  while IFS= read -r line; do
    [ -n "$line" ] || continue
    [ -z "${skip[${line%%=*}]+set}" ] || continue
    quote_env_line "$line"
  done <<<"$lines"
}

main() {
  [ $# -ge 2 ] || die "usage: mastodon-image-root <name> <image> [-m PATH]... [-e NAME]..."
  local name=$1 image=$2 container dir target
  shift 2
  [[ $name =~ ^[a-z][a-z0-9-]*$ ]] || die "invalid root name: $name"
  local -a mount_points=() own_env=()
  while [ $# -gt 0 ]; do
    [ $# -ge 2 ] || die "$1 needs a value"
    case $1 in
      -m) [[ $2 == /* && $2 != *..* ]] || die "not an absolute path: $2"; mount_points+=("$2") ;;
      -e) own_env+=("$2") ;;
      *) die "unknown option $1" ;;
    esac
    shift 2
  done
  container="mastodon-root-$name"
  mkdir -p "$ROOTS"
  # A retry within one boot: undo the last attempt first.
  if mountpoint -q "$ROOTS/$name"; then umount "$ROOTS/$name"; fi
  podman umount "$container" >/dev/null 2>&1 || true
  # Never started: the command is there because an image without ENTRYPOINT or CMD needs one.
  podman create --quiet --replace --pull=never --name "$container" "$image" true >/dev/null
  dir=$(podman mount "$container")
  [ -d "$dir" ] || die "podman mounted $container at $dir, which is not a directory"
  for target in "${mount_points[@]}"; do
    [ -e "$dir$target" ] || { mkdir -p "$(dirname "$dir$target")" && touch "$dir$target"; }
  done
  image_env "$image" "${own_env[@]}" >"$ROOTS/$name.env.new"
  mv "$ROOTS/$name.env.new" "$ROOTS/$name.env"
  mkdir -p "$ROOTS/$name"
  mount --bind "$dir" "$ROOTS/$name"
  echo "mastodon-image-root: $image at $ROOTS/$name"
}

main "$@"
