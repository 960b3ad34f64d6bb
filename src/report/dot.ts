/**
 * Graphviz DOT as typed data, and its serializer (pure). Every identifier and string is quoted and
 * escaped here, labels are HTML-like labels built as elements (Graphviz's "Node Shapes" page, HTML-Like
 * Labels), so no caller writes DOT syntax by hand.
 */

export type Compass = "n" | "ne" | "e" | "se" | "s" | "sw" | "w" | "nw" | "c";

export interface Port {
  readonly port?: string;
  readonly compass?: Compass;
}

/** An HTML-like label's content: text (escaped when written) or one of the elements Graphviz reads. */
export type HtmlContent = string | HtmlElement;

export interface HtmlElement {
  readonly tag: "TABLE" | "TR" | "TD" | "FONT" | "B" | "I" | "BR";
  readonly attrs?: Readonly<Record<string, string | number | undefined>>;
  readonly children?: readonly HtmlContent[];
}

/** An attribute value: a string or number (quoted), or an HTML-like label (written between < >). */
export type AttrValue = string | number | { readonly html: HtmlContent };

export type Attrs = Readonly<Record<string, AttrValue | undefined>>;

export interface DotNode {
  readonly kind: "node";
  readonly id: string;
  readonly attrs?: Attrs;
}

export interface DotEdge {
  readonly kind: "edge";
  readonly from: string;
  readonly to: string;
  /** A port of an HTML-like label (a cell's PORT) and/or the side the edge leaves or enters by. */
  readonly fromPort?: Port;
  readonly toPort?: Port;
  readonly attrs?: Attrs;
}

/** A subgraph: a cluster when its id starts with "cluster" (drawn as a box), else a rank group. */
export interface DotSubgraph {
  readonly kind: "subgraph";
  readonly id: string;
  readonly attrs?: Attrs;
  readonly body: readonly DotStatement[];
}

export type DotStatement = DotNode | DotEdge | DotSubgraph;

export interface DotGraph {
  readonly id: string;
  readonly graph?: Attrs;
  readonly node?: Attrs;
  readonly edge?: Attrs;
  readonly body: readonly DotStatement[];
}

export const el = (
  tag: HtmlElement["tag"],
  attrs: HtmlElement["attrs"] = {},
  ...children: HtmlContent[]
): HtmlElement => ({ tag, attrs, children });

const escapeHtml = (s: string) =>
  s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");

export function serializeHtml(content: HtmlContent): string {
  if (typeof content === "string") return escapeHtml(content);
  const attrs = Object.entries(content.attrs ?? {})
    .filter((entry): entry is [string, string | number] => entry[1] !== undefined)
    .map(([k, v]) => ` ${k}="${escapeHtml(String(v))}"`)
    .join("");
  // BR is the one empty element: Graphviz refuses <BR></BR>.
  if (content.tag === "BR") return `<BR${attrs}/>`;
  return `<${content.tag}${attrs}>${(content.children ?? []).map(serializeHtml).join("")}</${content.tag}>`;
}

/** A DOT double-quoted string whose text is literal: `"` escaped, and `\\` so no label escape (\\n, \\N) is read. */
export const quote = (s: string) => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

function value(v: AttrValue): string {
  if (typeof v === "number") return String(v);
  if (typeof v === "string") return quote(v);
  return `<${serializeHtml(v.html)}>`;
}

function attrList(attrs: Attrs | undefined): string {
  const list = Object.entries(attrs ?? {})
    .filter((entry): entry is [string, AttrValue] => entry[1] !== undefined)
    .map(([k, v]) => `${k}=${value(v)}`);
  return list.length ? ` [${list.join(", ")}]` : "";
}

const endpoint = (id: string, port: Port | undefined) =>
  [
    quote(id),
    ...(port?.port !== undefined ? [quote(port.port)] : []),
    ...(port?.compass ? [port.compass] : []),
  ].join(":");

function statement(s: DotStatement, indent: string): string[] {
  switch (s.kind) {
    case "node":
      return [`${indent}${quote(s.id)}${attrList(s.attrs)};`];
    case "edge":
      return [`${indent}${endpoint(s.from, s.fromPort)} -> ${endpoint(s.to, s.toPort)}${attrList(s.attrs)};`];
    case "subgraph":
      return [
        `${indent}subgraph ${quote(s.id)} {`,
        ...Object.entries(s.attrs ?? {})
          .filter((entry): entry is [string, AttrValue] => entry[1] !== undefined)
          .map(([k, v]) => `${indent}  ${k}=${value(v)};`),
        ...s.body.flatMap((child) => statement(child, `${indent}  `)),
        `${indent}}`,
      ];
    default: {
      const unknown: never = s;
      throw new Error(`unknown DOT statement ${JSON.stringify(unknown)}`);
    }
  }
}

/** The graph as DOT text: a digraph, default attributes first, then the statements in order. */
export function serializeDot(g: DotGraph): string {
  return [
    `digraph ${quote(g.id)} {`,
    ...(g.graph ? [`  graph${attrList(g.graph)};`] : []),
    ...(g.node ? [`  node${attrList(g.node)};`] : []),
    ...(g.edge ? [`  edge${attrList(g.edge)};`] : []),
    ...g.body.flatMap((s) => statement(s, "  ")),
    "}",
    "",
  ].join("\n");
}

/** Every node of a graph, clusters included (for callers that check what was drawn). */
export function dotNodes(statements: readonly DotStatement[]): DotNode[] {
  return statements.flatMap((s) => (s.kind === "node" ? [s] : s.kind === "subgraph" ? dotNodes(s.body) : []));
}

/** Every edge of a graph, clusters included. */
export function dotEdges(statements: readonly DotStatement[]): DotEdge[] {
  return statements.flatMap((s) => (s.kind === "edge" ? [s] : s.kind === "subgraph" ? dotEdges(s.body) : []));
}
