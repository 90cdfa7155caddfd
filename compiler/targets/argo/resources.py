"""Compute -> Kubernetes pod settings. Shared settings live once in `templateDefaults.container`;
a step's template carries only what differs from them (Argo merges the two with a strategic merge
patch: docs/template-defaults.md).

Units: cpu as a decimal string ("1", "0.5"), memory, disk and shared memory in Mi (the IR keeps
MB, as Metaflow does, and Metaflow writes them as Mi too). Quantities are strings everywhere.
"""
from __future__ import annotations

from typing import Any

from compiler.ir import DEFAULT_CPU, DEFAULT_DISK_MB, DEFAULT_MEMORY_MB, Compute, StepPlan

CODE_VOLUME = "flowc-code"
CODE_MOUNT = "/flowc/code"
CODE_FILE = "code.zip"
OUT_VOLUME = "flowc-out"
OUT_MOUNT = "/flowc/out"
SHM_VOLUME = "dshm"
GPU_RESOURCE = {"nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu"}
# The pod of a @batch step only submits and polls a Batch job: it asks for little.
BATCH_POD_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi", "ephemeral-storage": "1024Mi"}}


def cpu_quantity(cpu: float) -> str:
    return str(int(cpu)) if float(cpu) == int(cpu) else f"{int(round(cpu * 1000))}m"


def mi(mb: int) -> str:
    return f"{int(mb)}Mi"


def requests_of(compute: Compute) -> dict[str, str]:
    return {"cpu": cpu_quantity(compute.cpu), "memory": mi(compute.memory),
            "ephemeral-storage": mi(compute.disk)}


DEFAULT_REQUESTS = requests_of(Compute(None, DEFAULT_CPU, DEFAULT_MEMORY_MB, 0, DEFAULT_DISK_MB))


def step_resources(compute: Compute) -> dict[str, Any] | None:
    """Only the keys that differ from templateDefaults (strategic merge fills in the rest)."""
    requests = {k: v for k, v in requests_of(compute).items() if DEFAULT_REQUESTS[k] != v}
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    if compute.gpu:
        out["limits"] = {GPU_RESOURCE.get(compute.gpu_vendor, f"{compute.gpu_vendor}.com/gpu"): str(compute.gpu)}
    return out or None


BOOTSTRAP_COMMAND = ["python", "-c", 'import os;exec(os.environ["FLOWC_BOOTSTRAP"])']


def default_container(settings: Any, extra_env: list[dict[str, str]], *, code_url: str | None = None) -> dict[str, Any]:
    """`templateDefaults.container`: what every step's container shares.

    Embedded package (default): the ConfigMap zip is mounted and on PYTHONPATH. Package in the
    datastore (`flowc deploy`): the bootstrap fetches it (docs/runtime-contract.md)."""
    mounts = [{"name": OUT_VOLUME, "mountPath": OUT_MOUNT}]
    if code_url is None:
        env = [{"name": "PYTHONPATH", "value": f"{CODE_MOUNT}/{CODE_FILE}"}]
        command = ["python", "-m", "runtime_shim"]
        mounts.insert(0, {"name": CODE_VOLUME, "mountPath": CODE_MOUNT, "readOnly": True})
    else:
        env = [{"name": "FLOWC_CODE_URL", "value": code_url}]
        command = list(BOOTSTRAP_COMMAND)
    env += [{"name": "PYTHONUNBUFFERED", "value": "1"}, *extra_env]
    return {
        "image": str(getattr(settings, "image", None) or "python:3.11"),
        "command": command,
        "env": env,
        "resources": {"requests": dict(DEFAULT_REQUESTS)},
        "volumeMounts": mounts,
    }


def bootstrap_source() -> str:
    """templates/bootstrap.py.j2 (the container bootstrap of docs/runtime-contract.md), comments
    dropped: the Batch jobs that @batch steps submit run it to fetch the code package."""
    # the same text as the Batch job definitions', rendered once (and without jinja2 when plain)
    from compiler.targets.stepfunctions.batch import bootstrap_source as batch_bootstrap_source

    return batch_bootstrap_source()


def workflow_volumes(configmap_name: str | None) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = [{"name": OUT_VOLUME, "emptyDir": {}}]
    if configmap_name:
        volumes.insert(0, {"name": CODE_VOLUME, "configMap": {"name": configmap_name}})
    return volumes


def apply_pod_settings(template: dict[str, Any], container: dict[str, Any], step: StepPlan,
                       settings: Any) -> None:
    """Fill a step's template and container with its compute (only what is not a default)."""
    compute = step.compute
    if compute.image != str(getattr(settings, "image", None) or "python:3.11"):   # the IR resolves image
        container["image"] = compute.image
    if compute.image_pull_policy:
        container["imagePullPolicy"] = str(compute.image_pull_policy)
    if compute.backend == "batch":
        container["resources"] = {k: dict(v) for k, v in BATCH_POD_RESOURCES.items()}
    else:
        resources = step_resources(compute)
        if resources:
            container["resources"] = resources
    if step.env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(step.env.items())]
    if compute.k8s_secrets and compute.backend != "batch":
        container["envFrom"] = [{"secretRef": {"name": s}} for s in compute.k8s_secrets]
    mounts, volumes = [], []
    if compute.shared_memory and compute.backend != "batch":
        volumes.append({"name": SHM_VOLUME, "emptyDir": {"medium": "Memory", "sizeLimit": mi(compute.shared_memory)}})
        mounts.append({"name": SHM_VOLUME, "mountPath": "/dev/shm"})
    if (compute.use_tmpfs or compute.tmpfs_size) and compute.backend != "batch":
        size = compute.tmpfs_size or max(1, compute.memory // 2)   # Metaflow: half the memory
        volumes.append({"name": "tmpfs", "emptyDir": {"medium": "Memory", "sizeLimit": mi(size)}})
        mounts.append({"name": "tmpfs", "mountPath": compute.tmpfs_path})
    for i, (claim, path) in enumerate(compute.persistent_volume_claims):
        volumes.append({"name": f"pvc-{i}", "persistentVolumeClaim": {"claimName": claim}})
        mounts.append({"name": f"pvc-{i}", "mountPath": path})
    if mounts:
        container["volumeMounts"] = mounts
    if volumes:
        template["volumes"] = volumes
    metadata: dict[str, Any] = {}
    if compute.labels:
        metadata["labels"] = dict(compute.labels)
    if compute.annotations:
        metadata["annotations"] = dict(compute.annotations)
    if metadata:
        template["metadata"] = metadata
    if compute.node_selector:
        template["nodeSelector"] = compute.node_selector_dict()
    if compute.tolerations:
        template["tolerations"] = [_toleration(t) for t in compute.tolerations_list()]
    if compute.service_account and compute.service_account != getattr(settings, "k8s_service_account", None):
        template["serviceAccountName"] = compute.service_account


_TOLERATION_KEYS = ("key", "operator", "value", "effect", "tolerationSeconds")


def _toleration(t: dict[str, Any]) -> dict[str, Any]:
    out = {k: t[k] for k in _TOLERATION_KEYS if k in t and t[k] is not None}
    if "tolerationSeconds" in out:
        out["tolerationSeconds"] = int(out["tolerationSeconds"])
    for k in ("key", "operator", "value", "effect"):
        if k in out:
            out[k] = str(out[k])
    return out
