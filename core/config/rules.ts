/**
 * Rules that look across fields of an otherwise well-formed config: queue coverage, the scheduler
 * singleton, thread warnings, the connection budget and the Postgres memory rule. Each returns
 * problems naming the config key an operator should change.
 */
import { type Budget, clientConnectionsPerHost, stackBudgets } from "../budget";
import { rdsDefaultMaxConnections } from "../postgres";
import { BUDGET_RULES, SIDEKIQ_QUEUES, SIDEKIQ_THREAD_RULES } from "../defaults";
import { isSupportedEngineVersion } from "../redis";
import { type PathSegment, type Problem, configKey } from "./problems";
import type { DatabaseInstance, StackConfig } from "./resolve";

type Rule = (config: StackConfig) => Problem[];

const error = (path: readonly PathSegment[], value: unknown, message: string): Problem => ({
  severity: "error",
  key: configKey(path),
  value,
  message,
});
const warning = (path: readonly PathSegment[], value: unknown, message: string): Problem => ({
  severity: "warning",
  key: configKey(path),
  value,
  message,
});

/** Every Mastodon 4.6 queue must be served by some fleet; web and streaming too. */
const everyServiceServed: Rule = (config) => {
  const problems: Problem[] = [];
  const served = new Set(config.fleets.flatMap((f) => f.sidekiq?.queues ?? []));
  const sidekiqFleet = config.fleets.find((f) => f.sidekiq);
  const unserved = SIDEKIQ_QUEUES.filter((queue) => !served.has(queue));
  if (unserved.length) {
    const [first] = unserved;
    const example = sidekiqFleet
      ? `, e.g. pulumi config set --path 'mastodon:fleets.${sidekiqFleet.name}.sidekiq.queues[${sidekiqFleet.sidekiq?.queues.length}]' ${first}`
      : "";
    problems.push(
      error(
        ["fleets"],
        undefined,
        `no fleet serves the Sidekiq queue(s) ${unserved.map((q) => `"${q}"`).join(", ")}; jobs on them would pile up unprocessed. Add each to some fleet's sidekiq.queues${example}`,
      ),
    );
  }
  for (const service of ["web", "streaming"] as const) {
    if (!config.fleets.some((f) => f[service])) {
      problems.push(
        error(
          ["fleets"],
          undefined,
          `no fleet runs ${service}; add a ${service} section to a fleet (e.g. fleets.<name>.${service}: {})`,
        ),
      );
    }
  }
  return problems;
};

/**
 * sidekiq-scheduler schedules from every process that listens to `scheduler`, so exactly one
 * process in the cluster may serve it, at maximum size too (compendium: one scheduler per cluster).
 */
const schedulerSingleton: Rule = (config) => {
  const serving = config.fleets.filter((f) => f.sidekiq?.queues.includes("scheduler"));
  const processes = serving.reduce((n, f) => n + f.maxSize * (f.sidekiq?.processes ?? 0), 0);
  if (processes <= 1) return [];
  const why =
    `would run ${processes} scheduler processes at maximum size; sidekiq-scheduler enqueues scheduled jobs from every ` +
    `process that listens to "scheduler", so the cluster must run exactly one (compendium: one scheduler per cluster).`;
  const problems: Problem[] = [];
  serving.forEach((fleet, index) => {
    if (index > 0) {
      problems.push(
        error(
          ["fleets", fleet.name, "sidekiq", "queues"],
          fleet.sidekiq?.queues,
          `${why} Fleet ${serving[0]?.name} already serves it; remove "scheduler" here.`,
        ),
      );
      return;
    }
    if (fleet.maxSize > 1) {
      problems.push(
        error(
          ["fleets", fleet.name, "maxSize"],
          fleet.maxSize,
          `${why} Set maxSize 1 on the fleet that serves it (a fleet of its own is best).`,
        ),
      );
    }
    if ((fleet.sidekiq?.processes ?? 0) > 1) {
      problems.push(
        error(
          ["fleets", fleet.name, "sidekiq", "processes"],
          fleet.sidekiq?.processes,
          `${why} Set sidekiq.processes 1, or move "scheduler" to a fleet of its own.`,
        ),
      );
    }
  });
  return problems;
};

/** Over 25 threads per Sidekiq process is a warning (over 50 is refused by the schema). */
const sidekiqThreads: Rule = (config) =>
  config.fleets.flatMap((fleet) =>
    fleet.sidekiq && fleet.sidekiq.threads > SIDEKIQ_THREAD_RULES.warnAbove
      ? [
          warning(
            ["fleets", fleet.name, "sidekiq", "threads"],
            fleet.sidekiq.threads,
            `is above ${SIDEKIQ_THREAD_RULES.warnAbove} threads per Sidekiq process (hachyderm's tested ceiling in the compendium); prefer more processes with fewer threads (tooting: 4 x 15 beat 1 x 60)`,
          ),
        ]
      : [],
  );

function largestRows(budget: Budget): string {
  if (budget.pgbouncer) {
    return [...budget.pgbouncer]
      .sort((a, b) => b.serverConnections - a.serverConnections)
      .slice(0, 3)
      .map((p) => `${p.fleet} ${p.maxSize} hosts x pool ${p.poolSize} = ${p.serverConnections}`)
      .join(", ");
  }
  return [...budget.rows]
    .sort((a, b) => b.connections - a.connections)
    .slice(0, 3)
    .map((r) => `${r.fleet}/${r.service} ${r.maxSize} hosts x ${r.processes} x ${r.pool} = ${r.connections}`)
    .join(", ");
}

function budgetProblems(budget: Budget, instance: DatabaseInstance, base: readonly PathSegment[]): Problem[] {
  const problems: Problem[] = [];
  const { maxConnections } = budget;
  const label = budget.target === "replica" ? "the read replica" : "the database";
  const maxKey = [...base, "maxConnections"];

  if (maxConnections > BUDGET_RULES.maxConnectionsError) {
    problems.push(
      error(
        maxKey,
        maxConnections,
        `exceeds ${BUDGET_RULES.maxConnectionsError}; past that Postgres loses up to 46% of its queries per second to contention (compendium). Put PgBouncer in front (mastodon:database.pooler pgbouncer) and lower max_connections.`,
      ),
    );
  } else if (maxConnections > BUDGET_RULES.maxConnectionsWarn) {
    problems.push(
      warning(
        maxKey,
        maxConnections,
        `is above ${BUDGET_RULES.maxConnectionsWarn} (compendium: "If you have to set max_connections above 512, don't"); consider mastodon:database.pooler pgbouncer`,
      ),
    );
  }
  const memoryDefault = rdsDefaultMaxConnections(instance.spec);
  if (instance.maxConnectionsOverridden && maxConnections > memoryDefault) {
    problems.push(
      warning(
        maxKey,
        maxConnections,
        `is above what RDS's memory formula gives ${instance.instanceClass} (${memoryDefault}); each connection costs memory the instance may not have`,
      ),
    );
  }
  if (budget.workMemTotalMiB > budget.workMemCeilingMiB) {
    problems.push(
      error(
        [...(instance.maxConnectionsOverridden ? maxKey : ["database", "workMemMiB"])],
        instance.maxConnectionsOverridden ? maxConnections : budget.workMemMiB,
        `gives work_mem ${budget.workMemMiB} MiB x max_connections ${maxConnections} = ${budget.workMemTotalMiB} MiB, more than 2 x the ${instance.spec.memoryGiB} GiB of ${instance.instanceClass} (${budget.workMemCeilingMiB} MiB; compendium: work_mem x max_connections <= 2 x RAM). Lower mastodon:database.workMemMiB or max_connections, or choose a larger instanceClass.`,
      ),
    );
  }
  if (budget.total > budget.limit) {
    const pooled = budget.pooler === "pgbouncer";
    const what = pooled
      ? `PgBouncers open ${budget.fleetConnections} server connections at maximum size`
      : `fleets hold ${budget.fleetConnections} connections at maximum size`;
    const fixes = pooled
      ? "lower fleets' maxSize or pgbouncerPoolSize (mastodon:fleets.<name>.pgbouncerPoolSize)"
      : "lower fleets' maxSize, processes or threads, or pool them (mastodon:database.pooler pgbouncer)";
    problems.push(
      error(
        ["fleets"],
        undefined,
        `${what} (+ ${budget.headroom} headroom = ${budget.total}) but ${label} (${instance.instanceClass}, max_connections ${maxConnections}) allows ${budget.limit}: 90% of ${budget.usable} usable (${maxConnections} - 3 superuser - 2 rds_superuser reserved). Largest: ${largestRows(budget)}. Either ${fixes}, or give ${label} more: a larger ${configKey([...base, "instanceClass"])} or ${configKey(maxKey)}.`,
      ),
    );
  }
  return problems;
}

/** The connection budget against the primary and, when there is one, the read replica. */
const connectionBudget: Rule = (config) => {
  const { database } = config;
  const budgets = stackBudgets(config);
  const problems = budgetProblems(budgets.primary, database.primary, ["database"]);
  if (budgets.replica && database.replica) {
    problems.push(...budgetProblems(budgets.replica, database.replica, ["database", "replica"]));
  }
  if (database.pooler === "pgbouncer") {
    for (const fleet of config.fleets) {
      const perHost = clientConnectionsPerHost(fleet);
      if (fleet.pgbouncerPoolSize !== undefined && fleet.pgbouncerPoolSize > perHost) {
        problems.push(
          warning(
            ["fleets", fleet.name, "pgbouncerPoolSize"],
            fleet.pgbouncerPoolSize,
            `is more than the ${perHost} client connections one host opens; the budget counts ${perHost}`,
          ),
        );
      }
    }
  }
  return problems;
};

const productionDurability: Rule = (config) => {
  const problems: Problem[] = [];
  if (config.environment === "production" && !config.database.multiAz && !config.database.allowSingleAz) {
    problems.push(
      error(
        ["database", "multiAz"],
        false,
        "is refused in production: a single-AZ database is down for the whole failover or maintenance window. Remove it (Multi-AZ is the production default) or accept the risk with mastodon:database.allowSingleAz true.",
      ),
    );
  }
  const persistent = config.redis.persistent;
  if (persistent.mode === "elasticache" && persistent.appendOnly) {
    problems.push(
      error(
        ["redis", "persistent", "appendOnly"],
        true,
        `cannot be had on ElastiCache: it has not supported appendonly since Redis 2.8.22 and the parameter is not modifiable in the redis7/valkey8 families (AWS's substitute is Multi-AZ replicas; MemoryDB is cluster-mode only, which Sidekiq does not support). For real AOF set mastodon:redis.persistent.mode self-managed-aof (Redis on EC2 with appendonly yes, appendfsync everysec, on an encrypted EBS volume); otherwise remove appendOnly.`,
      ),
    );
  }
  if (config.environment === "production" && persistent.mode === "elasticache" && persistent.nodes < 2) {
    problems.push(
      error(
        ["redis", "persistent", "nodes"],
        persistent.nodes,
        "is below 2 in production: the persistent Redis holds Sidekiq's queues and home feeds, and automatic failover and Multi-AZ need a replica. Set 2 or more.",
      ),
    );
  }
  return problems;
};

const crossTierConsistency: Rule = (config) => {
  const problems: Problem[] = [];
  for (const role of ["cache", "persistent"] as const) {
    const redis = config.redis[role];
    const selfManaged = "mode" in redis && redis.mode === "self-managed-aof";
    if (!selfManaged && !isSupportedEngineVersion(redis.engine, redis.engineVersion)) {
      problems.push(
        error(
          ["redis", role, "engineVersion"],
          redis.engineVersion,
          `is not an ElastiCache ${redis.engine} version Mastodon 4.6 can use (Redis 7+): use ${redis.engine === "redis" ? "7.0 or 7.1" : "7.2 or 8.x"}`,
        ),
      );
    }
  }
  const architectures = new Set(config.fleets.map((f) => f.instance.architecture));
  if (config.image.amiId && architectures.size > 1) {
    problems.push(
      error(
        ["image", "amiId"],
        config.image.amiId,
        `is one AMI but the fleets mix ${[...architectures].sort().join(" and ")} instance types; use mastodon:image.ssmParameter with {arch} in its name (one AMI per architecture), or keep all fleets on one architecture`,
      ),
    );
  }
  if (config.mail.provider === "smtp" && !config.mail.smtp) {
    problems.push(
      error(
        ["mail", "smtp"],
        undefined,
        "is required with mastodon:mail.provider smtp: set server, port, login and (as a secret) password",
      ),
    );
  }
  return problems;
};

/** Certificates and DNS: what the edge needs to serve the configured domains over HTTPS. */
const edgeConsistency: Rule = (config) => {
  const problems: Problem[] = [];
  if (config.media.customDomain && !config.media.certificateArn && !config.dns) {
    problems.push(
      error(
        ["media", "certificateArn"],
        undefined,
        `is required with mastodon:media.customDomain ${config.media.customDomain} unless mastodon:dns is set: CloudFront needs an ACM certificate for the domain, issued in us-east-1 (with mastodon:dns the package requests and validates one there)`,
      ),
    );
  }
  if (!config.loadBalancer.certificateArn && !config.dns) {
    problems.push(
      error(
        ["loadBalancer", "certificateArn"],
        undefined,
        `is required unless mastodon:dns is set: the HTTPS listener needs a certificate for ${config.webDomain} (an ACM ARN in the stack's region, or set mastodon:dns.zoneId and zoneName and the package requests and DNS-validates one)`,
      ),
    );
  }
  if (config.dns) {
    const { zoneName } = config.dns;
    const inZone = (domain: string) => domain === zoneName || domain.endsWith(`.${zoneName}`);
    const domains: [PathSegment[], string | undefined][] = [
      [config.webDomain === config.domain ? ["domain"] : ["webDomain"], config.webDomain],
      [["media", "customDomain"], config.media.customDomain],
    ];
    for (const [path, domain] of domains) {
      if (domain && !inZone(domain)) {
        problems.push(
          error(
            path,
            domain,
            `is not inside mastodon:dns.zoneName ${zoneName}; its records and certificate validation go in that zone. Use a name under ${zoneName}, or another zone.`,
          ),
        );
      }
    }
  }
  return problems;
};

/**
 * The ALB reaches every mastodon-streaming@ port through one target group per port, joined in one
 * weighted forward action, which takes at most 5 target groups (components/loadBalancer.ts). Equal
 * weights spread load evenly only if every streaming host runs the same number of processes.
 */
export const MAX_STREAMING_PROCESSES = 5;
const streamingRouting: Rule = (config) => {
  const problems: Problem[] = [];
  const streaming = config.fleets.filter((f) => f.streaming);
  for (const fleet of streaming) {
    const processes = fleet.streaming?.processes ?? 0;
    if (processes > MAX_STREAMING_PROCESSES) {
      problems.push(
        error(
          ["fleets", fleet.name, "streaming", "processes"],
          processes,
          `exceeds ${MAX_STREAMING_PROCESSES}: the ALB reaches each streaming port through its own target group, and one forward action takes at most ${MAX_STREAMING_PROCESSES}. Run more hosts instead (raise maxSize), or a larger instance with ${MAX_STREAMING_PROCESSES} processes.`,
        ),
      );
    }
  }
  const counts = new Set(streaming.map((f) => f.streaming?.processes));
  if (counts.size > 1) {
    for (const fleet of streaming.slice(1)) {
      problems.push(
        error(
          ["fleets", fleet.name, "streaming", "processes"],
          fleet.streaming?.processes,
          `differs from fleet ${streaming[0]?.name} (${streaming[0]?.streaming?.processes}): the ALB weighs each streaming port's target group equally, so every streaming host must run the same number of processes. Give all streaming fleets the same streaming.processes.`,
        ),
      );
    }
  }
  return problems;
};

/** Spot may take a Sidekiq host away with two minutes' notice: never the scheduler, web or streaming. */
const spotFleets: Rule = (config) =>
  config.fleets.flatMap((fleet) => {
    if (!fleet.spot) return [];
    const why = fleet.sidekiq?.queues.includes("scheduler")
      ? "serves the scheduler queue, whose single process must not be reclaimed"
      : fleet.web || fleet.streaming
        ? "runs web or streaming, which serve users behind the ALB"
        : undefined;
    return why
      ? [
          error(
            ["fleets", fleet.name, "spot"],
            true,
            `is refused: this fleet ${why}. Spot is for Sidekiq fleets without the scheduler; remove spot here.`,
          ),
        ]
      : [];
  });

export const RULES: readonly Rule[] = [
  spotFleets,
  streamingRouting,
  edgeConsistency,
  everyServiceServed,
  schedulerSingleton,
  sidekiqThreads,
  connectionBudget,
  productionDurability,
  crossTierConsistency,
];

export function checkRules(config: StackConfig): Problem[] {
  return RULES.flatMap((rule) => rule(config));
}
