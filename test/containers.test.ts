/**
 * The container host's units (core/host/containers.ts), per fleet shape: the same unit names and
 * enabled instances as the machine image's units, and in each ExecStart the pools the budget
 * counted, the weighted queues, the pinned image, and the container's sandbox.
 */
import { parseStackConfig } from "../core/config";
import {
  checkedReference,
  IMAGES_UNIT,
  officialImages,
  PODMAN_STOP_MARGIN_SEC,
  REGISTRY_AUTH_FILE,
  renderContainerHost,
  renderContainerUnits,
} from "../core/host/containers";
import { RESTART_SEC, START_LIMIT_BURST, START_LIMIT_INTERVAL_SEC } from "../core/host/unitPolicy";
import {
  enabledUnits,
  MASTODON_TIMEOUT_SEC,
  renderFleetUnits,
  SIDEKIQ_STOP_TIMEOUT_SECONDS,
  SIDEKIQ_TAG,
  sidekiqQueueArgs,
} from "../core/host/units";
import { poolOf } from "../core/sizing/budget";
import { STACKS, stackConfig } from "./helpers";

const production = parseStackConfig(stackConfig("production")).config;
const dev = parseStackConfig(stackConfig("dev")).config;
const fleet = (name: string) => production.fleets.find((f) => f.name === name)!;
const images = officialImages({ version: "v4.6.5" });
const RAILS = "ghcr.io/mastodon/mastodon:v4.6.5";
const STREAMING = "ghcr.io/mastodon/mastodon-streaming:v4.6.5";

const lines = (content: string) => content.split("\n");
const valuesOf = (content: string, key: string) =>
  lines(content)
    .filter((l) => l.startsWith(`${key}=`))
    .map((l) => l.slice(key.length + 1));

/** The podman command line of a unit: its argv, the -e pairs, the image and the command after it. */
function podmanRun(content: string, image: string) {
  const [execStart] = valuesOf(content, "ExecStart");
  const argv = execStart!.split(" ");
  const at = argv.indexOf(image);
  expect(at).toBeGreaterThan(0);
  const options = argv.slice(0, at);
  const env: Record<string, string> = {};
  options.forEach((a, i) => {
    if (a === "-e") {
      const [k, ...v] = options[i + 1]!.split("=");
      env[k!] = v.join("=");
    }
  });
  return { argv, options, env, command: argv.slice(at + 1) };
}

const SHAPES = [
  ["combined (dev app: web, streaming, every queue)", dev.fleets[0]!, false],
  ["web only (production web)", fleet("web"), true],
  ["streaming on 2 ports (production streaming)", fleet("streaming"), true],
  ["sidekiq, 4 processes (production sidekiq-default)", fleet("sidekiq-default"), true],
] as const;

describe.each(SHAPES)("%s", (_name, f, pooled) => {
  const ctx = { pooled };
  const host = renderContainerHost(f, ctx, images);
  const byName = new Map(host.units.map((u) => [u.name, u.content]));

  test("the machine image's unit names and enabled instances, plus the image pull", () => {
    const native = renderFleetUnits(f, ctx).map((u) => u.name);
    expect(host.units.map((u) => u.name)).toEqual([native[0], IMAGES_UNIT, ...native.slice(1)]);
    expect(host.enabled).toEqual(enabledUnits(f, ctx));
    expect(host.packages).toEqual(["podman", ...(pooled ? ["pgbouncer"] : [])]);
  });

  test("the pull fetches exactly the images this fleet runs, pinned", () => {
    const pulls = valuesOf(byName.get(IMAGES_UNIT)!, "ExecStart");
    expect(pulls).toEqual([
      ...(f.web || f.sidekiq ? [`/usr/bin/podman pull --quiet ${RAILS}`] : []),
      ...(f.streaming ? [`/usr/bin/podman pull --quiet ${STREAMING}`] : []),
    ]);
  });

  test("every Mastodon unit: restart policy, start limits, the pull and PgBouncer before it", () => {
    for (const [name, content] of byName) {
      if (name === "mastodon.target" || name === IMAGES_UNIT) continue;
      expect(lines(content)).toEqual(
        expect.arrayContaining([
          "Type=notify",
          "NotifyAccess=all",
          "Restart=always",
          `RestartSec=${RESTART_SEC}`,
          `StartLimitIntervalSec=${START_LIMIT_INTERVAL_SEC}`,
          `StartLimitBurst=${START_LIMIT_BURST}`,
          "PartOf=mastodon.target",
          "WantedBy=mastodon.target",
          `After=network-online.target ${IMAGES_UNIT}${pooled ? " mastodon-pgbouncer.service" : ""}`,
          "ExecStartPre=/bin/rm -f %t/%n.ctr-id",
        ]),
      );
      const { options } = podmanRun(content, name.startsWith("mastodon-streaming") ? STREAMING : RAILS);
      expect(options).toEqual(
        expect.arrayContaining([
          "--pull=never",
          "--network=host",
          "--read-only",
          "--cap-drop=all",
          "--security-opt=no-new-privileges",
          "--rm",
          "--replace",
          `--volume=/home/mastodon/live/.env.production:/opt/mastodon/.env.production:ro`,
        ]),
      );
      // Not --env-file: podman would keep dotenv's quotes (test/real/containers.real.test.ts).
      expect(options.some((o) => o.startsWith("--env-file"))).toBe(false);
      // The image's Ruby links jemalloc itself (Mastodon's Dockerfile): no LD_PRELOAD.
      expect(content).not.toContain("LD_PRELOAD");
    }
  });

  if (f.web) {
    test("web: Puma with the budget's pools, tmp writable, RDS's CA for libpq when direct", () => {
      const content = byName.get("mastodon-web.service")!;
      const run = podmanRun(content, RAILS);
      expect(run.env).toEqual({
        RAILS_ENV: "production",
        PORT: "3000",
        BIND: "0.0.0.0",
        WEB_CONCURRENCY: String(f.web!.processes),
        MAX_THREADS: String(poolOf(f, "web")),
      });
      expect(run.command).toEqual(["bundle", "exec", "puma", "-C", "config/puma.rb"]);
      expect(run.options).toEqual(
        expect.arrayContaining([
          "--name=mastodon-web",
          "--tmpfs=/opt/mastodon/tmp:rw,nosuid,nodev",
          `--stop-timeout=${MASTODON_TIMEOUT_SEC}`,
        ]),
      );
      const ca = "--volume=/etc/ssl/certs/rds-global-bundle.pem:/opt/mastodon/.postgresql/root.crt:ro";
      expect(run.options.includes(ca)).toBe(!pooled);
      expect(valuesOf(content, "TimeoutStopSec")).toEqual([
        String(MASTODON_TIMEOUT_SEC + PODMAN_STOP_MARGIN_SEC),
      ]);
    });
  }

  if (f.streaming) {
    test("streaming: one container per port (%i), its DB_POOL, node's CA when direct", () => {
      const run = podmanRun(byName.get("mastodon-streaming@.service")!, STREAMING);
      expect(run.env).toEqual({
        NODE_ENV: "production",
        PORT: "%i",
        BIND: "0.0.0.0",
        DB_POOL: String(poolOf(f, "streaming")),
        ...(pooled ? {} : { NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/rds-global-bundle.pem" }),
      });
      expect(run.command).toEqual(["node", "./streaming/index.js"]);
      expect(run.options).toContain("--name=mastodon-streaming-%i");
      expect(run.options.some((o) => o.startsWith("--tmpfs"))).toBe(false);
      expect(host.enabled.filter((u) => u.startsWith("mastodon-streaming@"))).toEqual(
        f.streaming!.ports.map((p) => `mastodon-streaming@${p}.service`),
      );
    });
  }

  if (f.sidekiq) {
    test("sidekiq: one template per process, %i threads, weighted queues, 30 s to stop", () => {
      const units = host.units.filter((u) => u.name.startsWith("mastodon-sidekiq-"));
      expect(units).toHaveLength(f.sidekiq!.processes);
      for (const unit of units) {
        const run = podmanRun(unit.content, RAILS);
        expect(run.env).toEqual({ RAILS_ENV: "production", DB_POOL: "%i", MALLOC_ARENA_MAX: "2" });
        expect(run.command).toEqual([
          "bundle",
          "exec",
          "sidekiq",
          "-g",
          SIDEKIQ_TAG,
          "-c",
          "%i",
          ...sidekiqQueueArgs(f.sidekiq!.queues).split(" "),
        ]);
        expect(run.options).toEqual(
          expect.arrayContaining([
            `--name=${unit.name.replace("@.service", "")}-%i`,
            `--stop-timeout=${SIDEKIQ_STOP_TIMEOUT_SECONDS}`,
          ]),
        );
        expect(lines(unit.content)).toEqual(
          expect.arrayContaining([
            `ExecStop=/usr/bin/podman stop --ignore -t ${SIDEKIQ_STOP_TIMEOUT_SECONDS} --cidfile=%t/%n.ctr-id`,
            `TimeoutStopSec=${SIDEKIQ_STOP_TIMEOUT_SECONDS + PODMAN_STOP_MARGIN_SEC}`,
          ]),
        );
      }
      // Enabled with the budget's thread count, as the native units are.
      for (const u of host.enabled.filter((n) => n.startsWith("mastodon-sidekiq-")))
        expect(u).toMatch(new RegExp(`@${poolOf(f, "sidekiq")}\\.service$`));
    });
  }
});

test("the combined dev fleet's single Sidekiq weights every queue", () => {
  const [unit] = renderContainerUnits(dev.fleets[0]!, { pooled: false }, images).filter((u) =>
    u.name.startsWith("mastodon-sidekiq-"),
  );
  expect(valuesOf(unit!.content, "ExecStart")[0]).toMatch(
    / ghcr\.io\/mastodon\/mastodon:v4\.6\.5 bundle exec sidekiq -g mastodon -c %i -q default,8 -q ingress,4 -q push,6 -q pull,1 -q mailers,2 -q scheduler,1 -q fasp,1$/,
  );
});

test.each(STACKS)("stack %s: every fleet renders, and each host runs as the image's uid", (stack) => {
  const { config } = parseStackConfig(stackConfig(stack));
  const ctx = { pooled: config.database.pooler === "pgbouncer" };
  for (const f of config.fleets) {
    const host = renderContainerHost(f, ctx, images);
    expect(host.runcmd.slice(0, 3)).toEqual([
      ["groupadd", "--system", "--gid", "991", "mastodon"],
      expect.arrayContaining(["useradd", "--uid", "991", "mastodon"]),
      ["install", "-d", "-o", "mastodon", "-g", "mastodon", "-m", "0750", "/home/mastodon/live"],
    ]);
    expect(host.runcmd.some((c) => c.join(" ") === "systemctl disable --now pgbouncer.service")).toBe(
      ctx.pooled,
    );
  }
});

describe("image references", () => {
  test("official: ghcr.io/mastodon by tag, optionally by digest", () => {
    expect(images).toEqual({ rails: RAILS, streaming: STREAMING });
    const digest = `sha256:${"a".repeat(64)}`;
    expect(officialImages({ version: "v4.6.5", digests: { rails: digest } }).rails).toBe(
      `${RAILS}@${digest}`,
    );
  });

  test.each([
    ["4.6.5", "is not a Mastodon release tag"],
    ["latest", "is not a Mastodon release tag"],
    ["v4.6", "is not a Mastodon release tag"],
    ["v4.2.10", "its own image only since Mastodon v4.3.0"],
  ])("refuses version %j", (version, message) => {
    expect(() => officialImages({ version })).toThrow(message);
  });

  test.each([
    ["ghcr.io/mastodon/mastodon:latest", "not a pinned version"],
    ["ghcr.io/mastodon/mastodon", "not a pinned image reference"],
    ["mastodon:v4.6.5", "not a pinned image reference"],
    ["ghcr.io/mastodon/mastodon:v4.6.5 --privileged", "not a pinned image reference"],
    ["ghcr.io/mastodon/mastodon:%i", "not a pinned image reference"],
    ["ghcr.io/mastodon/mastodon:$TAG", "not a pinned image reference"],
  ])("refuses reference %j", (ref, message) => {
    expect(() => checkedReference(ref)).toThrow(message);
  });

  test("an ECR pull-through cache: the credential helper, its auth file, and the pull unit reads it", () => {
    const registry = "123456789012.dkr.ecr.us-east-1.amazonaws.com/ghcr/mastodon";
    const ecr = officialImages({ version: "v4.6.5", registry });
    expect(ecr.rails).toBe(`${registry}/mastodon:v4.6.5`);
    const host = renderContainerHost(dev.fleets[0]!, { pooled: false }, ecr);
    expect(host.packages).toEqual(["podman", "amazon-ecr-credential-helper"]);
    expect(host.files).toEqual([
      {
        path: REGISTRY_AUTH_FILE,
        content: `${JSON.stringify(
          { credHelpers: { "123456789012.dkr.ecr.us-east-1.amazonaws.com": "ecr-login" } },
          null,
          2,
        )}\n`,
        permissions: "0600",
      },
    ]);
    const pull = host.units.find((u) => u.name === IMAGES_UNIT)!.content;
    expect(lines(pull)).toContain(`Environment="REGISTRY_AUTH_FILE=${REGISTRY_AUTH_FILE}"`);
    // ghcr.io needs no credentials: no helper, no file.
    expect(renderContainerHost(dev.fleets[0]!, { pooled: false }, images).files).toEqual([]);
  });
});
