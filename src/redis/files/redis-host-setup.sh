#!/bin/bash
# The self-managed Redis host's first boot (core/host/redis.ts writes this file and runs it from
# cloud-init's runcmd, with the stack's values as arguments): mount the data volume, formatting it
# only when blank so that a replaced instance finds its AOF, then write the password and the private
# bind address, which only exist at boot, into a root-owned include that only redis can read.
set -euo pipefail

usage() {
  echo "usage: $0 --volume-id vol-... --region REGION --password-parameter NAME --data-dir DIR --secrets FILE" >&2
  exit 2
}

volume_id="" region="" password_parameter="" data_dir="" secrets=""
while [ "$#" -gt 0 ]; do
  [ "$#" -ge 2 ] || usage
  case "$1" in
    --volume-id) volume_id=$2 ;;
    --region) region=$2 ;;
    --password-parameter) password_parameter=$2 ;;
    --data-dir) data_dir=$2 ;;
    --secrets) secrets=$2 ;;
    *) usage ;;
  esac
  shift 2
done
[[ $volume_id =~ ^vol-[0-9a-f]+$ ]] || usage
for value in "$region" "$password_parameter" "$data_dir" "$secrets"; do [ -n "$value" ] || usage; done

# An EBS volume on a Nitro instance is an NVMe device whose serial is its ID without the dash
# (AWS's "Amazon EBS and NVMe" page); udev names it by that serial.
device=/dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_${volume_id/-/}
for _ in $(seq 60); do [ -e "$device" ] && break; sleep 2; done
[ -e "$device" ] || { echo "data volume $volume_id not attached" >&2; exit 1; }
if ! blkid "$device" >/dev/null 2>&1; then mkfs.ext4 -q -L redis-data "$device"; fi
mkdir -p "$data_dir"
uuid=$(blkid -s UUID -o value "$device")
grep -q "$uuid" /etc/fstab || echo "UUID=$uuid $data_dir ext4 defaults,nofail,noatime 0 2" >> /etc/fstab
mountpoint -q "$data_dir" || mount "$data_dir"
chown redis:redis "$data_dir"
chmod 0750 "$data_dir"

token=$(curl -sf -X PUT http://169.254.169.254/latest/api/token -H "X-aws-ec2-metadata-token-ttl-seconds: 60")
private_ip=$(curl -sf -H "X-aws-ec2-metadata-token: $token" http://169.254.169.254/latest/meta-data/local-ipv4)
password=$(aws ssm get-parameter --region "$region" --with-decryption --name "$password_parameter" --query Parameter.Value --output text)
umask 077
printf 'bind 127.0.0.1 %s\nrequirepass %s\n' "$private_ip" "$password" > "$secrets"
chown root:redis "$secrets"
chmod 0640 "$secrets"
