"""CloudWatch publishing for mastodon-metrics (its program, mastodon-metrics.py, calls publish): the
instance role's credentials from IMDSv2, PutMetricData's query body and its Signature Version 4, by
hand from Python's standard library. Installed beside its program (src/monitoring/metrics.ts,
METRICS_PATHS).
"""

import hashlib
import hmac
import json
import urllib.error
import urllib.parse
import urllib.request
from datetime import datetime, timezone

# Each network step is bounded, so a run ends well inside the timer's minute.
CONNECT_TIMEOUT_SECONDS = 5
PUBLISH_TIMEOUT_SECONDS = 30


def imds_credentials(imds):
    """The instance role's credentials through IMDSv2 (a session token first: the launch templates
    require it), as every AWS SDK gets them on EC2 (Amazon EC2 User Guide, "Retrieve security
    credentials from instance metadata")."""
    timeout = CONNECT_TIMEOUT_SECONDS
    token_request = urllib.request.Request(
        f"{imds}/latest/api/token", method="PUT", headers={"X-aws-ec2-metadata-token-ttl-seconds": "60"}
    )
    with urllib.request.urlopen(token_request, timeout=timeout) as answer:
        token = answer.read().decode()

    def get(path):
        request = urllib.request.Request(f"{imds}{path}", headers={"X-aws-ec2-metadata-token": token})
        with urllib.request.urlopen(request, timeout=timeout) as answer:
            return answer.read().decode()

    role = get("/latest/meta-data/iam/security-credentials/").splitlines()[0]
    return json.loads(get(f"/latest/meta-data/iam/security-credentials/{role}"))


def query_body(namespace, data):
    """PutMetricData in CloudWatch's query protocol (CloudWatch API Reference, PutMetricData): the
    members numbered from 1, form-encoded."""
    params = [("Action", "PutMetricData"), ("Version", "2010-08-01"), ("Namespace", namespace)]
    for n, d in enumerate(data, 1):
        member = f"MetricData.member.{n}"
        params.append((f"{member}.MetricName", d["MetricName"]))
        for m, dim in enumerate(d["Dimensions"], 1):
            params.append((f"{member}.Dimensions.member.{m}.Name", dim["Name"]))
            params.append((f"{member}.Dimensions.member.{m}.Value", dim["Value"]))
        params.append((f"{member}.Timestamp", d["Timestamp"]))
        params.append((f"{member}.Value", repr(d["Value"])))
        params.append((f"{member}.Unit", d["Unit"]))
    return urllib.parse.urlencode(params, quote_via=urllib.parse.quote).encode()


def sign(key, message):
    return hmac.new(key, message.encode(), hashlib.sha256).digest()


def signed_headers(credentials, region, host, body, now):
    """Signature Version 4 (AWS General Reference, "Create a signed AWS API request"): the
    canonical request, the string to sign, the key derived by date, region and service."""
    amz_date = now.strftime("%Y%m%dT%H%M%SZ")
    day = amz_date[:8]
    headers = {
        "content-type": "application/x-www-form-urlencoded; charset=utf-8",
        "host": host,
        "x-amz-date": amz_date,
    }
    if credentials.get("Token"):
        headers["x-amz-security-token"] = credentials["Token"]
    names = sorted(headers)
    canonical = "\n".join(
        [
            "POST",
            "/",
            "",
            "".join(f"{name}:{headers[name]}\n" for name in names),
            ";".join(names),
            hashlib.sha256(body).hexdigest(),
        ]
    )
    scope = f"{day}/{region}/monitoring/aws4_request"
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = sign(sign(sign(sign(f"AWS4{credentials['SecretAccessKey']}".encode(), day), region), "monitoring"), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (
        f"AWS4-HMAC-SHA256 Credential={credentials['AccessKeyId']}/{scope}, "
        f"SignedHeaders={';'.join(names)}, Signature={signature}"
    )
    return headers


def publish(config, data):
    """One signed PutMetricData request (up to 1,000 values: CloudWatch API Reference, PutMetricData),
    from Python's standard library: no AWS CLI process (about 65 MiB a run) on every host every minute."""
    region = config["region"]
    endpoint = config.get("endpoint") or f"https://monitoring.{region}.amazonaws.com"
    credentials = imds_credentials(config.get("imds") or "http://169.254.169.254")
    body = query_body(config["namespace"], data)
    host = urllib.parse.urlsplit(endpoint).netloc
    headers = signed_headers(credentials, region, host, body, datetime.now(timezone.utc))
    request = urllib.request.Request(f"{endpoint}/", data=body, method="POST", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=PUBLISH_TIMEOUT_SECONDS) as answer:
            answer.read()
    except urllib.error.HTTPError as e:
        raise RuntimeError(f"HTTP {e.code}: {e.read().decode(errors='replace')[:500]}") from e
