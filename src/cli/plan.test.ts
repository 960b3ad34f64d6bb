/**
 * `npm run plan` end to end: the real CLI in a child process, on shipped and on broken stack files.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { ROOT, runPlan, shippedStacksDir } from "../../test/helpers";

/** The plan without credentials: it needs none. */
const plan = (...args: string[]) =>
  runPlan(args, { AWS_ACCESS_KEY_ID: "", AWS_SECRET_ACCESS_KEY: "", PULUMI_ACCESS_TOKEN: "" });

const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "mastodon-plan-"));

describe("plan on the production stack", () => {
  const out = path.join(tmp(), "production");
  const r = plan("--stack", "production", "--out", out);

  test("exits 0 and prints the layout and the budget", () => {
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("mastodon-aws plan: stack production");
    expect(r.stdout).toMatch(
      /sidekiq-default\s+c7g\.2xlarge\s+8\s+16\s+4\s+6\s+12\s+sidekiq \[default\] 4 x -c 15/,
    );
    expect(r.stdout).toContain(
      "total: PgBouncer server pools 408 + replacements launched first 18 + headroom 15 = 441 of limit 445 (90% of 495 usable = 500 - 3 - 2); spare 4",
    );
  });

  test("writes resources.json with type, name, parent and inputs", () => {
    const resources = JSON.parse(fs.readFileSync(path.join(out, "resources.json"), "utf8"));
    expect(Array.isArray(resources)).toBe(true);
    expect(resources[0]).toEqual({
      type: "mastodon:index:MastodonStack",
      name: "mastodon",
      parent: null,
      parentType: null,
      custom: false,
      inputs: {},
    });
  });

  test("writes budget.json in the documented shape", () => {
    const budget = JSON.parse(fs.readFileSync(path.join(out, "budget.json"), "utf8"));
    expect(budget).toMatchObject({
      maxConnections: 500,
      usable: 495,
      limit: 445,
      surgeConnections: 18,
      total: 441,
      headroom: 15,
    });
    const row = budget.rows.find((x: { fleet: string }) => x.fleet === "sidekiq-default");
    expect(row).toEqual({
      fleet: "sidekiq-default",
      service: "sidekiq",
      queues: ["default"],
      maxSize: 12,
      processes: 4,
      pool: 15,
      poolVariable: "DB_POOL",
      connections: 720,
      surgeHosts: 0,
      surgeConnections: 0,
    });
    expect(budget.pgbouncer.find((x: { fleet: string }) => x.fleet === "sidekiq-default")).toEqual({
      fleet: "sidekiq-default",
      maxSize: 12,
      clientConnectionsPerHost: 60,
      poolSize: 12,
      serverConnections: 144,
      surgeHosts: 0,
      surgeServerConnections: 0,
    });
  });
});

test("the default stack is dev and the default directory out/dev", () => {
  const r = plan();
  expect(r.status).toBe(0);
  expect(r.stdout).toContain("mastodon-aws plan: stack dev");
  expect(fs.existsSync(path.join(ROOT, "out", "dev", "budget.json"))).toBe(true);
});

describe("a broken stack file", () => {
  const dir = tmp();
  const stacksDir = path.join(dir, "stacks");
  fs.mkdirSync(stacksDir);
  const production = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.production.yaml"), "utf8");
  // Production with the default queue at 80 threads per process, and a misspelt key.
  fs.writeFileSync(
    path.join(stacksDir, "Pulumi.broken.yaml"),
    production.replace("threads: 15", "threads: 80").replace("desiredSize: 6", "desiredsize: 6"),
  );
  const out = path.join(dir, "out");
  const r = plan("--stack", "broken", "--stacks-dir", stacksDir, "--out", out);

  test("exits 1 listing every problem by key, without a stack trace", () => {
    expect(r.status).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain('invalid config of stack "broken"');
    expect(r.stderr).toContain(
      "mastodon:fleets.sidekiq-default.sidekiq.threads: 80 exceeds 50 threads per Sidekiq process",
    );
    expect(r.stderr).toContain(
      "mastodon:fleets.sidekiq-default.desiredsize: 6 is not a known key; did you mean desiredSize?",
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  test("writes nothing", () => {
    expect(fs.existsSync(out)).toBe(false);
  });

  test("the second problem shows once the first is fixed: cross-field rules run on well-formed config", () => {
    fs.writeFileSync(
      path.join(stacksDir, "Pulumi.broken2.yaml"),
      stringify({
        config: {
          "mastodon:environment": "dev",
          "mastodon:domain": "x.example",
          "aws:region": "us-east-1",
          "mastodon:version": "v4.6.5",
          "mastodon:database": { instanceClass: "db.t4g.micro" },
          "mastodon:fleets": {
            app: {
              instanceType: "c7g.large",
              maxSize: 2,
              web: {},
              streaming: {},
              sidekiq: { queues: ["default", "scheduler"] },
            },
          },
        },
      }),
    );
    const r2 = plan("--stack", "broken2", "--stacks-dir", stacksDir, "--out", out);
    expect(r2.status).toBe(1);
    expect(r2.stderr).toContain(
      "mastodon:fleets.app.maxSize: 2 would run 2 scheduler processes at maximum size",
    );
    expect(r2.stderr).toContain(
      'no fleet serves the Sidekiq queue(s) "push", "ingress", "mailers", "pull", "fasp"',
    );
    expect(fs.existsSync(out)).toBe(false);
  });
});

test("an unknown stack names the stacks there are, the user's own too", () => {
  // Not stacks/, where the user's own stacks sit beside the shipped ones: a directory of known
  // contents, with the file `pulumi stack init blue` and `pulumi config set aws:region` write.
  const stacksDir = shippedStacksDir({ "Pulumi.blue.yaml": "config:\n  aws:region: us-east-1\n" });
  const r = plan("--stack", "nope", "--stacks-dir", stacksDir, "--out", path.join(tmp(), "x"));
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("stacks here: blue, dev, production, small, staging");
});

test("secure values in a stack file stay out of the plan's files", () => {
  const dir = tmp();
  const stacksDir = path.join(dir, "stacks");
  fs.mkdirSync(stacksDir);
  const dev = fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.dev.yaml"), "utf8");
  fs.writeFileSync(
    path.join(stacksDir, "Pulumi.sec.yaml"),
    `${dev}  mastodon:mail:\n    provider: smtp\n    smtp:\n      server: smtp.example.org\n      login: mastodon\n      password:\n        secure: v1:AAAAsupersecretciphertext\n`,
  );
  const out = path.join(dir, "out");
  const r = plan("--stack", "sec", "--stacks-dir", stacksDir, "--out", out);
  expect(r.status).toBe(0);
  const files = fs.readdirSync(out, { recursive: true, withFileTypes: true }).filter((d) => d.isFile());
  expect(files.length).toBeGreaterThan(5);
  for (const f of files) {
    expect(fs.readFileSync(path.join(f.parentPath, f.name), "utf8")).not.toContain("supersecret");
  }
});
