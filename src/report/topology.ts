/**
 * A picture of the deployment (pure): the Graphviz DOT the plan draws as topology.svg (Mermaid's
 * architecture diagram is topologyMermaid.ts). The DOT is laid out left to right by tier (the
 * internet, the public subnets, the fleets, the data subnets, then the regional services) and by
 * zone inside each multi-zone store, one column per zone. The fleets share one table in scale order,
 * so their common connections are drawn once from the table rather than once per fleet: that is what
 * keeps edges from crossing (issue 13 counted 27 crossings in the one-edge-per-fleet picture). This
 * module assembles the graph and its edges; each tier's nodes are drawn in topologyPublic.ts,
 * topologyFleets.ts and topologyStores.ts, from the label blocks of topologyLabels.ts.
 */
import { egressPlan } from "../network/subnets";
import type { StackConfig } from "../config/stackConfig";
import type { Budget } from "../budget/budget";
import { type Attrs, type DotEdge, type DotGraph, type DotStatement, serializeDot } from "./dot";
import { COLORS, ZONES } from "./topologyLabels";
import { fleetsNode, scaleOrder } from "./topologyFleets";
import { cdnNode, internetRank, publicSubnets } from "./topologyPublic";
import { dataStores, regionalServices } from "./topologyStores";

/** What the picture is drawn from. */
export interface TopologyInput {
  readonly config: StackConfig;
  readonly budget: Budget;
  readonly replicaBudget?: Budget;
  /** The CloudWatch alarms the program declares (the plan counts them among its resources). */
  readonly alarms: number;
}

/**
 * Graphviz in WebAssembly has no fonts: it sizes text from built-in metrics. DejaVu Sans is the widest
 * common sans-serif it knows, so cells sized for it hold the text in Helvetica or Arial too (a viewer
 * without DejaVu falls back to them); sized for Helvetica, text overflows where DejaVu is the font.
 */
const FONT = "DejaVu Sans";

const cluster = (id: string, label: string, color: string, body: readonly DotStatement[]): DotStatement => ({
  kind: "subgraph",
  id: `cluster_${id}`,
  attrs: { label, style: "filled,rounded", fillcolor: color, color: "#8c8c8c", labeljust: "l" },
  body,
});

const edge = (
  from: string,
  to: string,
  attrs: Attrs = {},
  ports: Partial<Pick<DotEdge, "fromPort" | "toPort">> = {},
): DotEdge => ({
  kind: "edge",
  from,
  to,
  ...ports,
  attrs,
});

/** The deployment as a DOT graph: nodes, clusters and edges as data. */
export function topologyGraph(input: TopologyInput): DotGraph {
  const { config, budget, replicaBudget } = input;
  const zoneCount = config.network.availabilityZones;
  const zoneNames = ZONES.slice(0, zoneCount).join(", ");
  const egress = egressPlan(config.network.egress, zoneCount);
  const fleets = scaleOrder(config.fleets);
  const db = config.database;
  const redis = config.redis;
  const search = config.search;
  const streamingFleets = fleets.filter((f) => f.streaming);
  const webFleets = fleets.filter((f) => f.web);
  const mailers = fleets.find((f) => f.sidekiq?.queues.includes("mailers"));

  const internet = internetRank(config);
  const cdn = cdnNode(config);
  const { media, mail, alarms, topic } = regionalServices(config, input.alarms);

  const fleetsLabel = egress.fleetsInPublicSubnets
    ? `fleets in the public subnets (zones ${zoneNames}; nothing inbound but from the ALB)`
    : `fleets: Auto Scaling groups over the app subnets (zones ${zoneNames})`;
  const connections =
    budget.pooler === "pgbouncer"
      ? `PgBouncer: ${budget.fleetConnections} at max`
      : `${budget.fleetConnections} at max`;
  const redisVia = (names: string) => ({ label: names, fontsize: 9 });
  // The stores' edges leave the table where dot finds them shortest (one shared port made them cross
  // as they fanned out); media writes leave by its right side, toward S3.
  const toMedia = { compass: "e" } as const;

  // Edges in the order the stores are stacked, so the first ordering dot tries has no crossing.
  const edges: DotEdge[] = [
    ...(config.dns ? [edge("internet", "dns", { style: "invis" })] : []),
    edge("internet", "cdn", { label: "media", fontsize: 9 }),
    edge("internet", "alb", { label: "https", fontsize: 9 }),
    edge("cdn", "media", { label: "OAC", fontsize: 9 }),
    ...webFleets.map((f) =>
      edge(
        "alb",
        "fleets",
        {},
        { fromPort: { port: "web", compass: "w" }, toPort: { port: f.name, compass: "w" } },
      ),
    ),
    ...streamingFleets.map((f) =>
      edge(
        "alb",
        "fleets",
        { label: "WebSocket", fontsize: 9 },
        { fromPort: { port: "streaming", compass: "w" }, toPort: { port: f.name, compass: "w" } },
      ),
    ),
    ...(egress.natGateways > 0
      ? [
          // Drawn against the flow (dir=back) so NAT sits in the public column, left of the fleets.
          edge("nat", "fleets", { dir: "back", label: "outbound", fontsize: 9 }),
          edge("internet", "nat", { dir: "back", fontsize: 9 }),
        ]
      : [edge("internet", "fleets", { dir: "back", label: "outbound (public IPv4, no NAT)", fontsize: 9 })]),
    edge(
      "fleets",
      "media",
      { label: "media writes", fontsize: 9, constraint: "false" },
      { fromPort: toMedia },
    ),
    edge("fleets", "postgres", { label: connections, fontsize: 9 }),
    ...(db.replica && replicaBudget
      ? [edge("postgres", "replica", { label: "replication", fontsize: 9 })]
      : []),
    ...(redis.onHost
      ? []
      : [
          edge("fleets", "redis_persistent", redisVia("REDIS_URL, SIDEKIQ_REDIS_URL")),
          edge("fleets", "redis_cache", redisVia("CACHE_REDIS_URL")),
        ]),
    ...(search ? [edge("fleets", "search", { label: "ES_HOST https", fontsize: 9 })] : []),
    ...(mailers
      ? [
          edge(
            "fleets",
            "mail",
            { label: "SMTP (mailers)", fontsize: 9 },
            { fromPort: { port: `${mailers.name}-out`, compass: "e" } },
          ),
        ]
      : []),
    edge("alarms", "topic"),
  ];

  return {
    id: "mastodon",
    graph: {
      rankdir: "TB",
      newrank: "true",
      nodesep: 0.25,
      ranksep: 0.6,
      fontname: FONT,
      fontsize: 12,
      label: `${config.domain}: stack topology (${config.environment})`,
      labelloc: "t",
    },
    node: { fontname: FONT, fontsize: 10 },
    edge: { fontname: FONT, fontsize: 9, color: "#4d4d4d", arrowsize: 0.7 },
    body: [
      internet,
      cluster("vpc", `VPC ${config.network.cidr}, zones ${zoneNames}`, COLORS.vpc, [
        cluster("public", "public subnets", COLORS.public, publicSubnets(config, fleets, egress, zoneCount)),
        cluster("app", fleetsLabel, COLORS.app, [fleetsNode(config, budget, fleets)]),
        cluster(
          "data",
          "data subnets (one column per zone)",
          COLORS.data,
          dataStores(config, budget, replicaBudget, zoneCount),
        ),
      ]),
      cluster("media_tier", "media", COLORS.regional, [cdn, media]),
      cluster("regional", "regional services", COLORS.regional, [
        // SES and the alarms side by side, the topic under the alarms.
        { kind: "subgraph", id: "regional_rank", attrs: { rank: "same" }, body: [mail, alarms] },
        topic,
      ]),
      ...edges,
    ],
  };
}

export function renderDot(input: TopologyInput): string {
  return serializeDot(topologyGraph(input));
}
