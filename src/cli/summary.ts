/**
 * The plan's readable summary: resources by component, the fleet/process layout and the budget
 * table with its totals against the limits. Pure: text from data.
 */
import { hostContextOf, memoryPlan } from "../fleet/memory";
import type { Budget } from "../budget/budget";
import type { CostEstimate } from "../report/cost";
import { PRICE_UNITS } from "../report/prices";
import { type Problem, type StackConfig, formatProblem } from "../config";
import type { RecordedResource } from "../testing/mocks";
import { table } from "./table";
import { OPENSEARCH_SERVICE_ROLE, createServiceLinkedRoleCommand } from "../aws/serviceLinkedRoles";

/** Resources by component: each component with the count of each resource type it declares directly. */
export function resourcesSection(resources: readonly RecordedResource[]): string[] {
  const children = new Map<string | null, RecordedResource[]>();
  for (const r of resources) {
    const list = children.get(r.parent) ?? [];
    list.push(r);
    children.set(r.parent, list);
  }
  const lines = [
    `Resources (${resources.length} declared, ${resources.filter((r) => r.custom).length} cloud resources):`,
  ];
  const walk = (parent: string | null, depth: number) => {
    const kids = children.get(parent) ?? [];
    const counts = new Map<string, number>();
    for (const r of kids.filter((k) => k.custom)) counts.set(r.type, (counts.get(r.type) ?? 0) + 1);
    const indent = "  ".repeat(depth + 1);
    for (const [type, n] of [...counts].sort()) lines.push(`${indent}${n} x ${type}`);
    for (const c of kids.filter((k) => !k.custom)) {
      lines.push(`${indent}${c.name} (${c.type})`);
      walk(c.name, depth + 1);
    }
  };
  walk(null, 0);
  return lines;
}

function services(fleet: StackConfig["fleets"][number]): string {
  const parts: string[] = [];
  if (fleet.web) parts.push(`web ${fleet.web.processes} workers x ${fleet.web.threads} threads`);
  if (fleet.streaming)
    parts.push(`streaming @${fleet.streaming.ports.join(",@")} (DB_POOL ${fleet.streaming.dbPool})`);
  if (fleet.sidekiq) {
    parts.push(
      `sidekiq [${fleet.sidekiq.queues.join(",")}] ${fleet.sidekiq.processes} x -c ${fleet.sidekiq.threads}`,
    );
  }
  return parts.join("; ");
}

export function fleetsSection(config: StackConfig): string[] {
  return [
    "Fleets (per host):",
    ...table(
      ["fleet", "instance", "vCPU", "GiB", "min", "desired", "max", "services"],
      config.fleets.map((f) => [
        f.name,
        f.instanceType,
        f.instance.vcpu,
        f.instance.memoryGiB,
        f.minSize,
        f.desiredSize,
        f.maxSize,
        services(f),
      ]),
    ).map((l) => `  ${l}`),
    'Memory per host (docs/design.md, "Memory fit"): needed of RAM less the OS',
    ...config.fleets.map((f) => {
      const plan = memoryPlan(f, hostContextOf(config));
      const lines = plan.lines.map((l) =>
        l.count === 1 ? `${l.item} ${l.mib}` : `${l.item} ${l.count} x ${l.mibEach}`,
      );
      return `  ${f.name}: ${plan.neededMiB} of ${plan.availableMiB} MiB (${lines.join(", ")})`;
    }),
  ];
}

export function budgetSection(budget: Budget): string[] {
  const title =
    `Postgres connection budget${budget.target === "replica" ? " (read replica)" : ""}: ` +
    `${budget.instanceClass}, max_connections ${budget.maxConnections}, pooler ${budget.pooler}`;
  const lines = [
    title,
    ...table(
      [
        "fleet",
        "service",
        "queues",
        "maxSize",
        "+replacing",
        "processes",
        "pool",
        budget.pgbouncer ? "to PgBouncer" : "connections",
        "+replacing",
      ],
      budget.rows.map((r) => [
        r.fleet,
        r.service,
        r.queues?.join(",") ?? "",
        r.maxSize,
        r.surgeHosts,
        r.processes,
        r.pool,
        r.connections,
        r.surgeConnections,
      ]),
    ).map((l) => `  ${l}`),
  ];
  if (budget.pgbouncer) {
    lines.push(
      "  PgBouncer (one per host, transaction mode): server connections to Postgres",
      ...table(
        ["fleet", "maxSize", "+replacing", "clients/host", "pool", "server", "+replacing"],
        budget.pgbouncer.map((p) => [
          p.fleet,
          p.maxSize,
          p.surgeHosts,
          p.clientConnectionsPerHost,
          p.poolSize,
          p.serverConnections,
          p.surgeServerConnections,
        ]),
      ).map((l) => `    ${l}`),
    );
  }
  const source = budget.pgbouncer ? "PgBouncer server pools" : "fleets";
  lines.push(
    `  total: ${source} ${budget.fleetConnections} + replacements launched first ${budget.surgeConnections} + headroom ${budget.headroom} = ${budget.total} ` +
      `of limit ${budget.limit} (90% of ${budget.usable} usable = ${budget.maxConnections} - 3 - 2); spare ${budget.spare}`,
    `  work_mem ${budget.workMemMiB} MiB x ${budget.maxConnections} = ${budget.workMemTotalMiB} MiB ` +
      `of ${budget.workMemCeilingMiB} MiB (2 x RAM)`,
  );
  return lines;
}

export function warningsSection(warnings: readonly Problem[]): string[] {
  const lines = warnings.map((w) => `  ${formatProblem(w)}`);
  return lines.length ? ["Warnings:", ...lines] : [];
}

export function dataTierSection(config: StackConfig): string[] {
  const { network, database, redis } = config;
  const db = database.primary;
  const redisLine = (role: "cache" | "persistent") => {
    const r = redis[role];
    if ("mode" in r && r.mode === "self-managed-aof") {
      return `  Redis ${role}: self-managed on ${r.instanceType} (Debian redis-server, appendonly everysec, ${r.volumeGiB} GiB gp3, daily EBS snapshots)`;
    }
    const policy = role === "cache" ? "allkeys-lru, no snapshots" : "noeviction, daily snapshots";
    const failover = r.nodes >= 2 ? ", Multi-AZ failover" : "";
    return `  Redis ${role}: ${r.engine} ${r.engineVersion} ${r.nodeType} x ${r.nodes}${failover}, ${policy}, TLS + AUTH`;
  };
  return [
    "Network and data tier:",
    `  VPC ${network.cidr} over ${network.availabilityZones} AZs, egress ${network.egress}${network.ipv6 ? ", dual-stack" : ""}`,
    `  PostgreSQL ${database.engineVersion} ${db.instanceClass} (${db.spec.memoryGiB} GiB)${database.multiAz ? " Multi-AZ" : " single-AZ"}, ` +
      `gp3 ${database.storageGiB}-${database.maxStorageGiB} GiB, max_connections ${db.maxConnections}, work_mem ${db.workMemMiB} MiB` +
      (database.replica ? `; read replica ${database.replica.instanceClass}` : ""),
    ...(redis.onHost
      ? [
          `  Redis on the app host: cache 127.0.0.1:${redis.onHost.cachePort} (maxmemory ${redis.onHost.cacheMaxmemoryMiB} MiB, allkeys-lru, no persistence), ` +
            `persistent 127.0.0.1:${redis.onHost.persistentPort} (maxmemory ${redis.onHost.persistentMaxmemoryMiB} MiB, noeviction, AOF everysec on its own ${redis.onHost.persistentVolumeGiB} GiB gp3 volume in the first zone, kept across hosts), AUTH`,
        ]
      : [redisLine("cache"), redisLine("persistent")]),
    ...(config.search
      ? [
          `  OpenSearch ${config.search.engineVersion} ${config.search.instanceType} x ${config.search.nodes}, ${config.search.volumeGiB} GiB gp3 each, ES_PRESET ${config.search.preset}`,
          `    needs, once per account, the service-linked role ${OPENSEARCH_SERVICE_ROLE.name} (this plan's account has it; ` +
            `pulumi preview fails in one without it): ${createServiceLinkedRoleCommand(OPENSEARCH_SERVICE_ROLE)}`,
        ]
      : []),
  ];
}

export function edgeSection(config: StackConfig): string[] {
  const { loadBalancer: lb, media, mail, dns } = config;
  const ports = config.streamingPorts;
  const certificate = (arn: string | undefined, where: string) =>
    arn ? `certificate ${arn}` : `certificate requested in ${where} and DNS-validated in ${dns?.zoneName}`;
  return [
    "Edge:",
    `  ALB https://${config.webDomain}: web -> :3000 (/health); /api/v1/streaming and /api/v1/streaming/* -> ` +
      `${ports.map((p) => `:${p}`).join(", ")} (/api/v1/streaming/health); HTTP -> HTTPS; idle timeout ${lb.idleTimeoutSeconds} s` +
      `${lb.accessLogs ? "; access logs" : ""}${lb.deletionProtection ? "; deletion protection" : ""}`,
    `    ${certificate(lb.certificateArn, "the stack's region")}`,
    `  Media: private S3 bucket behind CloudFront (OAC), served at ${media.customDomain ?? "the distribution's cloudfront.net domain"}` +
      `${media.customDomain ? ` (${certificate(media.certificateArn, "us-east-1")})` : ""}`,
    `  DNS: ${dns ? `alias records in ${dns.zoneName} (${dns.zoneId})` : "none (point the domains at the ALB and CloudFront yourself)"}`,
    `  Mail: ${mail.provider === "ses" ? `SES, from ${mail.fromAddress}; a new SES account is in the sandbox (200 messages a day)` : `SMTP ${mail.smtp?.server}:${mail.smtp?.port}, from ${mail.fromAddress}`}`,
  ];
}

export function costSection(cost: CostEstimate): string[] {
  const usd = (x: number) => `$${x.toFixed(2)}`;
  return [
    `Monthly cost estimate (${cost.currency}, ${cost.region} prices of ${cost.priceDate}${cost.estimated ? "; rows marked * are estimates" : ""}):`,
    ...table(
      ["component", "resource", "desired", "max", "unit price", "monthly desired", "monthly max"],
      cost.rows.map((r) => [
        r.component,
        `${r.resource}${r.estimated ? " *" : ""}`,
        r.quantityDesired,
        r.quantityMax,
        `$${r.unitPrice.toFixed(4)}/${PRICE_UNITS[r.unit]}`,
        usd(r.monthlyDesired),
        usd(r.monthlyMax),
      ]),
    ).map((l) => `  ${l}`),
    `  total: ${usd(cost.monthly.desired)} a month at desired size, ${usd(cost.monthly.max)} at maximum size`,
    // What no row prices (src/report/cost.ts): the footer and cost.json say the same.
    `  not included: ${cost.excluded.join("; ")}`,
  ];
}
