/**
 * The topology picture: every shipped stack's plan writes topology.svg on a machine without Graphviz
 * (a PATH with no `dot`: the plan draws it in WebAssembly), the SVG is read by a real SVG renderer
 * (librsvg) and names every node the stack deploys, the same DOT is read by Debian's `dot` without a
 * warning, production's edges do not cross, and the README shows the current production picture.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { egressPlan } from "../network/subnets";
import { parseStackConfig } from "../config";
import { renderSvg } from "../cli/topology";
import { crossings, svgEdges } from "../../test/scripts/crossings";
import { ROOT, STACKS, runPlan, stackConfig } from "../../test/helpers";

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-topology-"));
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

/** A PATH holding nothing: no Graphviz, no program the plan could spawn (node runs by its full path). */
const emptyBin = path.join(dir, "bin");
fs.mkdirSync(emptyBin);

function plan(stack: string) {
  const out = path.join(dir, stack);
  return { ...runPlan(["--stack", stack, "--out", out], { PATH: emptyBin }), out };
}

/** The ids of the nodes Graphviz drew (each node's <title> in its SVG). */
const svgNodes = (svg: string) =>
  [...svg.matchAll(/<g id="[^"]*" class="node">\s*<title>([^<]*)<\/title>/g)].map((m) => m[1]);

const plans = Object.fromEntries(STACKS.map((stack) => [stack, plan(stack)]));

describe.each(STACKS)("the %s stack's picture", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack));
  const run = plans[stack]!;
  const svgFile = path.join(run.out, "topology.svg");

  test("is written by a plan that finds no Graphviz on its PATH", () => {
    expect(spawnSync("dot", ["-V"], { env: { PATH: emptyBin } }).error).toMatchObject({ code: "ENOENT" });
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    expect(run.stdout).toContain(path.relative(ROOT, svgFile));
    expect(fs.existsSync(svgFile)).toBe(true);
  });

  test("is an SVG a real renderer reads, drawing every node the stack deploys", () => {
    const png = path.join(dir, `${stack}.png`);
    const r = spawnSync("rsvg-convert", ["-o", png, svgFile], { encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(fs.readFileSync(png).subarray(1, 4).toString()).toBe("PNG");

    const svg = fs.readFileSync(svgFile, "utf8");
    const expected = [
      "internet",
      "alb",
      "cdn",
      "media",
      "fleets",
      "postgres",
      "mail",
      "alarms",
      "topic",
      ...(config.dns ? ["dns"] : []),
      ...(egressPlan(config.network.egress, config.network.availabilityZones).natGateways ? ["nat"] : []),
      ...(config.redis.onHost ? [] : ["redis_persistent", "redis_cache"]),
      ...(config.search ? ["search"] : []),
      ...(config.database.replica ? ["replica"] : []),
    ];
    expect(svgNodes(svg).sort()).toEqual(expected.sort());
    // Graphviz writes "-" as &#45; in SVG text.
    const text = svg.replace(/&#45;/g, "-");
    for (const fleet of config.fleets) expect(text).toContain(`>${fleet.name}</text>`);
    // The on-host Redis is drawn on the host, with the ports its units listen on.
    if (config.redis.onHost)
      expect(text).toContain(
        `Redis cache :${config.redis.onHost.cachePort}, persistent :${config.redis.onHost.persistentPort} (AOF)`,
      );
  });

  test("comes from DOT that Debian's Graphviz reads without a warning", () => {
    const r = spawnSync("dot", ["-Tsvg", "-o", "/dev/null", path.join(run.out, "topology.dot")], {
      encoding: "utf8",
    });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

test("production's edges do not cross (the one-edge-per-fleet picture crossed itself 146 times)", () => {
  const svg = fs.readFileSync(path.join(plans.production!.out, "topology.svg"), "utf8");
  const edges = svgEdges(svg);
  expect(edges.length).toBe(14);
  expect(crossings(edges)).toMatchObject({ count: 0, pairs: [] });
  // The counter has teeth: two edges drawn across each other are found.
  const crossed = [
    '<g id="edge1" class="edge"><title>a</title><path d="M0,0C10,10 20,20 30,30"/></g>',
    '<g id="edge2" class="edge"><title>b</title><path d="M0,31C10,22 20,12 40,0"/></g>',
  ].join("\n");
  expect(crossings(svgEdges(crossed))).toMatchObject({ count: 1, pairs: [["a", "b"]] });
});

test("a label Graphviz cannot read fails the picture instead of drawing a broken one", async () => {
  await expect(
    renderSvg("digraph { a [label=<<TABLE><TR><TD>x<TABLE></TABLE></TD></TR></TABLE>>]; }"),
  ).rejects.toThrow(/Graphviz: error/);
  await expect(
    renderSvg("digraph { a [shape=plain, label=<<TABLE><TR><TD>x</TD></TR></TABLE>>]; b; a:nope -> b; }"),
  ).rejects.toThrow(/port nope unrecognized/);
});

test("the README shows the current production picture", () => {
  expect(fs.readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain(
    "![production topology](docs/production-topology.svg)",
  );
  expect(fs.readFileSync(path.join(ROOT, "docs/production-topology.svg"), "utf8")).toBe(
    fs.readFileSync(path.join(plans.production!.out, "topology.svg"), "utf8"),
  );
});
