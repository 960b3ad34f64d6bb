/**
 * A picture of the deployment (pure): Mermaid's architecture diagram, and the Graphviz DOT the plan
 * draws as topology.svg. The DOT is laid out left to right by tier (the internet, the public
 * subnets, the fleets, the data subnets, then the regional services) and by zone inside each
 * multi-zone store, one column per zone. The fleets share one table in scale order, so their
 * common connections are drawn once from the table rather than once per fleet: that is what keeps
 * edges from crossing (issue 13 counted 27 crossings in the one-edge-per-fleet picture).
 */
import { egressPlan } from "../network/subnets";
import type { Fleet, StackConfig } from "../config/resolve";
import { DEFAULTS, STREAMING_PATHS } from "../vocabulary/defaults";
import { type Budget, pgbouncerRow } from "../budget/budget";
import {
  type Attrs,
  type DotEdge,
  type DotGraph,
  type DotNode,
  type DotStatement,
  type HtmlContent,
  type HtmlElement,
  el,
  serializeDot,
} from "./dot";

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

/** What the picture is drawn from. */
export interface TopologyInput {
  readonly config: StackConfig;
  readonly budget: Budget;
  readonly replicaBudget?: Budget;
  /** The CloudWatch alarms the program declares (the plan counts them among its resources). */
  readonly alarms: number;
}

/** The network component's subnet suffixes (src/network/network.ts): zone a, b, c. */
const ZONES = ["a", "b", "c"] as const;
/** Every zone column has this width, so the columns of the stores stacked in a rank line up. */
const ZONE_WIDTH = 72;
/** A fleet's hosts bar: at most this many cells (each then stands for several hosts). */
const BAR_CELLS = 24;

/**
 * Graphviz in WebAssembly has no fonts: it sizes text from built-in metrics. DejaVu Sans is the widest
 * common sans-serif it knows, so cells sized for it hold the text in Helvetica or Arial too (a viewer
 * without DejaVu falls back to them); sized for Helvetica, text overflows where DejaVu is the font.
 */
const FONT = "DejaVu Sans";

const COLORS = {
  internet: "#f2f2f2",
  public: "#e8f3e8",
  app: "#e8effa",
  data: "#f4ecf7",
  regional: "#fdf3e3",
  vpc: "#ffffff",
  hostsMin: "#1f4e8c",
  hostsDesired: "#5b8fd6",
  hostsMax: "#d6e2f5",
  zoneEmpty: "#9a9a9a",
} as const;

/** Fleets in scale order: the largest maximum first, then desired and minimum size, then by name. */
export function scaleOrder(fleets: readonly Fleet[]): Fleet[] {
  return [...fleets].sort(
    (a, b) =>
      b.maxSize - a.maxSize ||
      b.desiredSize - a.desiredSize ||
      b.minSize - a.minSize ||
      a.name.localeCompare(b.name),
  );
}

const bold = (text: string) => el("B", {}, text);
const small = (...children: HtmlContent[]) => el("FONT", { "POINT-SIZE": 9 }, ...children);
/** Lines in one cell, separated by line breaks. */
const lines = (...items: HtmlContent[]): HtmlContent[] =>
  items.flatMap((item, i) => (i === 0 ? [item] : [el("BR", { ALIGN: "LEFT" }), item]));

const table = (attrs: HtmlElement["attrs"], ...rows: HtmlElement[]) =>
  el("TABLE", { BORDER: 0, CELLBORDER: 1, CELLSPACING: 0, CELLPADDING: 4, ...attrs }, ...rows);
const row = (...cells: HtmlElement[]) => el("TR", {}, ...cells);
const cell = (attrs: HtmlElement["attrs"], ...children: HtmlContent[]) =>
  el("TD", { ALIGN: "LEFT", BALIGN: "LEFT", ...attrs }, ...children);

/** A store's placement: one fixed-width cell per zone of the VPC, "-" where it has nothing. */
function zoneRow(zoneCount: number, placed: readonly (readonly string[])[]): HtmlElement {
  return row(
    ...ZONES.slice(0, zoneCount).map((zone, i) => {
      const here = placed[i] ?? [];
      return el(
        "TD",
        { WIDTH: ZONE_WIDTH, FIXEDSIZE: "FALSE", ALIGN: "CENTER" },
        here.length
          ? small(...lines(...here, el("FONT", { COLOR: COLORS.zoneEmpty }, `zone ${zone}`)))
          : small(el("FONT", { COLOR: COLORS.zoneEmpty }, "-", el("BR"), `zone ${zone}`)),
      );
    }),
  );
}

/** Members spread over zones in turn, as Multi-AZ placement does (primary first). */
function spread(members: readonly string[], zoneCount: number): string[][] {
  const placed: string[][] = Array.from({ length: zoneCount }, () => []);
  members.forEach((m, i) => placed[i % zoneCount]?.push(m));
  return placed;
}

/** A node drawn as a table: a title row spanning the zone columns, detail lines, then the zones. */
function storeNode(
  id: string,
  color: string,
  zoneCount: number,
  title: string,
  details: readonly string[],
  placed: readonly (readonly string[])[] | undefined,
): DotNode {
  return {
    kind: "node",
    id,
    attrs: {
      shape: "plain",
      label: {
        html: table(
          { BGCOLOR: color },
          row(cell({ COLSPAN: zoneCount }, ...lines(bold(title), ...details.map((d) => small(d))))),
          ...(placed ? [zoneRow(zoneCount, placed)] : []),
        ),
      },
    },
  };
}

/**
 * A fleet's hosts at min, desired and max size as a bar of cells (dark to min, mid to desired, light
 * to max), every bar as long as the largest fleet's so the bars compare at a glance.
 */
function hostsBar(fleet: Fleet, largest: number): HtmlElement {
  const per = Math.ceil(largest / BAR_CELLS);
  return el(
    "TABLE",
    { BORDER: 0, CELLBORDER: 0, CELLSPACING: 1, CELLPADDING: 0 },
    row(
      ...Array.from({ length: Math.ceil(largest / per) }, (_, i) => {
        const host = (i + 1) * per;
        const color =
          host <= fleet.minSize
            ? COLORS.hostsMin
            : host <= fleet.desiredSize
              ? COLORS.hostsDesired
              : host <= fleet.maxSize
                ? COLORS.hostsMax
                : undefined;
        return el("TD", { WIDTH: 7, HEIGHT: 10, FIXEDSIZE: "TRUE", BGCOLOR: color }, "");
      }),
    ),
  );
}

/** What one host of a fleet runs. */
function perHost(fleet: Fleet, config: StackConfig): string[] {
  const onHost = config.redis.onHost;
  return [
    ...(fleet.web ? [`web ${fleet.web.processes} x ${fleet.web.threads} threads :${DEFAULTS.web.port}`] : []),
    ...(fleet.streaming
      ? [`streaming ${fleet.streaming.processes} on :${fleet.streaming.ports.join(" :")}`]
      : []),
    ...(fleet.sidekiq
      ? [`sidekiq ${fleet.sidekiq.processes} x ${fleet.sidekiq.threads}: ${fleet.sidekiq.queues.join(" ")}`]
      : []),
    ...(onHost ? [`Redis cache :${onHost.cachePort}, persistent :${onHost.persistentPort} (AOF)`] : []),
  ];
}

/** The fleet's connections at maximum size: through its PgBouncers, or held directly. */
function connectionsCell(fleet: Fleet, budget: Budget): string[] {
  const held = budget.rows.filter((r) => r.fleet === fleet.name).reduce((n, r) => n + r.connections, 0);
  const pooled = budget.pgbouncer?.find((p) => p.fleet === fleet.name);
  return pooled
    ? [`pool ${pgbouncerRow(fleet).poolSize} per host`, `${held} in, ${pooled.serverConnections} to Postgres`]
    : [`${held} to Postgres`];
}

function fleetsNode(config: StackConfig, budget: Budget, fleets: readonly Fleet[]): DotNode {
  const pooled = budget.pooler === "pgbouncer";
  const largest = Math.max(...fleets.map((f) => f.maxSize));
  const per = Math.ceil(largest / BAR_CELLS);
  const header = (text: string) => cell({ BGCOLOR: "#d4e0f2" }, small(bold(text)));
  return {
    kind: "node",
    id: "fleets",
    attrs: {
      shape: "plain",
      label: {
        html: table(
          { BGCOLOR: COLORS.vpc },
          row(
            header("fleet"),
            header("instance"),
            header("min / desired / max"),
            header(`hosts${per > 1 ? ` (a cell: ${per} hosts)` : ""}`),
            header("each host runs"),
            header(pooled ? "PgBouncer at max" : "connections at max"),
          ),
          ...fleets.map((f) =>
            row(
              cell({ PORT: f.name }, bold(f.name)),
              cell({}, small(`${f.instanceType}${f.spot ? " (Spot)" : ""}`)),
              cell({ ALIGN: "CENTER" }, small(`${f.minSize} / ${f.desiredSize} / ${f.maxSize}`)),
              cell({}, hostsBar(f, largest)),
              cell({}, ...lines(...perHost(f, config).map((l) => small(l)))),
              cell({ PORT: `${f.name}-out` }, ...lines(...connectionsCell(f, budget).map((l) => small(l)))),
            ),
          ),
        ),
      },
    },
  };
}

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

  // Column 0: the internet.
  const internet: DotStatement = {
    kind: "subgraph",
    id: "internet_rank",
    attrs: { rank: "same" },
    body: [
      {
        kind: "node",
        id: "internet",
        attrs: {
          shape: "plain",
          label: {
            html: table(
              { BGCOLOR: COLORS.internet },
              row(cell({}, ...lines(bold("Internet"), small("browsers, apps"), small("federated servers")))),
            ),
          },
        },
      },
      ...(config.dns
        ? [
            storeNode(
              "dns",
              COLORS.internet,
              1,
              `Route 53 ${config.dns.zoneName}`,
              ["aliases to the ALB and CloudFront", "SES DKIM, MAIL FROM, DMARC"],
              undefined,
            ),
          ]
        : []),
    ],
  };

  // Column 1: CloudFront (global), and the public subnets: the ALB and the NAT gateways.
  const firstRow = (wants: (f: Fleet) => boolean) => fleets.findIndex(wants);
  const albRules = [
    {
      port: "streaming",
      row: firstRow((f) => f.streaming !== undefined),
      text: `${STREAMING_PATHS[0]} (WebSocket) to streaming :${config.streamingPorts.join(" :")}`,
    },
    { port: "web", row: firstRow((f) => f.web !== undefined), text: `default to web :${DEFAULTS.web.port}` },
  ].sort((x, y) => y.row - x.row);
  const alb: DotNode = {
    kind: "node",
    id: "alb",
    attrs: {
      shape: "plain",
      label: {
        html: table(
          { BGCOLOR: COLORS.vpc },
          row(
            cell(
              {},
              ...lines(
                bold(`ALB https ${config.webDomain}`),
                small(
                  `TLS 1.2+, idle timeout ${config.loadBalancer.idleTimeoutSeconds} s, ${zoneCount} zones`,
                ),
              ),
            ),
          ),
          // One row per listener rule, in the reverse order of the fleets they route to: the edges
          // leave and enter on the west side, the upper rule's around the lower's, so they cannot cross.
          ...albRules.map((rule) => row(cell({ PORT: rule.port }, small(rule.text)))),
        ),
      },
    },
  };
  const natCells = Array.from({ length: zoneCount }, (_, i) =>
    i < egress.natGateways ? ["NAT gateway"] : [],
  );
  const publicSubnets: DotStatement[] = [
    alb,
    ...(egress.natGateways > 0
      ? [
          storeNode(
            "nat",
            COLORS.vpc,
            zoneCount,
            egress.natGateways === 1 ? "one NAT gateway" : "a NAT gateway per zone",
            ["the fleets' way out: federation, SES, AWS APIs"],
            natCells,
          ),
        ]
      : []),
  ];
  const cdn = storeNode(
    "cdn",
    COLORS.regional,
    1,
    `CloudFront ${config.media.customDomain ?? "(its own domain)"}`,
    [`${config.media.priceClass}, reads S3 by origin access control`],
    undefined,
  );

  // Column 3: the data subnets, one column per zone inside each store.
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

  // Regional services outside the VPC.
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
    `CloudWatch: ${input.alarms} alarms`,
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
        cluster("public", "public subnets", COLORS.public, publicSubnets),
        cluster("app", fleetsLabel, COLORS.app, [fleetsNode(config, budget, fleets)]),
        cluster("data", "data subnets (one column per zone)", COLORS.data, dataStores),
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
