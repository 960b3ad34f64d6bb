/**
 * The components other Pulumi languages get (Python, Go, C#, Java, YAML): MastodonStack and the
 * tier components whose args Pulumi's component analyzer reads (test/componentSchema.test.ts).
 * Left out, because their args are the resolved config rather than an interface written out:
 * Fleet (core/config/resolve.ts FleetConfig), SearchDomain (SearchConfig), Monitoring
 * (MonitoringInput<T>, a generic) and ImageBuild (readonly arrays).
 */
import { DnsRecords } from "../components/dnsRecords";
import { LoadBalancer } from "../components/loadBalancer";
import { Mail } from "../components/mail";
import { MastodonStack } from "../components/mastodonStack";
import { MediaStorage } from "../components/mediaStorage";
import { Network } from "../components/network";
import { OnHostRedis } from "../components/onHostRedis";
import { PostgresDatabase } from "../components/postgresDatabase";
import { RedisStore } from "../components/redisStore";
import { MastodonSecrets } from "../components/secrets";
import { Translation } from "../components/translation";

export {
  DnsRecords,
  LoadBalancer,
  Mail,
  MastodonSecrets,
  MastodonStack,
  MediaStorage,
  Network,
  OnHostRedis,
  PostgresDatabase,
  RedisStore,
  Translation,
};

/** The package name other languages import (`pulumi package add`): schema tokens are `mastodon:index:<Component>`. */
export const PROVIDER_NAME = "mastodon";

export const COMPONENTS = [
  MastodonStack,
  Network,
  PostgresDatabase,
  RedisStore,
  OnHostRedis,
  LoadBalancer,
  MediaStorage,
  DnsRecords,
  Mail,
  Translation,
  MastodonSecrets,
];
