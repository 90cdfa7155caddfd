"""Every way a Kubernetes task of `flowc run` can go wrong, against tests/k8s_double.py acting as a
cluster: the API refuses the Job, the pod fails with an exit code, the Job hits its backoff limit or
its deadline, the pod stays Pending (no node has room, a Secret is missing), the API fails while the
task is followed, the logs cannot be read. Each must end the task with the pod's exit code or a
clear message, and never poll forever."""
from __future__ import annotations

import os
import time
from dataclasses import replace

import pytest

from compiler.runner.backends import BackendError, RemoteTask
from compiler.runner.backends import kubernetes as kb
from compiler.runtime_spec import plan_for_file
from compiler.settings import resolve
from tests.k8s_double import KubeDouble, node, secret

FLOWS = os.path.join(os.path.dirname(__file__), "flows", "shared", "valid")
SETTINGS = resolve({"datastore": "s3://b/root", "k8s_namespace": "team", "image": "py:3.12",
                    "s3_endpoint": "http://127.0.0.1:9"}, environ={})


@pytest.fixture
def kube():
    double = KubeDouble().start()
    double.run_jobs = True
    double.nodes = [node("worker-1", "4", "16Gi")]
    try:
        yield double
    finally:
        double.stop()


def _client(double):
    from kubernetes import client

    config = client.Configuration()
    config.host = double.url
    return client.ApiClient(config)


def _step(**compute):
    plan, _ = plan_for_file(os.path.join(FLOWS, "hybrid_cloud.py"), None, SETTINGS)
    step = plan.steps["start"]
    return replace(step, compute=replace(step.compute, **compute)) if compute else step


def _backend(double, command=None, **kwargs):
    """The real backend; `command` replaces only the container's command (a stand-in task).
    Every wait is bounded here, so a regression fails the test instead of hanging it."""
    kwargs = {"pending_seconds": 20, "deadline_grace": 5, "api_error_seconds": 10, **kwargs}
    backend = kb.KubernetesBackend(SETTINGS, "HybridCloudFlow", "abc", "s3://b/root/c.zip",
                                   api_client=_client(double), poll_seconds=0.05, **kwargs)
    if command is not None:
        manifest = backend.job_manifest

        def patched(task):
            job = manifest(task)
            job["spec"]["template"]["spec"]["containers"][0]["command"] = ["python", "-c", command]
            return job
        backend.job_manifest = patched   # type: ignore[method-assign]
    return backend


def _task(step=None, attempt=0):
    step = step or _step()
    return RemoteTask("HybridCloudFlow", "r1", step, "t-1", attempt, ["task", "--step", step.name], {})


def _run(backend, task):
    lines: list[str] = []
    began = time.monotonic()
    rc = backend.run_task(task, lines.append)
    return rc, lines, time.monotonic() - began


def test_a_succeeding_pod_returns_0_and_its_logs(kube):
    rc, lines, _ = _run(_backend(kube, "print('hello from the pod')"), _task())
    assert rc == 0, lines
    assert "hello from the pod" in lines
    assert any(line.endswith(" is Succeeded") for line in lines)


def test_the_pods_exit_code_is_the_tasks(kube):
    rc, lines, _ = _run(_backend(kube, "import sys; print('boom'); sys.exit(7)"), _task())
    assert rc == 7, lines
    assert "boom" in lines
    assert any("BackoffLimitExceeded" in line for line in lines), lines   # backoffLimit 0: one pod
    assert [r["exit_code"] for r in kube.ran] == [7]


def test_a_job_past_its_deadline_is_killed_and_named(kube, monkeypatch):
    """@timeout gives the Job activeDeadlineSeconds (the backstop); the cluster kills the pod there."""
    from compiler.compute import container

    monkeypatch.setattr(container, "backstop_seconds", lambda seconds: 2 if seconds else None)
    step = replace(_step(), timeout_seconds=1)
    backend = _backend(kube, "import time; time.sleep(20)")
    assert backend.job_manifest(_task(step))["spec"]["activeDeadlineSeconds"] == 2
    rc, lines, took = _run(backend, _task(step))
    assert rc != 0
    assert any("DeadlineExceeded" in line and "deadline" in line for line in lines), lines
    assert took < 15, took
    assert kube.of_kind("pods") == []      # the Job controller removed its active pod


def test_job_manifest_carries_the_backstop_deadline(kube):
    from compiler.compute.container import backstop_seconds

    job = _backend(kube).job_manifest(_task(replace(_step(), timeout_seconds=120)))
    assert job["spec"]["activeDeadlineSeconds"] == backstop_seconds(120)
    assert "activeDeadlineSeconds" not in _backend(kube).job_manifest(_task())["spec"]


def test_an_unschedulable_pod_ends_the_task_with_the_reason(kube):
    """No node has 64 CPUs: the pod stays Pending; the task ends after pending_seconds, says why
    and deletes the Job, instead of polling forever."""
    step = _step(cpu=64)
    rc, lines, took = _run(_backend(kube, "print('never')", pending_seconds=1), _task(step))
    assert rc == 1
    text = "\n".join(lines)
    assert "Unschedulable" in text and "Insufficient cpu" in text and "still Pending" in text, text
    assert "deleting the Job" in text
    assert took < 10, took
    assert kube.of_kind("jobs") == [] and kube.of_kind("pods") == [] and kube.ran == []


def test_a_pending_pod_outliving_the_jobs_deadline_ends_the_task(kube, monkeypatch):
    """A cluster that does not enforce activeDeadlineSeconds: the backend stops at deadline + grace."""
    from compiler.compute import container

    monkeypatch.setattr(container, "backstop_seconds", lambda seconds: 1 if seconds else None)
    backend = _backend(kube, "print('never')", deadline_grace=1)
    manifest = backend.job_manifest

    def unenforced(task):
        job = manifest(task)
        job["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"cpu": "64"}}
        return job
    backend.job_manifest = unenforced   # type: ignore[method-assign]
    kube.run_jobs = False                # no controller: the Job never gets a pod nor a condition
    rc, lines, took = _run(backend, _task(replace(_step(), timeout_seconds=1)))
    assert rc == 1 and took < 10, (took, lines)
    assert any("did not finish within its deadline of 1s" in line for line in lines), lines
    assert kube.of_kind("jobs") == []


def test_a_missing_secret_keeps_the_pod_pending_then_ends_the_task(kube):
    step = _step(k8s_secrets=("db-credentials",))
    rc, lines, _ = _run(_backend(kube, "print('never')", pending_seconds=1), _task(step))
    assert rc == 1
    assert any('CreateContainerConfigError: secret "db-credentials" not found' in line for line in lines), lines


def test_secret_references_reach_the_pods_process(kube):
    kube.add(secret("db-credentials", {"DB_PASSWORD": "s3cret-value"}), namespace="team")
    step = _step(k8s_secrets=("db-credentials",))
    rc, lines, _ = _run(_backend(kube, "import os; print('pw=' + os.environ['DB_PASSWORD'])"), _task(step))
    assert rc == 0, lines
    assert "pw=s3cret-value" in lines
    job = kube.of_kind("jobs")[0]
    assert "s3cret-value" not in repr(job)      # a reference in the manifest, never the value


def test_a_refused_job_is_exit_3_with_the_servers_reason(kube):
    kube.refuse = lambda method, path: 403 if method == "POST" else None
    rc, lines, _ = _run(_backend(kube), _task())
    assert rc == 3
    assert lines == ["cannot create the Kubernetes Job team/flowc-hybridcloudflow-r1-start-t-1-a0: refused by the test"]


def test_an_invalid_job_is_refused_with_the_validation_message(kube):
    backend = _backend(kube)
    manifest = backend.job_manifest

    def bad_quantity(task):
        job = manifest(task)
        job["spec"]["template"]["spec"]["containers"][0]["resources"] = {"requests": {"memory": "4 GB"}}
        return job
    backend.job_manifest = bad_quantity   # type: ignore[method-assign]
    rc, lines, _ = _run(backend, _task())
    assert rc == 3
    assert "is invalid" in lines[0] and "resources.requests[memory]" in lines[0], lines


def test_an_existing_job_of_the_same_attempt_is_refused(kube):
    backend = _backend(kube, "print(1)")
    assert _run(backend, _task())[0] == 0
    rc, lines, _ = _run(backend, _task())
    assert rc == 3 and "already exists" in lines[0], lines


def test_a_job_deleted_while_followed_ends_the_task(kube):
    backend = _backend(kube, "import time; time.sleep(20)")
    kube.refuse = lambda method, path: 404 if method == "GET" and "/jobs/" in path else None
    rc, lines, took = _run(backend, _task())
    assert rc == 1 and took < 10
    assert any(line.startswith("cannot read Job team/") for line in lines), lines


def test_transient_api_errors_are_retried(kube):
    backend = _backend(kube, "print('done')")
    failures = {"left": 3}

    def flaky(method, path):
        if method == "GET" and path.endswith("/status") and failures["left"]:
            failures["left"] -= 1
            return 500
        return None
    kube.refuse = flaky
    rc, lines, _ = _run(backend, _task())
    assert rc == 0, lines
    assert sum("retrying" in line for line in lines) == 3


def test_api_errors_that_do_not_stop_end_the_task(kube):
    backend = _backend(kube, "import time; time.sleep(20)", api_error_seconds=0.5)
    kube.refuse = lambda method, path: 503 if method == "GET" else None
    rc, lines, took = _run(backend, _task())
    assert rc == 1 and took < 10, lines
    assert "deleting the Job" in lines[-1] or any("deleting the Job" in line for line in lines)


def test_unreadable_logs_are_named_and_the_exit_code_kept(kube):
    backend = _backend(kube, "import sys; sys.exit(4)")
    kube.refuse = lambda method, path: 500 if path.endswith("/log") else None
    rc, lines, _ = _run(backend, _task())
    assert rc == 4
    assert any(line.startswith("cannot read the logs of pod flowc-") for line in lines), lines


def test_a_step_without_a_namespace_is_refused_before_the_run():
    settings = resolve({"datastore": "s3://b/root", "image": "py:3.12"}, environ={})
    backend = kb.KubernetesBackend(settings, "F", "abc", "s3://b/c.zip", api_client=object())
    with pytest.raises(BackendError, match="k8s_namespace"):
        backend.prepare([_step(namespace=None)])


def test_no_kubeconfig_is_a_backend_error(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "absent"))
    monkeypatch.delenv("KUBERNETES_SERVICE_HOST", raising=False)
    with pytest.raises(BackendError, match="the @kubernetes steps need it"):
        kb.load_api_client(SETTINGS)
