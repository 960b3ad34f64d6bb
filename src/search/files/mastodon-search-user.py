#!/usr/bin/env python3
"""mastodon-search-user CONFIG: Mastodon's own OpenSearch user, made by the domain's master user.

Run by `mastodon-database prepare` on the scheduler's host, before the search indices are deployed
(core/host/searchUser.ts says why and what). CONFIG is that host's database.conf: one "key value"
a line; this program reads
  region R                          the instance's region (SSM)
  search_url URL                    https:// and the domain's endpoint
  search_api PATH                   the security plugin's REST API (_plugins/... or _opendistro/...)
  search_master_user U              the domain's master user
  search_master_password_parameter  SSM SecureString: the master's password
  search_app_user U                 the user Mastodon connects as (ES_USER)
  search_app_password_parameter     SSM SecureString: its password (ES_PASS)
  search_role R, search_role_file F the role and its document (JSON, no secret)
  search_seconds S                  the run's bound (the boot step's share, core/host/database.ts)
and leaves the other keys to mastodon-database.

As the master user (HTTP basic authentication, over HTTPS verified against the system's CAs), in
this order (Amazon OpenSearch Service Developer Guide, "Fine-grained access control", REST API):
  PUT <api>/roles/<role>            the role file as written
  PUT <api>/internalusers/<user>    the user with its password
  PUT <api>/rolesmapping/<role>     the role mapped to that user alone
Each creates or replaces (200 or 201): a second run leaves the domain as the first did.

The passwords come from `aws ssm get-parameter --with-decryption` (the CLI's output is read, never
logged) and go only into the Authorization header and the user's request body: never onto a
command line, into a file or into the journal. A failed SSM read, a connection that fails or an
answer of 429 or 5xx is tried again (2, 4, 8, 16 s apart, each call bounded at 30 s) while the run
is within search_seconds; any other answer fails the run at once, its message with both passwords
masked.
"""
import base64
import json
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request

CALL_SECONDS = 30
PAUSE_CEILING_SECONDS = 16
KEYS = ("region", "search_url", "search_api", "search_master_user", "search_master_password_parameter",
        "search_app_user", "search_app_password_parameter", "search_role", "search_role_file",
        "search_seconds")


def log(message):
    sys.stderr.write("mastodon-search-user: %s\n" % message)
    sys.stderr.flush()


class Failed(Exception):
    """The run cannot go on; the message is safe to log."""


def read_config(path):
    conf = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, value = line.strip().partition(" ")
            if key and not key.startswith("#"):
                conf[key] = value.strip()
    missing = [k for k in KEYS if not conf.get(k)]
    if missing:
        raise Failed("%s: %s required" % (path, ", ".join(missing)))
    if not conf["search_seconds"].isdigit():
        raise Failed("%s: search_seconds must be a number" % path)
    return conf


class Deadline:
    """The run's bound: each call gets at most CALL_SECONDS of what is left."""

    def __init__(self, seconds, clock=time.monotonic):
        self.clock = clock
        self.end = clock() + seconds

    def left(self):
        return self.end - self.clock()

    def call_seconds(self):
        return max(1, min(CALL_SECONDS, int(self.left())))


def retried(what, call, deadline, sleep=time.sleep):
    """call() until it returns; it raises Retry for what may pass (2, 4, 8, 16, 16 ... s apart), as
    long as a pause and another call fit within the deadline."""
    pause, attempt = 2, 0
    while True:
        attempt += 1
        try:
            return call()
        except Retry as e:
            if deadline.left() < pause + 1:
                raise Failed("%s failed %d times, the last: %s" % (what, attempt, e))
            log("%s failed (%s; attempt %d); again in %d s" % (what, e, attempt, pause))
            sleep(pause)
            pause = min(pause * 2, PAUSE_CEILING_SECONDS)


class Retry(Exception):
    """A failure worth another attempt; the message is safe to log."""


def parameter(region, name, deadline):
    def call():
        seconds = deadline.call_seconds()
        try:
            out = subprocess.run(["aws", "ssm", "get-parameter", "--region", region, "--with-decryption",
                                  "--name", name, "--query", "Parameter.Value", "--output", "text"],
                                 capture_output=True, encoding="utf-8", timeout=seconds)
        except subprocess.TimeoutExpired:
            raise Retry("no answer within %d s" % seconds)
        if out.returncode != 0:
            lines = [x for x in out.stderr.splitlines() if x.strip()]
            raise Retry("exit %d: %s" % (out.returncode, lines[-1][:300] if lines else "no message"))
        return out.stdout.rstrip("\n")

    value = retried("aws ssm get-parameter %s" % name, call, deadline)
    if not value or "\n" in value:
        raise Failed("SSM parameter %s holds no password" % name)
    return value


def main(argv):
    if len(argv) != 2:
        log("usage: mastodon-search-user CONFIG")
        return 2
    try:
        conf = read_config(argv[1])
    except (OSError, Failed) as e:
        log(str(e))
        return 2
    deadline = Deadline(int(conf["search_seconds"]))
    secrets = []

    def masked(text):
        for secret in secrets:
            text = text.replace(secret, "[password]")
        return text

    try:
        with open(conf["search_role_file"], encoding="utf-8") as f:
            role = json.load(f)
        master = parameter(conf["region"], conf["search_master_password_parameter"], deadline)
        secrets.append(master)
        app = parameter(conf["region"], conf["search_app_password_parameter"], deadline)
        secrets.append(app)
        credentials = base64.b64encode(("%s:%s" % (conf["search_master_user"], master)).encode()).decode()
        # No proxy from the environment: the domain is inside the VPC (as Mastodon's own client does).
        opener = urllib.request.build_opener(urllib.request.ProxyHandler({}),
                                             urllib.request.HTTPSHandler(context=ssl.create_default_context()))
        api = "%s/%s" % (conf["search_url"].rstrip("/"), conf["search_api"].strip("/"))

        def put(resource, name, document):
            request = urllib.request.Request(
                "%s/%s/%s" % (api, resource, name), data=json.dumps(document).encode(), method="PUT",
                headers={"Authorization": "Basic " + credentials, "Content-Type": "application/json"})

            def call():
                try:
                    with opener.open(request, timeout=deadline.call_seconds()) as answer:
                        return answer.status
                except urllib.error.HTTPError as e:
                    body = masked(e.read(300).decode("utf-8", "replace").strip())
                    if e.code == 429 or e.code >= 500:
                        raise Retry("HTTP %d: %s" % (e.code, body))
                    raise Failed("PUT %s/%s: HTTP %d: %s" % (resource, name, e.code, body))
                except (urllib.error.URLError, OSError) as e:
                    raise Retry(masked(str(getattr(e, "reason", e))))

            status = retried("PUT %s/%s" % (resource, name), call, deadline)
            if status not in (200, 201):
                raise Failed("PUT %s/%s: HTTP %d" % (resource, name, status))
            log("%s %s %s" % (resource, name, "created" if status == 201 else "updated"))

        put("roles", conf["search_role"], role)
        put("internalusers", conf["search_app_user"], {"password": app, "backend_roles": [], "attributes": {}})
        put("rolesmapping", conf["search_role"], {"users": [conf["search_app_user"]], "backend_roles": [], "hosts": []})
    except (OSError, ValueError, Failed) as e:
        log(masked(str(e)))
        return 1
    log("the search user %s is set up" % conf["search_app_user"])
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
