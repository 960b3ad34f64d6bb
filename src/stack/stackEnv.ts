/**
 * The env every host gets: the tiers' endpoints and the secrets' placeholders as one Mastodon
 * .env.production (src/host/env.ts does the mapping). A plain function over the tiers' outputs.
 */
import * as pulumi from "@pulumi/pulumi";
import { ssmPlaceholder } from "../host/boot";
import { type Env, databaseEnv, instanceEnv, mastodonEnv, redisEnv } from "../host/env";
import type { MastodonSecrets } from "./secrets";
import type { RedisTier, Tiers } from "./tiers";

/**
 * The one place the tiers' endpoints become Mastodon env values (src/host/env.ts does the
 * mapping). Every secret is the `{{ssm:...}}` placeholder of its parameter, filled on the host at
 * boot: this env holds no secret value, so it may go into user-data.
 */
export function stackEnv(tiers: Tiers, secrets: MastodonSecrets): pulumi.Output<Env> {
  const { config, database: db } = tiers;
  const endpoint = (host: pulumi.Input<string>) => ({
    host,
    port: db.port,
    name: db.databaseName,
    user: db.username,
    password: ssmPlaceholder(db.passwordParameterName),
  });
  const redis = (store: RedisTier) => ({
    host: store.host,
    port: store.port,
    password: ssmPlaceholder(store.passwordParameterName),
    tls: store.tls,
  });
  const secretEnv = mastodonEnv(
    Object.fromEntries(
      Object.entries(secrets.parameters).map(([envName, parameter]) => [envName, ssmPlaceholder(parameter)]),
    ),
  );
  return pulumi
    .all([
      pulumi.output(endpoint(db.address)),
      pulumi.output(db.replicaAddress ? endpoint(db.replicaAddress) : undefined),
      pulumi.output(redis(tiers.persistent)),
      pulumi.output(redis(tiers.cache)),
      tiers.media.env,
      tiers.mail.env,
      secrets.vapidPublicKey,
      pulumi.output(tiers.search?.env),
    ])
    .apply(([primary, replica, persistent, cache, s3, smtp, vapidPublicKey, search]) =>
      mastodonEnv({
        RAILS_ENV: "production",
        NODE_ENV: "production",
        ...instanceEnv({ domain: config.domain, webDomain: config.webDomain, vpcCidr: tiers.network.cidr }),
        ...databaseEnv({ primary, ...(replica && { replica }), pooler: config.database.pooler }),
        ...redisEnv(persistent, cache),
        ...s3,
        ...smtp,
        ...secretEnv,
        VAPID_PUBLIC_KEY: vapidPublicKey,
        ...search,
        ...tiers.translation?.env,
      }),
    );
}
