#!/usr/bin/python3
"""Publishes Sidekiq's backlog, PgBouncer's waits and streaming's clients to CloudWatch, each minute.

  mastodon-metrics.py CONFIG [--dry-run]

CONFIG is rendered per fleet by core/host/metrics.ts, which says who publishes what and why. A
collector that fails is logged, the others still publish, and the run exits 1; the timer retries.
"""

import json
import subprocess
import sys
from datetime import datetime, timezone

# Its modules are beside it (Python puts a program's own directory first on sys.path): nothing is
# written there, no __pycache__ in src/monitoring/files nor on the host, where the checksums cover
# exactly the files fetched (src/fleet/host/hostFiles.ts).
sys.dont_write_bytecode = True

from mastodon_metrics_cloudwatch import publish
from mastodon_metrics_sources import (
    RedisError,
    collect_pgbouncer,
    collect_queues,
    collect_redis,
    collect_streaming,
)


def log(message):
    print(f"mastodon-metrics: {message}", file=sys.stderr, flush=True)


def main(argv):
    if len(argv) not in (2, 3) or (len(argv) == 3 and argv[2] != "--dry-run"):
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        config = json.load(f)
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    data, failed, redis = [], [], None
    collectors = []
    if config.get("queues"):
        collectors.append(("queues", collect_queues))
    if config.get("pgbouncer"):
        collectors.append(("pgbouncer", collect_pgbouncer))
    if config.get("streamingPorts"):
        collectors.append(("streaming", collect_streaming))
    if config.get("redis"):
        collectors.append(("redis", collect_redis))
    for what, collect in collectors:
        try:
            if what == "queues":
                part, redis = collect(config, stamp)
            else:
                part = collect(config, stamp)
            data.extend(part)
        except (OSError, RedisError, RuntimeError, ValueError, KeyError, subprocess.SubprocessError) as e:
            log(f"{what}: {e}")
            failed.append(what)
    # Every value carries the stack first: two stacks in one account never mix their figures.
    for d in data:
        d["Dimensions"] = [{"Name": "Stack", "Value": config["stack"]}] + d["Dimensions"]
    if argv[2:] == ["--dry-run"]:
        print(json.dumps({"namespace": config["namespace"], "metricData": data, "redis": redis}, indent=2))
    elif data:
        try:
            publish(config, data)
        except (OSError, RuntimeError, ValueError, KeyError, IndexError) as e:
            log(f"PutMetricData: {e}")
            return 1
    if redis:
        log(f"queues: {redis['commands']} Redis commands in {redis['milliseconds']} ms")
    log(f"{len(data)} values" + (f"; failed: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
