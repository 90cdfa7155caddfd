"""What the hybrid backends send: the Kubernetes Job and the Batch SubmitJob of one task attempt."""
from __future__ import annotations

import os
from dataclasses import replace

from compiler.runner.backends import RemoteTask, job_name
from compiler.runner.backends.kubernetes import KubernetesBackend
from compiler.runtime_spec import plan_for_file
from compiler.settings import resolve

FLOWS = os.path.join(os.path.dirname(__file__), "flows", "shared", "valid")
SETTINGS = resolve({"datastore": "s3://b/root", "k8s_namespace": "team", "image": "py:3.12",
                    "s3_endpoint": "http://127.0.0.1:9"}, environ={})


def _task(step, attempt=0):
    return RemoteTask("HybridCloudFlow", "r1", step, "t-2", attempt,
                      ["task", "--datastore", "s3://b/root", "--run-id", "r1", "--step", step.name,
                       "--index-path", "2", "--attempt", str(attempt)], {"A": "1"})


def test_kubernetes_job_manifest():
    plan, _ = plan_for_file(os.path.join(FLOWS, "hybrid_cloud.py"), None, SETTINGS)   # lowered with the settings in use
    step = plan.steps["prepare_data"]
    step = replace(step, env={"A": "1"}, compute=replace(
        step.compute, gpu=1, node_selector=(("pool", "gpu"),),
        tolerations=((("effect", "NoSchedule"), ("key", "gpu"), ("operator", "Exists")),)))
    backend = KubernetesBackend(SETTINGS, "HybridCloudFlow", "abc", "s3://b/root/HybridCloudFlow/code/abc.zip",
                                api_client=object())
    job = backend.job_manifest(_task(step, attempt=1))
    assert job["kind"] == "Job" and job["spec"]["backoffLimit"] == 0
    assert job["metadata"]["name"] == "flowc-hybridcloudflow-r1-prepare-data-t-2-a1"
    pod = job["spec"]["template"]["spec"]
    assert pod["restartPolicy"] == "Never"
    assert pod["nodeSelector"] == {"pool": "gpu"}
    assert pod["tolerations"] == [{"key": "gpu", "operator": "Exists", "effect": "NoSchedule"}]
    (container,) = pod["containers"]
    assert container["image"] == "py:3.12"
    assert container["command"][:3] == ["python", "-c", 'import os;exec(os.environ["FLOWC_BOOTSTRAP"])']
    assert container["command"][3:6] == ["task", "--datastore", "s3://b/root"]
    env = {e["name"]: e["value"] for e in container["env"]}
    assert env["FLOWC_CODE_URL"] == "s3://b/root/HybridCloudFlow/code/abc.zip"
    assert env["FLOWC_CODE_SHA256"] == "abc" and env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert env["A"] == "1" and "FLOWC_BOOTSTRAP" in env
    assert container["resources"]["requests"]["cpu"] == "1"
    assert container["resources"]["limits"] == {"nvidia.com/gpu": "1"}


def test_batch_submit_request():
    from compiler.runner.backends.batch import BatchBackend

    plan, _ = plan_for_file(os.path.join(FLOWS, "hybrid_cloud.py"), None, SETTINGS)   # lowered with the settings in use
    step = replace(plan.steps["train"], timeout_seconds=30)

    class Session:
        def client(self, name):
            return None

    backend = BatchBackend(SETTINGS, "HybridCloudFlow", "abc", "s3://b/x.zip", session=Session())
    backend.definitions["train"] = "flowc-def"
    request = backend.submit_request(_task(step))
    assert request["jobQueue"] == "gpu-queue" and request["jobDefinition"] == "flowc-def"
    overrides = request["containerOverrides"]
    assert overrides["command"][3:5] == ["task", "--datastore"]
    assert {"type": "GPU", "value": "2"} in overrides["resourceRequirements"]
    assert overrides["environment"] == [{"name": "A", "value": "1"}]
    assert request["timeout"] == {"attemptDurationSeconds": 90}


def test_job_names_are_valid_everywhere():
    name = job_name("flowc", "A" * 80, "run_1", "step.x", "t-1-2.3", "a0")
    assert len(name) <= 63 and name == name.lower() and name[0].isalnum() and name[-1].isalnum()
