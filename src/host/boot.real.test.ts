/**
 * A fleet host's boot, run for real with stand-ins for what is not on this machine: the boot
 * unit's steps (src/fleet/host/readiness.ts) are taken from the rendered mastodon-boot.service and run
 * in order as systemd runs a oneshot's ExecStart= lines (stop at the first failure, then the
 * OnFailure= unit), with the REAL render-secrets.py and the REAL mastodon-ready.sh as the host gets
 * them in its user-data, and real curl. Stand-ins: an `aws` executable first on PATH that records
 * its arguments (its SSM read fails as often as a test says, then succeeds), `systemctl` (is-active
 * answers from a directory the test controls; `start mastodon.target` brings the enabled units up
 * or not), the CA download and `install -o` (no mastodon user here), and the instance metadata
 * service: a local HTTP server that answers IMDSv2 only with a session token, and serves the
 * units' health endpoints (mastodon-ready's MASTODON_IMDS_URL is its documented test-only override).
 *
 * What systemd itself does with the units (syntax, executables) is src/fleet/host/hosts.real.test.ts's
 * `systemd-analyze verify`; there is no systemd manager to run them under here.
 */
import { LOGS_AGENT_UNIT, LOGS_PATHS, agentConfig, fleetLogGroupName } from "../monitoring/logs";
import { type ExecFileException, execFile, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as os from "os";
import * as path from "path";
import { parseStackConfig } from "../config";
import { BOOT_PATHS, ssmPlaceholder } from "./boot";
import { HOST_FILES, HOST_FILES_CHECKSUMS } from "../fleet/host/hostFiles";
import { METRICS_PATHS } from "../monitoring/metrics";
import { CLOUDWATCH_AGENT_INSTALLER, renderFleetHost } from "../fleet/host/fleetHost";
import { ABANDON_UNIT, BOOT_UNIT, LIFECYCLE_HOOK_NAME, READINESS_PATHS } from "../fleet/host/readiness";
import { cloudConfig, stackConfig } from "../../test/helpers";
import { requireProgram, tempDir } from "../../test/real/servers";
import { SSM_GET_PARAMETERS_PY } from "../../test/real/ssmStandIn";

const INSTANCE = "i-0123456789abcdef0";
const GROUP = "mastodon-app-group-7f3a2c1";
const TOKEN = "AQAEAtest-imds-token==";
const PARAMETER_PATH = "/mastodon/dev/mastodon";
const HOST_FILES_BUCKET = "mastodon-host-files-bucket-0123abc";
const SECRETS = {
  [`${PARAMETER_PATH}/db-password`]: "s3cr3tDBpassw0rd",
  [`${PARAMETER_PATH}/smtp-password`]: "it is #1 secret",
  [`${PARAMETER_PATH}/redis-persistent-password`]: "r3disPassw0rd",
};

/** The dev stack's one fleet (web, streaming, every queue), pooled: every kind of check. */
function host() {
  const dev = stackConfig("dev");
  const database = { ...(dev["database"] as Record<string, unknown>), pooler: "pgbouncer" };
  const fleet = parseStackConfig({ ...dev, database }).config.fleets[0]!;
  return renderFleetHost({
    fleet,
    env: {
      LOCAL_DOMAIN: "social.example.org",
      DB_PASS: ssmPlaceholder(`${PARAMETER_PATH}/db-password`),
      SMTP_PASSWORD: ssmPlaceholder(`${PARAMETER_PATH}/smtp-password`),
      SIDEKIQ_REDIS_URL: `rediss://:${ssmPlaceholder(`${PARAMETER_PATH}/redis-persistent-password`)}@redis.example.internal:6379/0`,
    },
    parameterPath: PARAMETER_PATH,
    region: "us-east-1",
    logGroupName: fleetLogGroupName(PARAMETER_PATH, fleet.name),
    metrics: { stack: PARAMETER_PATH, region: "us-east-1", fleets: [fleet] },
    hostFiles: { bucket: HOST_FILES_BUCKET },
    pgbouncer: {
      primaryHost: "db.example.internal",
      databaseName: "mastodon",
      user: "mastodon",
      passwordPlaceholder: ssmPlaceholder(`${PARAMETER_PATH}/db-password`),
    },
  });
}

const STANDINS: Record<string, string> = {
  aws: `#!/bin/bash
(IFS=$'\\x1f'; printf '%s\\n' "$*") >>"$FAKE_DIR/aws.log"
case "$1 $2" in
  "ssm get-parameters")
    n=$(cat "$FAKE_DIR/ssm-count" 2>/dev/null || echo 0)
    echo $((n + 1)) >"$FAKE_DIR/ssm-count"
    if [ "$n" -lt "\${FAKE_SSM_FAILURES:-0}" ]; then
      printf '\\nAn error occurred (ThrottlingException) when calling the GetParameters operation (reached max retries: 2): Rate exceeded\\n' >&2
      exit 254
    fi
    exec /usr/bin/python3 "$FAKE_DIR/ssm-get-parameters.py" "$FAKE_DIR/parameters.json" "$@" ;;
  "autoscaling complete-lifecycle-action" | "autoscaling set-instance-health") ;;
  "s3 cp")
    # S3 as the HostFiles objects hold them: $FAKE_DIR/s3/<bucket>/<key>; the last argument is where to,
    # its directory made as the AWS CLI makes it (its DirectoryCreatorSubscriber).
    for a in "$@"; do case "$a" in s3://*) src="\${a#s3://}" ;; esac; dest="$a"; done
    mkdir -p "\${dest%/*}" && cp "$FAKE_DIR/s3/$src" "$dest" ;;
  *) echo "stand-in aws: unexpected $*" >&2; exit 2 ;;
esac
`,
  systemctl: `#!/bin/bash
(IFS=$'\\x1f'; printf '%s\\n' "$*") >>"$FAKE_DIR/systemctl.log"
case "$1" in
  is-active)
    if [ -e "$FAKE_DIR/active/$2" ]; then echo active; else echo activating; exit 3; fi ;;
  enable)
    [ "$2" = --now ] || { shift; printf '%s\\n' "$@" >"$FAKE_DIR/enabled"; } ;;
  start)
    if [ "$FAKE_UNITS_COME_UP" = 1 ]; then
      mkdir -p "$FAKE_DIR/active"
      while read -r unit; do touch "$FAKE_DIR/active/$unit"; done <"$FAKE_DIR/enabled"
    fi ;;
esac
`,
  // The RDS CA download: no internet here.
  "curl-ca": `#!/bin/bash
while [ "$#" -gt 0 ]; do if [ "$1" = -o ]; then out=$2; shift; fi; shift; done
mkdir -p "$(dirname "$out")"
echo "stand-in RDS CA bundle" >"$out"
`,
  // The CloudWatch agent's control script: records how the boot starts the agent.
  // The agent's ctl as its own script behaves (aws/amazon-cloudwatch-agent,
  // packaging/dependencies/amazon-cloudwatch-agent-ctl, cwa_config): fetch-config -c file:PATH has
  // config-downloader read PATH (it fails when PATH is missing) into etc/amazon-cloudwatch-agent.d,
  // then, its multi_config being "default", `rm -f "${JSON}"`: etc/amazon-cloudwatch-agent.json,
  // the agent's own path, is gone after every fetch-config. Paths are the host's, under $HOME (the root).
  "cloudwatch-agent-ctl": `#!/bin/bash
(IFS=$'\\x1f'; printf '%s\\n' "$*") >>"$FAKE_DIR/cloudwatch-agent-ctl.log"
etc="$HOME/opt/aws/amazon-cloudwatch-agent/etc"
while getopts ":sa:c:m:" opt; do case $opt in c) location=$OPTARG ;; *) ;; esac; done
source="$HOME\${location#file:}"
[ -r "$source" ] || { echo "config-downloader: cannot read \${location#file:}" >&2; exit 1; }
mkdir -p "$etc/amazon-cloudwatch-agent.d"
cp "$source" "$etc/amazon-cloudwatch-agent.d/file_config.json"
rm -f "$etc/amazon-cloudwatch-agent.json"
`,
  // The CloudWatch agent's installer: no download here (install-cloudwatch-agent.sh is shellchecked, src/host/programs.test.ts).
  "install-cloudwatch-agent": `#!/bin/bash
echo installed >>"$FAKE_DIR/cloudwatch-agent-installs"
`,
  // install without -o/-g: there is no mastodon user here.
  install: `#!/bin/bash
args=()
while [ "$#" -gt 0 ]; do case "$1" in -o | -g) shift 2 ;; *) args+=("$1"); shift ;; esac; done
exec /usr/bin/install "\${args[@]}"
`,
};

interface Imds {
  readonly url: string;
  readonly requests: string[];
  close(): Promise<void>;
}

/** IMDSv2 (a token from PUT, required on every GET) and the units' health endpoints, at /<port>/<path>. */
function startImds(fakeDir: string): Promise<Imds> {
  const requests: string[] = [];
  const server = http.createServer((req, res) => {
    const url = req.url ?? "";
    requests.push(`${req.method} ${url}`);
    const answer = (status: number, body = "") => {
      res.writeHead(status, { "Content-Type": "text/plain" });
      res.end(body);
    };
    if (url === "/latest/api/token") {
      if (req.method !== "PUT" || !req.headers["x-aws-ec2-metadata-token-ttl-seconds"]) return answer(400);
      return answer(200, TOKEN);
    }
    if (url.startsWith("/latest/meta-data/")) {
      if (req.headers["x-aws-ec2-metadata-token"] !== TOKEN) return answer(401);
      const item = url.slice("/latest/meta-data/".length);
      if (item === "instance-id") return answer(200, INSTANCE);
      if (item === "tags/instance/aws:autoscaling:groupName") return answer(200, GROUP);
      return answer(404);
    }
    const health = /^\/(\d+)\/(health|api\/v1\/streaming\/health)$/.exec(url);
    if (health) {
      const unit = health[1] === "3000" ? "mastodon-web.service" : `mastodon-streaming@${health[1]}.service`;
      return fs.existsSync(path.join(fakeDir, "active", unit)) ? answer(200, "OK") : answer(503);
    }
    answer(404);
  });
  return new Promise((resolve) =>
    server.listen(0, "127.0.0.1", () =>
      resolve({
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        requests,
        close: () => new Promise<void>((done) => server.close(() => done())),
      }),
    ),
  );
}

/** ExecStart= lines of a unit, split as systemd.service(5) splits them (execLine quotes with "" only). */
const execStarts = (unit: string) =>
  unit
    .split("\n")
    .filter((l) => l.startsWith("ExecStart="))
    .map((l) =>
      [...l.slice("ExecStart=".length).matchAll(/"([^"]*)"|(\S+)/g)].map((m) =>
        (m[1] ?? m[2]!).replace(/%%/g, "%").replace(/\$\$/g, "$"),
      ),
    );

interface Step {
  readonly argv: string[];
  readonly status: number;
  readonly stderr: string;
}

interface Boot {
  readonly steps: Step[];
  readonly onFailure: Step[];
  readonly aws: string[][];
  readonly systemctl: string[][];
  readonly agentCtl: string[][];
  readonly logsAgent: Step[];
  /** The logs agent's unit again, as systemd starts it with mastodon.target at the next boot. */
  readonly logsAgentAfterReboot: Step[];
  readonly root: string;
}

interface BootOptions {
  ssmFailures?: number;
  unitsComeUp?: boolean;
  /** readiness.conf's timeout, in seconds. */
  readinessSeconds?: number;
  retryAttempts?: number;
  parameters?: Record<string, string>;
  /** Send SIGTERM to the readiness step after this long, as systemd does when TimeoutStartSec runs out. */
  terminateReadinessAfterMs?: number;
  /** The host files' objects altered in the bucket after the plan (their digests no longer match). */
  tamperHostFiles?: boolean;
}

const dirs: string[] = [];
let imds: Imds;
let fakeDir: string;
beforeAll(async () => {
  requireProgram("/usr/bin/python3");
  requireProgram("/usr/bin/curl");
  fakeDir = tempDir("mastodon-boot-fake-");
  dirs.push(fakeDir);
  imds = await startImds(fakeDir);
});
afterAll(async () => {
  await imds.close();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const owner = `${os.userInfo().username}:${spawnSync("id", ["-gn"], { encoding: "utf8" }).stdout.trim()}`;

/**
 * Lays the host's write_files out under a temporary root, then runs mastodon-boot.service's
 * ExecStart= lines in order (as systemd runs a oneshot: the first failure stops it), then, if one
 * failed, the OnFailure= unit's. Host paths in the arguments point into the root.
 */
async function boot(options: BootOptions = {}): Promise<Boot> {
  const root = tempDir("mastodon-boot-root-");
  dirs.push(root);
  fs.rmSync(fakeDir, { recursive: true, force: true });
  const bin = path.join(fakeDir, "bin");
  fs.mkdirSync(bin, { recursive: true });
  for (const [name, text] of Object.entries(STANDINS))
    fs.writeFileSync(path.join(bin, name), text, { mode: 0o755 });
  fs.writeFileSync(path.join(fakeDir, "ssm-get-parameters.py"), SSM_GET_PARAMETERS_PY);
  fs.writeFileSync(
    path.join(fakeDir, "parameters.json"),
    JSON.stringify({
      Parameters: Object.entries(options.parameters ?? SECRETS).map(([Name, Value]) => ({
        Name,
        Value,
        Type: "SecureString",
      })),
    }),
  );

  // The bucket as HostFiles fills it (src/fleet/hostFiles.ts), one object per file under its key.
  for (const f of HOST_FILES) {
    const object = path.join(fakeDir, "s3", HOST_FILES_BUCKET, f.key);
    fs.mkdirSync(path.dirname(object), { recursive: true });
    fs.writeFileSync(object, options.tamperHostFiles ? `${f.content}\nprint("altered")\n` : f.content);
  }
  const doc = cloudConfig(host().userData);
  expect(doc.runcmd.at(-1)).toEqual(["systemctl", "start", "--no-block", BOOT_UNIT]);
  const inRoot = (p: string) => path.join(root, p);
  for (const f of doc.write_files) {
    fs.mkdirSync(path.dirname(inRoot(f.path)), { recursive: true });
    fs.writeFileSync(inRoot(f.path), f.content, { mode: parseInt(f.permissions, 8) });
  }
  // The manifest and the readiness config as written, pointed into the root and sped up.
  const manifestFile = inRoot(BOOT_PATHS.manifest);
  const manifest = JSON.parse(fs.readFileSync(manifestFile, "utf8"));
  manifest.retry = {
    ...manifest.retry,
    attempts: options.retryAttempts ?? manifest.retry.attempts,
    baseSeconds: 0.05,
    maxDelaySeconds: 0.2,
  };
  for (const spec of manifest.files) {
    spec.template = inRoot(spec.template);
    spec.target = inRoot(spec.target);
    spec.owner = owner;
    fs.mkdirSync(path.dirname(spec.target), { recursive: true });
  }
  fs.writeFileSync(manifestFile, JSON.stringify(manifest));
  // The digests' paths, like the arguments, point into the root.
  const checksums = inRoot(HOST_FILES_CHECKSUMS);
  fs.writeFileSync(checksums, fs.readFileSync(checksums, "utf8").replace(/ {2}\//g, `  ${root}/`));
  const configFile = inRoot(READINESS_PATHS.config);
  const config = fs
    .readFileSync(configFile, "utf8")
    .replace(/^timeout \d+$/m, `timeout ${options.readinessSeconds ?? 5}`)
    .replace(/^interval .*$/m, "interval 0.2")
    .replace(/^state (.*)$/m, (_l, dir: string) => `state ${inRoot(dir)}`)
    .replace(/^http http:\/\/127\.0\.0\.1:(\d+)\//gm, (_l, port: string) => `http ${imds.url}/${port}/`);
  fs.writeFileSync(configFile, config);

  const units = Object.fromEntries(
    doc.write_files
      .filter((f) => f.path.startsWith("/etc/systemd/system/"))
      .map((f) => [path.basename(f.path), f.content]),
  );
  const exe: Record<string, string> = {
    "/usr/bin/curl": path.join(bin, "curl-ca"),
    "/usr/bin/install": path.join(bin, "install"),
    "/usr/bin/systemctl": path.join(bin, "systemctl"),
    "/usr/bin/aws": path.join(bin, "aws"),
    // The host files' check and modes: the real programs, on the files in the root.
    "/usr/bin/sha256sum": "/usr/bin/sha256sum",
    "/usr/bin/chmod": "/usr/bin/chmod",
    [LOGS_PATHS.agentCtl]: path.join(bin, "cloudwatch-agent-ctl"),
    [CLOUDWATCH_AGENT_INSTALLER]: path.join(bin, "install-cloudwatch-agent"),
  };
  const env = {
    PATH: `${bin}:/usr/bin:/bin`,
    HOME: root,
    LANG: "C.UTF-8",
    FAKE_DIR: fakeDir,
    FAKE_SSM_FAILURES: String(options.ssmFailures ?? 0),
    FAKE_UNITS_COME_UP: options.unitsComeUp === false ? "0" : "1",
    MASTODON_IMDS_URL: imds.url,
  };
  const run = (argv: string[]) =>
    new Promise<Step>((resolve) => {
      const mapped = argv.map((a, i) => (i === 0 && exe[a]) || (a.startsWith("/") ? inRoot(a) : a));
      // Bounded: a step that hangs is killed (and fails), as TimeoutStartSec would.
      const child = execFile(
        mapped[0]!,
        mapped.slice(1),
        { env, timeout: 60000 },
        (error, _stdout, stderr) => {
          clearTimeout(terminate);
          resolve({
            argv,
            status: error ? (typeof error.code === "number" ? error.code : 1) : 0,
            stderr,
          });
        },
      );
      const terminate =
        argv[0] === READINESS_PATHS.program && options.terminateReadinessAfterMs !== undefined
          ? setTimeout(() => child.kill("SIGTERM"), options.terminateReadinessAfterMs)
          : undefined;
    });
  const runUnit = async (name: string) => {
    const steps: Step[] = [];
    for (const argv of execStarts(units[name]!)) {
      const step = await run(argv);
      steps.push(step);
      if (step.status !== 0) break;
    }
    return steps;
  };
  const steps = await runUnit(BOOT_UNIT);
  // The logs agent's unit, which systemd starts with mastodon.target (the image has the agent).
  const logsAgent = await runUnit(LOGS_AGENT_UNIT);
  const logsAgentAfterReboot = await runUnit(LOGS_AGENT_UNIT);
  const failed = steps.some((s) => s.status !== 0);
  expect(units[BOOT_UNIT]).toContain(`OnFailure=${ABANDON_UNIT}`);
  const onFailure = failed ? await runUnit(ABANDON_UNIT) : [];
  const log = (file: string) =>
    fs.existsSync(path.join(fakeDir, file))
      ? fs
          .readFileSync(path.join(fakeDir, file), "utf8")
          .split("\n")
          .filter(Boolean)
          .map((l) => l.split("\x1f"))
      : [];
  return {
    steps,
    onFailure,
    aws: log("aws.log"),
    systemctl: log("systemctl.log"),
    agentCtl: log("cloudwatch-agent-ctl.log"),
    logsAgent,
    logsAgentAfterReboot,
    root,
  };
}

const lifecycle = (result: string) => [
  "autoscaling",
  "complete-lifecycle-action",
  "--region",
  "us-east-1",
  "--lifecycle-hook-name",
  LIFECYCLE_HOOK_NAME,
  "--auto-scaling-group-name",
  GROUP,
  "--instance-id",
  INSTANCE,
  "--lifecycle-action-result",
  result,
];
const completions = (b: Boot) => b.aws.filter((c) => c[1] === "complete-lifecycle-action");
const ssmReads = (b: Boot) => b.aws.filter((c) => c[0] === "ssm");
const stepOf = (b: Boot, program: string) => b.steps.find((s) => s.argv[0] === program);

test("a failing SSM read is retried: the render recovers, the units come up, and the group hears CONTINUE", async () => {
  const b = await boot({ ssmFailures: 1 });
  expect(b.steps.map((s) => [s.argv[0], s.status])).toEqual([
    // The secrets renderer, the logs agent's installer, the collector and its two modules from the
    // host-files bucket, their digests, their modes (0755, then the modules' 0644).
    ["/usr/bin/aws", 0],
    ["/usr/bin/aws", 0],
    ["/usr/bin/aws", 0],
    ["/usr/bin/aws", 0],
    ["/usr/bin/aws", 0],
    // The drain (the host runs Sidekiq), fetched with them.
    ["/usr/bin/aws", 0],
    ["/usr/bin/sha256sum", 0],
    ["/usr/bin/chmod", 0],
    ["/usr/bin/chmod", 0],
    ["/usr/bin/curl", 0],
    ["/usr/bin/install", 0],
    ["/usr/bin/install", 0],
    [BOOT_PATHS.renderer, 0],
    ["/usr/bin/systemctl", 0],
    ["/usr/bin/systemctl", 0],
    [READINESS_PATHS.program, 0],
    ["/usr/bin/systemctl", 0],
  ]);
  expect(b.onFailure).toEqual([]);
  // The logs agent's unit: the export's directory made, the agent started once on the
  // configuration cloud-init wrote for this fleet's log group (logs.ts).
  expect(b.logsAgent.map((s) => [s.argv[0], s.status])).toEqual([
    ["/usr/bin/install", 0],
    [CLOUDWATCH_AGENT_INSTALLER, 0],
    [LOGS_PATHS.agentCtl, 0],
  ]);
  expect(fs.statSync(path.join(b.root, LOGS_PATHS.dir.slice(1))).isDirectory()).toBe(true);
  // At the next boot the same unit runs again on the same configuration: the agent's ctl removed
  // only its own etc/amazon-cloudwatch-agent.json, not ours (a reboot is no strike).
  expect(b.logsAgentAfterReboot.map((s) => [s.argv[0], s.status])).toEqual([
    ["/usr/bin/install", 0],
    [CLOUDWATCH_AGENT_INSTALLER, 0],
    [LOGS_PATHS.agentCtl, 0],
  ]);
  expect(LOGS_PATHS.agentConfig.startsWith("/opt/aws/amazon-cloudwatch-agent/")).toBe(false);
  expect(b.agentCtl).toEqual([
    ["-a", "fetch-config", "-m", "ec2", "-s", "-c", `file:${LOGS_PATHS.agentConfig}`],
    ["-a", "fetch-config", "-m", "ec2", "-s", "-c", `file:${LOGS_PATHS.agentConfig}`],
  ]);
  expect(JSON.parse(fs.readFileSync(path.join(b.root, LOGS_PATHS.agentConfig.slice(1)), "utf8"))).toEqual(
    agentConfig(
      fleetLogGroupName(PARAMETER_PATH, parseStackConfig(stackConfig("dev")).config.fleets[0]!.name),
    ),
  );

  // The render: one failure, logged without a value, then the read that succeeded: the parameters
  // the templates name, by name, and no other.
  expect(ssmReads(b)).toHaveLength(2);
  expect(ssmReads(b)[0]).toEqual([
    "ssm",
    "get-parameters",
    "--region",
    "us-east-1",
    "--with-decryption",
    "--output",
    "json",
    "--names",
    ...Object.keys(SECRETS).sort(),
  ]);
  expect(ssmReads(b)[1]).toEqual(ssmReads(b)[0]);
  const render = stepOf(b, BOOT_PATHS.renderer)!;
  expect(render.stderr).toMatch(
    /^SSM read attempt 1 of 8 failed \(exit 254: An error occurred \(ThrottlingException\) when calling the GetParameters operation \(reached max retries: 2\): Rate exceeded\); retrying in 0\.\d s\n$/,
  );
  for (const value of Object.values(SECRETS)) {
    for (const s of b.steps) expect(s.stderr).not.toContain(value);
  }
  const envFile = fs.readFileSync(path.join(b.root, "home/mastodon/live/.env.production"), "utf8");
  expect(envFile).toContain(`DB_PASS=${SECRETS[`${PARAMETER_PATH}/db-password`]}\n`);
  expect(envFile).toContain("SMTP_PASSWORD='it is #1 secret'\n");
  // The collector, fetched from the bucket, is the program byte for byte, checked by the real sha256sum.
  const collector = path.join(b.root, METRICS_PATHS.program.slice(1));
  expect(fs.readFileSync(collector, "utf8")).toBe(
    HOST_FILES.find((f) => f.path === METRICS_PATHS.program)!.content,
  );
  expect(fs.statSync(collector).mode & 0o777).toBe(0o755);
  // Its modules beside it, 0644: as installed, it imports them (no CONFIG: its usage, exit 2).
  for (const installed of [METRICS_PATHS.sources, METRICS_PATHS.cloudwatch]) {
    const file = path.join(b.root, installed.slice(1));
    expect(fs.readFileSync(file, "utf8")).toBe(HOST_FILES.find((f) => f.path === installed)!.content);
    expect(fs.statSync(file).mode & 0o777).toBe(0o644);
  }
  const usage = spawnSync("/usr/bin/python3", [collector], { encoding: "utf8" });
  expect([usage.status, usage.stderr]).toEqual([2, expect.stringContaining("mastodon-metrics.py CONFIG")]);
  expect(fs.readdirSync(path.dirname(collector)).sort()).toEqual(
    [METRICS_PATHS.program, METRICS_PATHS.sources, METRICS_PATHS.cloudwatch]
      .map((p) => path.basename(p))
      .sort(),
  );
  // The drain, fetched beside mastodon-ready and the library they source (from the user-data), runs
  // from there: no CONFIG is its usage (exit 2), so it found its library.
  const installed = (p: string) => path.join(b.root, p.slice(1));
  expect(fs.statSync(installed(READINESS_PATHS.drain)).mode & 0o777).toBe(0o755);
  expect(fs.statSync(installed(READINESS_PATHS.library)).mode & 0o777).toBe(0o644);
  const drainUsage = spawnSync(installed(READINESS_PATHS.drain), [], { encoding: "utf8" });
  expect([drainUsage.status, drainUsage.stderr]).toEqual([2, "usage: mastodon-drain CONFIG\n"]);
  // The queue collector's Redis URL, filled in a file of its own that only root (systemd) reads.
  const metricsEnv = path.join(b.root, "etc/mastodon/metrics.env");
  expect(fs.readFileSync(metricsEnv, "utf8")).toContain(
    "\nSIDEKIQ_REDIS_URL=rediss://:r3disPassw0rd@redis.example.internal:6379/0\n",
  );
  expect(fs.statSync(metricsEnv).mode & 0o777).toBe(0o600);

  // Readiness: every enabled unit checked, then CONTINUE for this instance, group and hook, once.
  const enabled = b.systemctl.find((c) => c[0] === "enable" && c[1] !== "--now")!.slice(1);
  expect(enabled).toEqual(
    expect.arrayContaining([
      "mastodon-pgbouncer.service",
      "mastodon-web.service",
      "mastodon-streaming@4000.service",
      "mastodon.target",
    ]),
  );
  const checked = b.systemctl.filter((c) => c[0] === "is-active").map((c) => c[1]);
  expect(new Set(checked)).toEqual(new Set(enabled));
  expect(imds.requests).toEqual(
    expect.arrayContaining([
      "PUT /latest/api/token",
      "GET /latest/meta-data/instance-id",
      "GET /latest/meta-data/tags/instance/aws:autoscaling:groupName",
      "GET /3000/health",
      "GET /4000/api/v1/streaming/health",
    ]),
  );
  expect(completions(b)).toEqual([lifecycle("CONTINUE")]);
  expect(stepOf(b, READINESS_PATHS.program)!.stderr).toContain(
    `completed lifecycle hook ${LIFECYCLE_HOOK_NAME} of ${GROUP} for ${INSTANCE}: CONTINUE`,
  );
  // Then the watch is enabled, and the drain (this host runs Sidekiq).
  expect(b.systemctl.at(-1)).toEqual(["enable", "--now", "mastodon-watch.service", "mastodon-drain.service"]);
  expect(fs.readFileSync(path.join(b.root, READINESS_PATHS.state, "completed"), "utf8")).toBe("CONTINUE\n");
}, 60000);

test("units that never come up: readiness gives up at its bound and the group hears ABANDON, once", async () => {
  const bound = 3;
  const b = await boot({ unitsComeUp: false, readinessSeconds: bound });
  const ready = stepOf(b, READINESS_PATHS.program)!;
  expect(ready.status).toBe(1);
  // It gave up on its own bound (its own account of the wait, not a clock here), then abandoned.
  expect(ready.stderr).toMatch(
    new RegExp(`abandoning: not ready after ${bound}s: mastodon-pgbouncer\\.service is activating`),
  );
  expect(ready.stderr).toContain("/3000/health does not answer");
  expect(b.steps.at(-1)).toBe(ready);
  expect(completions(b)).toEqual([lifecycle("ABANDON")]);
  // The OnFailure unit ran, saw the action completed, and sent nothing more.
  expect(b.onFailure.map((s) => s.status)).toEqual([0]);
  expect(b.onFailure[0]!.stderr).toContain("already completed with ABANDON");
  expect(b.systemctl.some((c) => c[0] === "enable" && c[1] === "--now")).toBe(false);
}, 60000);

test("readiness stopped by systemd (TimeoutStartSec's SIGTERM) still ends in ABANDON", async () => {
  const b = await boot({ unitsComeUp: false, readinessSeconds: 60, terminateReadinessAfterMs: 1500 });
  const ready = stepOf(b, READINESS_PATHS.program)!;
  // Killed by the signal (143), not by its own 60 s bound.
  expect(ready.status).toBe(143);
  expect(ready.stderr).not.toContain("not ready after 60s");
  expect(ready.stderr).toContain("abandoning: stopped with status 143 before the host was ready");
  expect(completions(b)).toEqual([lifecycle("ABANDON")]);
  expect(b.onFailure[0]!.stderr).toContain("already completed with ABANDON");
}, 60000);

test("an SSM read that never succeeds stops the boot after its attempts, and OnFailure sends ABANDON", async () => {
  const b = await boot({ ssmFailures: 100, retryAttempts: 3 });
  // The host files (9 steps, the drain's fetch among them), the CA bundle and the two installs, then
  // the renderer fails.
  expect(b.steps.map((s) => s.status)).toEqual([0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
  expect(ssmReads(b)).toHaveLength(3);
  const render = stepOf(b, BOOT_PATHS.renderer)!;
  expect(render.stderr.split("\n").filter(Boolean)).toEqual([
    expect.stringMatching(
      /^SSM read attempt 1 of 3 failed \(exit 254: .*ThrottlingException.*\); retrying in/,
    ),
    expect.stringMatching(/^SSM read attempt 2 of 3 failed \(exit 254: .*\); retrying in/),
    expect.stringMatching(/^SSM read attempt 3 of 3 failed \(exit 254: .*\); giving up$/),
    `could not read the 3 SSM parameters of ${PARAMETER_PATH}; nothing was written`,
  ]);
  expect(fs.existsSync(path.join(b.root, "home/mastodon/live/.env.production"))).toBe(false);
  // No unit was enabled or started.
  expect(b.systemctl).toEqual([]);
  expect(completions(b)).toEqual([lifecycle("ABANDON")]);
  expect(b.onFailure[0]!.stderr).toContain(`abandoning: ${BOOT_UNIT} failed (journalctl -u ${BOOT_UNIT})`);
}, 60000);

test("a missing parameter is a configuration error: no retry, and the group hears ABANDON", async () => {
  const b = await boot({
    parameters: {
      [`${PARAMETER_PATH}/db-password`]: "s3cr3tDBpassw0rd",
      [`${PARAMETER_PATH}/redis-persistent-password`]: "r3disPassw0rd",
    },
  });
  expect(ssmReads(b)).toHaveLength(1);
  expect(stepOf(b, BOOT_PATHS.renderer)!.stderr).toBe(
    `missing SSM parameters: ${PARAMETER_PATH}/smtp-password\n`,
  );
  expect(b.systemctl).toEqual([]);
  expect(completions(b)).toEqual([lifecycle("ABANDON")]);
}, 60000);

test("after a good boot, the watch marks the instance Unhealthy when a unit stays down", async () => {
  const b = await boot();
  expect(completions(b)).toEqual([lifecycle("CONTINUE")]);
  const configFile = path.join(b.root, READINESS_PATHS.config);
  fs.writeFileSync(
    configFile,
    fs
      .readFileSync(configFile, "utf8")
      .replace(/^watch_interval .*$/m, "watch_interval 0.2")
      .replace(/^strikes .*$/m, "strikes 3"),
  );
  // Sidekiq's process crash-loops (Restart=always keeps it activating).
  const sidekiq = fs
    .readdirSync(path.join(fakeDir, "active"))
    .find((u) => u.startsWith("mastodon-sidekiq-"))!;
  fs.rmSync(path.join(fakeDir, "active", sidekiq));
  const r = await new Promise<{ error: ExecFileException | null; stderr: string }>((resolve) =>
    execFile(
      path.join(b.root, READINESS_PATHS.program),
      ["--watch", configFile],
      {
        env: {
          PATH: `${path.join(fakeDir, "bin")}:/usr/bin:/bin`,
          FAKE_DIR: fakeDir,
          MASTODON_IMDS_URL: imds.url,
        },
        timeout: 30000,
      },
      (error, _stdout, stderr) => resolve({ error, stderr }),
    ),
  );
  expect(r.error).toBeNull();
  expect(r.stderr).toContain(`check 3 of 3 failed: ${sidekiq} is activating`);
  const health = fs
    .readFileSync(path.join(fakeDir, "aws.log"), "utf8")
    .split("\n")
    .filter((l) => l.includes("set-instance-health"))
    .map((l) => l.split("\x1f"));
  expect(health).toEqual([
    [
      "autoscaling",
      "set-instance-health",
      "--region",
      "us-east-1",
      "--instance-id",
      INSTANCE,
      "--health-status",
      "Unhealthy",
    ],
  ]);
}, 60000);

test("readiness refuses a config it cannot follow, before calling anything", () => {
  const dir = tempDir("mastodon-ready-usage-");
  dirs.push(dir);
  const script = path.join(dir, "mastodon-ready");
  fs.writeFileSync(script, host().files.find((f) => f.path === READINESS_PATHS.program)!.content, {
    mode: 0o755,
  });
  // The library it sources from its own directory, as the host has it beside it.
  const library = host().files.find((f) => f.path === READINESS_PATHS.library)!;
  fs.writeFileSync(path.join(dir, path.basename(library.path)), library.content, { mode: 0o644 });
  const config = path.join(dir, "readiness.conf");
  fs.writeFileSync(config, "region us-east-1\nhook h\nunit a.service\nbogus 1\n");
  const r = spawnSync(script, [config], { encoding: "utf8", env: { PATH: "/usr/bin:/bin" } });
  expect(r.status).toBe(2);
  expect(r.stderr).toBe(`mastodon-ready: ${config}: unknown key bogus\n`);
  expect(spawnSync(script, [], { encoding: "utf8" }).status).toBe(2);
});

test("a host file altered in the bucket fails the boot at the digest check: nothing starts, the group hears ABANDON", async () => {
  const b = await boot({ tamperHostFiles: true });
  const check = b.steps.at(-1)!;
  expect(check.argv).toEqual(["/usr/bin/sha256sum", "--check", "--strict", "--quiet", HOST_FILES_CHECKSUMS]);
  expect(check.status).not.toBe(0);
  // Every object was altered (the drain's too): the real sha256sum counts them all.
  expect(check.stderr + "").toMatch(/WARNING: 6 computed checksums did NOT match/);
  expect(b.systemctl).toEqual([]);
  expect(completions(b)).toEqual([lifecycle("ABANDON")]);
}, 60000);
