"""The resources-style flows (tests/flows/shared/valid: resources, cloud_options, hybrid_cloud,
big_sum, big_sum_batch, heavy_imports) need GPUs, 60 GB or torch, so no test runs them to an
`end` that could assert anything: their results ARE the compiled requests, asserted here per
step and per target, as each flow's docstring states them."""
from __future__ import annotations

import json
import os

from tests.argo.helpers import documents
from tests.stepfunctions import helpers as h

DEFAULT_BATCH = {"VCPU": "1", "MEMORY": "4096"}
SUBMITTER = {"requests": {"cpu": "100m", "memory": "256Mi", "ephemeral-storage": "1024Mi"}}   # an Argo pod that submits a Batch job


def _walk(obj):
    if isinstance(obj, dict):
        yield obj
        for value in obj.values():
            yield from _walk(value)
    elif isinstance(obj, list):
        for value in obj:
            yield from _walk(value)


def _batch_requests(flow: str) -> dict[str, tuple[dict[str, str], str]]:
    """Step Functions: job name -> (resource requirements, queue) of each Batch task state."""
    files, _ = h.emit(os.path.join(h.SHARED_VALID, flow + ".py"))
    asl = json.loads(files[0].content)
    # a state overrides resources only where the step differs from its job definition's request
    jobdefs = {d["jobDefinitionName"]: d for f in files if f.name.endswith(".jobdef.json") for d in f.documents}
    out = {}
    for state in _walk(asl):
        params = state.get("Parameters") or {}
        if "ContainerOverrides" in params:
            given = params["ContainerOverrides"].get("ResourceRequirements")
            if given is None:
                given = [{"Type": r["type"], "Value": r["value"]} for r in
                         jobdefs[params["JobDefinition"]]["containerProperties"]["resourceRequirements"]]
            out[params["JobName"]] = ({r["Type"]: r["Value"] for r in given}, params["JobQueue"])
    return out


def _argo_templates(flow: str) -> dict[str, dict]:
    docs = documents(os.path.join(h.SHARED_VALID, flow + ".py"))
    (template,) = [d for d in docs if d["kind"] == "WorkflowTemplate"]
    return {t["name"]: t for t in template["spec"]["templates"] if "container" in t}


def test_resources_flow():
    argo = _argo_templates("resources")
    assert "resources" not in argo["start"]["container"] and "resources" not in argo["end"]["container"]
    assert argo["small"]["container"]["resources"] == {"requests": {"cpu": "2", "memory": "8000Mi"}}
    gpu = argo["gpu-train"]["container"]          # the larger of @resources and @kubernetes
    assert gpu["resources"] == {"requests": {"cpu": "8", "memory": "32000Mi", "ephemeral-storage": "20480Mi"},
                                "limits": {"nvidia.com/gpu": "1"}}
    assert gpu["image"] == "python:3.11-slim"
    assert {"name": "MODE", "value": "train"} in gpu["env"] and {"name": "THREADS", "value": "8"} in gpu["env"]
    assert argo["on-batch"]["container"]["resources"] == SUBMITTER
    assert argo["on-batch"]["container"]["args"][argo["on-batch"]["container"]["args"].index("--queue") + 1] == "gpu-queue"
    batch = _batch_requests("resources")
    assert batch["ResourcesFlow-start"] == (DEFAULT_BATCH, "flowc-queue")
    assert batch["ResourcesFlow-small"] == ({"VCPU": "2", "MEMORY": "8000"}, "flowc-queue")
    assert batch["ResourcesFlow-on_batch"] == ({"VCPU": "4", "MEMORY": "16000", "GPU": "2"}, "gpu-queue")
    assert batch["ResourcesFlow-end"] == (DEFAULT_BATCH, "flowc-queue")


def test_cloud_options_flow():
    argo = _argo_templates("cloud_options")
    on_k8s = argo["on-k8s"]
    assert on_k8s["serviceAccountName"] == "trainer"
    assert on_k8s["container"]["envFrom"] == [{"secretRef": {"name": "s3-creds"}}]
    assert on_k8s["volumes"] == [{"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": "2048Mi"}}]
    assert on_k8s["metadata"] == {"labels": {"team": "forecast"}, "annotations": {"owner": "ml"}}
    batch = _batch_requests("cloud_options")
    assert batch["CloudOptionsFlow-on_batch"] == (DEFAULT_BATCH, "cpu-queue")
    files, _ = h.emit(os.path.join(h.SHARED_VALID, "cloud_options.py"))
    definitions = [json.loads(f.content) for f in files if f.name.endswith(".jobdef.json")]
    roles = {d["containerProperties"].get("jobRoleArn") for d in definitions}
    assert "arn:aws:iam::123456789012:role/flow-task" in roles
    shm = [d["containerProperties"].get("linuxParameters", {}).get("sharedMemorySize") for d in definitions]
    assert 1024 in shm, shm


def test_hybrid_cloud_flow():
    argo = _argo_templates("hybrid_cloud")
    assert "resources" not in argo["prepare-data"]["container"]        # @kubernetes: the defaults
    assert argo["train"]["container"]["resources"] == SUBMITTER
    batch = _batch_requests("hybrid_cloud")
    assert batch["HybridCloudFlow-train"] == ({"VCPU": "1", "MEMORY": "4096", "GPU": "2"}, "gpu-queue")
    assert batch["HybridCloudFlow-join"] == ({"VCPU": "1", "MEMORY": "16000"}, "cpu-queue")


def test_big_sum_flows():
    assert _argo_templates("big_sum")["start"]["container"]["resources"] == {"requests": {"memory": "60000Mi"}}
    assert _batch_requests("big_sum")["BigSum-start"] == ({"VCPU": "1", "MEMORY": "60000"}, "flowc-queue")
    assert _batch_requests("big_sum")["BigSum-end"] == (DEFAULT_BATCH, "flowc-queue")
    assert _argo_templates("big_sum_batch")["start"]["container"]["resources"] == SUBMITTER
    assert _batch_requests("big_sum_batch")["BigSum-start"] == ({"VCPU": "1", "MEMORY": "60000"}, "flowc-queue")


def test_heavy_imports_flow():
    train = _argo_templates("heavy_imports")["train"]["container"]
    assert train["image"] == "pytorch/pytorch:2.4.0-cuda12.1-cudnn9-runtime"
    assert train["resources"] == {"requests": {"memory": "24000Mi"}, "limits": {"nvidia.com/gpu": "1"}}
