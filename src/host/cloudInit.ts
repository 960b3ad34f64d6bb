/**
 * cloud-config documents, serialised with a YAML library (never string concatenation). Pure.
 */
import { stringify } from "yaml";

export interface WriteFile {
  readonly path: string;
  readonly content: string;
  readonly permissions: string;
  readonly owner?: string;
  /** Write after packages are installed (the owner may be a user a package creates). */
  readonly defer?: boolean;
}

export interface CloudConfig {
  readonly packages?: readonly string[];
  readonly writeFiles: readonly WriteFile[];
  readonly runcmd: readonly (readonly string[])[];
}

/** `#cloud-config` YAML that cloud-init's schema accepts (checked with `cloud-init schema` in CI). */
export function renderCloudConfig(config: CloudConfig): string {
  const doc: Record<string, unknown> = {
    ...(config.packages?.length && { package_update: true, packages: config.packages }),
    write_files: config.writeFiles.map((f) => ({
      path: f.path,
      content: f.content,
      permissions: f.permissions,
      owner: f.owner ?? "root:root",
      ...(f.defer && { defer: true }),
    })),
    runcmd: config.runcmd,
  };
  return `#cloud-config\n${stringify(doc, { lineWidth: 0 })}`;
}
