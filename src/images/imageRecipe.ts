/**
 * The machine image baked in the operator's account with EC2 Image Builder (mastodon:image.source
 * "image-builder"): the component document that runs src/images/files/mastodon-image-build.sh on the
 * pinned Debian 12 AMI, then the hosts' own CloudWatch agent installer, the build instance's user
 * data (the SSM agent Image Builder drives it through), and the names and versions the recipe
 * carries. Pure.
 *
 * Why the release images, not Mastodon's install guide (rbenv, bundle install, assets:precompile):
 * the images are Mastodon's own build of the version, on Debian bookworm like the AMI, with the
 * assets precompiled and jemalloc linked into Ruby; copying them out takes minutes and needs no
 * compiler, where the guide's route compiles Ruby and native gems and precompiles the assets
 * (tens of minutes, a toolchain to remove after), and would give a second, untested build of the
 * same version. The official source and this one then run the very same files.
 */
import { stringify } from "yaml";
import type { Architecture } from "../vocabulary/catalog";
import {
  IMAGE_BUILD_SCRIPT,
  INSTALL_CLOUDWATCH_AGENT,
  INSTALL_SSM_AGENT,
  programText,
} from "../host/programs";

/** src/images/files/mastodon-image-build.sh, written on the build instance by the component. */
export { IMAGE_BUILD_SCRIPT } from "../host/programs";
/** Where the component writes the script on the build instance (removed by the validate phase). */
export const IMAGE_BUILD_SCRIPT_PATH = "/var/tmp/mastodon-image-build.sh";
/**
 * Where the component writes src/monitoring/files/install-cloudwatch-agent.sh, the installer every
 * fleet host's mastodon-logs-agent.service runs (removed by the validate phase, like the script).
 */
export const CLOUDWATCH_AGENT_INSTALLER_PATH = "/var/tmp/install-cloudwatch-agent.sh";

/**
 * The build instance's type per architecture: compute-optimised, as the fleets' defaults (the
 * build is extraction, copying and apt: CPU and EBS throughput, little memory).
 */
export const BUILD_INSTANCE_TYPES: Readonly<Record<Architecture, string>> = {
  arm64: "c7g.large",
  x86_64: "c7i.large",
};

/**
 * The root volume the build runs on and the AMI keeps (GiB): the Debian AMI's 8 GiB holds neither
 * the pulled images nor their extracted copies (Mastodon's Rails image is about 1 GB compressed).
 * A fleet's root volume must be at least this (the config rules check it).
 */
export const BUILD_VOLUME_GIB = 16;

/** EC2 Image Builder's per-step bound for ExecuteBash is an hour by default; the build needs less. */
const BUILD_TIMEOUT_SECONDS = 3600;
const VALIDATE_TIMEOUT_SECONDS = 900;
/**
 * The CloudWatch agent's installer: its key and signature at most 60 s each, the package at most
 * 180 s (its curl bounds), the check and dpkg 60 s: the hosts' own bound for it (fleetHost.ts).
 */
const CLOUDWATCH_AGENT_TIMEOUT_SECONDS = 60 + 60 + 180 + 60;

/**
 * The longest inline component document (EC2 Image Builder API Reference, CreateComponent: `data`,
 * at most 16,000 characters); the script and the agent's installer are inlined, so it is checked.
 */
export const COMPONENT_DATA_MAX = 16000;

/** The build script's text, byte for byte. */
export function imageBuildScript(): string {
  return programText(IMAGE_BUILD_SCRIPT);
}

/**
 * The CloudWatch agent's installer, byte for byte the file the hosts fetch (hostFiles.ts): the same
 * package, accepted on the same signature check (Amazon CloudWatch User Guide, "Verifying the
 * signature of the CloudWatch agent package"). Baked in, it finds the agent at every host's boot and
 * exits at once.
 */
export function cloudWatchAgentInstaller(): string {
  return programText(INSTALL_CLOUDWATCH_AGENT);
}

/**
 * Image Builder versions are semantic versions <major>.<minor>.<patch> (CreateImageRecipe
 * semanticVersion): Mastodon's release tag without its "v".
 */
export function recipeVersion(mastodonVersion: string): string {
  const match = /^v(\d+)\.(\d+)\.(\d+)$/.exec(mastodonVersion);
  if (!match) throw new Error(`${mastodonVersion} is not a Mastodon release tag such as v4.6.5`);
  return `${match[1]}.${match[2]}.${match[3]}`;
}

export interface ImageBuildInput {
  /** mastodon:version, a release tag (the config rules check it). */
  readonly version: string;
  /** Where the release images come from (mastodon:image.registry). */
  readonly registry: string;
}

/**
 * The component document (AWS Task Orchestrator and Executor, schemaVersion 1.0, as the EC2 Image
 * Builder User Guide's "Component document" describes): the build phase writes the script and the
 * CloudWatch agent's installer, runs the script's build (which installs the curl and gpg the
 * installer uses), then the installer; the validate phase checks the AMI contract (the agent's ctl
 * among its programs) and removes both files.
 */
export function renderComponentDocument(input: ImageBuildInput): string {
  const { version, registry } = input;
  recipeVersion(version);
  if (!/^[a-z0-9.-]+(:[0-9]+)?(\/[a-z0-9._-]+)+$/.test(registry))
    throw new Error(`${registry} is not an image registry path`);
  const run = (...args: string[]) => `bash ${IMAGE_BUILD_SCRIPT_PATH} ${args.map((a) => `'${a}'`).join(" ")}`;
  const document = {
    name: `mastodon-${version}`,
    description: `Mastodon ${version} from its release images, for the native systemd units (no container runtime)`,
    schemaVersion: 1.0,
    phases: [
      {
        name: "build",
        steps: [
          {
            name: "WriteBuildFiles",
            action: "CreateFile",
            inputs: [
              { path: IMAGE_BUILD_SCRIPT_PATH, content: imageBuildScript(), overwrite: true },
              { path: CLOUDWATCH_AGENT_INSTALLER_PATH, content: cloudWatchAgentInstaller(), overwrite: true },
            ],
          },
          {
            name: "InstallMastodon",
            action: "ExecuteBash",
            timeoutSeconds: BUILD_TIMEOUT_SECONDS,
            onFailure: "Abort",
            inputs: { commands: [run("build", version, registry)] },
          },
          {
            // What every host's first boot did before: AWS's .deb from its public bucket over HTTPS
            // (no request signed: the role needs no permission), checked against AWS's key.
            name: "InstallCloudWatchAgent",
            action: "ExecuteBash",
            timeoutSeconds: CLOUDWATCH_AGENT_TIMEOUT_SECONDS,
            onFailure: "Abort",
            inputs: { commands: [`bash ${CLOUDWATCH_AGENT_INSTALLER_PATH}`] },
          },
        ],
      },
      {
        name: "validate",
        steps: [
          {
            name: "CheckImageContract",
            action: "ExecuteBash",
            timeoutSeconds: VALIDATE_TIMEOUT_SECONDS,
            onFailure: "Abort",
            inputs: { commands: [run("validate", version)] },
          },
          {
            name: "RemoveBuildFiles",
            action: "ExecuteBash",
            inputs: { commands: [`rm -f ${IMAGE_BUILD_SCRIPT_PATH} ${CLOUDWATCH_AGENT_INSTALLER_PATH}`] },
          },
        ],
      },
    ],
  };
  const text = stringify(document, { lineWidth: 0 });
  if (text.length > COMPONENT_DATA_MAX)
    throw new Error(`the component document is ${text.length} characters, over ${COMPONENT_DATA_MAX}`);
  return text;
}

/** The build instance's user data (the recipe's userDataOverride): the SSM agent installer. */
export const IMAGE_BUILD_USER_DATA = INSTALL_SSM_AGENT;

/**
 * The build instance's user data: Debian's AMIs have no SSM agent, and Image Builder runs the
 * components through it (EC2 Image Builder User Guide, "Manage SSM agent": a parent image without
 * it needs user data that installs it). The file finds its region and architecture itself.
 */
export function buildUserData(): string {
  return programText(IMAGE_BUILD_USER_DATA);
}
