"""A local stand-in for the Kubernetes API server that refuses and stalls as the real one does.

API (namespaced objects of any kind, in memory; core `/api/v1/...` and group `/apis/<g>/<v>/...`):
- create, get, list, replace, delete; every request is recorded (`requests`) for the tests;
- validation (tests/doubles/k8s_rules.py): names (DNS-1123 subdomain; a Job's also a label value),
  label keys and values, resource quantities, requests above limits -> 422 `Invalid` with causes;
- the name in the URL must match the body's on PUT, the namespace on POST/PUT (400 BadRequest);
- resourceVersion: a stale one is 409 Conflict; a PUT without one is an unconditional update for
  built-in kinds and 422 for custom resources ("must be specified for an update"), as the server does;
- list with label selectors (=, ==, !=, in, notin, exists, !exists) and field selectors
  (metadata.name, metadata.namespace, status.phase / spec.nodeName for pods; others are 400);
- errors are Status objects with `reason`, `details` and `code`; `refuse(method, path)` injects one.

A tiny cluster when `run_jobs` is set: a batch/v1 Job gets a controller thread that creates pods
(`<job>-<n>`, label job-name) and runs each pod's first container's REAL command as a local process
(`python` -> this interpreter; the image is not used) with its env resolved (value, valueFrom
secretKeyRef / configMapKeyRef, envFrom secretRef / configMapRef) plus `extra_env`. A pod stays
Pending while a Secret, ConfigMap or PVC it references is missing (CreateContainerConfigError /
ContainerCreating) or while no node in `nodes` has room for its requests and matches its node
selector (PodScheduled=False, Unschedulable, "0/N nodes are available: ..."). Running pods hold
their node's capacity until they end. The exit code lands in
containerStatuses[].state.terminated.exitCode; a failed pod is retried until `backoffLimit`
(default 6) failures, then the Job gets condition Failed/BackoffLimitExceeded; past
`activeDeadlineSeconds` its active pods are killed and deleted and the Job gets Failed/DeadlineExceeded.
Loopback only.
"""
from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable
from urllib.parse import parse_qsl

from tests.doubles import k8s_rules as rules

_PATH = re.compile(
    r"^/(?:api/(?P<core>v1)|apis/(?P<group>[^/]+)/(?P<version>[^/]+))"
    r"/namespaces/(?P<ns>[^/]+)/(?P<plural>[^/]+)(?:/(?P<name>[^/]+))?(?:/(?P<sub>[^/]+))?$")
BUILTIN_GROUPS = {"", "batch", "apps", "policy", "rbac.authorization.k8s.io", "networking.k8s.io",
                  "autoscaling", "coordination.k8s.io", "storage.k8s.io", "scheduling.k8s.io"}
KINDS = {"pods": "Pod", "jobs": "Job", "configmaps": "ConfigMap", "secrets": "Secret",
         "services": "Service", "serviceaccounts": "ServiceAccount", "events": "Event",
         "persistentvolumeclaims": "PersistentVolumeClaim", "workflowtemplates": "WorkflowTemplate",
         "cronworkflows": "CronWorkflow", "workflows": "Workflow"}


class KubeDouble:
    def __init__(self) -> None:
        self.objects: dict[tuple[str, str, str, str], dict[str, Any]] = {}
        self.requests: list[tuple[str, str, Any]] = []
        self.refuse: Callable[[str, str], int | None] = lambda method, path: None   # inject failures
        self._version = 0
        self._lock = threading.RLock()
        self.nodes: list[dict[str, Any]] = []
        self.run_jobs = False
        self.extra_env: dict[str, str] = {
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": os.environ.get("HOME", "/tmp"),
            "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_DEFAULT_REGION": "us-east-1"}
        self.logs: dict[tuple[str, str], str] = {}     # (namespace, pod) -> log text
        self.ran: list[dict[str, Any]] = []             # pods run: name, argv, env, exit code
        self.tick = 0.05                                # how often a pending pod is reconsidered
        self._procs: dict[tuple[str, str], subprocess.Popen] = {}
        self._bound: dict[tuple[str, str], tuple[str, dict[str, Decimal]]] = {}   # pod -> node, requests
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> "KubeDouble":
        self.thread.start()
        return self

    def stop(self) -> None:
        with self._lock:
            procs = list(self._procs.values())
        for proc in procs:
            _kill(proc)
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
        with self._lock:
            return [o for (_, p, _, _), o in sorted(self.objects.items()) if p == plural]

    def add(self, body: dict[str, Any], namespace: str = "default") -> dict[str, Any]:
        """Create an object directly (a Secret, a ConfigMap, ...), validated as a POST would be."""
        api = body["apiVersion"]
        plural = next(p for p, k in KINDS.items() if k == body["kind"])
        path = ("/api/%s" % api if "/" not in api else "/apis/%s" % api) + "/namespaces/%s/%s" % (namespace, plural)
        code, created = self._handle("POST", path, "", json.loads(json.dumps(body)))
        if code != 201:
            raise ValueError(created)
        return created

    # -- request handling ------------------------------------------------------------------------

    def _handle(self, method: str, path: str, query: str, body: Any) -> tuple[int, Any]:
        self.requests.append((method, path, body))
        refused = self.refuse(method, path)
        if refused:
            return refused, rules.status(refused, "refused by the test")
        if path == "/api/v1/nodes" and method == "GET":
            return 200, {"kind": "NodeList", "apiVersion": "v1", "metadata": {}, "items": self.nodes}
        match = _PATH.match(path)
        if not match:
            return 404, rules.status(404, "the server could not find the requested resource")
        group = match["group"] or ""
        api = match["core"] or f"{group}/{match['version']}"
        ns, plural, name, sub = match["ns"], match["plural"], match["name"], match["sub"]
        kind = KINDS.get(plural, plural[:-1].capitalize())
        qualified = plural + ("." + group if group else "")
        gone = rules.status(404, '%s "%s" not found' % (qualified, name), "NotFound",
                            {"name": name, "group": group, "kind": plural})
        with self._lock:
            if name is None and method == "GET":
                params = dict(parse_qsl(query))
                try:
                    labels = rules.parse_label_selector(params.get("labelSelector", ""))
                    fields = rules.parse_field_selector(plural, params.get("fieldSelector", ""))
                except ValueError as error:
                    return 400, rules.status(400, str(error), "BadRequest")
                items = [o for (a, p, n, _), o in sorted(self.objects.items()) if a == api and p == plural and n == ns
                         and rules.labels_match(labels, o["metadata"].get("labels") or {})
                         and rules.fields_match(fields, o)]
                return 200, {"kind": kind + "List", "apiVersion": api,
                             "metadata": {"resourceVersion": str(self._version)}, "items": items}
            if name is None and method == "POST":
                if not isinstance(body, dict):
                    return 400, rules.status(400, "the body of the request was in an unknown format", "BadRequest")
                meta = body.setdefault("metadata", {})
                if meta.get("namespace") not in (None, ns):
                    return 400, rules.status(400, "the namespace of the provided object does not match "
                                                  "the namespace sent on the request", "BadRequest")
                if "name" not in meta and "generateName" in meta:
                    meta["name"] = "%s%05x" % (meta["generateName"], (self._version * 7919 + 12345) % 0xFFFFF)
                causes = rules.validate(api, kind, body)
                if causes:
                    return 422, rules.invalid(qualified, group, plural, str(meta.get("name", "")), causes)
                key = (api, plural, ns, meta["name"])
                if key in self.objects:
                    return 409, rules.status(409, '%s "%s" already exists' % (qualified, key[3]), "AlreadyExists",
                                             {"name": key[3], "group": group, "kind": plural})
                if kind == "Secret" and "stringData" in body:   # the server stores stringData as data
                    data = body.setdefault("data", {})
                    for k, v in body.pop("stringData").items():
                        data[k] = base64.b64encode(str(v).encode()).decode()
                if kind == "Job":
                    body["status"] = {}
                self._stamp(body, ns)
                self.objects[key] = body
                if self.run_jobs and kind == "Job":
                    threading.Thread(target=self._control_job, args=(ns, body["metadata"]["name"]),
                                     daemon=True).start()
                return 201, body
            key = (api, plural, ns, name)
            current = self.objects.get(key)
            if method == "GET" and sub == "log" and plural == "pods":
                if current is None:
                    return 404, gone
                return 200, self.logs.get((ns, name), "").encode()
            if method == "GET":
                return (200, current) if current else (404, gone)
            if method == "PUT":
                if not isinstance(body, dict):
                    return 400, rules.status(400, "the body of the request was in an unknown format", "BadRequest")
                meta = body.setdefault("metadata", {})
                if meta.get("name") != name:
                    return 400, rules.status(400, "the name of the object (%s) does not match the name on "
                                                  "the URL (%s)" % (meta.get("name"), name), "BadRequest")
                if meta.get("namespace") not in (None, ns):
                    return 400, rules.status(400, "the namespace of the provided object does not match "
                                                  "the namespace sent on the request", "BadRequest")
                if current is None:
                    return 404, gone
                version = meta.get("resourceVersion")
                if not version and group not in BUILTIN_GROUPS:
                    return 422, rules.invalid(qualified, group, plural, name, [
                        ("metadata.resourceVersion", 0, "must be specified for an update")])
                if version and version != current["metadata"]["resourceVersion"]:
                    return 409, rules.status(
                        409, 'Operation cannot be fulfilled on %s "%s": the object has been modified; please '
                             "apply your changes to the latest version and try again" % (qualified, name),
                        "Conflict", {"name": name, "group": group, "kind": plural})
                causes = rules.validate(api, kind, body)
                if causes:
                    return 422, rules.invalid(qualified, group, plural, name, causes)
                for kept in ("uid", "creationTimestamp"):
                    meta[kept] = current["metadata"].get(kept)
                if sub != "status" and "status" in current:   # the main resource ignores status
                    body["status"] = current["status"]
                self._stamp(body, ns)
                self.objects[key] = body
                return 200, body
            if method == "DELETE":
                if current is None:
                    return 404, gone
                del self.objects[key]
                if kind == "Job":   # propagation: its pods go too (and their processes)
                    for pod_key in [k for k, o in self.objects.items() if k[1] == "pods" and k[2] == ns
                                    and (o["metadata"].get("labels") or {}).get("job-name") == name]:
                        self._remove_pod(ns, pod_key[3])
                if kind == "Pod":
                    self._remove_pod(ns, name)
                return 200, rules.status(200, "deleted", details={"name": name, "group": group, "kind": plural})
        return 405, rules.status(405, "the server does not allow this method on the requested resource",
                                 "MethodNotAllowed")

    def _stamp(self, body: dict[str, Any], ns: str) -> None:
        self._version += 1
        meta = body.setdefault("metadata", {})
        meta["namespace"] = ns
        meta["resourceVersion"] = str(self._version)
        if not meta.get("creationTimestamp"):
            meta["creationTimestamp"] = f"2026-01-01T00:{self._version // 60 % 60:02d}:{self._version % 60:02d}Z"
        if not meta.get("uid"):
            meta["uid"] = "00000000-0000-4000-8000-%012d" % self._version   # as the API server does

    # -- a tiny cluster: the Job controller, the scheduler and the kubelet ------------------------

    def _get(self, api: str, plural: str, ns: str, name: str) -> dict[str, Any] | None:
        with self._lock:
            obj = self.objects.get((api, plural, ns, name))
            return json.loads(json.dumps(obj)) if obj is not None else None

    def _put(self, api: str, plural: str, ns: str, obj: dict[str, Any], only_if_present: bool = False) -> bool:
        with self._lock:
            key = (api, plural, ns, obj["metadata"]["name"])
            if only_if_present and key not in self.objects:
                return False
            self._stamp(obj, ns)
            self.objects[key] = obj
            return True

    def _remove_pod(self, ns: str, name: str) -> None:
        with self._lock:
            self.objects.pop(("v1", "pods", ns, name), None)
            self._bound.pop((ns, name), None)
            proc = self._procs.pop((ns, name), None)
        if proc is not None:
            _kill(proc)

    def _job_status(self, ns: str, name: str, **changes: Any) -> dict[str, Any] | None:
        with self._lock:
            job = self._get("batch/v1", "jobs", ns, name)
            if job is None:
                return None
            status = job.setdefault("status", {})
            for k, v in changes.items():
                if v is None:
                    status.pop(k, None)
                else:
                    status[k] = v
            self._put("batch/v1", "jobs", ns, job, only_if_present=True)
            return job

    def _control_job(self, ns: str, name: str) -> None:
        job = self._get("batch/v1", "jobs", ns, name)
        if job is None:
            return
        spec = job["spec"]
        backoff = spec.get("backoffLimit", 6)
        deadline = spec.get("activeDeadlineSeconds")
        started = time.monotonic()
        ends = started + deadline if deadline else None
        self._job_status(ns, name, startTime=_now())
        failed = 0
        for attempt in range(backoff + 1):
            pod_name = "%s-%d" % (name, attempt)
            self._job_status(ns, name, active=1)
            outcome = self._run_pod(ns, name, pod_name, job, ends)
            if outcome == "deleted":
                return
            if outcome == "deadline":
                self._remove_pod(ns, pod_name)
                self._job_status(ns, name, active=None, failed=failed + 1, conditions=[_condition(
                    "Failed", "DeadlineExceeded", "Job was active longer than specified deadline")])
                return
            if outcome == 0:
                self._job_status(ns, name, active=None, succeeded=1, completionTime=_now(),
                                 conditions=[_condition("Complete", None, None)])
                return
            failed += 1
            self._job_status(ns, name, active=None, failed=failed)
        self._job_status(ns, name, conditions=[_condition(
            "Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit")])

    def _run_pod(self, ns: str, job_name: str, pod_name: str, job: dict[str, Any], ends: float | None) -> Any:
        """Create the pod, hold it Pending until it can start, run it: its exit code, or
        "deadline" (the Job's deadline passed) or "deleted" (the Job or pod was deleted)."""
        template = job["spec"]["template"]
        pod_spec = json.loads(json.dumps(template["spec"]))
        labels = {**((template.get("metadata") or {}).get("labels") or {}), "job-name": job_name,
                  "batch.kubernetes.io/job-name": job_name}
        pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {
            "name": pod_name, "labels": labels,
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "Job", "name": job_name,
                                 "uid": job["metadata"]["uid"], "controller": True}]},
            "spec": pod_spec, "status": {"phase": "Pending"}}
        self._put("v1", "pods", ns, json.loads(json.dumps(pod)))
        container = pod_spec["containers"][0]
        while True:
            if self._get("batch/v1", "jobs", ns, job_name) is None or self._get("v1", "pods", ns, pod_name) is None:
                return "deleted"
            if ends is not None and time.monotonic() >= ends:
                return "deadline"
            waiting, env = self._resolve(ns, pod_spec, container)
            if waiting is None:
                node, unschedulable = self._schedule(ns, pod_name, pod_spec)
                if node is not None:
                    break
                status = {"phase": "Pending", "conditions": [{
                    "type": "PodScheduled", "status": "False", "reason": "Unschedulable",
                    "message": unschedulable}]}
            else:
                status = {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "True"}],
                          "containerStatuses": [{"name": container.get("name", "main"), "ready": False,
                                                 "restartCount": 0, "image": container.get("image", ""),
                                                 "imageID": "", "state": {"waiting": waiting}}]}
            current = self._get("v1", "pods", ns, pod_name)
            if current is not None and current.get("status") != status:
                current["status"] = status
                self._put("v1", "pods", ns, current, only_if_present=True)
            time.sleep(self.tick)
        return self._start(ns, pod_name, pod_spec, container, env, node, ends)

    def _start(self, ns, pod_name, pod_spec, container, env, node, ends) -> Any:
        argv = list(container.get("command") or []) + list(container.get("args") or [])
        if argv and argv[0] == "python":
            argv[0] = sys.executable
        env = {**env, **self.extra_env}
        running = self._get("v1", "pods", ns, pod_name)
        if running is None:
            return "deleted"
        running["spec"]["nodeName"] = node
        running["status"] = {"phase": "Running", "conditions": [{"type": "PodScheduled", "status": "True"}],
                             "containerStatuses": [{"name": container.get("name", "main"), "ready": True,
                                                    "restartCount": 0, "image": container.get("image", ""),
                                                    "imageID": "", "state": {"running": {"startedAt": _now()}}}]}
        self._put("v1", "pods", ns, running, only_if_present=True)
        with tempfile.TemporaryDirectory(prefix="k8s-double-") as cwd, \
                tempfile.TemporaryFile("w+") as out:
            try:
                proc = subprocess.Popen(argv, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, text=True,
                                        start_new_session=True)
            except OSError as error:
                code: Any = 128
                out.write(str(error))
            else:
                with self._lock:
                    self._procs[(ns, pod_name)] = proc
                code = None
                while code is None:
                    try:
                        code = proc.wait(timeout=self.tick)
                    except subprocess.TimeoutExpired:
                        if ends is not None and time.monotonic() >= ends:
                            _kill(proc)
                            code = "deadline"
                        elif (ns, pod_name) not in self._procs:
                            _kill(proc)
                            code = "deleted"
                with self._lock:
                    self._procs.pop((ns, pod_name), None)
                    self._bound.pop((ns, pod_name), None)
            out.seek(0)
            text = out.read()
        self.logs[(ns, pod_name)] = text
        self.ran.append({"name": pod_name, "namespace": ns, "argv": argv, "env": env,
                         "exit_code": code, "container": container, "pod_spec": pod_spec, "log": text})
        if not isinstance(code, int):
            return code
        done = self._get("v1", "pods", ns, pod_name)
        if done is None:
            return "deleted"
        done["status"] = {"phase": "Succeeded" if code == 0 else "Failed", "containerStatuses": [
            {"name": container.get("name", "main"), "ready": False, "restartCount": 0,
             "image": container.get("image", ""), "imageID": "",
             "state": {"terminated": {"exitCode": code, "reason": "Completed" if code == 0 else "Error"}}}]}
        self._put("v1", "pods", ns, done, only_if_present=True)
        return code

    def _resolve(self, ns: str, pod_spec: dict[str, Any], container: dict[str, Any]):
        """(waiting state or None, env): the container's env with its references resolved."""
        def data_of(kind: str, name: str) -> dict[str, str] | None:
            obj = self._get("v1", "secrets" if kind == "Secret" else "configmaps", ns, name)
            if obj is None:
                return None
            if kind == "Secret":
                return {k: base64.b64decode(v).decode("utf-8", "replace") for k, v in (obj.get("data") or {}).items()}
            return dict(obj.get("data") or {})

        for volume in pod_spec.get("volumes") or []:
            for kind, ref, field in (("Secret", volume.get("secret"), "secretName"),
                                     ("ConfigMap", volume.get("configMap"), "name")):
                if ref and not ref.get("optional") and data_of(kind, ref[field]) is None:
                    return {"reason": "ContainerCreating",
                            "message": 'MountVolume.SetUp failed for volume "%s": %s "%s" not found'
                                       % (volume["name"], kind.lower(), ref[field])}, {}
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            if claim and self._get("v1", "persistentvolumeclaims", ns, claim) is None:
                return {"reason": "ContainerCreating",
                        "message": 'persistentvolumeclaim "%s" not found' % claim}, {}
        env: dict[str, str] = {}
        for source in container.get("envFrom") or []:
            for kind, ref in (("Secret", source.get("secretRef")), ("ConfigMap", source.get("configMapRef"))):
                if not ref:
                    continue
                data = data_of(kind, ref["name"])
                if data is None:
                    if ref.get("optional"):
                        continue
                    return {"reason": "CreateContainerConfigError",
                            "message": '%s "%s" not found' % (kind.lower(), ref["name"])}, {}
                env.update({source.get("prefix", "") + k: v for k, v in data.items()})
        for item in container.get("env") or []:
            if "valueFrom" not in item:
                env[item["name"]] = str(item.get("value", ""))
                continue
            source = item["valueFrom"]
            for kind, ref in (("Secret", source.get("secretKeyRef")), ("ConfigMap", source.get("configMapKeyRef"))):
                if not ref:
                    continue
                data = data_of(kind, ref["name"])
                if data is None or ref["key"] not in data:
                    if ref.get("optional"):
                        break
                    message = ('%s "%s" not found' % (kind.lower(), ref["name"]) if data is None else
                               "couldn't find key %s in %s %s/%s" % (ref["key"], kind, ns, ref["name"]))
                    return {"reason": "CreateContainerConfigError", "message": message}, {}
                env[item["name"]] = data[ref["key"]]
            field_ref = (source.get("fieldRef") or {}).get("fieldPath")
            if field_ref:
                env[item["name"]] = {"metadata.namespace": ns}.get(field_ref, "")
        return None, env

    def _schedule(self, ns: str, pod_name: str, pod_spec: dict[str, Any]) -> tuple[str | None, str]:
        """Bind the pod to the first node with room that its node selector accepts, or say why not."""
        wanted: dict[str, Decimal] = {}
        for container in pod_spec.get("containers") or []:
            resources = container.get("resources") or {}
            for resource, value in {**(resources.get("limits") or {}), **(resources.get("requests") or {})}.items():
                wanted[resource] = wanted.get(resource, Decimal(0)) + rules.parse_quantity(value)
        selector = pod_spec.get("nodeSelector") or {}
        reasons: dict[str, int] = {}
        with self._lock:
            for node in self.nodes:
                name = node["metadata"]["name"]
                if any((node["metadata"].get("labels") or {}).get(k) != v for k, v in selector.items()):
                    reasons["node(s) didn't match Pod's node affinity/selector"] = \
                        reasons.get("node(s) didn't match Pod's node affinity/selector", 0) + 1
                    continue
                allocatable = {k: rules.parse_quantity(v) for k, v in (node["status"].get("allocatable") or {}).items()}
                used: dict[str, Decimal] = {}
                for bound_node, requests in self._bound.values():
                    if bound_node == name:
                        for k, v in requests.items():
                            used[k] = used.get(k, Decimal(0)) + v
                short = [r for r, v in sorted(wanted.items()) if v > allocatable.get(r, Decimal(0)) - used.get(r, Decimal(0))]
                if not short:
                    self._bound[(ns, pod_name)] = (name, wanted)
                    return name, ""
                for r in short:
                    reasons["Insufficient %s" % r] = reasons.get("Insufficient %s" % r, 0) + 1
        detail = ", ".join("%d %s" % (n, r) for r, n in sorted(reasons.items()))
        return None, "0/%d nodes are available%s." % (len(self.nodes), ": " + detail if detail else "")

    def _handler(self):
        double = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except ValueError:
                    code, payload = 400, rules.status(400, "the body of the request was in an unknown format", "BadRequest")
                else:
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

            def do_PATCH(self):
                self._serve("PATCH")

            def do_DELETE(self):
                self._serve("DELETE")

            def log_message(self, *args):
                pass

        return Handler


def node(name: str, cpu: str, memory: str, gpu: int = 0, labels: dict[str, str] | None = None,
         gpu_resource: str = "nvidia.com/gpu") -> dict[str, Any]:
    """A Node object for `KubeDouble.nodes` (allocatable as the kubelet reports it)."""
    allocatable = {"cpu": cpu, "memory": memory, "pods": "110", "ephemeral-storage": "100Gi"}
    if gpu:
        allocatable[gpu_resource] = str(gpu)
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {}, "status": {"allocatable": allocatable, "capacity": dict(allocatable)}}


def secret(name: str, data: dict[str, str]) -> dict[str, Any]:
    """A v1 Secret with `data` base64-encoded, as stored."""
    return {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": name}, "type": "Opaque",
            "data": {k: base64.b64encode(v.encode()).decode() for k, v in data.items()}}


def _condition(kind: str, reason: str | None, message: str | None) -> dict[str, Any]:
    cond = {"type": kind, "status": "True", "lastTransitionTime": _now(), "lastProbeTime": _now()}
    if reason:
        cond["reason"] = reason
    if message:
        cond["message"] = message
    return cond


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _kill(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, 9)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        pass
