"""An AWS endpoint double that verifies SigV4 the way AWS does, from the request AS RECEIVED.

For each request it parses the Authorization header, takes the headers named in SignedHeaders
from what arrived, rebuilds the request (method, raw path and query, those headers, the body)
and recomputes the signature with botocore's own signer (S3SigV4Auth for s3, SigV4Auth for the
other services) and the secret of the access key. A mismatch answers 403 SignatureDoesNotMatch;
an unknown or expired key 403 InvalidAccessKeyId; a session token that is not the key's 403
InvalidToken; for S3 an x-amz-content-sha256 that is not the body's hash 400
XAmzContentSHA256Mismatch. Requests that pass go to `upstream` (a moto server) or to `respond`.

So a client that signs a path other than the one it sends, or hashes a body other than the one
it sends, fails here as on AWS (moto checks neither).
"""
from __future__ import annotations

import hashlib
import http.client
import json
import re
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable

_AUTH = re.compile(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/([^/]+)/aws4_request, "
                   r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$")


class Keys:
    """Access key -> (secret, session token or None, expiry epoch or None); thread-safe."""

    def __init__(self, static: dict | None = None):
        self._keys: dict[str, tuple[str, str | None, float | None]] = {}
        self._lock = threading.Lock()
        for key, secret in (static or {}).items():
            self.add(key, secret)

    def add(self, key: str, secret: str, token: str | None = None, expires: float | None = None) -> None:
        with self._lock:
            self._keys[key] = (secret, token, expires)

    def get(self, key: str):
        with self._lock:
            found = self._keys.get(key)
        if found and found[2] is not None and time.time() > found[2]:
            return None
        return found


def verify(method: str, raw_path: str, headers: dict[str, str], body: bytes, keys: Keys):
    """None when the request is correctly signed, else (status, code, message)."""
    from botocore.auth import S3SigV4Auth, SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials

    lower = {k.lower(): v for k, v in headers.items()}
    match = _AUTH.match(lower.get("authorization", ""))
    if not match:
        return 403, "AccessDenied", "missing or malformed SigV4 Authorization header"
    key, _day, region, service, signed_names, signature = match.groups()
    found = keys.get(key)
    if found is None:
        return 403, "InvalidAccessKeyId", "unknown or expired access key %s" % key
    secret, token, _ = found
    if token is not None and lower.get("x-amz-security-token") != token:
        return 403, "InvalidToken", "the security token does not belong to %s" % key
    if service == "s3":
        sent_hash = lower.get("x-amz-content-sha256")
        unsigned = sent_hash in ("UNSIGNED-PAYLOAD", "STREAMING-UNSIGNED-PAYLOAD-TRAILER")
        if not unsigned and sent_hash != hashlib.sha256(body).hexdigest():
            return 400, "XAmzContentSHA256Mismatch", "x-amz-content-sha256 is not the payload's hash"
    names = signed_names.split(";")
    if "host" not in names or "x-amz-date" not in names:
        return 403, "AccessDenied", "host and x-amz-date must be signed"
    request = AWSRequest(method=method, url="http://%s%s" % (lower.get("host", ""), raw_path), data=body,
                         headers={n: lower.get(n, "") for n in names})
    request.context["timestamp"] = lower["x-amz-date"]
    auth_cls = S3SigV4Auth if service == "s3" else SigV4Auth
    auth = auth_cls(Credentials(key, secret, lower.get("x-amz-security-token")), service, region)
    canonical = auth.canonical_request(request)
    expected = auth.signature(auth.string_to_sign(request, canonical), request)
    if expected != signature:
        return 403, "SignatureDoesNotMatch", "The request signature we calculated does not match the signature you provided."
    return None


class SigV4Double:
    """A loopback endpoint that verifies every request, then proxies it to `upstream` or answers
    with `respond(method, raw_path, headers, body) -> (status, headers, body)`."""

    def __init__(self, keys: Keys, upstream: str | None = None,
                 respond: Callable | None = None, unsigned: Callable | None = None):
        self.keys, self.upstream, self.respond = keys, upstream, respond
        self.unsigned = unsigned or (lambda method, path, headers, body: False)
        self.received: list[dict] = []
        self.rejected: list[dict] = []
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _handle(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                headers = {k: v for k, v in self.headers.items()}
                record = {"method": self.command, "path": self.path, "headers": headers, "body": body}
                problem = None if double.unsigned(self.command, self.path, headers, body) else \
                    verify(self.command, self.path, headers, body, double.keys)
                if problem:
                    double.rejected.append(dict(record, problem=problem))
                    status, code, message = problem
                    if "x-amz-target" in {k.lower() for k in headers} or "/v1/" in self.path:
                        out = json.dumps({"__type": code, "message": message}).encode()
                        ctype = "application/x-amz-json-1.1"
                    else:
                        out = ("<?xml version=\"1.0\"?><Error><Code>%s</Code><Message>%s</Message></Error>"
                               % (code, message)).encode()
                        ctype = "application/xml"
                    return self._send(status, {"Content-Type": ctype}, out)
                double.received.append(record)
                status, out_headers, out = double._forward(self.command, self.path, headers, body)
                self._send(status, out_headers, out)

            def _send(self, status, headers, body):
                self.send_response(status)
                for k, v in headers.items():
                    if k.lower() not in ("content-length", "transfer-encoding", "connection", "date", "server"):
                        self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _handle

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]

    def _forward(self, method, path, headers, body):
        if self.respond is not None:
            return self.respond(method, path, headers, body)
        parts = urllib.parse.urlsplit(self.upstream)
        conn = http.client.HTTPConnection(parts.netloc, timeout=60)
        try:
            conn.request(method, path, body=body if body or method in ("PUT", "POST") else None,
                         headers={k: v for k, v in headers.items() if k.lower() != "content-length"})
            response = conn.getresponse()
            data = response.read()
            return response.status, dict(response.getheaders()), data
        finally:
            conn.close()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
