/**
 * The topology picture on disk: Mermaid, DOT, and the SVG drawn from that DOT by Graphviz compiled
 * to WebAssembly (@viz-js/viz), so every plan writes topology.svg on any machine, with no Graphviz
 * installed and no program spawned.
 */
import * as fs from "fs";
import * as path from "path";
import type { StackConfig } from "../config/stackConfig";
import { renderDot, type TopologyInput } from "../report/topology";
import { renderMermaid } from "../report/topologyMermaid";
import type { Budget } from "../budget/budget";
import type { RecordedResource } from "../testing/mocks";

export const METRIC_ALARM_TYPE = "aws:cloudwatch/metricAlarm:MetricAlarm";

/** What the picture is drawn from, the alarms counted among the resources the program declared. */
export function topologyInput(
  config: StackConfig,
  budget: Budget,
  replicaBudget: Budget | undefined,
  resources: readonly RecordedResource[],
): TopologyInput {
  return {
    config,
    budget,
    ...(replicaBudget && { replicaBudget }),
    alarms: resources.filter((r) => r.type === METRIC_ALARM_TYPE).length,
  };
}

/** DOT to SVG in WebAssembly: Graphviz's `dot` layout, the same engine as the `dot` program. */
export async function renderSvg(dot: string): Promise<string> {
  // A dynamic import: the package is an ES module and this project compiles to CommonJS.
  const { instance } = await import("@viz-js/viz");
  const viz = await instance();
  // render() reports Graphviz's errors and warnings (renderString drops the warnings): a label
  // Graphviz cannot read, or a port it cannot find, is a bug in the DOT, not a picture to write.
  const result = viz.render(dot, { format: "svg", engine: "dot" });
  if (result.status !== "success" || result.errors.length)
    throw new Error(
      `Graphviz: ${result.errors.map((e) => `${e.level ?? "error"}: ${e.message}`).join("; ")}`,
    );
  return result.output;
}

/** Writes topology.mmd, topology.dot and topology.svg under outDir; returns their paths. */
export async function writeTopology(outDir: string, input: TopologyInput): Promise<string[]> {
  const files = ["topology.mmd", "topology.dot", "topology.svg"].map((f) => path.join(outDir, f));
  const [mmd, dotFile, svgFile] = files as [string, string, string];
  const dot = renderDot(input);
  fs.writeFileSync(mmd, renderMermaid(input.config, input.budget));
  fs.writeFileSync(dotFile, dot);
  fs.writeFileSync(svgFile, await renderSvg(dot));
  return files;
}
