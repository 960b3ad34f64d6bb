/**
 * What the fleets reach in the topology (pure): the stores of the data subnets, one column per zone
 * inside each (PostgreSQL and its replica, the two Redis, OpenSearch), and the regional services
 * outside the VPC (the media bucket, mail, the alarms and their topic).
 */
import type { StackConfig } from "../config/stackConfig";
import type { Budget } from "../budget/budget";
import type { DotNode } from "./dot";
import { COLORS, spread, storeNode } from "./topologyLabels";

/** Column 3: the data subnets, one column per zone inside each store. */
export function dataStores(
  config: StackConfig,
  budget: Budget,
  replicaBudget: Budget | undefined,
  zoneCount: number,
): DotNode[] {
  const db = config.database;
  const redis = config.redis;
  const search = config.search;
  const storage = `${db.storageGiB}-${db.maxStorageGiB} GiB gp3`;
  const dataStores: DotNode[] = [
    storeNode(
      "postgres",
      COLORS.vpc,
      zoneCount,
      `PostgreSQL ${db.engineVersion}${db.multiAz ? " Multi-AZ" : ""}`,
      [
        `${db.primary.instanceClass}, ${storage}`,
        `max_connections ${budget.maxConnections}, budget ${budget.total} of ${budget.limit}`,
      ],
      spread(db.multiAz ? ["primary", "standby"] : ["primary"], zoneCount),
    ),
    ...(db.replica && replicaBudget
      ? [
          storeNode(
            "replica",
            COLORS.vpc,
            zoneCount,
            "PostgreSQL read replica",
            [
              db.replica.instanceClass,
              `max_connections ${replicaBudget.maxConnections}, budget ${replicaBudget.total} of ${replicaBudget.limit}`,
            ],
            undefined,
          ),
        ]
      : []),
  ];
  if (!redis.onHost) {
    const p = redis.persistent;
    dataStores.push(
      p.mode === "elasticache"
        ? storeNode(
            "redis_persistent",
            COLORS.vpc,
            zoneCount,
            "Redis persistent",
            [`${p.engine} ${p.engineVersion} ${p.nodeType}, noeviction`, "Sidekiq, feeds, streaming pub/sub"],
            spread(["primary", ...Array.from({ length: p.nodes - 1 }, () => "replica")], zoneCount),
          )
        : storeNode(
            "redis_persistent",
            COLORS.vpc,
            zoneCount,
            "Redis persistent (self-managed)",
            [
              `${p.instanceType}, AOF on ${p.volumeGiB} GiB gp3, noeviction`,
              "Sidekiq, feeds, streaming pub/sub",
            ],
            spread(["EC2 host"], zoneCount),
          ),
      storeNode(
        "redis_cache",
        COLORS.vpc,
        zoneCount,
        "Redis cache",
        [
          `${redis.cache.engine} ${redis.cache.engineVersion} ${redis.cache.nodeType}`,
          "allkeys-lru, no persistence",
        ],
        spread(
          Array.from({ length: redis.cache.nodes }, (_, i) => (i === 0 ? "primary" : "replica")),
          zoneCount,
        ),
      ),
    );
  }
  if (search)
    dataStores.push(
      storeNode(
        "search",
        COLORS.vpc,
        zoneCount,
        "OpenSearch Service",
        [
          `${search.engineVersion.replace("_", " ")}, ${search.instanceType}`,
          `${search.nodes} x ${search.volumeGiB} GiB, ES_PRESET ${search.preset}`,
        ],
        spread(
          Array.from({ length: search.nodes }, () => "node"),
          search.zones.kind === "zone-aware" ? search.zones.zones : 1,
        ).concat(Array.from({ length: zoneCount }, () => [])),
      ),
    );
  return dataStores;
}

/** Regional services outside the VPC. */
export function regionalServices(
  config: StackConfig,
  alarmCount: number,
): { media: DotNode; mail: DotNode; alarms: DotNode; topic: DotNode } {
  const media = storeNode(
    "media",
    COLORS.regional,
    1,
    "S3 media bucket",
    [`private, encrypted${config.media.versioning ? ", versioned" : ""}`],
    undefined,
  );
  const mail = storeNode(
    "mail",
    COLORS.regional,
    1,
    config.mail.provider === "ses"
      ? `SES ${config.mail.fromAddress.split("@")[1] ?? config.domain}`
      : "external SMTP",
    [
      config.mail.provider === "ses"
        ? "DKIM, MAIL FROM, DMARC"
        : `${config.mail.smtp?.server ?? ""}:${config.mail.smtp?.port ?? ""}`,
    ],
    undefined,
  );
  const alarms = storeNode(
    "alarms",
    COLORS.regional,
    1,
    `CloudWatch: ${alarmCount} alarms`,
    ["every tier, a dashboard"],
    undefined,
  );
  const topic = storeNode(
    "topic",
    COLORS.regional,
    1,
    "SNS alarm topic (KMS)",
    [config.alarms.email ? `to ${config.alarms.email}` : "no subscription (alarms.email unset)"],
    undefined,
  );
  return { media, mail, alarms, topic };
}
