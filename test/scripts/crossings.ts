/**
 * Crossing edges in a Graphviz SVG: each edge's path (M then cubic Béziers) sampled into a polyline,
 * every pair of edges tested segment by segment. Edges that leave or reach the same point (a fan out
 * of one port) meet there without crossing: intersections within `near` of a shared end are not
 * counted, nor where an arrowhead touches its node.
 */
export interface SvgEdge {
  readonly title: string;
  readonly points: readonly (readonly [number, number])[];
}

export function svgEdges(svg: string): SvgEdge[] {
  const edges: SvgEdge[] = [];
  for (const g of svg.matchAll(/<g id="[^"]*" class="edge">([\s\S]*?)<\/g>/g)) {
    const body = g[1] ?? "";
    const title = /<title>([\s\S]*?)<\/title>/.exec(body)?.[1] ?? "";
    const d = /<path[^>]* d="([^"]+)"/.exec(body)?.[1];
    if (!d) continue;
    const nums = (d.match(/-?\d+(\.\d+)?/g) ?? []).map(Number);
    const pts: [number, number][] = [];
    for (let i = 0; i + 1 < nums.length; i += 2) pts.push([nums[i] as number, nums[i + 1] as number]);
    const [start, ...rest] = pts;
    if (!start) continue;
    const line: [number, number][] = [start];
    for (let i = 0; i + 2 < rest.length; i += 3) {
      const p0 = line[line.length - 1] as [number, number];
      const [p1, p2, p3] = [rest[i], rest[i + 1], rest[i + 2]] as [number, number][];
      for (let k = 1; k <= 16; k++) {
        const t = k / 16;
        const u = 1 - t;
        line.push([
          u ** 3 * p0[0] + 3 * u * u * t * p1![0] + 3 * u * t * t * p2![0] + t ** 3 * p3![0],
          u ** 3 * p0[1] + 3 * u * u * t * p1![1] + 3 * u * t * t * p2![1] + t ** 3 * p3![1],
        ]);
      }
    }
    edges.push({ title, points: line });
  }
  return edges;
}

export type P = readonly [number, number];
const cross = (o: P, a: P, b: P) => (a[0] - o[0]) * (b[1] - o[1]) - (a[1] - o[1]) * (b[0] - o[0]);

function intersection(a: P, b: P, c: P, d: P): P | undefined {
  const d1 = cross(c, d, a);
  const d2 = cross(c, d, b);
  const d3 = cross(a, b, c);
  const d4 = cross(a, b, d);
  if (d1 * d2 >= 0 || d3 * d4 >= 0) return undefined;
  const t = d1 / (d1 - d2);
  return [a[0] + t * (b[0] - a[0]), a[1] + t * (b[1] - a[1])];
}

const dist = (p: P, q: P) => Math.hypot(p[0] - q[0], p[1] - q[1]);

/** The pairs of edges that cross, and how many times in all. */
export function crossings(
  edges: readonly SvgEdge[],
  near = 12,
): { pairs: [string, string][]; count: number; at: P[]; involved: number } {
  const pairs: [string, string][] = [];
  const at: P[] = [];
  const involved = new Set<string>();
  let count = 0;
  edges.forEach((e, i) =>
    edges.slice(i + 1).forEach((f) => {
      const ends = [e.points[0], e.points.at(-1), f.points[0], f.points.at(-1)] as P[];
      const found: P[] = [];
      for (let s = 0; s + 1 < e.points.length; s++)
        for (let t = 0; t + 1 < f.points.length; t++) {
          const x = intersection(e.points[s]!, e.points[s + 1]!, f.points[t]!, f.points[t + 1]!);
          if (!x || ends.some((end) => dist(end, x) < near)) continue;
          // One crossing, sampled as several segment hits where the curves run close: count it once.
          if (found.some((y) => dist(x, y) < near)) continue;
          found.push(x);
        }
      if (found.length) {
        pairs.push([e.title, f.title]);
        count += found.length;
        at.push(...found);
        involved.add(`${i}`).add(`${edges.indexOf(f)}`);
      }
    }),
  );
  return { pairs, count, at, involved: involved.size };
}
