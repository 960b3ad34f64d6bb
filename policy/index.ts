/**
 * The mastodon-aws CrossGuard policy pack: `pulumi preview --policy-pack <this directory>` runs it
 * over any program's resources (docs/policy.md). Every policy is mandatory; a platform team can
 * lower one with `--policy-pack-config` ({"<policy name>": "advisory"}).
 */
import { PolicyPack } from "@pulumi/policy";
import { POLICIES } from "./policies";

new PolicyPack("mastodon-aws", { enforcementLevel: "mandatory", policies: POLICIES });
