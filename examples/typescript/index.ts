// A Mastodon instance on AWS from TypeScript, through the SDK `pulumi package add` generates from the
// mastodon package's component provider (README.md beside this file). The hosted zone's ID comes
// from Route 53 and the SMTP password from secret config, both Outputs; the connection budget the
// stack was sized with is exported.
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import * as mastodon from "@pulumi/mastodon";

const config = new pulumi.Config();
const domain = config.require("domain");
const zoneName = config.require("zoneName");
// An Output: the zone's ID, known once Route 53 answers.
const zone = aws.route53.getZoneOutput({ name: zoneName });

const social = new mastodon.MastodonStack("social", {
  environment: "production",
  version: "v4.6.5",
  domain,
  dns: { zoneId: zone.zoneId, zoneName },
  database: { instanceClass: "db.r7g.large" },
  mail: {
    provider: "smtp",
    smtp: {
      server: config.require("smtpServer"),
      login: config.require("smtpLogin"),
      password: config.requireSecret("smtpPassword"),
    },
  },
  alarms: { email: config.require("alarmEmail") },
  fleets: {
    web: { instanceType: "c7g.large", minSize: 2, maxSize: 4, web: {}, streaming: {} },
    workers: {
      instanceType: "c7g.large",
      maxSize: 3,
      sidekiq: { queues: ["default", "ingress", "push", "pull", "mailers", "fasp"] },
    },
    scheduler: { instanceType: "c7g.medium", maxSize: 1, sidekiq: { queues: ["scheduler"], threads: 5 } },
  },
});

export const budget = social.budget;
export const connections = social.budget.apply((b) => `${b.total} of ${b.limit}`);
export const albDnsName = social.albDnsName;
