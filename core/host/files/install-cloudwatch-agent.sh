#!/bin/bash
# The Amazon CloudWatch agent on a stock Debian host, which has none: it ships the journal export
# (core/host/logs.ts) to the fleet's log group. Installed as the Amazon CloudWatch User Guide
# ("Download and configure the CloudWatch agent using the command line" and "Verifying the
# signature of the CloudWatch agent package") describes: the .deb for the host's architecture, its
# signature checked with AWS's public key, whose fingerprint is the one that guide publishes, then
# dpkg. Run as a fleet host's boot step (core/host/fleetHost.ts) before the agent is started.
set -euo pipefail
base=https://amazoncloudwatch-agent.s3.amazonaws.com
fingerprint=937616F3450B7D806CBD9725D58167303B789C72
arch=$(dpkg --print-architecture)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The key and the signature are a few kilobytes: 30 s an attempt, at most 60 s each; the package
# (about 100 MB) 60 s an attempt, at most 180 s. fleetHost.ts bounds the step by their sum.
small() {
  curl -fsS --max-time 30 --retry 3 --retry-max-time 60 -o "$work/$1" "$2"
}
small amazon-cloudwatch-agent.gpg "$base/assets/amazon-cloudwatch-agent.gpg"
small amazon-cloudwatch-agent.deb.sig "$base/debian/$arch/latest/amazon-cloudwatch-agent.deb.sig"
curl -fsS --max-time 60 --retry 5 --retry-max-time 180 -o "$work/amazon-cloudwatch-agent.deb" \
  "$base/debian/$arch/latest/amazon-cloudwatch-agent.deb"
export GNUPGHOME="$work/gnupg"
install -d -m 0700 "$GNUPGHOME"
gpg --batch --quiet --import "$work/amazon-cloudwatch-agent.gpg"
# Only a good signature by AWS's key is accepted: VALIDSIG's last field is the signing key's
# primary fingerprint (GnuPG's doc/DETAILS), compared with the one the guide publishes.
status=$(gpg --batch --status-fd 1 --verify "$work/amazon-cloudwatch-agent.deb.sig" "$work/amazon-cloudwatch-agent.deb")
signer=$(awk '$2 == "VALIDSIG" { print $NF }' <<<"$status")
if [ "$signer" != "$fingerprint" ]; then
  echo "install-cloudwatch-agent: amazon-cloudwatch-agent.deb is not signed by $fingerprint (${signer:-no valid signature})" >&2
  exit 1
fi
dpkg -i "$work/amazon-cloudwatch-agent.deb"
