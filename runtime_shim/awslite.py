"""One small AWS client on the standard library: SigV4 signing, the container credential chain,
endpoints, and HTTP with botocore-style retries. s3lite (S3), batchlite (AWS Batch) and secrets
(Secrets Manager) are built on it; a container needs no boto3 for anything flowc emits.

Credentials, in botocore's order for what a container has (`credentials()`):
1. environment: AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY [/ AWS_SESSION_TOKEN];
2. web identity (IRSA): AWS_ROLE_ARN + AWS_WEB_IDENTITY_TOKEN_FILE, exchanged with STS
   AssumeRoleWithWebIdentity (an unsigned query call);
   -- here botocore reads profiles, ~/.aws files and credential processes: when one is configured
   (AWS_PROFILE, or a shared file that holds credentials or a role), `NeedBoto3` is raised and the
   caller uses boto3 if installed, else says so --
3. container credentials (ECS, EKS Pod Identity): AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (on
   169.254.170.2) or _FULL_URI, with AWS_CONTAINER_AUTHORIZATION_TOKEN[_FILE] as Authorization;
4. IMDSv2 instance profile: PUT /latest/api/token, then /latest/meta-data/iam/security-credentials/
   and the role's document (AWS_EC2_METADATA_SERVICE_ENDPOINT, AWS_EC2_METADATA_DISABLED,
   AWS_METADATA_SERVICE_TIMEOUT, AWS_METADATA_SERVICE_NUM_ATTEMPTS, as botocore).
Temporary credentials are refreshed REFRESH_MARGIN seconds before they expire.

Endpoints: AWS_ENDPOINT_URL_<SERVICE> (S3, BATCH, STS, SECRETS_MANAGER), then AWS_ENDPOINT_URL,
then the service's public https endpoint in the region (AWS_REGION or AWS_DEFAULT_REGION).
"""
from __future__ import annotations

import datetime
import hashlib
import hmac
import http.client
import json
import os
import random
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

REFRESH_MARGIN = 300          # seconds before expiry at which temporary credentials are renewed
MAX_ATTEMPTS = 10
RETRY_CODES = {"Throttling", "ThrottlingException", "SlowDown", "RequestTimeout", "InternalError",
               "ServiceUnavailable", "RequestLimitExceeded", "RequestTimeTooSkewed",
               "TooManyRequestsException", "ProvisionedThroughputExceededException"}
_ENDPOINT_ENV = {"s3": "S3", "batch": "BATCH", "sts": "STS", "secretsmanager": "SECRETS_MANAGER"}
_STS_NS = "{https://sts.amazonaws.com/doc/2011-06-15/}"


class AWSError(Exception):
    """Shaped like botocore's ClientError where callers look: .response["Error"]["Code"]."""

    def __init__(self, status, code, message, what=""):
        super().__init__("%s %s: %s%s" % (status, code, message, (" (%s)" % what) if what else ""))
        self.status = status
        self.response = {"Error": {"Code": code or str(status), "Message": message},
                         "ResponseMetadata": {"HTTPStatusCode": status}}


class NeedBoto3(Exception):
    """A credential source only boto3 understands (profiles, shared files, processes) is configured."""


class NoCredentials(Exception):
    pass


# -- credentials ------------------------------------------------------------------------------


class Credentials:
    def __init__(self, key, secret, token=None, expires=None, refresh=None, source="env"):
        self.key, self.secret, self.token, self.expires = key, secret, token, expires
        self._refresh, self.source = refresh, source

    def current(self):
        if self._refresh and self.expires is not None and time.time() > self.expires - REFRESH_MARGIN:
            fresh = self._refresh()
            self.key, self.secret, self.token, self.expires = fresh.key, fresh.secret, fresh.token, fresh.expires
        return self


def _expiry(text):
    if not text:
        return None
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _http(method, url, headers=None, body=None, timeout=5.0, attempts=3):
    """A credential-source request; connection errors and 5xx retried (botocore: 3 attempts)."""
    for attempt in range(attempts):
        request = urllib.request.Request(url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.read()
        except urllib.error.HTTPError as error:
            if error.code < 500 or attempt + 1 == attempts:
                raise
        except OSError:
            if attempt + 1 == attempts:
                raise
        time.sleep(0.1 * (attempt + 1))


def _web_identity():
    role, token_file = os.environ.get("AWS_ROLE_ARN"), os.environ.get("AWS_WEB_IDENTITY_TOKEN_FILE")
    if not (role and token_file):
        return None
    with open(token_file) as handle:
        token = handle.read().strip()
    session = os.environ.get("AWS_ROLE_SESSION_NAME") or "flowc-%d" % int(time.time())
    form = urllib.parse.urlencode({"Action": "AssumeRoleWithWebIdentity", "Version": "2011-06-15",
                                   "RoleArn": role, "RoleSessionName": session, "WebIdentityToken": token})
    url = endpoint("sts", region() or "us-east-1")[0] + "/"
    try:
        data = _http("POST", url, {"Content-Type": "application/x-www-form-urlencoded"}, form.encode())
    except urllib.error.HTTPError as error:
        raise NoCredentials("STS AssumeRoleWithWebIdentity for %s: HTTP %s %s"
                            % (role, error.code, error.read()[:300].decode("utf-8", "replace"))) from None
    creds = ET.fromstring(data).find(".//%sCredentials" % _STS_NS)
    if creds is None:
        raise NoCredentials("STS AssumeRoleWithWebIdentity for %s returned no credentials" % role)
    text = lambda name: creds.findtext(_STS_NS + name)  # noqa: E731
    return Credentials(text("AccessKeyId"), text("SecretAccessKey"), text("SessionToken"),
                       _expiry(text("Expiration")), _web_identity, "web-identity")


def _container():
    full = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    relative = os.environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    if not (full or relative):
        return None
    url = "http://169.254.170.2" + relative if relative else full
    headers = {}
    token = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    token_file = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if token_file:
        with open(token_file) as handle:
            token = handle.read().strip()
    if token:
        headers["Authorization"] = token
    data = json.loads(_http("GET", url, headers))
    return Credentials(data["AccessKeyId"], data["SecretAccessKey"], data.get("Token"),
                       _expiry(data.get("Expiration")), _container, "container")


def _imds():
    if os.environ.get("AWS_EC2_METADATA_DISABLED", "").lower() == "true":
        return None
    base = (os.environ.get("AWS_EC2_METADATA_SERVICE_ENDPOINT") or "http://169.254.169.254").rstrip("/")
    # botocore's knobs and defaults: 1 s, 1 attempt (off EC2 this is the slow end of the chain)
    limits = {"timeout": float(os.environ.get("AWS_METADATA_SERVICE_TIMEOUT") or 1),
              "attempts": int(os.environ.get("AWS_METADATA_SERVICE_NUM_ATTEMPTS") or 1)}
    try:
        token = _http("PUT", base + "/latest/api/token",
                      {"X-aws-ec2-metadata-token-ttl-seconds": "21600"}, b"", **limits).decode()
        auth = {"X-aws-ec2-metadata-token": token}
        roles = _http("GET", base + "/latest/meta-data/iam/security-credentials/", auth, **limits)
    except OSError:  # no instance metadata service here (or no role attached)
        return None
    role = roles.decode().split()[0] if roles.split() else None
    if not role:
        return None
    data = json.loads(_http("GET", base + "/latest/meta-data/iam/security-credentials/" + role, auth, **limits))
    return Credentials(data["AccessKeyId"], data["SecretAccessKey"], data.get("Token"),
                       _expiry(data.get("Expiration")), _imds, "imds")


def _boto3_configured():
    """True when a profile or shared file configures credentials botocore would use before ours."""
    if os.environ.get("AWS_PROFILE") or os.environ.get("AWS_DEFAULT_PROFILE"):
        return True
    home = os.path.expanduser("~")
    for path in (os.environ.get("AWS_SHARED_CREDENTIALS_FILE") or os.path.join(home, ".aws", "credentials"),
                 os.environ.get("AWS_CONFIG_FILE") or os.path.join(home, ".aws", "config")):
        try:
            with open(path) as handle:
                text = handle.read()
        except OSError:
            continue
        if any(word in text for word in ("aws_access_key_id", "role_arn", "credential_process",
                                         "sso_", "credential_source", "web_identity_token_file")):
            return True
    return False


def credentials():
    """The first credentials in the chain (module docstring); NeedBoto3 or NoCredentials otherwise."""
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
    found = _web_identity()
    if found is None and _boto3_configured():
        raise NeedBoto3("an AWS profile or shared credentials file is configured")
    found = found or _container() or _imds()
    if found is None:
        raise NoCredentials("no AWS credentials: tried environment, web identity (AWS_ROLE_ARN + "
                            "AWS_WEB_IDENTITY_TOKEN_FILE), container credentials and instance metadata; "
                            "set AWS_PROFILE (or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY), or give "
                            "the task a role")
    return found


def region():
    return os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")


def endpoint(service, region_name):
    """(base URL without trailing slash, True when it is an override)."""
    url = os.environ.get("AWS_ENDPOINT_URL_" + _ENDPOINT_ENV.get(service, service.upper())) \
        or os.environ.get("AWS_ENDPOINT_URL")
    if url:
        return url.rstrip("/"), True
    return "https://%s.%s.amazonaws.com" % (service, region_name), False


# -- SigV4 ------------------------------------------------------------------------------------


def _hmac(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


def quote_query(query):
    """The canonical (and sent) query string: keys and values RFC 3986-encoded, sorted."""
    return "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                    for k, v in sorted(query.items()))


def sign(method, host, path, query, headers, payload_hash, service, region_name, creds, now=None):
    """`headers` (lower-case names) plus host, x-amz-date, x-amz-security-token and authorization.

    `path` is the path exactly as sent. S3 signs it as is; the other services sign it URI-encoded
    once more, as botocore's SigV4Auth does."""
    creds = creds.current()
    now = now or datetime.datetime.now(datetime.timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    headers = dict(headers, host=host, **{"x-amz-date": amz_date})
    if creds.token:
        headers["x-amz-security-token"] = creds.token
    names = sorted(headers)
    canonical_path = path if service == "s3" else urllib.parse.quote(path, safe="/~")
    canonical = "\n".join([method, canonical_path, quote_query(query),
                           "".join("%s:%s\n" % (n, " ".join(str(headers[n]).split())) for n in names),
                           ";".join(names), payload_hash])
    scope = "%s/%s/%s/aws4_request" % (day, region_name, service)
    to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    key = _hmac(_hmac(_hmac(_hmac(("AWS4" + creds.secret).encode(), day), region_name), service), "aws4_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
        creds.key, scope, ";".join(names), signature)
    return headers


# -- HTTP -------------------------------------------------------------------------------------


class Client:
    """Signed requests to one service, connections kept per host, retried like botocore's standard mode."""

    def __init__(self, service, region_name, creds, endpoint_url=None):
        self.service, self.region, self.credentials = service, region_name, creds
        self.endpoint = (endpoint_url or endpoint(service, region_name)[0]).rstrip("/")
        self._conns = {}

    def _connection(self, scheme, netloc):
        conn = self._conns.get((scheme, netloc))
        if conn is None:
            cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = self._conns[(scheme, netloc)] = cls(netloc, timeout=60)
        return conn

    def request(self, method, scheme, netloc, path, query=None, headers=None, body=b"",
                error=None, ok=lambda status, code: False):
        """(status, headers, body bytearray). `error(status, data) -> (code, message)`; `ok` says
        which error answers are results (e.g. 404 on HEAD) rather than failures."""
        query = query or {}
        payload = hashlib.sha256(body).hexdigest()
        base = dict(headers or {})
        if self.service == "s3":
            base["x-amz-content-sha256"] = payload
        url = path + ("?" + quote_query(query) if query else "")
        for attempt in range(MAX_ATTEMPTS):
            signed = sign(method, netloc, path, query, base, payload, self.service, self.region, self.credentials)
            try:
                conn = self._connection(scheme, netloc)
                conn.request(method, url, body=body if body or method in ("PUT", "POST") else None,
                             headers=signed)
                response = conn.getresponse()
                data = bytearray(response.read())   # also for HEAD: frees the connection for reuse
                status = response.status
            except (OSError, http.client.HTTPException):
                self._conns.pop((scheme, netloc), None)
                if attempt + 1 == MAX_ATTEMPTS:
                    raise
                backoff(attempt)
                continue
            if status < 300:
                return status, dict(response.getheaders()), data
            code, message = (error or _json_error)(status, data, response)
            if ok(status, code):
                return status, dict(response.getheaders()), data
            if (status >= 500 or status == 429 or code in RETRY_CODES) and attempt + 1 < MAX_ATTEMPTS:
                backoff(attempt)
                continue
            raise AWSError(status, code, message, "%s %s" % (method, path))
        raise AWSError(0, "RetriesExhausted", "no answer")  # pragma: no cover

    def call_json(self, path, payload, target=None):
        """A JSON call: REST-JSON (`path`, e.g. /v1/submitjob) or JSON 1.1 (path "/", `target`)."""
        scheme, netloc, base = _split(self.endpoint)
        headers = {"content-type": "application/x-amz-json-1.1" if target else "application/json"}
        if target:
            headers["x-amz-target"] = target
        body = json.dumps(payload).encode("utf-8")
        _, _, data = self.request("POST", scheme, netloc, base + path, headers=headers, body=body)
        return json.loads(bytes(data) or b"{}")


def _split(url):
    parts = urllib.parse.urlsplit(url)
    return parts.scheme, parts.netloc, parts.path.rstrip("/")


def _json_error(status, data, response=None):
    code = (response.getheader("x-amzn-ErrorType") or "") if response is not None else ""
    message = ""
    try:
        doc = json.loads(bytes(data) or b"{}")
        code = code or doc.get("__type") or doc.get("code") or ""
        message = doc.get("message") or doc.get("Message") or ""
    except ValueError:
        message = bytes(data[:300]).decode("utf-8", "replace")
    return code.split(":")[0].split("#")[-1] or str(status), message


def backoff(attempt):
    time.sleep(random.random() * min(20.0, 0.05 * (2 ** attempt)))


def client(service):
    """A Client for `service` in this environment. Raises NeedBoto3 or NoCredentials (see above)."""
    region_name = region()
    if not region_name:
        raise NoCredentials("no AWS region: set AWS_REGION or AWS_DEFAULT_REGION")
    return Client(service, region_name, credentials())


def assume_role(role_arn, session_name, base_creds, region_name):
    """STS AssumeRole (signed query call) -> Credentials that renew themselves."""
    sts = Client("sts", region_name, base_creds)

    def fetch():
        scheme, netloc, path = _split(sts.endpoint)
        form = urllib.parse.urlencode({"Action": "AssumeRole", "Version": "2011-06-15",
                                       "RoleArn": role_arn, "RoleSessionName": session_name}).encode()
        _, _, data = sts.request("POST", scheme, netloc, path + "/", body=form, error=_xml_error,
                                 headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"})
        node = ET.fromstring(bytes(data)).find(".//%sCredentials" % _STS_NS)
        text = lambda name: node.findtext(_STS_NS + name)  # noqa: E731
        return Credentials(text("AccessKeyId"), text("SecretAccessKey"), text("SessionToken"),
                           _expiry(text("Expiration")), fetch, "assume-role")

    return fetch()


def _xml_error(status, data, response=None):
    try:
        root = ET.fromstring(bytes(data))
        code = root.findtext(".//Code") or root.findtext(".//{*}Code")
        message = root.findtext(".//Message") or root.findtext(".//{*}Message")
        return code or str(status), message or ""
    except ET.ParseError:
        return str(status), bytes(data[:200]).decode("utf-8", "replace")


def boto3_client(service, reason, **kwargs):
    """boto3's client, for a credential source only boto3 reads; a clear error when it is absent."""
    try:
        import boto3
    except ImportError:
        raise NoCredentials("%s, which needs boto3; this environment has none (use environment, web "
                            "identity, container or instance credentials)" % reason) from None
    return boto3.client(service, **kwargs)
