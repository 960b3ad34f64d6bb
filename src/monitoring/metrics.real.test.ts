/**
 * The queue collector (src/monitoring/files/mastodon-metrics.py) against real Sidekiq: Debian's
 * ruby-sidekiq enqueues into a real redis-server with TLS and AUTH as in production (rediss:// with
 * a password), and the collector's sizes must equal what Sidekiq's API reports (Queue#size,
 * RetrySet, DeadSet, ScheduledSet) and its latencies must name the same oldest job as
 * Queue#latency: latency is "now minus the job's enqueued_at", so both sides' `now - latency` must
 * be the same instant. Its PutMetricData goes to a stand-in CloudWatch that records the request,
 * with credentials from a stand-in IMDSv2: the metric data is checked value by value, and the
 * signature against the one botocore (Debian's, the AWS CLI's signer) computes for the same request.
 *
 * At 10 and 100,000 queued jobs the Redis commands a run sends (Redis's own INFO commandstats) must
 * be the same, whatever the backlog; how long a run takes is `npm run bench`'s to measure.
 */
import { type ChildProcess, execFileSync, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as http from "http";
import type { AddressInfo } from "net";
import * as path from "path";
import { gunzipSync } from "zlib";
import { parseStackConfig } from "../config";
import { METRICS, METRICS_NAMESPACE, hostMetricsConfig, publishedSeries } from "./metrics";
import { programPath } from "../host/programs";
import { MEMORY_FIGURES } from "../fleet/memory";
import { stackConfig } from "../../test/helpers";
import {
  type RedisServer,
  freePort,
  makeTestCertificates,
  redisCli,
  requireProgram,
  startRedis,
  stopAllServers,
  tempDir,
} from "../../test/real/servers";

const PYTHON = "/usr/bin/python3";
const PROGRAM = programPath("mastodon-metrics.py");
const PASSWORD = "MetricsTestPassword0123456789";
jest.setTimeout(180000);

const production = parseStackConfig(stackConfig("production")).config;
const scheduler = production.fleets.find((f) => f.servesScheduler)!;
// The scheduler's host as the stack renders it, with PgBouncer and streaming left to their own tests.
const rendered = hostMetricsConfig(
  scheduler,
  { stack: "/mastodon/production", region: "us-east-1", fleets: production.fleets },
  { pooled: false },
);

let dir: string;
let redis: RedisServer;
let url: string;
let ca: string;
const servers: ChildProcess[] = [];

beforeAll(async () => {
  requireProgram(PYTHON);
  requireProgram("/usr/bin/sidekiq");
  dir = tempDir("mastodon-metrics-");
  const certs = makeTestCertificates(dir);
  ca = certs.ca;
  const port = await freePort();
  redis = await startRedis(
    [
      "--port",
      "0",
      "--tls-port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--tls-cert-file",
      certs.cert,
      "--tls-key-file",
      certs.key,
      "--tls-ca-cert-file",
      certs.ca,
      "--tls-auth-clients",
      "no",
      "--requirepass",
      PASSWORD,
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    port,
    PASSWORD,
    { tls: certs.ca },
  );
  // As Mastodon's env has it (src/host/env.ts, redisUrl): TLS, the password, database 0.
  url = `rediss://:${PASSWORD}@127.0.0.1:${port}/0`;
});

afterAll(async () => {
  for (const s of servers) s.kill("SIGKILL");
  await redis?.stop();
  await stopAllServers();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** Ruby with Sidekiq 6.4 against the test Redis (TLS verified against the test CA). */
function ruby(script: string): string {
  return execFileSync("ruby", ["-r", "sidekiq", "-r", "sidekiq/api", "-e", script], {
    env: { PATH: "/usr/bin:/bin", HOME: dir, REDIS_URL: url, SSL_CERT_FILE: ca },
    cwd: dir,
    encoding: "utf8",
    timeout: 120000,
  });
}

/**
 * What Sidekiq's own API says. Time.now is held still while it answers, so each latency is exactly
 * "that instant minus the oldest job's enqueued_at" (Sidekiq 6.4's Queue#latency reads Time.now).
 */
function sidekiqView(): {
  queues: Record<string, { size: number; latency: number; now: number }>;
  retry: number;
  dead: number;
  scheduled: number;
} {
  const queues = JSON.stringify(rendered.queues);
  return JSON.parse(
    ruby(`
      out = { "queues" => {} }
      frozen = Time.now
      Time.define_singleton_method(:now) { frozen }
      ${queues}.each do |name|
        q = Sidekiq::Queue.new(name)
        out["queues"][name] = { "size" => q.size, "latency" => q.latency, "now" => frozen.to_f }
      end
      out["retry"] = Sidekiq::RetrySet.new.size
      out["dead"] = Sidekiq::DeadSet.new.size
      out["scheduled"] = Sidekiq::ScheduledSet.new.size
      puts JSON.generate(out)
    `),
  );
}

interface Datum {
  MetricName: string;
  Dimensions: { Name: string; Value: string }[];
  Value: number;
  Unit: string;
  Timestamp: string;
}

function writeConfig(extra: object = {}): string {
  const file = path.join(dir, `metrics-${Math.random().toString(16).slice(2)}.json`);
  fs.writeFileSync(file, JSON.stringify({ ...rendered, ...extra }));
  return file;
}

/** The collector as its unit runs it, with SIDEKIQ_REDIS_URL from its environment file. */
function collector(config: string, args: string[], env: Record<string, string> = {}) {
  return spawnSync(PYTHON, [PROGRAM, config, ...args], {
    env: { PATH: "/usr/bin:/bin", SIDEKIQ_REDIS_URL: url, SSL_CERT_FILE: ca, ...env },
    encoding: "utf8",
    timeout: 120000,
  });
}

function dryRun(env: Record<string, string> = {}) {
  const r = collector(writeConfig(), ["--dry-run"], env);
  if (r.status !== 0) throw new Error(`collector failed (${r.status}): ${r.stderr}`);
  return {
    ...(JSON.parse(r.stdout) as {
      namespace: string;
      metricData: Datum[];
      redis: { commands: number; milliseconds: number; now: number };
    }),
    log: r.stderr,
  };
}

const value = (data: Datum[], metric: string, dimension?: string) =>
  data.find(
    (d) =>
      d.MetricName === metric &&
      (dimension === undefined ? d.Dimensions.length === 1 : d.Dimensions[1]?.Value === dimension),
  )?.Value;

/** redis-cli against the test Redis, over TLS with the password. */
const tlsRedisCli = (...args: string[]) => redisCli(redis.port, PASSWORD, args, { tls: ca });

/** Redis's calls per command since CONFIG RESETSTAT. */
function commandCalls(): Record<string, number> {
  const rows = [...tlsRedisCli("INFO", "commandstats").matchAll(/^cmdstat_(\w+):calls=(\d+)/gm)].filter(
    // The reset and INFO themselves.
    (m) => !["config", "info"].includes(m[1]!),
  );
  return Object.fromEntries(rows.map((m) => [m[1]!.toUpperCase(), Number(m[2])]));
}

/** A backlog: `perQueue` jobs in each queue, older ones first, plus retry, dead and scheduled entries. */
function enqueue(perQueue: Record<string, number>) {
  ruby(`
    Sidekiq.redis { |r| r.flushdb }
    class Work; include Sidekiq::Worker; def perform(*); end; end
    ${JSON.stringify(perQueue)}.each do |queue, count|
      count.times.each_slice(1000) do |slice|
        Sidekiq::Client.push_bulk("class" => Work, "queue" => queue, "args" => slice.map { |n| [n] })
      end
    end
    # A retry (as Sidekiq's JobRetry writes it), two dead jobs, and three scheduled for later.
    Sidekiq.redis { |r| r.zadd("retry", Time.now.to_f + 60, Sidekiq.dump_json("class" => "Work", "args" => [1], "jid" => "r1", "queue" => "default", "retry_count" => 1)) }
    2.times { |n| Sidekiq::DeadSet.new.kill(Sidekiq.dump_json("class" => "Work", "args" => [n], "jid" => "d#{n}", "queue" => "push")) }
    3.times { |n| Work.set(queue: "pull").perform_in(3600 + n, n) }
  `);
}

test("the rendered scheduler host collects every queue of the stack and each Sidekiq fleet's queues", () => {
  expect([...rendered.queues].sort()).toEqual(
    ["default", "fasp", "ingress", "mailers", "pull", "push", "scheduler"].sort(),
  );
  expect(rendered.fleetQueues).toEqual({
    "sidekiq-default": ["default"],
    "sidekiq-ingress": ["ingress"],
    "sidekiq-push": ["push"],
    "sidekiq-pull": ["pull"],
    "sidekiq-mailers": ["mailers"],
    "sidekiq-fasp": ["fasp"],
    "sidekiq-scheduler": ["scheduler"],
  });
});

test("sizes equal Sidekiq's; latencies name the same oldest job as Queue#latency (TLS and AUTH)", () => {
  enqueue({ default: 40, ingress: 7, push: 3, mailers: 1 });
  const before = sidekiqView();
  const run = dryRun();
  const after = sidekiqView();
  expect(run.namespace).toBe(METRICS_NAMESPACE);
  const data = run.metricData;
  for (const [queue, view] of Object.entries(before.queues)) {
    expect([queue, value(data, METRICS.queueSize.name, queue)]).toEqual([queue, view.size]);
    const latency = value(data, METRICS.queueLatency.name, queue)!;
    if (view.size === 0) {
      expect([queue, latency, after.queues[queue]!.latency]).toEqual([queue, 0, 0]);
      continue;
    }
    // The instant the oldest job was enqueued, as each side computes it: equal but for float rounding.
    const enqueuedBySidekiq = view.now - view.latency;
    const enqueuedByCollector = run.redis.now - latency;
    expect(Math.abs(enqueuedByCollector - enqueuedBySidekiq)).toBeLessThan(1e-5);
  }
  expect(value(data, METRICS.retrySetSize.name)).toBe(before.retry);
  expect(value(data, METRICS.deadSetSize.name)).toBe(before.dead);
  expect(value(data, METRICS.scheduledSetSize.name)).toBe(before.scheduled);
  expect([before.retry, before.dead, before.scheduled]).toEqual([1, 2, 3]);
  // Each Sidekiq fleet's figure is the largest latency of its queues (one queue each here).
  for (const [fleet, queues] of Object.entries(rendered.fleetQueues))
    expect([fleet, value(data, METRICS.fleetQueueLatency.name, fleet)]).toEqual([
      fleet,
      Math.max(...queues.map((q) => value(data, METRICS.queueLatency.name, q)!)),
    ]);
  // What it sent is what the cost model counts (publishedSeries), series by series.
  const sentSeries = data.map((d) => `${d.MetricName}${d.Dimensions[1] ? `/${d.Dimensions[1].Value}` : ""}`);
  const counted = publishedSeries(production.fleets, { pooled: false });
  expect(sentSeries.filter((x) => !counted.includes(x))).toEqual([]);
  expect(counted.filter((x) => !x.startsWith(METRICS.streamingConnections.name)).sort()).toEqual(
    [...sentSeries].sort(),
  );
  // Every value carries the stack first.
  expect(new Set(data.map((d) => d.Dimensions[0]!.Value))).toEqual(new Set(["/mastodon/production"]));
});

test("a job written as Sidekiq 8 writes it (integer milliseconds) is aged as Sidekiq 8's JobRecord#latency does", () => {
  ruby(`Sidekiq.redis { |r| r.flushdb }`);
  // Sidekiq 8 (Mastodon 4.6) stores enqueued_at and created_at as integer epoch milliseconds.
  const enqueuedMs = Date.now() - 90_000;
  ruby(
    `Sidekiq.redis { |r| r.lpush("queue:push", ${JSON.stringify(
      JSON.stringify({
        class: "Work",
        args: [],
        jid: "s8",
        queue: "push",
        created_at: enqueuedMs,
        enqueued_at: enqueuedMs,
      }),
    )}); r.sadd("queues", "push") }`,
  );
  const run = dryRun();
  const latency = value(run.metricData, METRICS.queueLatency.name, "push")!;
  // JobRecord#latency (Sidekiq 8): (now in ms - enqueued_at) / 1000.0, so now - latency is the
  // job's own enqueued_at, the integer milliseconds it was written with (float rounding aside).
  expect(Math.abs((run.redis.now - latency) * 1000 - enqueuedMs)).toBeLessThan(1e-3);
});

/** A stand-in for the instance metadata service (IMDSv2) and CloudWatch, recording what they were asked. */
async function standIns() {
  const credentials = {
    AccessKeyId: "ASIAIOSFODNN7EXAMPLE",
    SecretAccessKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
    Token: "IQoJb3JpZ2luX2VjEXAMPLETOKEN",
  };
  const imdsRequests: string[] = [];
  const imds = http.createServer((req, res) => {
    imdsRequests.push(`${req.method} ${req.url} ${req.headers["x-aws-ec2-metadata-token"] ?? ""}`);
    if (req.method === "PUT" && req.url === "/latest/api/token") res.end("imds-session-token");
    else if (req.headers["x-aws-ec2-metadata-token"] !== "imds-session-token") res.writeHead(401).end();
    else if (req.url === "/latest/meta-data/iam/security-credentials/") res.end("mastodon-fleet-role\n");
    else if (req.url === "/latest/meta-data/iam/security-credentials/mastodon-fleet-role")
      res.end(JSON.stringify({ Code: "Success", Type: "AWS-HMAC", ...credentials }));
    else res.writeHead(404).end();
  });
  const requests: { headers: http.IncomingHttpHeaders; body: string }[] = [];
  const cloudwatch = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const raw = Buffer.concat(chunks);
      const body = req.headers["content-encoding"] === "gzip" ? gunzipSync(raw) : raw;
      requests.push({ headers: req.headers, body: body.toString("utf8") });
      res.writeHead(200, { "content-type": "text/xml" });
      res.end(
        '<PutMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><ResponseMetadata><RequestId>00000000-0000-0000-0000-000000000000</RequestId></ResponseMetadata></PutMetricDataResponse>',
      );
    });
  });
  const listen = (server: http.Server) =>
    new Promise<string>((resolve) =>
      server.listen(0, "127.0.0.1", () =>
        resolve(`http://127.0.0.1:${(server.address() as AddressInfo).port}`),
      ),
    );
  return {
    credentials,
    imdsRequests,
    requests,
    imds: await listen(imds),
    cloudwatch: await listen(cloudwatch),
    close: () => {
      imds.close();
      cloudwatch.close();
    },
  };
}

/** The collector run for real (no --dry-run) against the stand-ins. */
function publishRun(stand: {
  imds: string;
  cloudwatch: string;
}): Promise<{ status: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(PYTHON, [PROGRAM, writeConfig({ imds: stand.imds, endpoint: stand.cloudwatch })], {
      env: { PATH: "/usr/bin:/bin", SIDEKIQ_REDIS_URL: url, SSL_CERT_FILE: ca },
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("exit", (status) => resolve({ status, stderr }));
  });
}

/**
 * What botocore (Debian's python3-botocore, the AWS CLI's own signer) computes for the same request:
 * the Authorization header SigV4 gives these credentials, body and x-amz-date.
 */
function botocoreAuthorization(
  endpoint: string,
  headers: http.IncomingHttpHeaders,
  body: string,
  credentials: { AccessKeyId: string; SecretAccessKey: string; Token: string },
): string {
  const script = `
import json, sys
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
a = json.load(sys.stdin)
request = AWSRequest(method="POST", url=a["url"], data=a["body"].encode(), headers={
    "Content-Type": a["contentType"], "X-Amz-Date": a["date"]})
auth = SigV4Auth(Credentials(a["key"], a["secret"], a["token"]), "monitoring", "us-east-1")
# botocore signs at datetime.utcnow(): held at the request's own x-amz-date.
import datetime, botocore.auth
signed_at = datetime.datetime.strptime(a["date"], "%Y%m%dT%H%M%SZ")
class At(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return signed_at
botocore.auth.datetime = type("clock", (), {"datetime": At})
auth.add_auth(request)
print(request.headers["Authorization"])
`;
  return execFileSync(PYTHON, ["-c", script], {
    input: JSON.stringify({
      url: `${endpoint}/`,
      body,
      contentType: headers["content-type"],
      date: headers["x-amz-date"],
      key: credentials.AccessKeyId,
      secret: credentials.SecretAccessKey,
      token: credentials.Token,
    }),
    encoding: "utf8",
  }).trim();
}

test("the PutMetricData request carries exactly the collected values, signed as botocore signs it", async () => {
  enqueue({ default: 5, pull: 2 });
  const stand = await standIns();
  const expected = dryRun().metricData;
  const r = await publishRun(stand);
  stand.close();
  expect(r.stderr).not.toMatch(/Traceback|failed|PutMetricData:/);
  expect(r.status).toBe(0);
  // IMDSv2: the session token first, then the role and its credentials, each with the token.
  expect(stand.imdsRequests).toEqual([
    "PUT /latest/api/token ",
    "GET /latest/meta-data/iam/security-credentials/ imds-session-token",
    "GET /latest/meta-data/iam/security-credentials/mastodon-fleet-role imds-session-token",
  ]);
  expect(stand.requests).toHaveLength(1);
  const { headers, body } = stand.requests[0]!;
  const form = new URLSearchParams(body);
  expect([form.get("Action"), form.get("Namespace"), form.get("Version")]).toEqual([
    "PutMetricData",
    METRICS_NAMESPACE,
    "2010-08-01",
  ]);
  // The query protocol's members back into data: MetricData.member.N.<field>.
  const sent: Datum[] = [];
  for (let n = 1; form.has(`MetricData.member.${n}.MetricName`); n++) {
    const field = (f: string) => form.get(`MetricData.member.${n}.${f}`)!;
    const dims: Datum["Dimensions"] = [];
    for (let d = 1; form.has(`MetricData.member.${n}.Dimensions.member.${d}.Name`); d++)
      dims.push({ Name: field(`Dimensions.member.${d}.Name`), Value: field(`Dimensions.member.${d}.Value`) });
    sent.push({
      MetricName: field("MetricName"),
      Dimensions: dims,
      Value: Number(field("Value")),
      Unit: field("Unit"),
      Timestamp: field("Timestamp"),
    });
  }
  // Everything but latency (it grew between the two runs) and the timestamp is exactly the dry run's.
  const stable = (d: Datum) => ({
    MetricName: d.MetricName,
    Dimensions: d.Dimensions,
    Unit: d.Unit,
    ...(d.Unit === "Count" && { Value: d.Value }),
  });
  expect(sent.map(stable)).toEqual(expected.map(stable));
  // Latencies are an age, read at another instant than the dry run's: a number, never negative.
  for (const d of sent.filter((x) => x.Unit === "Seconds"))
    expect([d.MetricName, Number.isFinite(d.Value) && d.Value >= 0]).toEqual([d.MetricName, true]);
  expect(sent.every((d) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(d.Timestamp))).toBe(true);
  // The role's session token rides along; the signature is botocore's, byte for byte.
  expect(headers["x-amz-security-token"]).toBe(stand.credentials.Token);
  expect(headers.authorization).toBe(
    botocoreAuthorization(stand.cloudwatch, headers, body, stand.credentials),
  );
  expect(String(headers.authorization)).toMatch(
    /^AWS4-HMAC-SHA256 Credential=ASIAIOSFODNN7EXAMPLE\/\d{8}\/us-east-1\/monitoring\/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-security-token, Signature=[0-9a-f]{64}$/,
  );
});

test("a refused PutMetricData (CloudWatch answers 4xx) is logged with its answer and the run exits 1", async () => {
  const stand = await standIns();
  const refusing = http.createServer((_req, res) =>
    res
      .writeHead(403, { "content-type": "text/xml" })
      .end("<ErrorResponse><Error><Code>AccessDenied</Code></Error></ErrorResponse>"),
  );
  const endpoint = await new Promise<string>((resolve) =>
    refusing.listen(0, "127.0.0.1", () =>
      resolve(`http://127.0.0.1:${(refusing.address() as AddressInfo).port}`),
    ),
  );
  const r = await publishRun({ imds: stand.imds, cloudwatch: endpoint });
  stand.close();
  refusing.close();
  expect(r.status).toBe(1);
  expect(r.stderr).toContain("PutMetricData: HTTP 403: <ErrorResponse><Error><Code>AccessDenied</Code>");
});

test("one run's peak memory, measured: the collector's row in the memory table holds it", () => {
  enqueue({ default: 1000 });
  const r = spawnSync(
    PYTHON,
    [
      "-c",
      "import os, runpy, sys; sys.argv = sys.argv[1:]; code = 0\n" +
        // As `python3 PROGRAM` has it: the program's own directory, where its modules are, first on
        // sys.path (run_path does not put it there).
        "sys.path.insert(0, os.path.dirname(os.path.realpath(sys.argv[0])))\n" +
        "try:\n  runpy.run_path(sys.argv[0], run_name='__main__')\nexcept SystemExit as e:\n  code = e.code\n" +
        // VmHWM: this process's own peak (getrusage's ru_maxrss keeps the forking parent's across exec).
        "print([l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')][0], file=sys.stderr)\n" +
        "sys.exit(code)",
      PROGRAM,
      writeConfig(),
      "--dry-run",
    ],
    { env: { PATH: "/usr/bin:/bin", SIDEKIQ_REDIS_URL: url, SSL_CERT_FILE: ca }, encoding: "utf8" },
  );
  expect(r.status).toBe(0);
  const peakMiB = Number(r.stderr.trim().split("\n").at(-1)) / 1024;
  expect(peakMiB).toBeLessThanOrEqual(MEMORY_FIGURES.metricsCollector.mib);
});

test("a Redis that refuses the connection: the collector logs it and exits 1, publishing nothing", () => {
  const r = collector(writeConfig(), ["--dry-run"], { SIDEKIQ_REDIS_URL: "rediss://:x@127.0.0.1:1/0" });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/mastodon-metrics: queues: .*(refused|Errno 111)/);
  expect(JSON.parse(r.stdout).metricData).toEqual([]);
});

test("a wrong password is refused by Redis and reported, not retried within the run", () => {
  const r = collector(writeConfig(), ["--dry-run"], { SIDEKIQ_REDIS_URL: url.replace(PASSWORD, "wrong") });
  expect(r.status).toBe(1);
  expect(r.stderr).toMatch(/queues: AUTH: (WRONGPASS|ERR)/);
});

// How long a run takes at each backlog is measured by `npm run bench` (scripts/collectorBench.ts).
test.each([10, 100_000])("at %d queued jobs a run sends the same Redis commands, none that scans", (jobs) => {
  enqueue({ default: jobs });
  tlsRedisCli("CONFIG", "RESETSTAT");
  const run = dryRun();
  const calls = commandCalls();
  expect(value(run.metricData, METRICS.queueSize.name, "default")).toBe(jobs);
  const queues = rendered.queues.length;
  // AUTH twice: the collector's, and redis-cli's own login for INFO.
  expect(calls).toEqual({ AUTH: 2, LLEN: queues, LINDEX: queues, ZCARD: 3 });
  expect(run.redis.commands).toBe(1 + 2 * queues + 3);
});

test("redis.onHost: each Redis's memory as a share of its maxmemory, as its own INFO memory gives it", async () => {
  // A Redis as small's host runs them: loopback, AUTH, a maxmemory (src/redis/onHostRedisUnits.ts).
  const port = await freePort();
  const cache = await startRedis(
    [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--requirepass",
      PASSWORD,
      "--maxmemory",
      "8mb",
      "--maxmemory-policy",
      "allkeys-lru",
      "--save",
      "",
      "--appendonly",
      "no",
    ],
    port,
    PASSWORD,
  );
  try {
    const cacheUrl = `redis://:${PASSWORD}@127.0.0.1:${port}/0`;
    const cli = (...args: string[]) => redisCli(port, PASSWORD, args);
    cli("DEBUG", "POPULATE", "20000", "key", "100");
    const config = writeConfig({
      queues: [],
      fleetQueues: {},
      redis: [{ role: "cache", env: "CACHE_REDIS_URL" }],
    });
    const r = collector(config, ["--dry-run"], { CACHE_REDIS_URL: cacheUrl });
    expect(r.stderr).not.toMatch(/Traceback|failed/);
    const data = (JSON.parse(r.stdout) as { metricData: Datum[] }).metricData;
    expect(data.map((d) => [d.MetricName, d.Dimensions, d.Unit])).toEqual([
      [
        METRICS.redisMemoryPercent.name,
        [
          { Name: "Stack", Value: "/mastodon/production" },
          { Name: "Role", Value: "cache" },
        ],
        "Percent",
      ],
    ]);
    const info = Object.fromEntries(
      cli("INFO", "memory")
        .split("\n")
        .filter((l) => l.includes(":"))
        .map((l) => l.trim().split(":") as [string, string]),
    );
    const expected = (100 * Number(info.used_memory)) / Number(info.maxmemory);
    // The same figure but for what changed between the two reads (the collector's own client buffers).
    expect(Math.abs(data[0]!.Value - expected)).toBeLessThan(2);
    expect(data[0]!.Value).toBeGreaterThan(10);
  } finally {
    await cache.stop();
  }
});
