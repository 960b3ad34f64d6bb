/**
 * The components other Pulumi languages get (Python, Go, C#, Java, YAML): MastodonStack and every
 * tier component, their args interfaces read by Pulumi's component analyzer
 * (test/componentSchema.test.ts). Each registers the token the provider host constructs it by,
 * `mastodon:index:<Class>` (components/typeToken.ts).
 */
import { DnsRecords } from "../components/dnsRecords";
import { Fleet } from "../components/fleet";
import { HostFiles } from "../components/hostFiles";
import { ImageBuild } from "../components/imageBuild";
import { LoadBalancer } from "../components/loadBalancer";
import { Mail } from "../components/mail";
import { MastodonStack } from "../components/mastodonStack";
import { MediaStorage } from "../components/mediaStorage";
import { Monitoring } from "../components/monitoring";
import { Network } from "../components/network";
import { OnHostRedis } from "../components/onHostRedis";
import { PostgresDatabase } from "../components/postgresDatabase";
import { RedisStore } from "../components/redisStore";
import { SearchDomain } from "../components/searchDomain";
import { MastodonSecrets } from "../components/secrets";
import { Translation } from "../components/translation";

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
];
