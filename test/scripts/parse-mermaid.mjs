// Parses Mermaid architecture diagrams with Mermaid's own parser (ESM-only, so run as a child
// process by src/report/mermaid.test.ts). Prints { services: [{ id, title, in }], edges } as JSON per file.
import { readFileSync } from "node:fs";
import process from "node:process";
import { parse } from "@mermaid-js/parser";

const results = [];
for (const file of process.argv.slice(2)) {
  const ast = await parse("architecture", readFileSync(file, "utf8"));
  results.push({
    file,
    groups: ast.groups.map((g) => g.id),
    services: ast.services.map((s) => ({ id: s.id, title: s.title, in: s.in })),
    edges: ast.edges.length,
  });
}
process.stdout.write(JSON.stringify(results));
