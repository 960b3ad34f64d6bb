/**
 * The building blocks of the topology's HTML-like labels (pure): the palette, the zone columns, and
 * the store node (a table: title, detail lines, one cell per zone) most nodes of the picture are.
 */
import { type DotNode, type HtmlContent, type HtmlElement, el } from "./dot";

/** The network component's subnet suffixes (src/network/network.ts): zone a, b, c. */
export const ZONES = ["a", "b", "c"] as const;
/** Every zone column has this width, so the columns of the stores stacked in a rank line up. */
const ZONE_WIDTH = 72;

export const COLORS = {
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

export const bold = (text: string) => el("B", {}, text);
export const small = (...children: HtmlContent[]) => el("FONT", { "POINT-SIZE": 9 }, ...children);
/** Lines in one cell, separated by line breaks. */
export const lines = (...items: HtmlContent[]): HtmlContent[] =>
  items.flatMap((item, i) => (i === 0 ? [item] : [el("BR", { ALIGN: "LEFT" }), item]));

export const table = (attrs: HtmlElement["attrs"], ...rows: HtmlElement[]) =>
  el("TABLE", { BORDER: 0, CELLBORDER: 1, CELLSPACING: 0, CELLPADDING: 4, ...attrs }, ...rows);
export const row = (...cells: HtmlElement[]) => el("TR", {}, ...cells);
export const cell = (attrs: HtmlElement["attrs"], ...children: HtmlContent[]) =>
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
export function spread(members: readonly string[], zoneCount: number): string[][] {
  const placed: string[][] = Array.from({ length: zoneCount }, () => []);
  members.forEach((m, i) => placed[i % zoneCount]?.push(m));
  return placed;
}

/** A node drawn as a table: a title row spanning the zone columns, detail lines, then the zones. */
export function storeNode(
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
