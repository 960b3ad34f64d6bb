/**
 * What the on-host Redis's host may do with its persistent store's EBS volume (redis.onHost;
 * src/redis/redisVolume.ts): attach that volume, to an instance of its own fleet, and read volumes'
 * state. Pure, so tests read the document exactly.
 *
 * AttachVolume is authorized on both resources it names, the instance and the volume (Service
 * Authorization Reference, "Actions, resources, and condition keys for Amazon EC2": AttachVolume,
 * resource types instance and volume, condition key ec2:ResourceTag/${TagKey}), so each has a
 * statement: the volume by its ARN and its tags, the instance by its tags, which only this
 * deployment's fleet carries (the launch template tags its instances). Not DetachVolume: the old
 * instance's termination detaches it, and a host that could detach could take it from a running
 * one. DescribeVolumes has no resource type (the same reference), hence "*"; it only reads.
 */
import type { PolicyDocument } from "../aws/policies";

/** The volume's tag that says what it holds (beside the stack's mastodon:stack). */
export const REDIS_VOLUME_TAG = "mastodon:redis-volume";

const conditions = (tags: Readonly<Record<string, string>>, what: string) => {
  const keys = Object.keys(tags).sort();
  if (keys.length === 0) throw new Error(`redisVolumePolicy: without a tag it would reach every ${what}`);
  return { StringEquals: Object.fromEntries(keys.map((k) => [`ec2:ResourceTag/${k}`, tags[k]])) };
};

/**
 * Attach `volumeArn` (carrying `volumeTags`) to instances carrying `instanceTags`, in the volume's
 * own account and region (its ARN's).
 */
export function redisVolumePolicy(
  volumeArn: string,
  volumeTags: Readonly<Record<string, string>>,
  instanceTags: Readonly<Record<string, string>>,
): PolicyDocument {
  const m = /^(arn:[a-z-]+:ec2:[a-z0-9-]+:\d{12}:)volume\/vol-[0-9a-f]+$/.exec(volumeArn);
  if (!m) throw new Error(`redisVolumePolicy: ${JSON.stringify(volumeArn)} is not an EBS volume ARN`);
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "AttachTheVolume",
        Effect: "Allow",
        Action: "ec2:AttachVolume",
        Resource: volumeArn,
        Condition: conditions(volumeTags, "volume"),
      },
      {
        Sid: "ToOwnInstances",
        Effect: "Allow",
        Action: "ec2:AttachVolume",
        Resource: `${m[1]}instance/*`,
        Condition: conditions(instanceTags, "instance"),
      },
      { Sid: "ReadVolumes", Effect: "Allow", Action: "ec2:DescribeVolumes", Resource: "*" },
    ],
  };
}
