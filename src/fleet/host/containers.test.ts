/**
 * The release-image host's units (src/fleet/host/containers.ts, imageRoot.ts), per fleet shape: the
 * same unit names and enabled instances as the machine image's units, each running in its image's
 * tree with at least the machine image's sandbox; the pools the budget counted, the weighted
 * queues, the pinned images and the lay-out that the units' binds and variables need.
 */
import { parseStackConfig } from "../../config";
import {
  checkedReference,
  IMAGES_UNIT,
  IMAGE_ROOT_PROGRAM,
  officialImages,
  REGISTRY_AUTH_FILE,
  renderContainerHost,
  renderContainerUnits,
} from "./containers";
import { RESTART_SEC, START_LIMIT_BURST, START_LIMIT_INTERVAL_SEC } from "../../host/unitPolicy";
import {
  enabledUnits,
  MASTODON_TIMEOUT_SEC,
  renderFleetUnits,
  SIDEKIQ_STOP_TIMEOUT_SECONDS,
  SIDEKIQ_TAG,
  sidekiqQueueArgs,
} from "./units";
import { poolOf } from "../../budget/budget";
import { renderOneOffUnit } from "./oneOff";
import { STACKS, stackConfig } from "../../../test/helpers";

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
/** A unit's Environment= lines as an object (systemd.exec(5): `Environment="K=V"`). */
const envOf = (content: string) =>
  Object.fromEntries(
    valuesOf(content, "Environment").map((v) => {
      const [k, ...rest] = v.replace(/^"|"$/g, "").split("=");
      return [k!, rest.join("=")];
    }),
  );
/** The settings of Mastodon's dist/ sandbox (unitPolicy.ts) in a unit. */
const SANDBOX =
  /^(CapabilityBoundingSet|NoNewPrivileges|Protect\w+|Private\w+|Restrict\w+|LockPersonality|RemoveIPC|SystemCall\w+)=/;
const sandboxOf = (content: string) => lines(content).filter((l) => SANDBOX.test(l));
const rootOf = (name: string) => (name.startsWith("mastodon-streaming") ? "streaming" : "rails");

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
  const native = new Map(renderFleetUnits(f, ctx).map((u) => [u.name, u.content]));
  const services = [...byName].filter(([n]) => n !== "mastodon.target" && n !== IMAGES_UNIT);

  test("the machine image's unit names and enabled instances, plus the image pull", () => {
    const names = [...native.keys()];
    expect(host.units.map((u) => u.name)).toEqual([names[0], IMAGES_UNIT, ...names.slice(1)]);
    expect(host.enabled).toEqual(enabledUnits(f, ctx));
    expect(host.packages).toEqual(["podman", ...(pooled ? ["pgbouncer"] : [])]);
  });

  test("the pull fetches exactly the images this fleet runs, pinned, then lays out each tree its units run in", () => {
    const steps = valuesOf(byName.get(IMAGES_UNIT)!, "ExecStart");
    const roots = [...new Set(services.map(([n]) => rootOf(n)))];
    expect(steps.map((s) => s.split(" ").slice(0, 3).join(" "))).toEqual([
      ...(f.web || f.sidekiq ? [`/usr/bin/podman pull --quiet`] : []),
      ...(f.streaming ? [`/usr/bin/podman pull --quiet`] : []),
      ...roots.map((r) => `${IMAGE_ROOT_PROGRAM} ${r} ${r === "rails" ? RAILS : STREAMING}`),
    ]);
    // Each lay-out leaves out of the image's environment every variable its units set (an
    // EnvironmentFile= would win over them), and makes every target its units bind.
    for (const root of roots) {
      const step = steps.find((s) => s.startsWith(`${IMAGE_ROOT_PROGRAM} ${root} `))!.split(" ");
      const option = (o: string) => step.flatMap((a, i) => (step[i - 1] === o ? [a] : []));
      // The scheduler's host runs the one-offs (retention, search deploy) in the Rails tree too.
      const oneOffs =
        root === "rails" && f.servesScheduler
          ? [
              renderOneOffUnit(
                "o.service",
                "o",
                [],
                1,
                { kind: "image", image: RAILS },
                { host: "h", port: 1 },
              ),
            ]
          : [];
      const units = [
        ...services.filter(([n]) => rootOf(n) === root).map(([, c]) => c),
        ...oneOffs.map((u) => u.content),
      ];
      expect(new Set(option("-e"))).toEqual(new Set(units.flatMap((c) => Object.keys(envOf(c)))));
      expect(new Set(option("-m"))).toEqual(
        new Set(
          units.flatMap((c) =>
            valuesOf(c, "BindReadOnlyPaths").flatMap((v) =>
              v.split(" ").map((b) => b.replace(/^-/, "").split(":").at(-1)!),
            ),
          ),
        ),
      );
    }
  });

  test("every Mastodon unit: the image's tree as the machine image's unit, with at least its sandbox", () => {
    for (const [name, content] of services) {
      const root = rootOf(name);
      expect(lines(content)).toEqual(
        expect.arrayContaining([
          "Type=simple",
          "User=mastodon",
          `RootDirectory=/run/mastodon/root/${root}`,
          "MountAPIVFS=true",
          "BindReadOnlyPaths=-/etc/resolv.conf -/etc/hosts",
          "BindReadOnlyPaths=/home/mastodon/live/.env.production:/opt/mastodon/.env.production",
          `EnvironmentFile=/run/mastodon/root/${root}.env`,
          'Environment="HOME=/opt/mastodon"',
          "WorkingDirectory=/opt/mastodon",
          "Restart=always",
          `RestartSec=${RESTART_SEC}`,
          `StartLimitIntervalSec=${START_LIMIT_INTERVAL_SEC}`,
          `StartLimitBurst=${START_LIMIT_BURST}`,
          "PartOf=mastodon.target",
          "WantedBy=mastodon.target",
          `After=network-online.target ${IMAGES_UNIT}${pooled ? " mastodon-pgbouncer.service" : ""}`,
          "ProtectHome=true",
        ]),
      );
      // Every sandbox setting of the machine image's unit of the same process (Mastodon's dist/).
      expect(sandboxOf(content)).toEqual(expect.arrayContaining(sandboxOf(native.get(name)!)));
      // The image's Ruby links jemalloc itself (Mastodon's Dockerfile): no LD_PRELOAD.
      expect(content).not.toContain("LD_PRELOAD");
      expect(content).not.toContain("podman");
    }
  });

  if (f.web) {
    test("web: Puma with the budget's pools, tmp writable, RDS's CA for libpq when direct", () => {
      const content = byName.get("mastodon-web.service")!;
      expect(envOf(content)).toEqual({
        HOME: "/opt/mastodon",
        RAILS_ENV: "production",
        PORT: "3000",
        BIND: "0.0.0.0",
        WEB_CONCURRENCY: String(f.web!.processes),
        MAX_THREADS: String(poolOf(f, "web")),
      });
      expect(valuesOf(content, "ExecStart")).toEqual(["/usr/local/bin/bundle exec puma -C config/puma.rb"]);
      expect(valuesOf(content, "BindPaths")).toEqual([
        "/run/mastodon/root/rails/opt/mastodon/tmp:/opt/mastodon/tmp",
      ]);
      expect(
        valuesOf(content, "BindReadOnlyPaths").includes(
          "/etc/ssl/certs/rds-global-bundle.pem:/opt/mastodon/.postgresql/root.crt",
        ),
      ).toBe(!pooled);
      expect(valuesOf(content, "TimeoutSec")).toEqual([String(MASTODON_TIMEOUT_SEC)]);
    });
  }

  if (f.streaming) {
    test("streaming: one process per port (%i), its DB_POOL, node's CA when direct, nothing writable", () => {
      const content = byName.get("mastodon-streaming@.service")!;
      expect(envOf(content)).toEqual({
        HOME: "/opt/mastodon",
        NODE_ENV: "production",
        PORT: "%i",
        BIND: "0.0.0.0",
        DB_POOL: String(poolOf(f, "streaming")),
        ...(pooled ? {} : { NODE_EXTRA_CA_CERTS: "/etc/ssl/certs/rds-global-bundle.pem" }),
      });
      expect(valuesOf(content, "ExecStart")).toEqual(["/usr/local/bin/node ./streaming/index.js"]);
      expect(valuesOf(content, "BindPaths")).toEqual([]);
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
        expect(envOf(unit.content)).toEqual({
          HOME: "/opt/mastodon",
          RAILS_ENV: "production",
          DB_POOL: "%i",
          MALLOC_ARENA_MAX: "2",
        });
        expect(valuesOf(unit.content, "ExecStart")).toEqual([
          `/usr/local/bin/bundle exec sidekiq -g ${SIDEKIQ_TAG} -c %i ${sidekiqQueueArgs(f.sidekiq!.queues)}`,
        ]);
        expect(valuesOf(unit.content, "TimeoutStopSec")).toEqual([String(SIDEKIQ_STOP_TIMEOUT_SECONDS)]);
        expect(valuesOf(unit.content, "BindPaths")).toEqual([
          "/run/mastodon/root/rails/opt/mastodon/tmp:/opt/mastodon/tmp",
        ]);
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
  expect(valuesOf(unit!.content, "ExecStart")).toEqual([
    "/usr/local/bin/bundle exec sidekiq -g mastodon -c %i -q default,8 -q ingress,4 -q push,6 -q pull,1 -q mailers,2 -q scheduler,1 -q fasp,1",
  ]);
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
