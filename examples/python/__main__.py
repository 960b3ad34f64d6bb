"""A Mastodon instance on AWS from Python.

Through the SDK `pulumi package add` generates from the mastodon package's component provider
(README.md beside this file). The hosted zone's ID comes from Route 53 and the SMTP password from
secret config, both Outputs; the connection budget the stack was sized with is exported.
"""

import pulumi
import pulumi_aws as aws
import pulumi_mastodon as mastodon

config = pulumi.Config()
domain = config.require("domain")
zone_name = config.require("zoneName")
# An Output: the zone's ID, known once Route 53 answers.
zone = aws.route53.get_zone_output(name=zone_name)

social = mastodon.MastodonStack(
    "social",
    environment="production",
    version="v4.6.5",
    domain=domain,
    dns={"zone_id": zone.zone_id, "zone_name": zone_name},
    database={"instance_class": "db.r7g.large"},
    mail={
        "provider": "smtp",
        "smtp": {
            "server": config.require("smtpServer"),
            "login": config.require("smtpLogin"),
            "password": config.require_secret("smtpPassword"),
        },
    },
    alarms={"email": config.require("alarmEmail")},
    fleets={
        "web": {
            "instance_type": "c7g.large",
            "min_size": 2,
            "max_size": 4,
            "web": {},
            "streaming": {},
        },
        "workers": {
            "instance_type": "c7g.large",
            "max_size": 3,
            "sidekiq": {
                "queues": ["default", "ingress", "push", "pull", "mailers", "fasp"],
            },
        },
        "scheduler": {
            "instance_type": "c7g.medium",
            "max_size": 1,
            "sidekiq": {"queues": ["scheduler"], "threads": 5},
        },
    },
)

pulumi.export("budget", social.budget)
pulumi.export("connections", social.budget.apply(lambda b: f"{b.total} of {b.limit}"))
pulumi.export("albDnsName", social.alb_dns_name)
