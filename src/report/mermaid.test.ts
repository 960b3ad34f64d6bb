/**
 * The topology picture in Mermaid: Mermaid's own parser reads every stack's diagram, and
 * production's connections in it are the budget's.
 */
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../config";
import { renderMermaid } from "./topologyMermaid";
import { ROOT, STACKS, stackConfig } from "../../test/helpers";

describe("topology", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-topology-"));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test("Mermaid's parser reads every stack's diagram, which names every fleet", () => {
    const files = STACKS.map((stack) => {
      const { config, budget } = parseStackConfig(stackConfig(stack));
      const file = path.join(dir, `${stack}.mmd`);
      fs.writeFileSync(file, renderMermaid(config, budget));
      return { file, config };
    });
    const r = spawnSync(
      process.execPath,
      [path.join(ROOT, "test/scripts/parse-mermaid.mjs"), ...files.map((f) => f.file)],
      { encoding: "utf8", cwd: ROOT },
    );
    expect(r.stderr).toBe("");
    const parsed = JSON.parse(r.stdout) as {
      groups: string[];
      services: { id: string; title: string; in: string }[];
      edges: number;
    }[];
    parsed.forEach((diagram, i) => {
      const { config } = files[i]!;
      expect(diagram.groups).toEqual(["edge", "fleets", "data"]);
      for (const fleet of config.fleets) {
        const service = diagram.services.find((s) => s.id === `fleet_${fleet.name.replace(/-/g, "_")}`);
        expect(service?.in).toBe("fleets");
        expect(service?.title.startsWith(`${fleet.name}: ${fleet.instanceType}`)).toBe(true);
      }
      expect(diagram.services.find((s) => s.id === "postgres")?.title).toContain("max_connections");
    });
    // The parser has teeth: a label with brackets is refused.
    fs.writeFileSync(path.join(dir, "bad.mmd"), "architecture-beta\n  service a(server)[queues [default]]\n");
    expect(
      spawnSync(
        process.execPath,
        [path.join(ROOT, "test/scripts/parse-mermaid.mjs"), path.join(dir, "bad.mmd")],
        { cwd: ROOT },
      ).status,
    ).not.toBe(0);
  });

  test("the production connections in the picture are the budget's", () => {
    const { config, budget } = parseStackConfig(stackConfig("production"));
    const text = renderMermaid(config, budget);
    expect(text).toContain(
      "sidekiq-default: c7g.2xlarge x 4-12, sidekiq 4x15 queues default, 720 to PgBouncer, 144 of 500 at max",
    );
    expect(text).toContain("max_connections 500, budget 441 of 445");
  });

  test("every tier the stack deploys is in the Data group: OpenSearch where search is on, drawn from web and Sidekiq only", () => {
    const production = parseStackConfig(stackConfig("production"));
    const text = renderMermaid(production.config, production.budget);
    expect(text).toMatch(
      /service search\(database\)\[OpenSearch Elasticsearch 7\.10, r7g\.large\.search x 3\] in data/,
    );
    const into = text
      .split("\n")
      .filter((l) => l.endsWith("T:search"))
      .map((l) => l.trim().split(":")[0]);
    expect(into.sort()).toEqual(
      production.config.fleets
        .filter((f) => f.web || f.sidekiq)
        .map((f) => `fleet_${f.name.replace(/-/g, "_")}`)
        .sort(),
    );
    expect(into).not.toContain("fleet_streaming");
    const dev = parseStackConfig(stackConfig("dev"));
    expect(renderMermaid(dev.config, dev.budget)).not.toContain("search");
  });
});
