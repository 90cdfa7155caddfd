"""A local stand-in for the Kubernetes API server: namespaced objects of any kind, kept in memory.

It implements what the kubernetes client sends for create, get, list (with a label selector),
replace and delete, for core (`/api/v1/...`) and group (`/apis/<group>/<version>/...`) resources,
with resourceVersion checks on replace (409 on a stale version) as the real server does. Every
request is recorded so tests can check what a command sent. Loopback only.

For `flowc run` hybrid runs it can also act as a (tiny) cluster:
- `nodes`: the list `GET /api/v1/nodes` returns (cluster-scoped), e.g. from `node(...)`.
- `run_jobs = True`: when a batch/v1 Job is created, a thread runs its first container's REAL
  command as a local process (`python` -> this interpreter; the image is not used) with the
  container's env plus `extra_env` (PATH, HOME, dummy AWS credentials), creates the Job's Pod
  (label job-name, phase Running, then Succeeded/Failed with the container's exit code) and sets the
  Job's status succeeded/failed. `GET .../pods/{name}/log` returns the process's output.
  Resources, node selectors and tolerations are recorded, not enforced.
"""
from __future__ import annotations

import json
import re
import threading
import os
import subprocess
import sys
import tempfile
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
        self.nodes: list[dict[str, Any]] = []
        self.run_jobs = False
        self.extra_env: dict[str, str] = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1"}
        self.logs: dict[tuple[str, str], str] = {}     # (namespace, pod) -> log text
        self.ran: list[dict[str, Any]] = []             # jobs run: name, argv, env, exit code
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
        if path == "/api/v1/nodes" and method == "GET":
            return 200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": self.nodes}
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
                if self.run_jobs and api == "batch/v1" and plural == "jobs":
                    threading.Thread(target=self._run_job, args=(ns, json.loads(json.dumps(body))),
                                     daemon=True).start()
                return 201, body
            key = (api, plural, ns, name)
            current = self.objects.get(key)
            if method == "GET" and match["sub"] == "log" and plural == "pods":
                if current is None:
                    return 404, _status(404, f"pods {name} not found")
                return 200, self.logs.get((ns, name), "").encode()
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

    # -- a tiny cluster: run Jobs locally -----------------------------------------------------------

    def _put(self, api: str, plural: str, ns: str, obj: dict[str, Any]) -> None:
        with self._lock:
            self._stamp(obj, ns)
            self.objects[(api, plural, ns, obj["metadata"]["name"])] = obj

    def _run_job(self, ns: str, job: dict[str, Any]) -> None:
        name = job["metadata"]["name"]
        pod_spec = job["spec"]["template"]["spec"]
        container = pod_spec["containers"][0]
        pod = {"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": f"{name}-pod0", "labels": {**job["spec"]["template"].get("metadata", {}).get("labels", {}),
                                                             "job-name": name}},
               "spec": pod_spec, "status": {"phase": "Running"}}
        self._put("v1", "pods", ns, json.loads(json.dumps(pod)))
        argv = list(container.get("command") or []) + list(container.get("args") or [])
        if argv and argv[0] == "python":
            argv[0] = sys.executable
        env = {**{e["name"]: e.get("value", "") for e in container.get("env", [])}, **self.extra_env}
        with tempfile.TemporaryDirectory(prefix="k8s-double-") as cwd:
            try:
                proc = subprocess.run(argv, env=env, cwd=cwd, stdout=subprocess.PIPE,
                                      stderr=subprocess.STDOUT, text=True,
                                      timeout=job["spec"].get("activeDeadlineSeconds"))
                code, out = proc.returncode, proc.stdout
            except subprocess.TimeoutExpired as expired:
                code, out = 137, str(expired.stdout or "") + "\n[killed: activeDeadlineSeconds]"
            except OSError as error:
                code, out = 128, str(error)
        self.logs[(ns, pod["metadata"]["name"])] = out
        self.ran.append({"name": name, "namespace": ns, "argv": argv, "env": env, "exit_code": code,
                         "container": container, "pod_spec": pod_spec, "log": out})
        phase = "Succeeded" if code == 0 else "Failed"
        pod["status"] = {"phase": phase, "containerStatuses": [
            {"name": container.get("name", "main"), "ready": False, "restartCount": 0,
             "image": container.get("image", ""), "imageID": "",
             "state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}}]}
        self._put("v1", "pods", ns, pod)
        with self._lock:
            current = self.objects.get(("batch/v1", "jobs", ns, name))
        if current is not None:
            current = json.loads(json.dumps(current))
            current["status"] = {"succeeded": 1} if code == 0 else {"failed": 1}
            self._put("batch/v1", "jobs", ns, current)

    def _stamp(self, body: dict[str, Any], ns: str) -> None:
        self._version += 1
        meta = body.setdefault("metadata", {})
        meta["namespace"] = ns
        meta["resourceVersion"] = str(self._version)
        meta.setdefault("creationTimestamp", f"2026-01-01T00:00:{self._version % 60:02d}Z")
        meta.setdefault("uid", "00000000-0000-4000-8000-%012d" % self._version)   # as the API server does

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                path, _, query = self.path.partition("?")
                code, payload = double._handle(method, path, query, body)
                raw_text = isinstance(payload, bytes)
                data = payload if raw_text else json.dumps(payload).encode()
                self.send_response(code)
                self.send_header("Content-Type", "text/plain" if raw_text else "application/json")
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


def node(name: str, cpu: str, memory: str, gpu: int = 0, labels: dict[str, str] | None = None,
         gpu_resource: str = "nvidia.com/gpu") -> dict[str, Any]:
    """A Node object for `KubeDouble.nodes` (allocatable as the kubelet reports it)."""
    allocatable = {"cpu": cpu, "memory": memory, "pods": "110"}
    if gpu:
        allocatable[gpu_resource] = str(gpu)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {}, "status": {"allocatable": allocatable, "capacity": dict(allocatable)}}


def _query(query: str) -> dict[str, str]:
    from urllib.parse import parse_qsl

    return dict(parse_qsl(query))


def _status(code: int, message: str) -> dict[str, Any]:
    return {"kind": "Status", "apiVersion": "v1", "status": "Failure" if code >= 400 else "Success",
            "message": message, "code": code}
