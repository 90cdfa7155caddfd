"""A small S3 client on the standard library (SigV4 over http.client) for the task's hot path.

Importing boto3 and building a client costs ~0.4 s of CPU in every task; this costs ~0.01 s. It
covers what the datastore does (HEAD, GET, PUT, ListObjectsV2) and the credentials a container
has without a config file: environment variables, and the ECS / EKS Pod Identity container
credentials endpoint. Everything else (IRSA web identity, instance profiles, ~/.aws files, no
region) returns None from `client()`, and the datastore uses boto3 as before. Retries follow
botocore's "standard" mode: throttling, 5xx and connection errors, up to 10 attempts with
jittered exponential backoff. FLOWC_S3_CLIENT=boto3 turns this off.
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
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

_NS = "{http://s3.amazonaws.com/doc/2006-03-01/}"
_RETRY_CODES = {"Throttling", "ThrottlingException", "SlowDown", "RequestTimeout", "InternalError",
                "ServiceUnavailable", "RequestLimitExceeded", "RequestTimeTooSkewed"}
MAX_ATTEMPTS = 10


class S3Error(Exception):
    """Shaped like botocore's ClientError where the datastore looks: .response["Error"]["Code"]."""

    def __init__(self, status, code, message, key=""):
        super().__init__("S3 %s %s: %s %s" % (status, code, message, key))
        self.status = status
        self.response = {"Error": {"Code": code or str(status), "Message": message},
                         "ResponseMetadata": {"HTTPStatusCode": status}}


class _Credentials:
    def __init__(self, key, secret, token=None, expires=None, refresh=None):
        self.key, self.secret, self.token, self.expires, self._refresh = key, secret, token, expires, refresh

    def current(self):
        if self._refresh and self.expires and time.time() > self.expires - 300:
            fresh = self._refresh()
            self.key, self.secret, self.token, self.expires = fresh.key, fresh.secret, fresh.token, fresh.expires
        return self


def _container_credentials():
    full = os.environ.get("AWS_CONTAINER_CREDENTIALS_FULL_URI")
    relative = os.environ.get("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
    if not (full or relative):
        return None
    url = full or "http://169.254.170.2" + relative
    request = urllib.request.Request(url)
    token = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN")
    token_file = os.environ.get("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE")
    if token_file:
        with open(token_file) as handle:
            token = handle.read().strip()
    if token:
        request.add_header("Authorization", token)
    with urllib.request.urlopen(request, timeout=5) as response:
        data = json.loads(response.read())
    expires = data.get("Expiration")
    when = None
    if expires:
        when = datetime.datetime.fromisoformat(expires.replace("Z", "+00:00")).timestamp()
    return _Credentials(data["AccessKeyId"], data["SecretAccessKey"], data.get("Token"), when,
                        _container_credentials)


def _credentials():
    key, secret = os.environ.get("AWS_ACCESS_KEY_ID"), os.environ.get("AWS_SECRET_ACCESS_KEY")
    if key and secret:
        return _Credentials(key, secret, os.environ.get("AWS_SESSION_TOKEN") or None)
    return _container_credentials()


def client():
    """An S3Lite for this environment, or None when boto3 must be used."""
    if os.environ.get("FLOWC_S3_CLIENT", "").lower() == "boto3":
        return None
    region = os.environ.get("AWS_REGION") or os.environ.get("AWS_DEFAULT_REGION")
    if not region:
        return None
    try:
        creds = _credentials()
    except (OSError, ValueError, KeyError):
        return None
    if creds is None:
        return None
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL")
    return S3Lite(region, creds, endpoint)


def _sign(key, msg):
    return hmac.new(key, msg.encode("utf-8"), hashlib.sha256).digest()


class S3Lite:
    def __init__(self, region, credentials, endpoint=None):
        self.region = region
        self.credentials = credentials
        self.endpoint = endpoint.rstrip("/") if endpoint else None
        self._conns = {}

    # -- the four calls the datastore makes ---------------------------------------------------

    def head(self, bucket, key):
        status, _, _ = self._request("HEAD", bucket, key)
        return status == 200

    def get(self, bucket, key):
        """The object's bytes as a bytearray, or None when it does not exist."""
        status, headers, body = self._request("GET", bucket, key, missing_ok=True)
        return None if status == 404 else body

    def put(self, bucket, key, body):
        self._request("PUT", bucket, key, body=body)

    def list(self, bucket, prefix, delimiter=None):
        """(keys, common prefixes) under prefix, all pages."""
        keys, prefixes, token = [], [], None
        while True:
            query = {"list-type": "2", "prefix": prefix}
            if delimiter:
                query["delimiter"] = delimiter
            if token:
                query["continuation-token"] = token
            _, _, body = self._request("GET", bucket, "", query=query)
            root = ET.fromstring(bytes(body))
            keys += [c.findtext(_NS + "Key") for c in root.findall(_NS + "Contents")]
            prefixes += [c.findtext(_NS + "Prefix") for c in root.findall(_NS + "CommonPrefixes")]
            if root.findtext(_NS + "IsTruncated") != "true":
                return keys, prefixes
            token = root.findtext(_NS + "NextContinuationToken")

    # -- HTTP and SigV4 ---------------------------------------------------------------------------

    def _target(self, bucket, key):
        quoted = urllib.parse.quote(key, safe="/~")
        if self.endpoint:  # path style, as S3-compatible stores and moto expect
            parts = urllib.parse.urlsplit(self.endpoint)
            base = parts.path.rstrip("/")
            return parts.scheme, parts.netloc, "%s/%s/%s" % (base, bucket, quoted) if key else "%s/%s" % (base, bucket)
        if "." in bucket:
            return "https", "s3.%s.amazonaws.com" % self.region, "/%s/%s" % (bucket, quoted)
        return "https", "%s.s3.%s.amazonaws.com" % (bucket, self.region), "/" + quoted

    def _headers(self, method, host, path, query, payload_hash):
        creds = self.credentials.current()
        now = datetime.datetime.now(datetime.timezone.utc)
        amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
        headers = {"host": host, "x-amz-content-sha256": payload_hash, "x-amz-date": amz_date}
        if creds.token:
            headers["x-amz-security-token"] = creds.token
        names = sorted(headers)
        canonical_query = "&".join("%s=%s" % (urllib.parse.quote(k, safe="-_.~"), urllib.parse.quote(v, safe="-_.~"))
                                   for k, v in sorted(query.items()))
        canonical = "\n".join([method, path, canonical_query,
                               "".join("%s:%s\n" % (n, headers[n]) for n in names), ";".join(names), payload_hash])
        scope = "%s/%s/s3/aws4_request" % (day, self.region)
        to_sign = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
        signing_key = _sign(_sign(_sign(_sign(("AWS4" + creds.secret).encode(), day), self.region), "s3"), "aws4_request")
        signature = hmac.new(signing_key, to_sign.encode(), hashlib.sha256).hexdigest()
        headers["authorization"] = "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=%s, Signature=%s" % (
            creds.key, scope, ";".join(names), signature)
        return headers

    def _connection(self, scheme, netloc):
        conn = self._conns.get((scheme, netloc))
        if conn is None:
            cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
            conn = self._conns[(scheme, netloc)] = cls(netloc, timeout=60)
        return conn

    def _request(self, method, bucket, key, body=b"", query=None, missing_ok=False):
        query = query or {}
        scheme, netloc, path = self._target(bucket, key)
        payload_hash = hashlib.sha256(body).hexdigest()
        url = path + ("?" + urllib.parse.urlencode(sorted(query.items()), quote_via=urllib.parse.quote)
                      if query else "")
        for attempt in range(MAX_ATTEMPTS):
            headers = self._headers(method, netloc, path, query, payload_hash)
            try:
                conn = self._connection(scheme, netloc)
                conn.request(method, url, body=body if method == "PUT" else None, headers=headers)
                response = conn.getresponse()
                data = bytearray(response.read()) if method != "HEAD" else bytearray()
                status = response.status
            except (OSError, http.client.HTTPException):
                self._conns.pop((scheme, netloc), None)
                if attempt + 1 == MAX_ATTEMPTS:
                    raise
                self._backoff(attempt)
                continue
            code, message = _error(data, status) if status >= 300 else ("", "")
            if status < 300 or (status == 404 and method == "HEAD") or \
                    (status == 404 and missing_ok and code != "NoSuchBucket"):
                return status, dict(response.getheaders()), data
            if (status >= 500 or status == 429 or code in _RETRY_CODES) and attempt + 1 < MAX_ATTEMPTS:
                self._backoff(attempt)
                continue
            raise S3Error(status, code, message, "%s/%s" % (bucket, key))
        raise S3Error(0, "RetriesExhausted", "no answer", "%s/%s" % (bucket, key))  # pragma: no cover

    @staticmethod
    def _backoff(attempt):
        time.sleep(random.random() * min(20.0, 0.05 * (2 ** attempt)))


def _error(data, status):
    try:
        root = ET.fromstring(bytes(data))
        return root.findtext("Code") or str(status), root.findtext("Message") or ""
    except ET.ParseError:
        return str(status), bytes(data[:200]).decode("utf-8", "replace")
