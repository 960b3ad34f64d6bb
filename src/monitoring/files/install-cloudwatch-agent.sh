#!/bin/bash
# The CloudWatch agent where the image has none, as the Amazon CloudWatch User Guide describes
# ("Verifying the signature of the CloudWatch agent package"): the .deb for this architecture,
# accepted only when signed by the key whose fingerprint the guide publishes (GnuPG's VALIDSIG
# status ends with the primary key's fingerprint). Run by mastodon-logs-agent.service (logs.ts).
set -euo pipefail
[ -x /opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl ] && exit 0
url=https://amazoncloudwatch-agent.s3.amazonaws.com
deb=$url/debian/$(dpkg --print-architecture)/latest/amazon-cloudwatch-agent.deb
fpr=937616F3450B7D806CBD9725D58167303B789C72
export GNUPGHOME
GNUPGHOME=$(mktemp -d)
trap 'rm -rf "$GNUPGHOME"' EXIT
cd "$GNUPGHOME"
# Key and signature: at most 60 s each; the package: 180 s (fleetHost.ts bounds the unit by these).
curl -fsS --max-time 30 --retry 3 --retry-max-time 60 -o key.gpg "$url/assets/amazon-cloudwatch-agent.gpg"
curl -fsS --max-time 30 --retry 3 --retry-max-time 60 -o agent.deb.sig "$deb.sig"
curl -fsS --max-time 60 --retry 5 --retry-max-time 180 -o agent.deb "$deb"
gpg --batch --quiet --import key.gpg
signer=$(gpg --batch --status-fd 1 --verify agent.deb.sig agent.deb | awk '$2 == "VALIDSIG" { print $NF }')
[ "$signer" = "$fpr" ] || { echo "agent.deb is not signed by $fpr" >&2; exit 1; }
dpkg -i agent.deb
