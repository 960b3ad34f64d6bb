/**
 * The plan's per-fleet files, read back from what the program actually declared: each launch
 * template's user-data (gzip, base64) is decoded and its write_files laid out as
 * out/<stack>/fleets/<fleet>/{user-data.yaml, units/*, files/*}. Secrets in them are already
 * `{{ssm:...}}` placeholders: the program never has them in clear.
 */
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { gunzipSync } from "zlib";
import type { RecordedResource } from "../testing/mocks";

export interface FleetArtifacts {
  readonly fleet: string;
  readonly userData: string;
  /** Unit file name -> content. */
  readonly units: Record<string, string>;
  /** Other files written on the host: path -> content. */
  readonly files: Record<string, string>;
}

export function fleetArtifacts(resources: readonly RecordedResource[]): FleetArtifacts[] {
  return resources
    .filter((r) => r.type === "aws:ec2/launchTemplate:LaunchTemplate")
    .map((r) => {
      const specs = (r.inputs["tagSpecifications"] as { tags: Record<string, string> }[] | undefined) ?? [];
      const fleet = specs[0]?.tags["mastodon:fleet"] ?? r.name;
      const userData = gunzipSync(Buffer.from(String(r.inputs["userData"]), "base64")).toString("utf8");
      const doc = parse(userData) as { write_files?: { path: string; content: string }[] };
      const units: Record<string, string> = {};
      const files: Record<string, string> = {};
      for (const f of doc.write_files ?? []) {
        if (f.path.startsWith("/etc/systemd/system/")) units[path.basename(f.path)] = f.content;
        else files[f.path] = f.content;
      }
      return { fleet, userData, units, files };
    });
}

/** Host paths to plan file names: the env template becomes .env.production (placeholders and all). */
function fileName(hostPath: string): string {
  return hostPath.endsWith("/env.production.template") ? ".env.production" : path.basename(hostPath);
}

export function writeFleetArtifacts(outDir: string, artifacts: readonly FleetArtifacts[]): string[] {
  const written: string[] = [];
  const write = (file: string, content: string) => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, content);
    written.push(file);
  };
  for (const a of artifacts) {
    const dir = path.join(outDir, "fleets", a.fleet);
    write(path.join(dir, "user-data.yaml"), a.userData);
    for (const [name, content] of Object.entries(a.units)) write(path.join(dir, "units", name), content);
    for (const [hostPath, content] of Object.entries(a.files))
      write(path.join(dir, "files", fileName(hostPath)), content);
  }
  return written;
}
