/**
 * What the whole-host scenarios (test/real/wholeHost*.real.test.ts) share: the fleets' rendered
 * user-data, a boot to its lifecycle outcome with its boot-to-ready time, and the checks every
 * ready host passes. Used by the tests (with jest's `expect`) and by scripts/bootBench.ts (the
 * boot alone).
 */
import { fleetArtifacts } from "../../src/cli/fleetArtifacts";
import { BOOT_PATHS, placeholdersIn } from "../../src/host/boot";
import { HOST_FILES } from "../../src/fleet/host/hostFiles";
import { LIFECYCLE_HOOK_NAME } from "../../src/fleet/host/readiness";
import { runStack } from "../helpers";
import { type BootOptions, HostBoot, type Recorded, bootSupport, cleanStale } from "./harness";
import { AGENT_CTL_LOG } from "./image";

/** A boot's outcome may take this long on a busy 2-core machine (the first run also builds the root). */
export const BOOT_MS = 15 * 60 * 1000;
export const READY_MS = 10 * 60 * 1000;

/**
 * One whole-host test file's frame: whether this machine can boot a host (said out loud when it
 * cannot: the tests are skipped, never passed), what earlier runs left removed before the first
 * boot, and every boot the file records in `boots` torn down after the last test.
 */
export function bootSuite(what: string): { bootTest: typeof test; boots: HostBoot[]; unsupported?: string } {
  const unsupported = bootSupport();
  if (unsupported) console.warn(`whole-host boot tests (${what}) SKIPPED: ${unsupported}`);
  const boots: HostBoot[] = [];
  beforeAll(() => {
    if (unsupported) return;
    const removed = cleanStale();
    if (removed.length > 0) console.warn(`removed what earlier runs left: ${removed.join(", ")}`);
  });
  afterAll(async () => {
    for (const b of boots) await b.tearDown();
  }, BOOT_MS);
  return { bootTest: unsupported ? test.skip : test, boots, ...(unsupported && { unsupported }) };
}

/** A fleet's rendered user-data, as the launch template carries it (gunzipped). */
export async function userData(
  stack: string,
  fleet: string,
  override: Record<string, unknown> = {},
): Promise<string> {
  const artifacts = fleetArtifacts((await runStack(stack, override)).resources);
  const found = artifacts.find((a) => a.fleet === fleet);
  if (!found) throw new Error(`${stack} has no fleet ${fleet}: ${artifacts.map((a) => a.fleet).join(", ")}`);
  return found.userData;
}

export const completions = (requests: readonly Recorded[], hook?: string) =>
  requests.filter(
    (r) =>
      r.service === "autoscaling" &&
      r.action === "CompleteLifecycleAction" &&
      (hook === undefined || r["LifecycleHookName"] === hook),
  );

export const index = (requests: readonly Recorded[], match: (r: Recorded) => boolean) =>
  requests.findIndex(match);

export interface Outcome {
  readonly boot: HostBoot;
  readonly completion?: Recorded;
  /** From the container's start to the launch lifecycle call. */
  readonly seconds?: number;
  /** How many requests the record held before this host booted (its own come after). */
  readonly after: number;
}

/**
 * Waits for the current host's launch lifecycle call (the first one after `after` requests of the
 * record, for a host booted by `nextHost`); prints the outcome and its time, and the boot's
 * diagnostics unless CONTINUE.
 */
export async function outcome(boot: HostBoot, label: string, after = 0): Promise<Outcome> {
  const completion = await boot.waitForRequest(
    (r) =>
      r.n > after &&
      r.service === "autoscaling" &&
      r.action === "CompleteLifecycleAction" &&
      r["LifecycleHookName"] === LIFECYCLE_HOOK_NAME,
    READY_MS,
  );
  const seconds = completion ? completion.t - boot.startedAt / 1000 : undefined;
  console.log(
    `${label}: ${completion ? `${String(completion["LifecycleActionResult"])} after ${seconds!.toFixed(1)} s` : "no lifecycle call"} (${boot.name})`,
  );
  if (!completion || completion["LifecycleActionResult"] !== "CONTINUE") console.log(boot.diagnostics());
  return { boot, after, ...(completion && { completion }), ...(seconds !== undefined && { seconds }) };
}

/**
 * Prepares, boots (into the group, or into the pool when `target` is a Warmed: state) and waits for
 * the launch lifecycle call; the boot is added to `boots` (torn down by the caller).
 */
export async function bootToOutcome(
  boots: HostBoot[],
  label: string,
  ud: string,
  options: Partial<BootOptions> = {},
  target = "InService",
): Promise<Outcome> {
  const boot = await HostBoot.prepare({ label, userData: ud, ...options });
  boots.push(boot);
  if (target !== "InService") boot.setLifecycleState(target);
  await boot.boot();
  return outcome(boot, label);
}

/**
 * Replaces the host by the next one (another fleet's, or a fresh copy) and waits for its lifecycle
 * call. `target`: the lifecycle state the group launches it into (a warm pool's `Warmed:Stopped`).
 */
export async function nextToOutcome(
  boot: HostBoot,
  label: string,
  ud?: string,
  target = "InService",
): Promise<Outcome> {
  await boot.nextHost(ud);
  if (target !== "InService") boot.setLifecycleState(target);
  const after = boot.requests().length;
  await boot.boot();
  return outcome(boot, label, after);
}

/** The units the readiness config checks. */
export function readinessUnits(boot: HostBoot): string[] {
  return (boot.inputs.files["/etc/mastodon/readiness.conf"] ?? "")
    .split("\n")
    .filter((l) => l.startsWith("unit "))
    .map((l) => l.slice(5));
}

/** The requests of the current host: those after `after` (where `nextHost` began). */
const since = (boot: HostBoot, after: number) => boot.requests().filter((r) => r.n > after);

/**
 * What every ready host shows: the lifecycle action completed once with CONTINUE for this instance,
 * group and hook; no request refused (every AWS call signed with the role's credentials from IMDS,
 * every metadata read with a token); the secrets read before the lifecycle call; each host file the
 * fleet runs fetched by its digest key; every unit readiness checks active, none restarted, none
 * failed; cloud-init without errors. `after`: the host's first request is after that many (a host booted by `nextHost`).
 * `prepared`: where the instance's preparation began, when an earlier boot did it (a warm pool host
 * started out of the pool fetched its host files on its way into the pool).
 */
export function expectReady(
  boot: HostBoot,
  completion: Recorded | undefined,
  after = 0,
  prepared = after,
): void {
  expect(completion).toBeDefined();
  expect(completion!["LifecycleActionResult"]).toBe("CONTINUE");
  const requests = since(boot, after);
  expect(completions(requests)).toEqual([
    expect.objectContaining({
      LifecycleHookName: LIFECYCLE_HOOK_NAME,
      AutoScalingGroupName: boot.group,
      InstanceId: boot.instanceId,
      LifecycleActionResult: "CONTINUE",
      status: 200,
    }),
  ]);
  expect(requests.filter((r) => r["error"] || (r.status ?? 200) >= 400)).toEqual([]);
  // IMDSv2: the first metadata request is a token.
  const imds = requests.filter((r) => r.service === "imds");
  expect(imds[0]).toEqual(expect.objectContaining({ method: "PUT", path: "/latest/api/token", status: 200 }));
  // The role's credentials came from IMDS before the first signed AWS call.
  const firstCredentials = index(
    requests,
    (r) => r.service === "imds" && /security-credentials\/.+/.test(r.path ?? ""),
  );
  const firstSigned = index(
    requests,
    (r) => r["signed"] === true || ["ssm", "autoscaling"].includes(r.service),
  );
  expect(firstCredentials).toBeGreaterThanOrEqual(0);
  expect(firstCredentials).toBeLessThan(firstSigned);
  // The secrets before the lifecycle call: exactly those the host's templates name, by name, at most
  // 10 a call (SSM's GetParameters), each found; never a whole path.
  const manifest = JSON.parse(boot.inputs.files[BOOT_PATHS.manifest]!) as { files: { template: string }[] };
  const named = placeholdersIn(manifest.files.map((f) => boot.inputs.files[f.template] ?? "").join("\n"));
  const reads = requests.filter((r) => r.service === "ssm" && r.action === "GetParameters");
  expect(reads.map((r) => (r["Names"] as string[]).length <= 10 && r["WithDecryption"] === true)).toEqual(
    reads.map(() => true),
  );
  expect(reads.flatMap((r) => r["Names"] as string[]).sort()).toEqual(named);
  expect(reads.flatMap((r) => r["invalid"] as string[])).toEqual([]);
  expect(requests.filter((r) => r.action === "GetParametersByPath")).toEqual([]);
  const firstRead = index(requests, (r) => r.service === "ssm" && r.action === "GetParameters");
  expect(firstRead).toBeGreaterThanOrEqual(0);
  expect(requests.indexOf(reads[reads.length - 1]!)).toBeLessThan(
    index(requests, (r) => r.action === "CompleteLifecycleAction"),
  );
  // Each host file this fleet runs, by its digest key from the host-files bucket, before the secrets
  // (at the instance's first boot, even when the secrets are read at a later one).
  const fetched = since(boot, prepared);
  const firstFetchedRead = index(fetched, (r) => r.service === "ssm" && r.action === "GetParameters");
  const checksums = boot.inputs.files["/etc/mastodon/host-files.sha256"]!;
  const wanted = HOST_FILES.filter((f) => checksums.includes(f.sha256));
  expect(wanted.length).toBeGreaterThan(0);
  for (const f of wanted) {
    const i = index(
      fetched,
      (r) =>
        r.service === "s3" &&
        r.action === "GetObject" &&
        r["bucket"] === boot.inputs.buckets[0] &&
        r["key"] === f.key &&
        r.status === 200,
    );
    expect(i).toBeGreaterThanOrEqual(0);
    expect(i).toBeLessThan(firstFetchedRead);
  }
  // The SSM agent's package, from the region's bucket, first of all.
  const agent = index(
    fetched,
    (r) => r.service === "s3" && String(r["key"]).endsWith("amazon-ssm-agent.deb"),
  );
  expect(agent).toBeGreaterThanOrEqual(0);
  expect(agent).toBeLessThan(firstFetchedRead);
  for (const unit of readinessUnits(boot))
    expect(`${unit} ${boot.exec(["systemctl", "is-active", unit]).stdout.trim()}`).toBe(`${unit} active`);
  expect(boot.exec(["systemctl", "--failed", "--plain", "--no-legend"]).stdout.trim()).toBe("");
  // In order the first time: no service started before what it needs and was restarted for it
  // (a missing After= shows here, even when the restart then succeeds).
  for (const unit of readinessUnits(boot).filter((u) => u.endsWith(".service")))
    expect(
      `${unit} restarted ${boot.exec(["systemctl", "show", "-P", "NRestarts", unit]).stdout.trim()} times`,
    ).toBe(`${unit} restarted 0 times`);
  expect(boot.exec(["cloud-init", "status", "--format", "json"]).stdout).toMatch(/"errors": \[\]/);
  expect(boot.read(AGENT_CTL_LOG)).toContain("-a fetch-config -m ec2 -s -c file:");
}

/** The collector's first minute: a signed PutMetricData with the fleet's figures, accepted. */
export async function expectMetrics(boot: HostBoot, names: string[], after = 0): Promise<void> {
  const put = await boot.waitForRequest((r) => r.n > after && r.service === "monitoring", 150000);
  expect(put).toEqual(expect.objectContaining({ action: "PutMetricData", status: 200 }));
  expect(put!["metrics"]).toEqual(expect.arrayContaining(names));
}

/** The whole journal of the booted host, message text only, in order. */
export function journal(boot: HostBoot, ...args: string[]): string[] {
  return boot
    .exec(["journalctl", "--no-pager", "-o", "cat", ...args], 120000)
    .stdout.split("\n")
    .filter(Boolean);
}

/**
 * The stand-in release image's `bundle exec` calls, as it recorded them on its stderr: the one-off
 * runs have no log driver (mastodon-database.sh: `--log-driver=none`, so nothing a container prints
 * is copied into the journal by conmon), and their stderr reaches the journal through the program's
 * own unit (mastodon-boot.service at the first boot), once per call.
 */
export function bundleCalls(boot: HostBoot): { args: string; skipPostDeployment: string }[] {
  const out = boot.exec(
    ["journalctl", "--no-pager", "-o", "json", "--output-fields=MESSAGE,CONTAINER_NAME,_SYSTEMD_UNIT"],
    120000,
  );
  return out.stdout
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as { MESSAGE?: unknown; CONTAINER_NAME?: string; _SYSTEMD_UNIT?: string })
    .filter((e) => e.CONTAINER_NAME === undefined && typeof e.MESSAGE === "string")
    .map((e) =>
      /^stand-in bundle: exec (.*) \[SKIP_POST_DEPLOYMENT_MIGRATIONS=(.*)\]$/.exec(
        (e.MESSAGE as string).trimEnd(),
      ),
    )
    .filter((m) => m !== null)
    .map((m) => ({ args: m[1]!, skipPostDeployment: m[2]! }));
}
