"""The collectors of mastodon-metrics (its program, mastodon-metrics.py, runs them): Sidekiq's
backlog from Redis, PgBouncer's waits, the on-host Redis servers' memory and the streaming server's
clients, as CloudWatch MetricDatum values (CloudWatch API Reference, MetricDatum) for
mastodon_metrics_cloudwatch to publish. Python's standard library only; installed beside its
program (src/monitoring/metrics.ts, METRICS_PATHS).
"""

import csv
import io
import json
import os
import socket
import ssl
import subprocess
import time
import urllib.parse
import urllib.request

# Each network step is bounded, so a run ends well inside the timer's minute.
CONNECT_TIMEOUT_SECONDS = 5
READ_TIMEOUT_SECONDS = 5
SETS = (("RetrySetSize", "retry"), ("DeadSetSize", "dead"), ("ScheduledSetSize", "schedule"))


class RedisError(Exception):
    pass


class Redis:
    """Just enough RESP2 for a pipeline of simple commands (Redis's documentation, "Redis serialization
    protocol specification"): AUTH, SELECT, LLEN, LINDEX and ZCARD."""

    def __init__(self, url):
        parsed = urllib.parse.urlsplit(url)
        if parsed.scheme not in ("redis", "rediss"):
            raise RedisError(f"SIDEKIQ_REDIS_URL has scheme {parsed.scheme!r}, not redis or rediss")
        self.host = parsed.hostname or "localhost"
        self.port = parsed.port or 6379
        self.tls = parsed.scheme == "rediss"
        self.user = urllib.parse.unquote(parsed.username) if parsed.username else None
        self.password = urllib.parse.unquote(parsed.password) if parsed.password else None
        path = parsed.path.lstrip("/")
        self.db = int(path) if path else 0
        self.commands = 0

    def pipeline(self, commands):
        """Sends every command at once and returns their replies in order (AUTH and SELECT first)."""
        setup = []
        if self.password is not None:
            setup.append(["AUTH", self.user, self.password] if self.user else ["AUTH", self.password])
        if self.db:
            setup.append(["SELECT", str(self.db)])
        everything = setup + commands
        sock = socket.create_connection((self.host, self.port), timeout=CONNECT_TIMEOUT_SECONDS)
        try:
            if self.tls:
                # The system's trust store and hostname check: ElastiCache's certificates are public.
                sock = ssl.create_default_context().wrap_socket(sock, server_hostname=self.host)
            sock.settimeout(READ_TIMEOUT_SECONDS)
            sock.sendall(b"".join(encode(c) for c in everything))
            reader = sock.makefile("rb")
            replies = [read_reply(reader) for _ in everything]
        finally:
            sock.close()
        self.commands += len(everything)
        for command, reply in zip(everything, replies):
            if isinstance(reply, RedisError):
                raise RedisError(f"{command[0]}: {reply}")
        return replies[len(setup):]


def encode(command):
    parts = [b"*%d\r\n" % len(command)]
    for arg in command:
        data = arg.encode()
        parts.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(parts)


def read_reply(reader):
    line = reader.readline()
    if not line.endswith(b"\r\n"):
        raise RedisError("connection closed mid-reply")
    kind, body = line[:1], line[1:-2]
    if kind == b"+":
        return body.decode()
    if kind == b"-":
        # Returned, not raised: the rest of the pipeline's replies must still be read.
        return RedisError(body.decode())
    if kind == b":":
        return int(body)
    if kind == b"$":
        length = int(body)
        if length < 0:
            return None
        data = reader.read(length + 2)
        return data[:-2]
    if kind == b"*":
        count = int(body)
        return None if count < 0 else [read_reply(reader) for _ in range(count)]
    raise RedisError(f"unexpected reply {line!r}")


def job_latency(entry, now):
    """Sidekiq's JobRecord#latency: enqueued_at (or created_at) as float seconds (Sidekiq up to 7)
    or integer milliseconds (Sidekiq 8, which Mastodon 4.6 runs); 0 for no timestamp or bad JSON."""
    try:
        job = json.loads(entry)
    except ValueError:
        return 0.0
    if not isinstance(job, dict):
        return 0.0
    stamp = job.get("enqueued_at") or job.get("created_at")
    if isinstance(stamp, float):
        return now - stamp
    if isinstance(stamp, int) and not isinstance(stamp, bool):
        return (now * 1000 - stamp) / 1000.0
    return 0.0


def collect_queues(config, stamp):
    url = os.environ.get("SIDEKIQ_REDIS_URL")
    if not url:
        raise RedisError("SIDEKIQ_REDIS_URL is not set (the unit's EnvironmentFile)")
    redis = Redis(url)
    queues = config["queues"]
    commands = []
    for queue in queues:
        commands.append(["LLEN", f"queue:{queue}"])
        # The tail of the list is the oldest job (Sidekiq pushes with LPUSH, fetches with BRPOP).
        commands.append(["LINDEX", f"queue:{queue}", "-1"])
    commands.extend(["ZCARD", key] for _, key in SETS)
    started = time.monotonic()
    replies = redis.pipeline(commands)
    now = time.time()
    elapsed_ms = (time.monotonic() - started) * 1000
    data = []
    latency = {}
    for n, queue in enumerate(queues):
        size, oldest = replies[2 * n], replies[2 * n + 1]
        latency[queue] = job_latency(oldest, now) if oldest is not None else 0.0
        dims = [{"Name": "Queue", "Value": queue}]
        data.append(datum("QueueSize", size, "Count", dims, stamp))
        data.append(datum("QueueLatency", latency[queue], "Seconds", dims, stamp))
    for n, (metric, _) in enumerate(SETS):
        data.append(datum(metric, replies[2 * len(queues) + n], "Count", [], stamp))
    for fleet, fleet_queues in sorted(config.get("fleetQueues", {}).items()):
        worst = max(latency.get(q, 0.0) for q in fleet_queues)
        data.append(datum("FleetQueueLatency", worst, "Seconds", [{"Name": "Fleet", "Value": fleet}], stamp))
    return data, {"commands": redis.commands, "milliseconds": round(elapsed_ms, 3), "now": now}


def collect_pgbouncer(config, stamp):
    pgbouncer = config["pgbouncer"]
    result = subprocess.run(
        [
            config.get("psql", "/usr/bin/psql"),
            "--no-psqlrc",
            "--csv",
            "--host",
            pgbouncer["socketDir"],
            "--port",
            str(pgbouncer["port"]),
            "--username",
            "pgbouncer",
            "--dbname",
            "pgbouncer",
            "--command",
            "SHOW POOLS",
        ],
        capture_output=True,
        text=True,
        timeout=READ_TIMEOUT_SECONDS * 2,
        env={**os.environ, "PGCONNECT_TIMEOUT": str(CONNECT_TIMEOUT_SECONDS)},
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"SHOW POOLS: {result.stderr.strip()}")
    pools = list(csv.DictReader(io.StringIO(result.stdout)))
    waiting = sum(int(p["cl_waiting"]) for p in pools)
    max_wait = max((int(p["maxwait"]) + int(p.get("maxwait_us") or 0) / 1e6 for p in pools), default=0.0)
    dims = [{"Name": "Fleet", "Value": config["fleet"]}]
    return [
        datum("PgBouncerClientsWaiting", waiting, "Count", dims, stamp),
        datum("PgBouncerMaxWait", max_wait, "Seconds", dims, stamp),
    ]


def connected_clients(text):
    """The sum of connected_clients over its types, from Prometheus's text format."""
    total = 0.0
    for line in text.splitlines():
        if line.startswith("connected_clients{") or line.startswith("connected_clients "):
            total += float(line.rsplit(" ", 1)[1])
    return total


def collect_redis(config, stamp):
    """Each Redis on this host (redis.onHost): used memory as a share of its maxmemory, from INFO
    memory, the figure ElastiCache publishes as DatabaseMemoryUsagePercentage."""
    data = []
    for server in config["redis"]:
        url = os.environ.get(server["env"])
        if not url:
            raise RedisError(f"{server['env']} is not set (the unit's EnvironmentFile)")
        info = Redis(url).pipeline([["INFO", "memory"]])[0].decode()
        fields = dict(line.split(":", 1) for line in info.splitlines() if ":" in line)
        maxmemory = int(fields["maxmemory"])
        if maxmemory == 0:
            raise RedisError(f"{server['role']}: maxmemory is not set")
        percent = 100.0 * int(fields["used_memory"]) / maxmemory
        data.append(datum("RedisMemoryPercent", percent, "Percent", [{"Name": "Role", "Value": server["role"]}], stamp))
    return data


def collect_streaming(config, stamp):
    total = 0.0
    for port in config["streamingPorts"]:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=READ_TIMEOUT_SECONDS) as answer:
            total += connected_clients(answer.read().decode())
    return [datum("StreamingConnections", total, "Count", [{"Name": "Fleet", "Value": config["fleet"]}], stamp)]


def datum(name, value, unit, dimensions, stamp):
    return {
        "MetricName": name,
        "Dimensions": dimensions,
        "Timestamp": stamp,
        "Value": float(value),
        "Unit": unit,
    }
