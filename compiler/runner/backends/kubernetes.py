"""Run a task as a Kubernetes Job (the kubernetes client), for `flowc run` hybrid runs.

The pod runs the same container as the compiled targets' deployed pods: the bootstrap
(templates/bootstrap.py.j2, in env FLOWC_BOOTSTRAP) fetches the code package from the datastore
and runs `runtime_shim task ...args`. Image, resources, node selector, tolerations, secrets,
volumes and labels come from the step's resolved Compute through the shared pod builders
(compiler.compute.kubernetes). One Job per attempt (backoffLimit 0): the runner retries.

A task always ends: when the Job completes or fails (its conditions: BackoffLimitExceeded,
DeadlineExceeded), when its pod stays Pending (unschedulable, a missing Secret/ConfigMap/PVC, an
image that cannot be pulled) longer than `pending_seconds`, when the Job outlives its own
activeDeadlineSeconds by `deadline_grace` (a cluster that did not enforce it), or when the API
answers 401/403/404 or keeps failing for `api_error_seconds`. Then the Job is deleted and the
reason is printed.
"""
from __future__ import annotations

import json
import time
from typing import Any

from compiler.ir import StepPlan
from compiler.runner.backends import Backend, BackendError, LineSink, RemoteTask, job_name, require


def load_api_client(settings: Any = None):
    """The kubernetes ApiClient (compiler.compute.kubernetes.load_api_client), or BackendError."""
    from compiler.compute.kubernetes import KubeConfigError
    from compiler.compute.kubernetes import load_api_client as load

    try:
        return load(settings)
    except KubeConfigError as error:
        raise BackendError("%s; the @kubernetes steps need it" % error) from None


class KubernetesBackend(Backend):
    name = "kubernetes"

    def __init__(self, settings: Any, flow_name: str, code_sha256: str, code_url: str, *,
                 api_client=None, poll_seconds: float = 1.0, pending_seconds: float = 900.0,
                 deadline_grace: float = 60.0, api_error_seconds: float = 300.0):
        from kubernetes import client

        self.settings = settings
        self.flow_name = flow_name
        self.code_sha256 = code_sha256
        self.code_url = code_url
        self.poll = poll_seconds
        self.pending_seconds = pending_seconds      # a pod Pending longer than this ends the task
        self.deadline_grace = deadline_grace        # after the Job's own deadline, before giving up
        self.api_error_seconds = api_error_seconds  # API errors in a row for longer than this end it
        self.api_client = api_client or load_api_client(settings)
        self.batch = client.BatchV1Api(self.api_client)
        self.core = client.CoreV1Api(self.api_client)

    def namespace_of(self, step: StepPlan) -> str:
        return step.compute.namespace or require(
            self.settings, "k8s_namespace",
            "step %s runs on Kubernetes without @kubernetes(namespace=...)" % step.name)

    def prepare(self, steps: list[StepPlan]) -> None:
        for step in steps:
            self.namespace_of(step)

    def job_manifest(self, task: RemoteTask) -> dict[str, Any]:
        from compiler.compute import kubernetes as k8s
        from compiler.compute.container import COMMAND_PREFIX, backstop_seconds, base_environment, image_of

        step = task.step
        compute = step.compute
        template: dict[str, Any] = {}
        container: dict[str, Any] = {
            "name": "task",
            "image": image_of(compute, self.settings),
            "command": list(COMMAND_PREFIX) + list(task.args),
        }
        k8s.apply_pod_settings(template, container, step)
        step_env = container.pop("env", [])
        container["env"] = base_environment(code_url=self.code_url, code_sha256=self.code_sha256,
                                            settings=self.settings) + step_env
        container["resources"] = k8s.resources_of(compute)
        labels = {"app.kubernetes.io/managed-by": "flowc", "flowc/flow": job_name(self.flow_name),
                  "flowc/run": job_name(task.run_id), "flowc/step": job_name(step.name)}
        pod_meta = template.pop("metadata", {})
        pod_meta["labels"] = {**pod_meta.get("labels", {}), **labels}
        pod_spec: dict[str, Any] = {"restartPolicy": "Never", "containers": [container], **template}
        service_account = getattr(self.settings, "k8s_service_account", None)
        if service_account:
            pod_spec.setdefault("serviceAccountName", service_account)
        spec: dict[str, Any] = {"backoffLimit": 0, "ttlSecondsAfterFinished": 86400,
                                "template": {"metadata": pod_meta, "spec": pod_spec}}
        deadline = backstop_seconds(step.timeout_seconds)   # behind the runtime's own @timeout
        if deadline:
            spec["activeDeadlineSeconds"] = deadline
        name = job_name("flowc", self.flow_name, task.run_id, step.name, task.task_id,
                        "a%d" % task.attempt)
        return {"apiVersion": "batch/v1", "kind": "Job",
                "metadata": {"name": name, "labels": labels}, "spec": spec}

    def _read(self, call, *args, **kwargs) -> dict[str, Any]:
        response = call(*args, _preload_content=False, **kwargs)
        return json.loads(response.data or b"{}")

    def run_task(self, task: RemoteTask, line: LineSink) -> int:
        manifest = self.job_manifest(task)
        ns = self.namespace_of(task.step)
        name = manifest["metadata"]["name"]
        try:
            self.batch.create_namespaced_job(ns, manifest)  # type: ignore[arg-type]  # the client takes dicts too
        except Exception as error:  # noqa: BLE001
            line("cannot create the Kubernetes Job %s/%s: %s" % (ns, name, _api_reason(error)))
            return 3
        line("Kubernetes Job %s/%s created" % (ns, name))
        deadline = manifest["spec"].get("activeDeadlineSeconds")
        started = time.monotonic()
        # Past its deadline (plus grace) the cluster should have failed the Job; if it has not (a
        # pod that never left Pending), or a pod stays Pending past `pending_seconds`, give up.
        give_up = started + deadline + self.deadline_grace if deadline else None
        state, problem = None, ""
        pod: dict[str, Any] = {}
        pods: list[dict[str, Any]] = []
        pending_since: float | None = None
        api_failing_since: float | None = None
        while True:
            try:
                job = self._read(self.batch.read_namespaced_job_status, name, ns)
                pods = self._read(self.core.list_namespaced_pod, ns,
                                  label_selector="job-name=%s" % name).get("items", [])
                api_failing_since = None
            except Exception as error:  # noqa: BLE001 - transient API errors: keep polling, for a while
                code = getattr(error, "status", None)
                now = time.monotonic()
                api_failing_since = api_failing_since or now
                if code in (401, 403, 404) or now - api_failing_since > self.api_error_seconds:
                    problem = "cannot read Job %s/%s: %s" % (ns, name, _api_reason(error))
                    break
                line("reading Job %s failed (%s); retrying" % (name, _api_reason(error)))
                time.sleep(self.poll)
                continue
            pod = pods[-1] if pods else pod
            phase = _pod_state(pod) if pods else "Pending (no pod yet)"
            finished = _finished(job)
            if finished:
                phase = finished
            if phase != state:
                state = phase
                line("Kubernetes Job %s is %s" % (name, state))
            if finished:
                break
            now = time.monotonic()
            if phase.startswith("Pending"):
                pending_since = pending_since or now
                if now - pending_since > self.pending_seconds:
                    problem = "pod of Job %s/%s still %s after %ds" % (ns, name, phase, self.pending_seconds)
                    break
            else:
                pending_since = None
            if give_up is not None and now > give_up:
                problem = "Job %s/%s did not finish within its deadline of %ds (%s)" % (ns, name, deadline, phase)
                break
            time.sleep(self.poll)
        if problem:
            line(problem + "; deleting the Job")
            self._delete(name, ns, line)
            if pods:
                self._print_logs(pod, ns, line)
            return 1
        if pods:
            self._print_logs(pod, ns, line)
        if state == "Succeeded":
            return 0
        return _exit_code(pod) or 1

    def _delete(self, name: str, ns: str, line: LineSink) -> None:
        try:
            self.batch.delete_namespaced_job(name, ns, propagation_policy="Background")
        except Exception as error:  # noqa: BLE001 - best effort: the run fails either way
            line("cannot delete Job %s/%s: %s" % (ns, name, _api_reason(error)))

    def _print_logs(self, pod: dict, ns: str, line: LineSink) -> None:
        name = pod.get("metadata", {}).get("name")
        try:
            raw = self.core.read_namespaced_pod_log(name, ns, _preload_content=False)
            text = raw.data  # type: ignore[attr-defined]  # an urllib3 response without preloading
        except Exception as error:  # noqa: BLE001 - logs are best effort
            line("cannot read the logs of pod %s: %s" % (name, _api_reason(error)))
            return
        for raw in (text or b"").decode("utf-8", "replace").splitlines():
            line(raw)


def _pod_state(pod: dict) -> str:
    status = pod.get("status") or {}
    phase = status.get("phase") or "Pending"
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("status") == "False":
            return "%s (%s: %s)" % (phase, cond.get("reason"), cond.get("message"))
    if phase == "Pending":   # scheduled, but the container cannot start (missing Secret, image, ...)
        for cs in status.get("containerStatuses") or []:
            waiting = (cs.get("state") or {}).get("waiting") or {}
            if waiting.get("reason"):
                return "%s (%s: %s)" % (phase, waiting.get("reason"), waiting.get("message"))
    return phase


def _finished(job: dict) -> str | None:
    """"Succeeded", "Failed (reason: message)" from the Job's conditions, or None while it runs."""
    for cond in (job.get("status") or {}).get("conditions") or []:
        if cond.get("status") != "True":
            continue
        if cond.get("type") == "Complete":
            return "Succeeded"
        if cond.get("type") == "Failed":
            return "Failed (%s: %s)" % (cond.get("reason"), cond.get("message"))
    status = job.get("status") or {}
    if status.get("succeeded"):
        return "Succeeded"
    if (status.get("failed") or 0) > ((job.get("spec") or {}).get("backoffLimit") or 0) and not status.get("active"):
        return "Failed"
    return None


def _exit_code(pod: dict) -> int | None:
    for cs in (pod.get("status") or {}).get("containerStatuses") or []:
        terminated = (cs.get("state") or {}).get("terminated") or {}
        if terminated.get("exitCode"):
            return int(terminated["exitCode"])
    return None


def _api_reason(error: Exception) -> str:
    body = getattr(error, "body", None)
    if body:
        try:
            return json.loads(body).get("message") or str(body)
        except (ValueError, AttributeError):
            return str(body)
    return str(error)
