#!/usr/bin/env bash
# Installs what `npm run plan` and `npm test` need on a fresh machine, and nothing when it is there:
#   node modules (npm ci, when node_modules/ is missing or differs from package-lock.json:
#   scripts/deps-differ.cjs says which), and with --debian the Debian programs the real-tool tests
#   drive (listed in scripts/debian-packages.txt). It says what it installs and why, on stderr.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! reason=$(node scripts/deps-differ.cjs); then
  {
    echo "ensure-deps: $reason."
    echo "ensure-deps: installing them with npm ci (once; later runs skip this): the Pulumi SDK and AWS provider"
    echo "ensure-deps: the plan runs under mocks, the TypeScript loader it runs with, and the test tools;"
    echo "ensure-deps: npm ci then compiles the package into dist/ (its prepare script: npm run build)."
  } >&2
  npm ci --no-audit --no-fund >&2
  echo "ensure-deps: node_modules/ now matches package-lock.json." >&2
fi

if [ "${1:-}" = "--debian" ] && [ -s scripts/debian-packages.txt ]; then
  missing=()
  while read -r pkg; do
    [ -z "$pkg" ] || [ "${pkg#\#}" != "$pkg" ] && continue
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done < scripts/debian-packages.txt
  if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
      echo "ensure-deps: the real-tool tests need: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
      exit 1
    fi
    echo "ensure-deps: apt-get install ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    # Another apt or dpkg (unattended-upgrades, a second install) may hold the lock: wait up to 10 minutes
    # for it rather than fail at once.
    lock_wait=(-o DPkg::Lock::Timeout=600)
    apt-get "${lock_wait[@]}" update -qq >&2
    apt-get "${lock_wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >&2
  fi
fi
