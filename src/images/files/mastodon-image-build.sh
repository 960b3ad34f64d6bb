#!/bin/bash
# Bakes one Mastodon release into this Debian 12 host for EC2 Image Builder (src/images/imageRecipe.ts
# renders the component that runs it, then the hosts' own CloudWatch agent installer). The install is
# taken from Mastodon's own release images, which are built on Debian bookworm (Mastodon's Dockerfile
# and streaming/Dockerfile): /opt/mastodon, the Ruby and gems under /usr/local, the streaming
# server's node, and the Debian packages the images hold. podman is used only here and removed at the
# end: the AMI has no container runtime.
#
#   mastodon-image-build.sh build <version> <registry>   pull, lay out, install, clean up (as root)
#   mastodon-image-build.sh validate <version>            check the AMI contract (as root)
#   mastodon-image-build.sh contract <root> <version>     the contract's files under <root>
#   mastodon-image-build.sh layout <rails-root> <streaming-root> <image-env> <target>
#   mastodon-image-build.sh packages <root>...            the installed packages of extracted roots
set -euo pipefail

readonly MASTODON_UID=991
readonly LIVE=/home/mastodon/live
readonly BUNDLE_SHIM=/home/mastodon/.rbenv/shims/bundle
readonly NODE=/usr/bin/node
readonly RELEASE_FILE=/etc/mastodon-release
readonly WORK=/var/tmp/mastodon-image-build
# The agent's ctl, which mastodon-logs-agent.service runs and the hosts' installer finds before it
# downloads anything (src/monitoring/logs.ts, LOGS_PATHS.agentCtl; install-cloudwatch-agent.sh).
readonly CLOUDWATCH_AGENT_CTL=/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl
# What the units and the boot run (docs/deployed.md, "The machine image"), the agents included.
readonly PROGRAMS=("$BUNDLE_SHIM" "$NODE" /usr/local/bin/ruby /usr/bin/aws /usr/bin/psql /usr/bin/python3
  /usr/bin/curl /usr/sbin/pgbouncer /usr/bin/amazon-ssm-agent "$CLOUDWATCH_AGENT_CTL")
# What the boot needs besides Mastodon (docs/deployed.md, "The machine image"): the AWS CLI, psql,
# python3 and curl for the boot steps, Debian's jemalloc for the units' preload, PgBouncer when pooled.
# gpg: the component's next step (install-cloudwatch-agent.sh) checks the CloudWatch agent's signature
# with it (Amazon CloudWatch User Guide, "Verifying the signature of the CloudWatch agent package");
# logrotate bounds the journal export's file (src/monitoring/logs.ts).
readonly HOST_PACKAGES=(awscli postgresql-client python3 curl ca-certificates libjemalloc2 pgbouncer gpg logrotate)

die() {
  echo "mastodon-image-build: $*" >&2
  exit 1
}

# The packages dpkg lists as installed in each extracted root, one per line, sorted and unique.
packages() {
  local root
  for root in "$@"; do
    [ -f "$root/var/lib/dpkg/status" ] || die "$root has no dpkg database"
    dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev} ${Package}\n' |
      awk '$1 == "ii" { print $2 }'
  done | sort -u
}

# The codename in an os-release file.
codename() {
  sed -n 's/^VERSION_CODENAME=//p' "$1" | tr -d '"'
}

# The environment the release image sets (NAME=value lines) that Ruby and Bundler read, as shell
# exports, /opt/mastodon read as the live directory.
ruby_exports() {
  grep -E '^(PATH|GEM_HOME|BUNDLE_[A-Z_]+|RUBY_[A-Z_]+|MALLOC_CONF|LD_LIBRARY_PATH)=' "$1" |
    sed -e "s#/opt/mastodon#$LIVE#g" -e "s/'/'\\\\''/g" -e "s/^\\([A-Z_]*\\)=\\(.*\\)$/export \\1='\\2'/"
}

# Lays out the paths the native units use (src/fleet/host/units.ts MASTODON_PATHS) under <target>.
layout() {
  local rails=$1 streaming=$2 image_env=$3 target=$4
  [ -x "$rails/usr/local/bin/ruby" ] || die "$rails has no /usr/local/bin/ruby"
  [ -f "$rails/opt/mastodon/Gemfile.lock" ] || die "$rails has no /opt/mastodon/Gemfile.lock"
  [ -x "$streaming/usr/local/bin/node" ] || die "$streaming has no /usr/local/bin/node"
  [ -f "$streaming/opt/mastodon/streaming/index.js" ] || die "$streaming has no streaming/index.js"
  [ -f "$image_env" ] || die "no image environment $image_env"

  mkdir -p "$target/usr/local" "$target/usr/bin" "$target$LIVE" "$(dirname "$target$BUNDLE_SHIM")" "$target/opt"
  # Ruby, the gems (/usr/local/bundle), and the libvips and ffmpeg Mastodon builds into /usr/local.
  cp -a "$rails/usr/local/." "$target/usr/local/"
  cp -a "$rails/opt/mastodon/." "$target$LIVE/"
  # The streaming server's own dependencies, without replacing any file of the Rails image.
  cp -an "$streaming/opt/mastodon/." "$target$LIVE/"
  install -m 0755 "$streaming/usr/local/bin/node" "$target$NODE"
  # Anything that still names the image's path finds the same tree.
  ln -sfn "$LIVE" "$target/opt/mastodon"

  {
    echo '#!/bin/sh'
    echo '# Bundler of the Mastodon release image, in the environment the image gives it.'
    ruby_exports "$image_env"
    echo 'exec /usr/local/bin/bundle "$@"'
  } >"$target$BUNDLE_SHIM"
  chmod 0755 "$target$BUNDLE_SHIM"
}

# Extracts an image's root filesystem into <dir>, and its environment into <dir>.env.
extract() {
  local image=$1 dir=$2 container
  podman pull --quiet "$image" >/dev/null
  container=$(podman create "$image")
  mkdir -p "$dir"
  podman export "$container" | tar -x -C "$dir"
  podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" >"$dir.env"
  podman rm "$container" >/dev/null
}

build() {
  local version=$1 registry=$2
  [ "$(id -u)" = 0 ] || die "build runs as root"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update
  apt-get install -y --no-install-recommends podman ca-certificates

  rm -rf "$WORK"
  mkdir -p "$WORK"
  extract "$registry/mastodon:$version" "$WORK/rails"
  extract "$registry/mastodon-streaming:$version" "$WORK/streaming"
  local host_codename
  host_codename=$(codename /etc/os-release)
  for root in "$WORK/rails" "$WORK/streaming"; do
    [ "$(codename "$root/etc/os-release")" = "$host_codename" ] ||
      die "$root is Debian $(codename "$root/etc/os-release"), this host $host_codename: its libraries would not match"
  done

  # The release images' own Debian packages (their runtime libraries: jemalloc, libpq, libvips's
  # and ffmpeg's dependencies, ...), at this Debian release's current versions, and the host's.
  local wanted
  mapfile -t wanted < <(packages "$WORK/rails" "$WORK/streaming")
  apt-get install -y --no-install-recommends "${wanted[@]}" "${HOST_PACKAGES[@]}"
  # The fleets run PgBouncer under their own unit (mastodon-pgbouncer.service) when pooled.
  systemctl disable --now pgbouncer.service || true

  getent group mastodon >/dev/null || groupadd --gid "$MASTODON_UID" mastodon
  getent passwd mastodon >/dev/null ||
    useradd --uid "$MASTODON_UID" --gid "$MASTODON_UID" --create-home --home-dir /home/mastodon --shell /bin/bash mastodon
  layout "$WORK/rails" "$WORK/streaming" "$WORK/rails.env" /
  chown -R mastodon:mastodon /home/mastodon
  ldconfig
  printf 'MASTODON_VERSION=%s\nMASTODON_IMAGES=%s\n' "$version" \
    "$(podman image inspect --format '{{index .RepoDigests 0}}' "$registry/mastodon:$version" "$registry/mastodon-streaming:$version" | paste -sd ' ')" \
    >"$RELEASE_FILE"

  # No container runtime on the AMI.
  podman system reset --force
  apt-get purge -y --auto-remove podman
  rm -rf "$WORK" /var/lib/containers
  apt-get clean
}

# Every shared library an ELF file under the given paths needs is found.
missing_libraries() {
  find "$@" -type f \( -name '*.so' -o -name '*.so.*' -o -perm -u+x \) -print0 2>/dev/null |
    xargs -0 -r file --no-pad --separator '|' |
    awk -F'|' '$2 ~ /ELF .*dynamically linked/ { print $1 }' |
    while IFS= read -r elf; do
      ldd "$elf" 2>/dev/null | sed -n "s#^[[:space:]]*\\([^ ]*\\) => not found#$elf: \\1#p"
    done
}

# The contract's files under <root> (/ when validating): the release named, every program there and
# executable (the CloudWatch agent's ctl among them: without it every host would download the agent
# at its first boot), the streaming server.
contract() {
  local root=${1%/} version=$2 program
  grep -qsx "MASTODON_VERSION=$version" "$root$RELEASE_FILE" || die "$RELEASE_FILE does not name $version"
  for program in "${PROGRAMS[@]}"; do
    [ -x "$root$program" ] || die "$program is missing or not executable"
  done
  [ -f "$root$LIVE/streaming/index.js" ] || die "no streaming server"
}

validate() {
  local version=$1 missing
  contract / "$version"
  [ "$(id -u mastodon)" = "$MASTODON_UID" ] || die "user mastodon is not uid $MASTODON_UID"
  ldconfig -p | grep -q 'libjemalloc\.so\.2 ' || die "libjemalloc.so.2 is not in the loader's cache"
  missing=$(missing_libraries /usr/local/bin /usr/local/lib /usr/local/bundle "$NODE")
  [ -z "$missing" ] || die "shared libraries not found: $missing"
  runuser -u mastodon -- sh -c "cd $LIVE && $BUNDLE_SHIM check" || die "bundle check failed"
  runuser -u mastodon -- "$NODE" --version >/dev/null || die "node does not run"
  if command -v podman >/dev/null; then die "podman is still installed"; fi
}

main() {
  local command=${1:-}
  shift || true
  case "$command" in
    build) [ $# = 2 ] || die "usage: build <version> <registry>" && build "$@" ;;
    validate) [ $# = 1 ] || die "usage: validate <version>" && validate "$@" ;;
    contract) [ $# = 2 ] || die "usage: contract <root> <version>" && contract "$@" ;;
    layout) [ $# = 4 ] || die "usage: layout <rails-root> <streaming-root> <image-env> <target>" && layout "$@" ;;
    packages) [ $# -ge 1 ] || die "usage: packages <root>..." && packages "$@" ;;
    *) die "usage: $0 build|validate|contract|layout|packages ..." ;;
  esac
}

main "$@"
