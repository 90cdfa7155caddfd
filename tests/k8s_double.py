"""A local stand-in for the Kubernetes API server: namespaced objects of any kind, kept in memory.

It implements what the kubernetes client sends for create, get, list (with a label selector),
replace and delete, for core (`/api/v1/...`) and group (`/apis/<group>/<version>/...`) resources,
with resourceVersion checks on replace (409 on a stale version) as the real server does. Every
request is recorded so tests can check what a command sent. Loopback only.
"""
from __future__ import annotations

import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable

_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$")


class KubeDouble:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.refuse: Callable[[str, str], int | None] = lambda method, path: None   # inject failures
        self._version = 0
        self._lock = threading.Lock()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "KubeDouble":
        self.thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def write_kubeconfig(self, path: str, namespace: str = "default") -> str:
        config = {
            "apiVersion": "v1", "kind": "Config", "current-context": "double",
            "clusters": [{"name": "double", "cluster": {"server": self.url}}],
            "users": [{"name": "tester", "user": {"token": "test-token-not-a-secret"}}],
            "contexts": [{"name": "double", "context": {"cluster": "double", "user": "tester", "namespace": namespace}}],
        }
        with open(path, "w") as handle:
            json.dump(config, handle)
        return path

    def of_kind(self, plural: str) -> list[dict[str, Any]]:
        return [o for (_, p, _, _), o in sorted(self.objects.items()) if p == plural]

    # -- request handling ------------------------------------------------------------------------

    def _handle(self, method: str, path: str, query: str, body: Any) -> tuple[int, Any]:
        self.requests.append((method, path, body))
        refused = self.refuse(method, path)
        if refused:
            return refused, _status(refused, "refused by the test")
        match = _PATH.match(path)
        if not match:
            return 404, _status(404, f"no route {path}")
        api = match["core"] or f"{match['group']}/{match['version']}"
        ns, plural, name = match["ns"], match["plural"], match["name"]
        with self._lock:
            if name is None and method == "GET":
                selector = dict(part.split("=", 1) for part in _query(query).get("labelSelector", "").split(",") if "=" in part)
                items = [o for (a, p, n, _), o in sorted(self.objects.items()) if a == api and p == plural and n == ns
                         and all(o["metadata"].get("labels", {}).get(k) == v for k, v in selector.items())]
                return 200, {"kind": "List", "apiVersion": api, "metadata": {}, "items": items}
            if name is None and method == "POST":
                meta = body.setdefault("metadata", {})
                if "name" not in meta and "generateName" in meta:
                    self._version += 1
                    meta["name"] = f"{meta['generateName']}{self._version:05d}"
                key = (api, plural, ns, meta.get("name", ""))
                if key in self.objects:
                    return 409, _status(409, f"{plural} {key[3]} already exists")
                self._stamp(body, ns)
                self.objects[key] = body
                return 201, body
            key = (api, plural, ns, name)
            current = self.objects.get(key)
            if method == "GET":
                return (200, current) if current else (404, _status(404, f"{plural} {name} not found"))
            if method == "PUT":
                if current is None:
                    return 404, _status(404, f"{plural} {name} not found")
                if body.get("metadata", {}).get("resourceVersion") != current["metadata"]["resourceVersion"]:
                    return 409, _status(409, "the object has been modified")
                self._stamp(body, ns)
                self.objects[key] = body
                return 200, body
            if method == "DELETE":
                if current is None:
                    return 404, _status(404, f"{plural} {name} not found")
                del self.objects[key]
                return 200, _status(200, "deleted")
        return 405, _status(405, f"{method} not allowed")

    def _stamp(self, body: dict[str, Any], ns: str) -> None:
        self._version += 1
        meta = body.setdefault("metadata", {})
        meta["namespace"] = ns
        meta["resourceVersion"] = str(self._version)
        meta.setdefault("creationTimestamp", f"2026-01-01T00:00:{self._version % 60:02d}Z")

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path, _, query = self.path.partition("?")
                code, payload = double._handle(method, path, query, body)
                data = json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._serve("GET")

            def do_POST(self):
                self._serve("POST")

            def do_PUT(self):
                self._serve("PUT")

            def do_DELETE(self):
                self._serve("DELETE")

            def log_message(self, *args):
                pass

        return Handler


def _query(query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(query))


def _status(code: int, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure" if code >= 400 else "Success",
            "message": message, "code": code}
