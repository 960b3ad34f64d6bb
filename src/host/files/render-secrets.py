#!/usr/bin/env python3
"""Fill {{ssm:NAME}} placeholders in Mastodon's config templates from SSM Parameter Store.

A placeholder that is the whole value of a KEY=value line (.env.production) is written, quoted
unless alphanumeric, so that Ruby's dotenv gem (Rails) and Node's dotenv package (the streaming
server) both read the secret back byte for byte (dotenv_quote). A placeholder inside a larger value (a Redis URL, PgBouncer's
userlist) is filled only with an alphanumeric value, which needs no quoting anywhere. Any other
value stops the boot, naming the parameter, never printing its value, and nothing is written.

It reads exactly the parameters the templates name, by name: SSM GetParameters, at most 10 names a
call (AWS Systems Manager API Reference, GetParameters: "Maximum number of 10 items"), with
decryption. The instance role may read those names and no others (components/fleetRole.ts).

The SSM read is retried: right after launch the instance profile's credentials may not be usable
yet (IAM is eventually consistent), and SSM may throttle a fleet that launches at once. Attempts
are spaced by exponential backoff with jitter, bounded by the manifest's "retry" (core/host/boot.ts,
SSM_READ_RETRY: its attempts count every call, of every batch); each failure is logged to stderr
with the AWS CLI's error line, never a value. What a successful read reveals (a parameter missing:
GetParameters' InvalidParameters; a value that cannot be written) is a configuration error and
fails at once.
"""
import json, os, pwd, grp, random, re, subprocess, sys, tempfile, time

PLACEHOLDER = re.compile(r"\{\{ssm:([A-Za-z0-9_.\-/]+)\}\}")
WHOLE_VALUE = re.compile(r"([A-Za-z_][A-Za-z0-9_]*)=\{\{ssm:([A-Za-z0-9_.\-/]+)\}\}")
ALPHANUMERIC = re.compile(r"[A-Za-z0-9]+")


def dotenv_quote(value):
    """(value written after KEY=, None), or (None, why it cannot be). The rule of core/boot.ts's
    dotenvQuote, which explains it: alphanumeric as is; else single quotes when the value has no '
    and does not end in a backslash (both parsers then take it literally); else double quotes when
    it has none of " backslash $ (nothing left to unescape or substitute); never a line break."""
    if ALPHANUMERIC.fullmatch(value):
        return value, None
    if "\n" in value or "\r" in value:
        return None, "it contains a line break"
    if "'" not in value and not value.endswith("\\"):
        return "'" + value + "'", None
    if not any(c in value for c in "\"\\$"):
        return '"' + value + '"', None
    if "'" in value:
        return None, ("it contains a single quote (') and also a double quote (\"), "
                      "a backslash (\\) or a dollar sign ($)")
    return None, "it ends with a backslash (\\)"


def fill(text, values, target):
    """(filled text, problems, missing names). Problems name parameters, never their values."""
    problems, missing, lines = [], set(), []
    for line in text.split("\n"):
        whole = WHOLE_VALUE.fullmatch(line)
        if whole:
            key, name = whole.groups()
            if name not in values:
                missing.add(name)
                continue
            quoted, problem = dotenv_quote(values[name])
            if problem:
                problems.append("SSM parameter %s cannot be the value of %s in %s: %s"
                                % (name, key, target, problem))
                continue
            lines.append(key + "=" + quoted)
            continue

        def inner(m):
            name = m.group(1)
            if name not in values:
                missing.add(name)
                return ""
            if not ALPHANUMERIC.fullmatch(values[name]):
                problems.append("SSM parameter %s is filled inside a larger value in %s, where it must"
                                " be alphanumeric (A-Z, a-z, 0-9) and is not" % (name, target))
                return ""
            return values[name]

        lines.append(PLACEHOLDER.sub(inner, line))
    return "\n".join(lines), problems, missing


# The manifest's "retry" when it has none: the same numbers as SSM_READ_RETRY in core/host/boot.ts.
DEFAULT_RETRY = {"attempts": 8, "baseSeconds": 5, "maxDelaySeconds": 80, "callTimeoutSeconds": 30}


class ReadFailed(Exception):
    """The SSM read failed on every attempt."""


def backoff_delay(attempt, retry, rand=random.random):
    """Seconds to wait after failed attempt `attempt` (1-based): base x 2^(attempt-1), capped at
    maxDelaySeconds, of which a random half is jitter (so hosts launched together spread out)."""
    ceiling = min(retry["maxDelaySeconds"], retry["baseSeconds"] * 2 ** (attempt - 1))
    return ceiling / 2 + rand() * ceiling / 2


def last_line(text):
    lines = [line.strip() for line in (text or "").splitlines() if line.strip()]
    return lines[-1][:300] if lines else "no message"


# GetParameters takes at most 10 names a call (AWS Systems Manager API Reference, GetParameters).
BATCH = 10


class NotFound(Exception):
    """SSM answered that some names do not exist (GetParameters' InvalidParameters)."""


def read_ssm(manifest, names, retry, sleep=time.sleep):
    """{name: value} of exactly `names`, read by GetParameters in batches of BATCH. The CLI's stdout
    (which holds the values) is never logged; its stderr (an error code and message) is. Every call
    counts against retry["attempts"], so the whole read stays within SSM_READ_RETRY's bound."""
    attempts = int(retry["attempts"])
    attempt, values, invalid = 0, {}, []
    for start in range(0, len(names), BATCH):
        batch = names[start:start + BATCH]
        command = ["aws", "ssm", "get-parameters", "--region", manifest["region"], "--with-decryption",
                   "--output", "json", "--names", *batch]
        while True:
            attempt += 1
            try:
                out = subprocess.run(command, capture_output=True, encoding="utf-8",
                                     timeout=retry["callTimeoutSeconds"])
                if out.returncode == 0:
                    data = json.loads(out.stdout)
                    if isinstance(data, dict) and isinstance(data.get("Parameters"), list):
                        values.update({p["Name"]: p["Value"] for p in data["Parameters"]})
                        invalid += data.get("InvalidParameters") or []
                        break
                    why = "the answer has no Parameters list"
                else:
                    why = "exit %d: %s" % (out.returncode, last_line(out.stderr))
            except subprocess.TimeoutExpired:
                why = "no answer within %s s" % retry["callTimeoutSeconds"]
            except ValueError:
                why = "the answer is not JSON"
            if attempt >= attempts:
                sys.stderr.write("SSM read attempt %d of %d failed (%s); giving up\n" % (attempt, attempts, why))
                raise ReadFailed()
            delay = backoff_delay(attempt, retry)
            sys.stderr.write("SSM read attempt %d of %d failed (%s); retrying in %.1f s\n"
                             % (attempt, attempts, why, delay))
            sys.stderr.flush()
            sleep(delay)
    if invalid:
        raise NotFound(sorted(invalid))
    return values


def load_parameters(manifest, names, parameters_file):
    """{name: value} of `names`: from SSM, or (the tests) from a JSON file in GetParameters' shape."""
    if not names:
        return {}
    if not parameters_file:
        return read_ssm(manifest, names, {**DEFAULT_RETRY, **manifest.get("retry", {})})
    with open(parameters_file, encoding="utf-8") as f:
        known = {p["Name"]: p["Value"] for p in json.load(f)["Parameters"]}
    missing = [n for n in names if n not in known]
    if missing:
        raise NotFound(missing)
    return {n: known[n] for n in names}


def main(argv):
    manifest_path = argv[1]
    parameters_file = argv[3] if len(argv) > 3 and argv[2] == "--parameters" else None
    with open(manifest_path, encoding="utf-8") as f:
        manifest = json.load(f)
    templates = []
    for spec in manifest["files"]:
        with open(spec["template"], encoding="utf-8") as f:
            templates.append((spec, f.read()))
    names = sorted({name for _, text in templates for name in PLACEHOLDER.findall(text)})
    try:
        values = load_parameters(manifest, names, parameters_file)
    except ReadFailed:
        sys.stderr.write("could not read the %d SSM parameters of %s; nothing was written\n"
                         % (len(names), manifest["parameterPath"]))
        return 1
    except NotFound as e:
        sys.stderr.write("missing SSM parameters: %s\n" % ", ".join(e.args[0]))
        return 1
    rendered, problems, missing = [], [], set()
    for spec, template in templates:
        text, file_problems, file_missing = fill(template, values, spec["target"])
        problems += file_problems
        missing |= file_missing
        rendered.append((spec, text))
    if missing:
        sys.stderr.write("missing SSM parameters: %s\n" % ", ".join(sorted(missing)))
    for problem in problems:
        sys.stderr.write("%s\n" % problem)
    if missing or problems:
        return 1
    for spec, text in rendered:
        user, _, group = spec["owner"].partition(":")
        directory = os.path.dirname(spec["target"])
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=".render-")
        try:
            os.fchmod(fd, int(spec["mode"], 8))
            if os.geteuid() == 0:
                os.fchown(fd, pwd.getpwnam(user).pw_uid, grp.getgrnam(group or user).gr_gid)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, spec["target"])
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
