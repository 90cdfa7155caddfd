"""Compute -> Argo pod settings. Shared settings live once in `templateDefaults.container`; a
step's template carries only what differs from them (Argo merges the two with a strategic merge
patch: docs/template-defaults.md). The pod fields and quantities themselves come from
compiler.compute.kubernetes (the same builders as EKS jobs and `flowc run` Kubernetes Jobs).
"""
from __future__ import annotations

from typing import Any

from compiler.compute import kubernetes as k8s
from compiler.compute.container import COMMAND_PREFIX, RUNTIME_COMMAND, bootstrap_source, image_of  # noqa: F401 (bootstrap_source: re-exported)
from compiler.ir import DEFAULT_CPU, DEFAULT_DISK_MB, DEFAULT_MEMORY_MB, Compute, StepPlan

CODE_VOLUME = "flowc-code"
CODE_MOUNT = "/flowc/code"
CODE_FILE = "code.zip"
OUT_VOLUME = "flowc-out"
OUT_MOUNT = "/flowc/out"
BATCH_POD_RESOURCES = k8s.SUBMITTER_RESOURCES

DEFAULT_REQUESTS = k8s.requests_of(Compute(None, DEFAULT_CPU, DEFAULT_MEMORY_MB, 0, DEFAULT_DISK_MB))

__all__ = ["CODE_FILE", "OUT_MOUNT", "BATCH_POD_RESOURCES", "apply_pod_settings", "bootstrap_source",
           "default_container", "step_resources", "workflow_volumes"]


def step_resources(compute: Compute) -> dict[str, Any] | None:
    """Only the keys that differ from templateDefaults (strategic merge fills in the rest)."""
    requests = {k: v for k, v in k8s.requests_of(compute).items() if DEFAULT_REQUESTS[k] != v}
    requests.update(k8s.extended(compute))
    out: dict[str, Any] = {}
    if requests:
        out["requests"] = requests
    # Guaranteed: the step's container gets limits = requests; Argo's own wait container keeps the
    # controller's executor resources, so the pod's class also needs those set with limits.
    limits = k8s.limits_of(compute)
    if limits:
        out["limits"] = limits
    return out or None


def default_container(settings: Any, extra_env: list[dict[str, str]], *, code_url: str | None = None) -> dict[str, Any]:
    """`templateDefaults.container`: what every step's container shares.

    Embedded package (default): the ConfigMap zip is mounted and on PYTHONPATH. Package in the
    datastore (`flowc deploy`): the bootstrap fetches it (docs/runtime-contract.md)."""
    mounts: list[dict[str, Any]] = [{"name": OUT_VOLUME, "mountPath": OUT_MOUNT}]
    if code_url is None:
        env = [{"name": "PYTHONPATH", "value": f"{CODE_MOUNT}/{CODE_FILE}"}]
        command = list(RUNTIME_COMMAND)
        mounts.insert(0, {"name": CODE_VOLUME, "mountPath": CODE_MOUNT, "readOnly": True})
    else:
        env = [{"name": "FLOWC_CODE_URL", "value": code_url}]
        command = list(COMMAND_PREFIX)
    env += [{"name": "PYTHONUNBUFFERED", "value": "1"}, *extra_env]
    return {
        "image": image_of(Compute(None), settings),
        "command": command,
        "env": env,
        "resources": {"requests": dict(DEFAULT_REQUESTS)},
        "volumeMounts": mounts,
    }


def workflow_volumes(configmap_name: str | None) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = [{"name": OUT_VOLUME, "emptyDir": {}}]
    if configmap_name:
        volumes.insert(0, {"name": CODE_VOLUME, "configMap": {"name": configmap_name}})
    return volumes


def apply_pod_settings(template: dict[str, Any], container: dict[str, Any], step: StepPlan,
                       settings: Any) -> None:
    """Fill a step's template and container with its compute (only what is not a default)."""
    compute = step.compute
    batch = compute.backend == "batch"     # the pod only submits the Batch job and waits
    if compute.image and compute.image != image_of(Compute(None), settings):   # templateDefaults has it
        container["image"] = compute.image
    if compute.image_pull_policy:     # before resources: the field order of the manifests stays put
        container["imagePullPolicy"] = str(compute.image_pull_policy)
    if batch:
        container["resources"] = {k: dict(v) for k, v in BATCH_POD_RESOURCES.items()}
    else:
        resources = step_resources(compute)
        if resources:
            container["resources"] = resources
    k8s.apply_pod_settings(template, container, step, submitter=batch)
    # Argo has no per-template imagePullSecrets: the workflow's spec holds them (image_pull_secrets)
    template.pop("imagePullSecrets", None)
    # the workflow's service account is set once on the spec
    if template.get("serviceAccountName") == getattr(settings, "k8s_service_account", None):
        template.pop("serviceAccountName", None)


def image_pull_secrets(plan: Any) -> list[dict[str, str]]:
    """spec.imagePullSecrets: every step's @kubernetes(image_pull_secrets=...), in first-seen order.
    Argo sets them on every pod of the workflow (a template cannot have its own)."""
    names: list[str] = []
    for step in plan.steps.values():
        names += [s for s in step.compute.image_pull_secrets if s not in names]
    return [{"name": n} for n in names]
