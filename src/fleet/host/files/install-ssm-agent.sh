#!/bin/bash
# The SSM agent on a stock Debian host, which has none: Session Manager, Run Command (the
# migrations document) and EC2 Image Builder's components need it. Installed as the AWS Systems
# Manager User Guide ("Manually install SSM Agent on Debian Server instances") describes, from the
# instance's own region (IMDSv2) for its own architecture. Run as a fleet host's first boot step
# (core/host/fleetHost.ts) and as the Image Builder build instance's user data (imageBuild.ts),
# where the agent stays in the AMI.
set -euo pipefail
token=$(curl -fsS --max-time 10 -X PUT -H 'X-aws-ec2-metadata-token-ttl-seconds: 300' http://169.254.169.254/latest/api/token)
region=$(curl -fsS --max-time 10 -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/placement/region)
arch=$(dpkg --print-architecture)
curl -fsS --max-time 60 --retry 5 --retry-max-time 180 -o /var/tmp/amazon-ssm-agent.deb \
  "https://s3.$region.amazonaws.com/amazon-ssm-$region/latest/debian_$arch/amazon-ssm-agent.deb"
dpkg -i /var/tmp/amazon-ssm-agent.deb
systemctl enable --now amazon-ssm-agent.service
rm -f /var/tmp/amazon-ssm-agent.deb
