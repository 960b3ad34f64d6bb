/**
 * Every fleet host's files as the program declares them (read back from the launch templates'
 * user-data, under mocks), checked by the programs that consume them: `cloud-init schema` for the
 * user-data, `systemd-analyze verify` for every unit (with stand-in executables for the paths in
 * ExecStart), and python3 running the boot-time secret renderer.
 */
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse } from "yaml";
import { renderManifest } from "../../host/boot";
import { programPath, RENDER_SECRETS } from "../../host/programs";
import { ABANDON_UNIT, BOOT_UNIT, DRAIN_UNIT, WATCH_UNIT } from "./readiness";
import { POOL_UNIT, PREPARE_UNIT, WARM_ABANDON_REASON } from "./warmPoolUnits";
import { CLOUDWATCH_AGENT_INSTALLER } from "./hostFiles";
import { JOURNAL_EXPORT_UNIT, LOGS_AGENT_UNIT } from "../../monitoring/logs";
import { SEARCH_DEPLOY_UNIT } from "../../database/database";
import { RETENTION_UNITS } from "../../media/retention";
import { REDIS_VOLUME_PATHS } from "../../redis/redisVolume";
import { fleetArtifacts } from "../../cli/fleetArtifacts";
import { parseStackConfig } from "../../config";
import { STACKS, execStarts, runStack, stackConfig } from "../../../test/helpers";
import { requireProgram, tempDir } from "../../../test/real/servers";
import { systemdRoot } from "../../../test/real/systemd";

/** A root with stand-ins for the executables the fleets' units and boot steps name. */
const fleetSystemdRoot = () =>
  systemdRoot("mastodon-systemd-", [
    "home/mastodon/.rbenv/shims/bundle",
    "usr/bin/node",
    // The release images' programs: systemd-analyze verify looks for an ExecStart= on the root it
    // is given, not under the unit's RootDirectory= (systemd 252), which a booted host shows runs
    // them (test/real/wholeHost.real.test.ts).
    "usr/local/bin/bundle",
    "usr/local/bin/node",
    "usr/local/sbin/mastodon-image-root",
    "usr/sbin/pgbouncer",
    "usr/bin/redis-server",
    // The on-host persistent Redis refuses to start off its volume, which its own unit mounts.
    "usr/bin/mountpoint",
    "usr/local/sbin/mastodon-redis-volume",
    "usr/bin/python3",
    "usr/bin/aws",
    "usr/bin/sha256sum",
    "usr/bin/chmod",
    "bin/kill",
    // The boot unit's steps (readiness.ts).
    "usr/bin/curl",
    "usr/bin/install",
    "usr/bin/systemctl",
    "usr/local/sbin/mastodon-render-secrets",
    "usr/local/sbin/mastodon-ready",
    // The drain on a host running Sidekiq (bootUnits.ts).
    "usr/local/sbin/mastodon-drain",
    // A warm pool host's wait in the pool (warmPoolUnits.ts).
    "usr/local/sbin/mastodon-pool",
    // Official images on stock Debian (containers.ts, fleetHost.ts): podman's units and the setup.
    "usr/bin/podman",
    "bin/rm",
    "usr/local/sbin/mastodon-install-ssm-agent",
    // The journal export and the CloudWatch agent (logs.ts).
    "usr/bin/journalctl",
    "usr/local/sbin/mastodon-install-cloudwatch-agent",
    "opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl",
    "usr/sbin/groupadd",
    "usr/sbin/useradd",
    // The scheduler's host: the database's lifecycle and its one-off tootctl (database.ts).
    "usr/local/sbin/mastodon-database",
  ]);

/**
 * The boot's steps, in order: the boot unit's, or on a warm pool host the prepare unit's (but for
 * what it starts without waiting, the logs agent's installer and the pool unit it enables:
 * warmPoolUnits.test.ts) then the boot unit's.
 */
const bootSteps = (units: Record<string, string>) => [
  ...(PREPARE_UNIT in units
    ? execStarts(units[PREPARE_UNIT]!).filter(
        (c) =>
          !(c[0] === "/usr/bin/systemctl" && (c.includes("--no-block") || c.includes(POOL_UNIT))) &&
          c[0] !== CLOUDWATCH_AGENT_INSTALLER,
      )
    : []),
  ...execStarts(units[BOOT_UNIT]!),
];

describe.each(STACKS)("stack %s", (stack) => {
  let artifacts: ReturnType<typeof fleetArtifacts>;
  let root: string;
  beforeAll(async () => {
    artifacts = fleetArtifacts((await runStack(stack)).resources);
    root = fleetSystemdRoot();
  }, 60000);
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

  test("cloud-init accepts every fleet's user-data", () => {
    requireProgram("/usr/bin/cloud-init");
    expect(artifacts.length).toBeGreaterThan(0);
    for (const a of artifacts) {
      const file = path.join(root, `${a.fleet}.yaml`);
      fs.writeFileSync(file, a.userData);
      const r = spawnSync("cloud-init", ["schema", "--config-file", file], { encoding: "utf8" });
      expect({ fleet: a.fleet, out: r.stdout.trim(), status: r.status }).toEqual({
        fleet: a.fleet,
        out: `Valid cloud-config: ${file}`,
        status: 0,
      });
    }
  });

  test("systemd-analyze verify accepts every unit the fleet enables and the boot units, without a warning", () => {
    requireProgram("/usr/bin/systemd-analyze");
    for (const a of artifacts) {
      const unitDir = path.join(root, "etc/systemd/system");
      fs.rmSync(unitDir, { recursive: true, force: true });
      fs.mkdirSync(unitDir, { recursive: true });
      for (const [name, content] of Object.entries(a.units))
        fs.writeFileSync(path.join(unitDir, name), content);
      // The instances the host enables (the boot unit's `systemctl enable ...`), templates
      // instantiated, and the boot units themselves.
      const enabled = bootSteps(a.units)
        .find((c) => c[0] === "/usr/bin/systemctl" && c[1] === "enable" && c[2] !== "--now")!
        .slice(2);
      expect(enabled).toContain("mastodon.target");
      expect(enabled).toEqual(expect.arrayContaining([JOURNAL_EXPORT_UNIT, LOGS_AGENT_UNIT]));
      expect(Object.keys(a.units)).toEqual(expect.arrayContaining([BOOT_UNIT, ABANDON_UNIT, WATCH_UNIT]));
      // Enabled as `systemctl enable` leaves them (<target>.wants/ links from [Install] WantedBy=),
      // the watch and the drain too: a boot after the first starts exactly these.
      const wantedBy = (unit: string) =>
        /^WantedBy=(.+)$/m.exec(a.units[unit.replace(/@[^.]+\./, "@.")] ?? "")?.[1]?.split(" ") ?? [];
      const warm = PREPARE_UNIT in a.units ? [PREPARE_UNIT, POOL_UNIT] : [];
      for (const unit of [
        ...enabled,
        WATCH_UNIT,
        ...(DRAIN_UNIT in a.units ? [DRAIN_UNIT] : []),
        ...warm.filter((u) => u === POOL_UNIT),
      ])
        for (const target of wantedBy(unit)) {
          fs.mkdirSync(path.join(unitDir, `${target}.wants`), { recursive: true });
          fs.symlinkSync(`../${unit.replace(/@[^.]+\./, "@.")}`, path.join(unitDir, `${target}.wants`, unit));
        }
      const r = spawnSync(
        "systemd-analyze",
        [
          "verify",
          `--root=${root}`,
          ...enabled,
          BOOT_UNIT,
          ABANDON_UNIT,
          WATCH_UNIT,
          ...(DRAIN_UNIT in a.units ? [DRAIN_UNIT] : []),
          // A warm pool host's preparation and its wait in the pool (warmPoolUnits.ts).
          ...warm,
          // The scheduler's one-offs: the retention (its timer is among the enabled) and the search deploy.
          ...[RETENTION_UNITS.service, SEARCH_DEPLOY_UNIT].filter((u) => u in a.units),
          // redis.onHost: what the persistent Redis requires, not enabled itself.
          ...[REDIS_VOLUME_PATHS.unit].filter((u) => u in a.units),
          // What a boot after the first starts: an ordering cycle through it would drop the watch.
          "multi-user.target",
        ],
        {
          cwd: unitDir,
          encoding: "utf8",
        },
      );
      expect({ fleet: a.fleet, status: r.status, output: `${r.stdout}${r.stderr}` }).toEqual({
        fleet: a.fleet,
        status: 0,
        output: "",
      });
    }
  });

  test("runcmd starts the boot unit (a warm pool host: its preparation), whose steps end in readiness, then the watch", () => {
    requireProgram("/usr/bin/systemd-analyze");
    for (const a of artifacts) {
      const warm = PREPARE_UNIT in a.units;
      expect((parse(a.userData) as { runcmd: string[][] }).runcmd).toEqual([
        ["systemctl", "daemon-reload"],
        ["systemctl", "start", "--no-block", warm ? PREPARE_UNIT : BOOT_UNIT],
      ]);
      const steps = bootSteps(a.units);
      const { config } = parseStackConfig(stackConfig(stack));
      const prepares = a.fleet === config.schedulerFleet;
      // Official images on stock Debian first install the SSM agent and the image's user (and stop
      // Debian's own PgBouncer when pooled).
      const stockDebian =
        config.image.source === "official"
          ? [
              "/usr/local/sbin/mastodon-install-ssm-agent",
              "/usr/sbin/groupadd",
              "/usr/sbin/useradd",
              "/usr/bin/install",
              ...(config.database.pooler === "pgbouncer" ? ["/usr/bin/systemctl"] : []),
            ]
          : [];
      expect(steps.map((c) => c[0])).toEqual([
        ...stockDebian,
        // Every host fetches the logs agent's installer, and the collector where it publishes
        // (PgBouncer, streaming or the backlog), checks them and makes them executable.
        // The secrets renderer and the logs agent's installer, then the collector where it
        // publishes: each fetched, all checked and made executable.
        "/usr/bin/aws",
        "/usr/bin/aws",
        // The collector and its two modules (mastodon_metrics_sources, mastodon_metrics_cloudwatch).
        ...("mastodon-metrics.timer" in a.units ? ["/usr/bin/aws", "/usr/bin/aws", "/usr/bin/aws"] : []),
        // The scheduler's host: the database's program too, and with search the search user's.
        ...(prepares ? ["/usr/bin/aws"] : []),
        ...(prepares && config.search ? ["/usr/bin/aws"] : []),
        // The release images: the lay-out of their trees.
        ...(config.image.source === "official" ? ["/usr/bin/aws"] : []),
        // redis.onHost: the persistent store's volume program.
        ...(config.redis.onHost ? ["/usr/bin/aws"] : []),
        // A host running Sidekiq: the drain.
        ...(DRAIN_UNIT in a.units ? ["/usr/bin/aws"] : []),
        "/usr/bin/sha256sum",
        "/usr/bin/chmod",
        // The collector's modules: 0644, imported, never run.
        ...("mastodon-metrics.timer" in a.units ? ["/usr/bin/chmod"] : []),
        "/usr/bin/curl",
        "/usr/bin/install",
        "/usr/bin/install",
        "/usr/local/sbin/mastodon-render-secrets",
        // redis.onHost: Debian's own redis-server.service is stopped and disabled first, then the
        // persistent store's volume is attached and mounted (mastodon-redis-volume.service).
        ...(config.redis.onHost ? ["/usr/bin/systemctl", "/usr/bin/systemctl"] : []),
        "/usr/bin/systemctl",
        // The scheduler's host prepares the database before mastodon.target starts (the on-host
        // Redis first, which Rails reaches).
        ...(prepares && config.redis.onHost ? ["/usr/bin/systemctl"] : []),
        ...(prepares ? ["/usr/local/sbin/mastodon-database"] : []),
        "/usr/bin/systemctl",
        "/usr/local/sbin/mastodon-ready",
        "/usr/bin/systemctl",
      ]);
      expect(steps.at(-2)).toEqual(["/usr/local/sbin/mastodon-ready", "/etc/mastodon/readiness.conf"]);
      // The watch, and on a host running Sidekiq the drain (it acts once the group terminates it).
      expect(steps.at(-1)).toEqual([
        "/usr/bin/systemctl",
        "enable",
        "--now",
        WATCH_UNIT,
        ...(DRAIN_UNIT in a.units ? [DRAIN_UNIT] : []),
      ]);
      // The abandon unit's reason, double-quoted in ExecStart=, is one argument (split as
      // systemd.service(5) splits a command line; systemd-analyze verify checked the syntax above).
      const abandon = execStarts(a.units[ABANDON_UNIT]!)[0]!;
      expect(abandon).toEqual([
        "/usr/local/sbin/mastodon-ready",
        "--abandon",
        warm ? WARM_ABANDON_REASON : `${BOOT_UNIT} failed (journalctl -u ${BOOT_UNIT})`,
        "/etc/mastodon/readiness.conf",
      ]);
    }
  });

  test("no fleet's user-data carries anything but placeholders for secrets", () => {
    const rails = new Set(
      parseStackConfig(stackConfig(stack))
        .config.fleets.filter((f) => f.web || f.sidekiq)
        .map((f) => f.name),
    );
    for (const a of artifacts) {
      const env = Object.entries(a.files).find(([p]) => p.endsWith("env.production.template"))![1];
      // A host running only the streaming server has its database's password, none of Rails' secrets.
      const secrets = rails.has(a.fleet)
        ? [
            "DB_PASS",
            "SECRET_KEY_BASE",
            "VAPID_PRIVATE_KEY",
            "SMTP_PASSWORD",
            "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY",
          ]
        : ["DB_PASS"];
      if (!rails.has(a.fleet))
        expect(env).not.toMatch(/^(SECRET_KEY_BASE|VAPID_PRIVATE_KEY|SMTP_PASSWORD)=/m);
      for (const key of secrets) {
        expect(env).toMatch(
          new RegExp(`^${key}=\\{\\{ssm:/mastodon/mastodon-aws/${stack}/mastodon/[a-z-]+\\}\\}$`, "m"),
        );
      }
      expect(env).toMatch(/^REDIS_URL=rediss?:\/\/:\{\{ssm:[^}]+\}\}@/m);
    }
  });
});

test("systemd-analyze verify has teeth: a missing executable fails it", () => {
  const root = fleetSystemdRoot();
  try {
    const unitDir = path.join(root, "etc/systemd/system");
    fs.mkdirSync(unitDir, { recursive: true });
    fs.writeFileSync(path.join(unitDir, "broken.service"), "[Service]\nExecStart=/nonexistent/bin/thing\n");
    const r = spawnSync("systemd-analyze", ["verify", `--root=${root}`, "broken.service"], {
      cwd: unitDir,
      encoding: "utf8",
    });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("is not executable");
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});

describe("the boot-time secret renderer, run by python3", () => {
  const dir = tempDir("mastodon-boot-");
  const script = path.join(dir, "mastodon-render-secrets");
  const me = os.userInfo();
  const owner = `${me.username}:${execFileSync("id", ["-gn"], { encoding: "utf8" }).trim()}`;
  beforeAll(() => {
    fs.copyFileSync(programPath(RENDER_SECRETS), script);
    fs.chmodSync(script, 0o755);
    fs.writeFileSync(
      path.join(dir, "env.template"),
      "DB_PASS={{ssm:/mastodon/p/m/db-password}}\nREDIS_URL=rediss://:{{ssm:/mastodon/p/m/redis}}@h:6379/0\nLOCAL_DOMAIN=x.example\n",
    );
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const parameters = (values: Record<string, string>) => {
    const file = path.join(dir, "parameters.json");
    fs.writeFileSync(
      file,
      JSON.stringify({
        Parameters: Object.entries(values).map(([Name, Value]) => ({ Name, Value, Type: "SecureString" })),
      }),
    );
    return file;
  };
  const manifest = (target: string) => {
    const file = path.join(dir, "manifest.json");
    fs.writeFileSync(
      file,
      renderManifest("/mastodon/p/m", "us-east-1", [
        { template: path.join(dir, "env.template"), target, mode: "0600", owner },
      ]),
    );
    return file;
  };

  test("fills every placeholder and writes the file 0600", () => {
    requireProgram("/usr/bin/python3");
    const target = path.join(dir, ".env.production");
    const r = spawnSync(
      "python3",
      [
        script,
        manifest(target),
        "--parameters",
        parameters({ "/mastodon/p/m/db-password": "s3cr3tDB", "/mastodon/p/m/redis": "r3d1s" }),
      ],
      { encoding: "utf8" },
    );
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(fs.readFileSync(target, "utf8")).toBe(
      "DB_PASS=s3cr3tDB\nREDIS_URL=rediss://:r3d1s@h:6379/0\nLOCAL_DOMAIN=x.example\n",
    );
    expect(fs.statSync(target).mode & 0o777).toBe(0o600);
  });

  test("a missing parameter fails the boot and writes nothing", () => {
    const target = path.join(dir, ".env.missing");
    const r = spawnSync(
      "python3",
      [script, manifest(target), "--parameters", parameters({ "/mastodon/p/m/db-password": "x" })],
      { encoding: "utf8" },
    );
    expect(r.status).toBe(1);
    expect(r.stderr).toBe("missing SSM parameters: /mastodon/p/m/redis\n");
    expect(fs.existsSync(target)).toBe(false);
  });
});
