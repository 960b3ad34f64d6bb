#!/usr/bin/env python3
"""Stand-ins for the instance metadata service and the AWS endpoints a booting fleet host calls.

Run by the whole-host boot harness (test/boot/harness.ts) inside the boot's network namespace,
never anywhere else:

    aws-standin.py CONFIG.json

CONFIG (JSON) holds:
  record          file to append every request to, one JSON object a line, in the order served
  imds            {"address", "port", "instanceId", "region", "availabilityZone", "group", "role",
                   "lifecycleStateFile", "instanceIdFile"}: IMDSv2 on plain HTTP (a token from PUT
                   first; every GET without a valid token is refused with 401, as IMDSv2-only
                   instances do); the lifecycle state and the instance id are read from their files
                   at each request when given (the test changes them: a host told Terminated, the
                   next host booted against the same stand-ins)
  aws             {"address", "port", "cert", "key"}: every AWS endpoint over TLS, told apart by
                   the Host header as the real service names resolve here (the image's /etc/hosts)
  credentials     {"AccessKeyId", "SecretAccessKey", "Token"}: the role's credentials IMDS hands
                   out; every AWS request must be signed with them (Signature Version 4), or it is
                   refused as AWS refuses it
  parameters      SSM Parameter Store: {name: value}, each a SecureString at version 1
  search          {"host", "api", "masterUser", "passwordParameter"}: the search domain's security
                  REST API at its endpoint's name, over the same TLS: PUT of roles, internal users and
                  role mappings (201 created, 200 replaced; a mapping needs its role), as the master
                  user only (HTTP basic authentication against the parameter's value, else 401)
  objects         S3: {"bucket/key": file} (virtual-host or path style requests alike)
  rdsCaBundle     the file served as https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem
  fail            {"Service:Action": n}: answer the first n such requests with a 500 (InternalFailure)
  putValues       file to append each PutParameter's name and value to (the test's own view of what
                  the host stored; the record never holds values)
  volumes         EC2 EBS volumes: {volumeId: {"availabilityZone", "device", "byIdRoot",
                  "releaseAfter"}}: `device` is the block device that stands for the volume; once it
                  is attached to an instance, a node of it appears as byIdRoot/<instance id>/<the
                  NVMe name udev gives it> (the harness binds that directory at /dev/disk/by-id);
                  attached to an instance that is no longer the current one (a replaced host), it
                  still shows so for releaseAfter reads, then its termination detaches it
  lifecycle       {"events", "launchHook", "terminateHook"}: the group's lifecycle hooks, and the file
                  the harness appends what the group did to (an instance booted, its target state
                  changed); standin_lifecycle.py makes the actions pending from it, as AWS does

Services and operations: SSM GetParameters (1 to 10 names, else ValidationException; the names it
lacks in InvalidParameters), GetParameter, PutParameter (JSON protocol); the search domain's
security API; Auto Scaling CompleteLifecycleAction and
RecordLifecycleActionHeartbeat (accepted only while the instance has an action pending for that
hook, else AWS's ValidationError: standin_lifecycle.py), SetInstanceHealth (query protocol); CloudWatch PutMetricData
(query protocol); EC2 DescribeVolumes and AttachVolume (EC2's query protocol); S3 HeadObject and
GetObject. Anything else is recorded and answered 400.
Parameter values are never recorded, only names.
"""
import base64
import datetime
import hashlib
import hmac
import http.server
import json
import os
import re
import secrets
import socketserver
import ssl
import stat
import sys
import threading
import time
import urllib.parse
import uuid
from xml.sax.saxutils import escape

from standin_lifecycle import LifecycleActions

CONFIG = {}
LOCK = threading.Lock()
STATE = {"n": 0, "tokens": set(), "versions": {}, "failed": {}, "volumes": {}, "search": set()}
# The group's lifecycle actions (main() makes it from CONFIG["lifecycle"]).
LIFECYCLE = []


def record(entry):
    with LOCK:
        STATE["n"] += 1
        entry = {"n": STATE["n"], "t": round(time.time(), 3), **entry}
        with open(CONFIG["record"], "a", encoding="utf-8") as f:
            f.write(json.dumps(entry, sort_keys=True) + "\n")


def should_fail(service, action):
    key = f"{service}:{action}"
    with LOCK:
        wanted = CONFIG.get("fail", {}).get(key, 0)
        done = STATE["failed"].get(key, 0)
        if done < wanted:
            STATE["failed"][key] = done + 1
            return True
    return False


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "stand-in"

    def log_message(self, fmt, *args):
        pass

    def body(self):
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def answer(self, status, body=b"", content_type="text/plain", headers=None):
        if isinstance(body, str):
            body = body.encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("x-amzn-RequestId", str(uuid.uuid4()))
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)


class ImdsHandler(Handler):
    """IMDSv2 (Amazon EC2 User Guide, "Use the Instance Metadata Service"): PUT /latest/api/token
    with a TTL header gives a token; every other request needs it."""

    def do_PUT(self):
        self.body()
        if self.path != "/latest/api/token":
            record({"service": "imds", "method": "PUT", "path": self.path, "status": 404})
            return self.answer(404)
        if not self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
            record({"service": "imds", "method": "PUT", "path": self.path, "status": 400})
            return self.answer(400)
        token = secrets.token_urlsafe(32)
        with LOCK:
            STATE["tokens"].add(token)
        record({"service": "imds", "method": "PUT", "path": self.path, "status": 200})
        self.answer(200, token)

    def do_GET(self):
        imds = CONFIG["imds"]
        token = self.headers.get("X-aws-ec2-metadata-token")
        with LOCK:
            valid = token in STATE["tokens"]
        if not valid:
            record({"service": "imds", "method": "GET", "path": self.path, "status": 401})
            return self.answer(401)
        item = self.path[len("/latest/meta-data/"):] if self.path.startswith("/latest/meta-data/") else None
        role = imds["role"]
        values = {
            "instance-id": instance_id(),
            "placement/region": imds["region"],
            "placement/availability-zone": imds["availabilityZone"],
            "tags/instance/aws:autoscaling:groupName": imds["group"],
            "iam/security-credentials/": role,
            "iam/security-credentials": role,
            "local-ipv4": "10.0.1.23",
        }
        status, body, content_type = 404, "", "text/plain"
        if item == "autoscaling/target-lifecycle-state":
            status, body = 200, lifecycle_state()
        elif item == f"iam/security-credentials/{role}":
            c = CONFIG["credentials"]
            now = datetime.datetime.now(datetime.timezone.utc)
            body = json.dumps({
                "Code": "Success",
                "LastUpdated": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
                "Type": "AWS-HMAC",
                "AccessKeyId": c["AccessKeyId"],
                "SecretAccessKey": c["SecretAccessKey"],
                "Token": c["Token"],
                "Expiration": (now + datetime.timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            })
            status, content_type = 200, "application/json"
        elif item in values:
            status, body = 200, values[item]
        record({"service": "imds", "method": "GET", "path": self.path, "status": status})
        self.answer(status, body, content_type)


def instance_id():
    path = CONFIG["imds"].get("instanceIdFile")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip() or CONFIG["imds"]["instanceId"]
    except (OSError, TypeError):
        return CONFIG["imds"]["instanceId"]


def lifecycle_state():
    path = CONFIG["imds"].get("lifecycleStateFile")
    try:
        with open(path, encoding="utf-8") as f:
            return f.read().strip() or "InService"
    except (OSError, TypeError):
        return "InService"


# Signature Version 4 (AWS General Reference, "Create a signed AWS API request").
AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                  r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})")


def uri_encode(text, keep_slash):
    return urllib.parse.quote(text, safe="-_.~" + ("/" if keep_slash else ""))


def check_signature(handler, body, service_hint):
    """None when the request is signed with the role's credentials, else why not."""
    header = handler.headers.get("Authorization") or ""
    m = AUTH.fullmatch(header.strip())
    if not m:
        return "missing or malformed Authorization"
    key_id, day, region, service, signed, signature = m.groups()
    c = CONFIG["credentials"]
    if key_id != c["AccessKeyId"]:
        return f"unknown access key {key_id}"
    if handler.headers.get("X-Amz-Security-Token") != c["Token"]:
        return "missing or wrong session token"
    split = urllib.parse.urlsplit(handler.path)
    # S3 signs the path as sent (encoded once); every other service encodes it again.
    raw_path = split.path or "/"
    if service == "s3":
        canonical_uri = raw_path
    else:
        canonical_uri = "/".join(uri_encode(urllib.parse.unquote(p), False) for p in raw_path.split("/"))
    pairs = urllib.parse.parse_qsl(split.query, keep_blank_values=True)
    canonical_query = "&".join(
        f"{k}={v}" for k, v in sorted((uri_encode(k, False), uri_encode(v, False)) for k, v in pairs))
    names = signed.split(";")
    canonical_headers = "".join(
        "%s:%s\n" % (n, " ".join((handler.headers.get(n) or "").split())) for n in names)
    payload = handler.headers.get("X-Amz-Content-SHA256") or hashlib.sha256(body).hexdigest()
    canonical = "\n".join([handler.command, canonical_uri, canonical_query, canonical_headers, signed, payload])
    amz_date = handler.headers.get("X-Amz-Date") or ""
    scope = f"{day}/{region}/{service}/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])

    def sign(key, msg):
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    k = sign(sign(sign(sign(("AWS4" + c["SecretAccessKey"]).encode(), day), region), service), "aws4_request")
    expected = hmac.new(k, to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected, signature):
        return "signature does not match"
    if service_hint and service != service_hint:
        return f"signed for {service}, sent to {service_hint}"
    return None


def xml_response(namespace, action, result=True):
    """A query protocol operation's answer: <ActionResponse> with an empty <ActionResult>."""
    inner = f"<{action}Result></{action}Result>" if result else ""
    return (f"<{action}Response xmlns=\"{namespace}\">{inner}"
            f"<ResponseMetadata><RequestId>{uuid.uuid4()}</RequestId></ResponseMetadata></{action}Response>")


def query_error(status, code, message):
    return status, (f"<ErrorResponse><Error><Type>Sender</Type><Code>{escape(code)}</Code>"
                    f"<Message>{escape(message)}</Message></Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")


class AwsHandler(Handler):
    def service(self):
        host = (self.headers.get("Host") or "").split(":")[0].lower()
        region = CONFIG["imds"]["region"]
        if host == "truststore.pki.rds.amazonaws.com":
            return "rds-truststore", None
        if host == CONFIG.get("search", {}).get("host"):
            return "es", None
        m = re.fullmatch(r"(?:(.+)\.)?s3(?:[.-]" + re.escape(region) + r")?\.amazonaws\.com", host)
        if m:
            return "s3", m.group(1)
        m = re.fullmatch(r"([a-z0-9-]+)\." + re.escape(region) + r"\.amazonaws\.com", host)
        if m:
            return m.group(1), None
        return host, None

    def do_HEAD(self):
        self.handle_any()

    def do_GET(self):
        self.handle_any()

    def do_POST(self):
        self.handle_any()

    def do_PUT(self):
        self.handle_any()

    def handle_any(self):
        body = self.body()
        service, bucket = self.service()
        if service == "rds-truststore":
            ok = self.command == "GET" and self.path == "/global/global-bundle.pem"
            record({"service": "rds-truststore", "method": self.command, "path": self.path, "status": 200 if ok else 404})
            if not ok:
                return self.answer(404)
            with open(CONFIG["rdsCaBundle"], "rb") as f:
                return self.answer(200, f.read(), "application/x-pem-file")
        if service == "s3":
            return self.s3(bucket, body)
        if service == "es":
            return self.search(body)
        handlers = {"ssm": self.ssm, "autoscaling": self.autoscaling, "monitoring": self.monitoring,
                    "ec2": self.ec2}
        if service not in handlers:
            record({"service": service, "method": self.command, "path": self.path, "status": 400,
                    "error": "no stand-in for this endpoint"})
            return self.answer(400, "no stand-in for this endpoint")
        problem = check_signature(self, body, service)
        handlers[service](body, problem)

    # S3: objects by bucket and key (Amazon S3 API Reference, GetObject, HeadObject).
    def s3(self, bucket, body):
        path = urllib.parse.unquote(urllib.parse.urlsplit(self.path).path)
        if bucket is None:
            bucket, _, key = path.lstrip("/").partition("/")
        else:
            key = path.lstrip("/")
        action = {"GET": "GetObject", "HEAD": "HeadObject"}.get(self.command, self.command)
        entry = {"service": "s3", "action": action, "bucket": bucket, "key": key}
        # The SSM agent's package is public (no signature); the host-files bucket is private.
        problem = check_signature(self, body, "s3") if self.headers.get("Authorization") else "unsigned"
        entry["signed"] = problem is None
        file = CONFIG.get("objects", {}).get(f"{bucket}/{key}")
        public = key.endswith("amazon-ssm-agent.deb")
        if problem and not public:
            entry["status"] = 403
            entry["error"] = problem
            record(entry)
            return self.answer(403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>",
                               "application/xml")
        if action not in ("GetObject", "HeadObject") or file is None or not os.path.exists(file):
            entry["status"] = 404
            record(entry)
            return self.answer(404, f"<Error><Code>NoSuchKey</Code><Key>{escape(key)}</Key></Error>",
                               "application/xml")
        with open(file, "rb") as f:
            data = f.read()
        entry["status"] = 200
        record(entry)
        etag = '"%s"' % hashlib.md5(data).hexdigest()
        modified = datetime.datetime.fromtimestamp(os.path.getmtime(file), datetime.timezone.utc)
        self.answer(200, data, "binary/octet-stream", {
            "ETag": etag,
            "Last-Modified": modified.strftime("%a, %d %b %Y %H:%M:%S GMT"),
            "Accept-Ranges": "bytes",
        })

    # SSM (AWS Systems Manager API Reference): JSON protocol, the operation in X-Amz-Target.
    def ssm(self, body, problem):
        target = self.headers.get("X-Amz-Target") or ""
        action = target.rpartition(".")[2]
        try:
            request = json.loads(body or b"{}")
        except ValueError:
            request = {}
        entry = {"service": "ssm", "action": action}
        for field in ("Names", "Name", "WithDecryption", "Overwrite", "Type"):
            if field in request:
                entry[field] = request[field]

        def done(status, payload):
            entry["status"] = status
            record(entry)
            self.answer(status, json.dumps(payload), "application/x-amz-json-1.1")

        if problem:
            entry["error"] = problem
            return done(400, {"__type": "InvalidSignatureException", "message": problem})
        if should_fail("ssm", action):
            return done(500, {"__type": "InternalServerError", "message": "stand-in: injected failure"})
        params = CONFIG.get("parameters", {})

        def parameter(name):
            version = STATE["versions"].get(name, 1)
            return {"Name": name, "Type": "SecureString", "Value": params[name], "Version": version,
                    "LastModifiedDate": time.time(), "DataType": "text",
                    "ARN": f"arn:aws:ssm:{CONFIG['imds']['region']}:123456789012:parameter{name}"}

        if action == "GetParameters":
            # AWS Systems Manager API Reference, GetParameters: 1 to 10 names; names it does not have
            # come back in InvalidParameters, not as an error.
            names = request.get("Names") or []
            if not 1 <= len(names) <= 10:
                return done(400, {"__type": "ValidationException",
                                  "message": "Member must have length less than or equal to 10"})
            entry["invalid"] = [n for n in names if n not in params]
            return done(200, {"Parameters": [parameter(n) for n in names if n in params],
                              "InvalidParameters": entry["invalid"]})
        if action == "GetParameter":
            name = request.get("Name", "")
            if name not in params:
                return done(400, {"__type": "ParameterNotFound", "message": ""})
            return done(200, {"Parameter": parameter(name)})
        if action == "PutParameter":
            name = request.get("Name", "")
            with LOCK:
                exists = name in params
                if exists and not request.get("Overwrite"):
                    version = None
                else:
                    params[name] = request.get("Value", "")
                    version = STATE["versions"].get(name, 1 if exists else 0) + 1
                    STATE["versions"][name] = version
            if version is None:
                return done(400, {"__type": "ParameterAlreadyExists", "message": ""})
            if CONFIG.get("putValues"):
                with LOCK, open(CONFIG["putValues"], "a", encoding="utf-8") as f:
                    f.write(json.dumps({"Name": name, "Value": request.get("Value", ""), "Version": version}) + "\n")
            return done(200, {"Version": version, "Tier": "Standard"})
        return done(400, {"__type": "InvalidAction", "message": f"stand-in: no {action}"})

    def query(self, body):
        return dict(urllib.parse.parse_qsl(body.decode(), keep_blank_values=True))

    # The search domain's security REST API (OpenSearch Security plugin, "API"): what
    # mastodon-search-user calls. Neither the credentials nor a body is ever recorded.
    def search(self, body):
        conf = CONFIG["search"]
        entry = {"service": "es", "method": self.command, "path": self.path}
        header = self.headers.get("Authorization") or ""
        try:
            user, _, password = base64.b64decode(header[len("Basic "):]).decode().partition(":")
        except ValueError:
            user, password = "", ""
        entry["user"] = user
        m = re.fullmatch("/" + re.escape(conf["api"]) + r"/(roles|internalusers|rolesmapping)/([A-Za-z0-9_-]+)",
                         self.path)
        if not header.startswith("Basic ") or user != conf["masterUser"] \
                or password != CONFIG.get("parameters", {}).get(conf["passwordParameter"]):
            status, payload = 401, {"status": "UNAUTHORIZED"}
        elif self.command != "PUT" or not m:
            status, payload = 404, {"status": "NOT_FOUND"}
        else:
            try:
                json.loads(body)
                kind, name = m.groups()
                with LOCK:
                    if kind == "rolesmapping" and f"roles/{name}" not in STATE["search"]:
                        status, payload = 404, {"status": "NOT_FOUND", "message": f"The role {name} does not exist."}
                    else:
                        existed = f"{kind}/{name}" in STATE["search"]
                        STATE["search"].add(f"{kind}/{name}")
                        status, payload = (200, {"status": "OK"}) if existed else (201, {"status": "CREATED"})
            except ValueError:
                status, payload = 400, {"status": "BAD_REQUEST", "reason": "not JSON"}
        entry["status"] = status
        record(entry)
        self.answer(status, json.dumps(payload), "application/json")

    # Auto Scaling (Amazon EC2 Auto Scaling API Reference): query protocol, XML answers.
    def autoscaling(self, body, problem):
        params = self.query(body)
        action = params.get("Action", "")
        keep = ("LifecycleHookName", "AutoScalingGroupName", "InstanceId", "LifecycleActionResult",
                "HealthStatus", "ShouldRespectGracePeriod", "LifecycleActionToken")
        entry = {"service": "autoscaling", "action": action, **{k: params[k] for k in keep if k in params}}
        if problem:
            entry["error"] = problem
            status, text = query_error(403, "SignatureDoesNotMatch", problem)
        elif should_fail("autoscaling", action):
            status, text = query_error(500, "InternalFailure", "stand-in: injected failure")
        elif action in ("CompleteLifecycleAction", "RecordLifecycleActionHeartbeat"):
            code, detail = LIFECYCLE[0].answer(action, params)
            if code is None:
                entry["wait"] = detail
                status, text = 200, xml_response("http://autoscaling.amazonaws.com/doc/2011-01-01/", action)
            else:
                entry["error"] = code
                status, text = query_error(400, code, detail)
        elif action == "SetInstanceHealth":
            status, text = 200, xml_response("http://autoscaling.amazonaws.com/doc/2011-01-01/", action)
        else:
            status, text = query_error(400, "InvalidAction", f"stand-in: no {action}")
        entry["status"] = status
        record(entry)
        self.answer(status, text, "text/xml")

    # CloudWatch PutMetricData (CloudWatch API Reference): query protocol.
    def monitoring(self, body, problem):
        params = self.query(body)
        action = params.get("Action", "")
        metrics = sorted({v for k, v in params.items() if k.endswith(".MetricName")})
        entry = {"service": "monitoring", "action": action, "Namespace": params.get("Namespace"), "metrics": metrics}
        if problem:
            entry["error"] = problem
            status, text = query_error(403, "SignatureDoesNotMatch", problem)
        elif action == "PutMetricData":
            status, text = 200, xml_response("http://monitoring.amazonaws.com/doc/2010-08-01/", action, False)
        else:
            status, text = query_error(400, "InvalidAction", f"stand-in: no {action}")
        entry["status"] = status
        record(entry)
        self.answer(status, text, "text/xml")


    # EC2 (Amazon EC2 API Reference): its own query protocol; errors as <Response><Errors><Error>.
    def ec2(self, body, problem):
        params = self.query(body)
        action = params.get("Action", "")
        volume_id = params.get("VolumeId") or params.get("VolumeId.1", "")
        entry = {"service": "ec2", "action": action, "VolumeId": volume_id,
                 **{k: params[k] for k in ("InstanceId", "Device") if k in params}}
        namespace = "http://ec2.amazonaws.com/doc/2016-11-15/"

        def done(status, text):
            entry["status"] = status
            record(entry)
            self.answer(status, text, "text/xml")

        def error(status, code, message):
            entry["error"] = code
            done(status, f"<?xml version=\"1.0\" encoding=\"UTF-8\"?><Response><Errors><Error><Code>{escape(code)}</Code>"
                         f"<Message>{escape(message)}</Message></Error></Errors><RequestID>{uuid.uuid4()}</RequestID></Response>")

        if problem:
            return error(401, "AuthFailure", problem)
        if should_fail("ec2", action):
            return error(500, "InternalError", "stand-in: injected failure")
        config = CONFIG.get("volumes", {}).get(volume_id)
        if config is None:
            return error(400, "InvalidVolume.NotFound", f"The volume '{volume_id}' does not exist.")
        if action not in ("DescribeVolumes", "AttachVolume"):
            return error(400, "InvalidAction", f"stand-in: no {action}")
        # The answer is made under LOCK (the volume's state); it is recorded and sent after.
        with LOCK:
            answer = self.ec2_volume(action, params, volume_id, config, namespace, entry)
        if answer[0] == 200:
            return done(*answer)
        return error(*answer)

    def ec2_volume(self, action, params, volume_id, config, namespace, entry):
        """DescribeVolumes or AttachVolume of one volume, under LOCK: (status, body) or (status, code, message)."""
        state = volume_state(volume_id, config, count_read=action == "DescribeVolumes")
        if action == "DescribeVolumes":
            entry["answered"] = [state["instance"], state["attachment"]]
            text = describe_volume(namespace, volume_id, config, state)
            if state["attachment"] == "attaching":
                # Attached by the next read, and only then does the device show on the instance.
                state["attachment"] = "attached"
                show_device(volume_id, config, state["instance"])
            return 200, text
        instance = params.get("InstanceId", "")
        if instance != instance_id():
            return 400, "InvalidInstanceID.NotFound", f"The instance ID '{instance}' does not exist"
        if state["instance"] is not None:
            return 400, "VolumeInUse", f"{volume_id} is already attached to an instance"
        state.update(instance=instance, attachment="attaching", device=params.get("Device", ""))
        return 200, (f"<AttachVolumeResponse xmlns=\"{namespace}\"><requestId>{uuid.uuid4()}</requestId>"
                     f"<volumeId>{volume_id}</volumeId><instanceId>{instance}</instanceId>"
                     f"<device>{escape(state['device'])}</device><status>attaching</status>"
                     f"<attachTime>{now_iso()}</attachTime></AttachVolumeResponse>")


def now_iso():
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def nvme_name(volume_id):
    """The name udev gives an EBS volume on a Nitro instance (Amazon EBS User Guide, "Amazon EBS and NVMe")."""
    return "nvme-Amazon_Elastic_Block_Store_" + volume_id.replace("-", "", 1)


def show_device(volume_id, config, instance):
    """The volume's device node on `instance`: a block special file of the standing-in device."""
    directory = os.path.join(config["byIdRoot"], instance)
    os.makedirs(directory, exist_ok=True)
    node = os.path.join(directory, nvme_name(volume_id))
    if not os.path.exists(node):
        os.mknod(node, stat.S_IFBLK | 0o600, os.stat(config["device"]).st_rdev)


def volume_state(volume_id, config, count_read):
    """The volume's attachment (under LOCK). One held by an instance that is no longer the current one
    (its host was replaced) shows so for releaseAfter reads; then that instance's termination
    detaches it, and its device leaves that instance."""
    state = STATE["volumes"].setdefault(volume_id, {"instance": None, "attachment": None, "device": "", "reads": 0})
    if state["instance"] is not None and state["instance"] != instance_id():
        if state["reads"] >= int(config.get("releaseAfter", 2)):
            node = os.path.join(config["byIdRoot"], state["instance"], nvme_name(volume_id))
            if os.path.exists(node):
                os.remove(node)
            state.update(instance=None, attachment=None, device="", reads=0)
        elif count_read:
            state["reads"] += 1
    return state


def describe_volume(namespace, volume_id, config, state):
    attachment = ""
    if state["instance"] is not None:
        attachment = (f"<item><volumeId>{volume_id}</volumeId><instanceId>{state['instance']}</instanceId>"
                      f"<device>{escape(state['device'])}</device><status>{state['attachment']}</status>"
                      f"<attachTime>{now_iso()}</attachTime><deleteOnTermination>false</deleteOnTermination></item>")
    status = "available" if state["instance"] is None else "in-use"
    return (f"<DescribeVolumesResponse xmlns=\"{namespace}\"><requestId>{uuid.uuid4()}</requestId><volumeSet><item>"
            f"<volumeId>{volume_id}</volumeId><size>8</size><snapshotId/>"
            f"<availabilityZone>{config['availabilityZone']}</availabilityZone><status>{status}</status>"
            f"<createTime>{now_iso()}</createTime><attachmentSet>{attachment}</attachmentSet>"
            f"<volumeType>gp3</volumeType><encrypted>true</encrypted><multiAttachEnabled>false</multiAttachEnabled>"
            f"</item></volumeSet></DescribeVolumesResponse>")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main(argv):
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(argv[1], encoding="utf-8") as f:
        CONFIG.update(json.load(f))
    hooks = CONFIG["lifecycle"]
    LIFECYCLE.append(LifecycleActions(hooks["events"], CONFIG["imds"]["group"], hooks["launchHook"],
                                      hooks.get("terminateHook")))
    imds = Server((CONFIG["imds"]["address"], CONFIG["imds"]["port"]), ImdsHandler)
    aws = Server((CONFIG["aws"]["address"], CONFIG["aws"]["port"]), AwsHandler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(CONFIG["aws"]["cert"], CONFIG["aws"]["key"])
    # The handshake in each request's own thread, not in accept(): a slow client blocks no other.
    aws.socket = context.wrap_socket(aws.socket, server_side=True, do_handshake_on_connect=False)
    threading.Thread(target=imds.serve_forever, daemon=True).start()
    print("aws-standin: listening", flush=True)
    try:
        aws.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
