"""A credentials endpoint double: what a container asks for its AWS credentials, on 127.0.0.1.

One server answers the four sources of runtime_shim.awslite's chain beyond static keys:
- ECS / EKS container credentials: GET /v2/credentials/<id> (the RELATIVE_URI path; point
  AWS_CONTAINER_CREDENTIALS_FULL_URI at it) and EKS Pod Identity: GET /v1/credentials; both
  require the Authorization header to equal `auth_token` (401 otherwise, as the agents do);
- STS AssumeRoleWithWebIdentity for IRSA: POST / with the query form; the WebIdentityToken must be
  `web_identity_token` and the RoleArn `role_arn` (400 InvalidIdentityToken / 403 AccessDenied);
- IMDSv2: PUT /latest/api/token (with X-aws-ec2-metadata-token-ttl-seconds) returns a token; GET
  /latest/meta-data/iam/security-credentials/ (the role name) and .../<role> (the credentials)
  require it (401 without, as IMDSv2-only instances do).
Each answer issues FRESH temporary credentials valid for `lifetime` seconds, registered in `keys`
(a tests.doubles.sigv4.Keys) so a verifying endpoint accepts them until they expire; `issued`
counts the issues per source, so tests can see the runtime refresh.
"""
from __future__ import annotations

import datetime
import json
import secrets
import threading
import time
import urllib.parse
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from tests.doubles.sigv4 import Keys

ROLE = "flowc-task-role"


class CredentialsDouble:
    def __init__(self, keys: Keys, lifetime: float = 3600.0, auth_token: str = "pod-identity-token",
                 web_identity_token: str = "irsa-jwt", role_arn: str = "arn:aws:iam::123456789012:role/flowc"):
        self.keys, self.lifetime = keys, lifetime
        self.auth_token, self.web_identity_token, self.role_arn = auth_token, web_identity_token, role_arn
        self.issued: Counter = Counter()
        self.refused: list[tuple[str, str]] = []
        self._imds_tokens: set[str] = set()
        self._lock = threading.Lock()
        double = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _reply(self, status, body, ctype="application/json"):
                data = body.encode() if isinstance(body, str) else body
                self.send_response(status)
                self.send_header("Content-Type", ctype)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_PUT(self):
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                if self.path == "/latest/api/token" and self.headers.get("X-aws-ec2-metadata-token-ttl-seconds"):
                    token = secrets.token_hex(16)
                    with double._lock:
                        double._imds_tokens.add(token)
                    return self._reply(200, token, "text/plain")
                double.refused.append(("PUT", self.path))
                self._reply(400, "bad token request", "text/plain")

            def do_GET(self):
                path = self.path
                if path.startswith("/v2/credentials/") or path == "/v1/credentials":
                    if self.headers.get("Authorization") != double.auth_token:
                        double.refused.append(("GET", path))
                        return self._reply(401, json.dumps({"message": "bad authorization token"}))
                    source = "container" if path.startswith("/v2/") else "pod-identity"
                    return self._reply(200, json.dumps(double._issue(source)))
                if path.startswith("/latest/meta-data/iam/security-credentials/"):
                    if self.headers.get("X-aws-ec2-metadata-token") not in double._imds_tokens:
                        double.refused.append(("GET", path))
                        return self._reply(401, "", "text/plain")
                    role = path[len("/latest/meta-data/iam/security-credentials/"):]
                    if not role:
                        return self._reply(200, ROLE, "text/plain")
                    if role != ROLE:
                        return self._reply(404, "", "text/plain")
                    return self._reply(200, json.dumps(dict(double._issue("imds"), Code="Success",
                                                            Type="AWS-HMAC")))
                double.refused.append(("GET", path))
                self._reply(404, "", "text/plain")

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                form = dict(urllib.parse.parse_qsl(self.rfile.read(length).decode()))
                if form.get("Action") != "AssumeRoleWithWebIdentity" or "Authorization" in self.headers:
                    double.refused.append(("POST", str(form.get("Action"))))
                    return self._reply(400, _sts_error("InvalidAction", "only AssumeRoleWithWebIdentity"), "text/xml")
                if form.get("WebIdentityToken") != double.web_identity_token:
                    double.refused.append(("POST", "token"))
                    return self._reply(400, _sts_error("InvalidIdentityToken", "bad token"), "text/xml")
                if form.get("RoleArn") != double.role_arn or not form.get("RoleSessionName"):
                    double.refused.append(("POST", "role"))
                    return self._reply(403, _sts_error("AccessDenied", "not authorized"), "text/xml")
                creds = double._issue("web-identity")
                xml = ("<AssumeRoleWithWebIdentityResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\">"
                       "<AssumeRoleWithWebIdentityResult><Credentials>"
                       "<AccessKeyId>%s</AccessKeyId><SecretAccessKey>%s</SecretAccessKey>"
                       "<SessionToken>%s</SessionToken><Expiration>%s</Expiration>"
                       "</Credentials></AssumeRoleWithWebIdentityResult></AssumeRoleWithWebIdentityResponse>"
                       % (creds["AccessKeyId"], creds["SecretAccessKey"], creds["Token"], creds["Expiration"]))
                self._reply(200, xml, "text/xml")

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.endpoint = "http://127.0.0.1:%d" % self.server.server_address[1]

    def _issue(self, source: str) -> dict:
        key = "ASIA" + secrets.token_hex(8).upper()
        secret, token = secrets.token_urlsafe(30), secrets.token_urlsafe(40)
        expires = time.time() + self.lifetime
        self.keys.add(key, secret, token, expires)
        with self._lock:
            self.issued[source] += 1
        stamp = datetime.datetime.fromtimestamp(expires, datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        return {"AccessKeyId": key, "SecretAccessKey": secret, "Token": token, "Expiration": stamp}

    def env(self, source: str, workdir: str) -> dict[str, str]:
        """The environment a container gets for `source` (container, pod-identity, web-identity, imds);
        token files are written under `workdir`."""
        import os

        if source == "container":
            return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.endpoint + "/v2/credentials/task-1",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN": self.auth_token}
        if source == "pod-identity":
            path = os.path.join(workdir, "eks-pod-identity-token")
            with open(path, "w") as handle:
                handle.write(self.auth_token + "\n")
            return {"AWS_CONTAINER_CREDENTIALS_FULL_URI": self.endpoint + "/v1/credentials",
                    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE": path}
        if source == "web-identity":
            path = os.path.join(workdir, "irsa-token")
            with open(path, "w") as handle:
                handle.write(self.web_identity_token)
            return {"AWS_ROLE_ARN": self.role_arn, "AWS_WEB_IDENTITY_TOKEN_FILE": path,
                    "AWS_ENDPOINT_URL_STS": self.endpoint}
        if source == "imds":
            return {"AWS_EC2_METADATA_SERVICE_ENDPOINT": self.endpoint}
        raise ValueError(source)

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def _sts_error(code: str, message: str) -> str:
    return ("<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type>"
            "<Code>%s</Code><Message>%s</Message></Error></ErrorResponse>" % (code, message))
