/**
 * The deployment as Mermaid's architecture diagram (pure): the plan writes it as topology.mmd. A flat
 * picture of edge, fleets and data, one service per fleet, next to the laid-out DOT of topology.ts.
 */
import type { Fleet, StackConfig } from "../config/stackConfig";
import type { Budget } from "../budget/budget";

interface Node {
  readonly id: string;
  readonly group: "edge" | "fleets" | "data";
  readonly icon: "internet" | "server" | "database" | "disk";
  readonly label: string;
}

interface Edge {
  readonly from: string;
  readonly to: string;
}

/** Mermaid labels may not hold brackets: say queue lists with "queues ...". */
function fleetLabel(fleet: Fleet, budget: Budget): string {
  const services: string[] = [];
  if (fleet.web) services.push(`web ${fleet.web.processes}x${fleet.web.threads} threads`);
  if (fleet.streaming)
    services.push(`streaming ${fleet.streaming.processes} on ${fleet.streaming.ports.join(" ")}`);
  if (fleet.sidekiq)
    services.push(
      `sidekiq ${fleet.sidekiq.processes}x${fleet.sidekiq.threads} queues ${fleet.sidekiq.queues.join(" ")}`,
    );
  const held = budget.rows.filter((r) => r.fleet === fleet.name).reduce((n, r) => n + r.connections, 0);
  const server = budget.pgbouncer?.find((p) => p.fleet === fleet.name)?.serverConnections;
  const connections =
    server === undefined
      ? `${held} of ${budget.maxConnections} connections at max`
      : `${held} to PgBouncer, ${server} of ${budget.maxConnections} at max`;
  return `${fleet.name}: ${fleet.instanceType} x ${fleet.minSize}-${fleet.maxSize}, ${services.join(", ")}, ${connections}`;
}

const nodeId = (fleet: string) => `fleet_${fleet.replace(/-/g, "_")}`;

function graph(config: StackConfig, budget: Budget): { nodes: Node[]; edges: Edge[] } {
  const nodes: Node[] = [
    { id: "alb", group: "edge", icon: "internet", label: `ALB https ${config.webDomain}` },
    {
      id: "cdn",
      group: "edge",
      icon: "internet",
      label: `CloudFront ${config.media.customDomain ?? "media"}`,
    },
    ...config.fleets.map((f) => ({
      id: nodeId(f.name),
      group: "fleets" as const,
      icon: "server" as const,
      label: fleetLabel(f, budget),
    })),
    {
      id: "postgres",
      group: "data",
      icon: "database",
      label: `PostgreSQL ${config.database.primary.instanceClass}${config.database.multiAz ? " Multi-AZ" : ""}, max_connections ${budget.maxConnections}, budget ${budget.total} of ${budget.limit}`,
    },
    {
      id: "redis_persistent",
      group: "data",
      icon: "database",
      label: "Redis persistent noeviction, Sidekiq and feeds",
    },
    { id: "redis_cache", group: "data", icon: "database", label: "Redis cache allkeys-lru" },
    { id: "media", group: "data", icon: "disk", label: "S3 media bucket" },
    ...(config.search
      ? [
          {
            id: "search",
            group: "data" as const,
            icon: "database" as const,
            label: `OpenSearch ${config.search.engineVersion.replace("_", " ")}, ${config.search.instanceType} x ${config.search.nodes}`,
          },
        ]
      : []),
  ];
  const edges: Edge[] = [{ from: "cdn", to: "media" }];
  for (const f of config.fleets) {
    const id = nodeId(f.name);
    if (f.web || f.streaming) edges.push({ from: "alb", to: id });
    edges.push(
      { from: id, to: "postgres" },
      { from: id, to: "redis_persistent" },
      { from: id, to: "redis_cache" },
    );
    // Mastodon's web and Sidekiq index and query the domain; streaming never reaches it.
    if (config.search && (f.web || f.sidekiq)) edges.push({ from: id, to: "search" });
  }
  return { nodes, edges };
}

const GROUPS = {
  edge: ["internet", "Edge"],
  fleets: ["cloud", "Fleets"],
  data: ["database", "Data"],
} as const;

export function renderMermaid(config: StackConfig, budget: Budget): string {
  const { nodes, edges } = graph(config, budget);
  return [
    "architecture-beta",
    ...Object.entries(GROUPS).map(([id, [icon, title]]) => `  group ${id}(${icon})[${title}]`),
    ...nodes.map((n) => `  service ${n.id}(${n.icon})[${n.label}] in ${n.group}`),
    ...edges.map((e) => `  ${e.from}:B --> T:${e.to}`),
    "",
  ].join("\n");
}
