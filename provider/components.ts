/**
 * The components other Pulumi languages get (Python, Go, C#, Java, YAML): MastodonStack and every
 * tier component, their args interfaces read by Pulumi's component analyzer
 * (provider/componentSchema.test.ts). Each registers the token the provider host constructs it by,
 * `mastodon:index:<Class>` (src/aws/typeToken.ts).
 */
import { DnsRecords } from "../src/edge/dnsRecords";
import { Fleet } from "../src/fleet/fleet";
import { HostFiles } from "../src/fleet/hostFiles";
import { ImageBuild } from "../src/images/imageBuild";
import { LoadBalancer } from "../src/edge/loadBalancer";
import { Mail } from "../src/mail/mail";
import { MastodonStack } from "../src/stack/mastodonStack";
import { MediaStorage } from "../src/media/mediaStorage";
import { Monitoring } from "../src/monitoring/monitoring";
import { Network } from "../src/network/network";
import { OnHostRedis } from "../src/redis/onHostRedis";
import { PostgresDatabase } from "../src/database/postgresDatabase";
import { RedisStore } from "../src/redis/redisStore";
import { SearchDomain } from "../src/search/searchDomain";
import { MastodonSecrets } from "../src/stack/secrets";
import { Translation } from "../src/translation/translation";
import { WebAcl } from "../src/waf/webAcl";

export {
  DnsRecords,
  Fleet,
  HostFiles,
  ImageBuild,
  LoadBalancer,
  Mail,
  MastodonSecrets,
  MastodonStack,
  MediaStorage,
  Monitoring,
  Network,
  OnHostRedis,
  PostgresDatabase,
  RedisStore,
  SearchDomain,
  Translation,
  WebAcl,
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
  SearchDomain,
  HostFiles,
  ImageBuild,
  Fleet,
  Monitoring,
  WebAcl,
];
