/**
 * The fleets in the topology (pure): one table, a row per fleet in scale order, so the connections the
 * fleets share are drawn once from the table rather than once per fleet (issue 13 counted 27 crossings
 * in the one-edge-per-fleet picture). Each row holds the fleet's sizes, its hosts as a bar, what each
 * host runs and the database connections it holds at maximum size.
 */
import type { Fleet, StackConfig } from "../config/stackConfig";
import { DEFAULTS } from "../vocabulary/defaults";
import { type Budget, pgbouncerRow } from "../budget/budget";
import { type DotNode, type HtmlElement, el } from "./dot";
import { COLORS, bold, cell, lines, row, small, table } from "./topologyLabels";

/** A fleet's hosts bar: at most this many cells (each then stands for several hosts). */
const BAR_CELLS = 24;

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

export function fleetsNode(config: StackConfig, budget: Budget, fleets: readonly Fleet[]): DotNode {
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
