"""A step's compute as Kubernetes pod and container fields, for every place flowc makes a pod:
Argo step templates, Step Functions `eks:runJob` jobs and `flowc run` Kubernetes Jobs.
Quantities follow compiler.compute.units (MiB as `Mi`).

`load_api_client` is the one kubeconfig loader (deploy, `flowc run`, preflight).
"""
from __future__ import annotations

from typing import Any

from compiler.compute import container, units
from compiler.ir import Compute, StepPlan

SHM_VOLUME = "dshm"
TMPFS_VOLUME = "tmpfs"
GPU_RESOURCE = {"nvidia": "nvidia.com/gpu", "amd": "amd.com/gpu"}
# A pod that only submits a Batch job and waits for it (Argo @batch steps) asks for little.
SUBMITTER_RESOURCES = {"requests": {"cpu": "100m", "memory": "256Mi", "ephemeral-storage": "1024Mi"}}


def gpu_resource(compute: Compute) -> str:
    return GPU_RESOURCE.get(compute.gpu_vendor, f"{compute.gpu_vendor}.com/gpu")


def requests_of(compute: Compute) -> dict[str, str]:
    return {"cpu": units.cpu(compute.cpu, units.KUBERNETES),
            "memory": units.size(compute.memory, units.KUBERNETES),
            "ephemeral-storage": units.size(compute.disk, units.KUBERNETES)}


def gpu_limits(compute: Compute) -> dict[str, str]:
    return {gpu_resource(compute): str(int(compute.gpu))} if compute.gpu else {}


def extended(compute: Compute) -> dict[str, str]:
    """@kubernetes(extended_resources=...): asked for as requests and limits (Kubernetes wants both
    equal for extended resources)."""
    return {k: str(v) for k, v in compute.extended_resources}


def limits_of(compute: Compute) -> dict[str, str]:
    """GPUs and extended resources; with qos="Guaranteed" also cpu, memory and disk, equal to the
    requests (Kubernetes gives a pod the Guaranteed class when every limit equals its request)."""
    limits = dict(requests_of(compute)) if compute.qos == "guaranteed" else {}
    limits.update(gpu_limits(compute))
    limits.update(extended(compute))
    return limits


def resources_of(compute: Compute) -> dict[str, Any]:
    """Every request, and the limits (GPUs, extended resources, all of them under Guaranteed)."""
    out: dict[str, Any] = {"requests": {**requests_of(compute), **extended(compute)}}
    limits = limits_of(compute)
    if limits:
        out["limits"] = limits
    return out


# A pod's activeDeadlineSeconds (and a Job's) counts from the pod's start, image pull included
# (Kubernetes: status.startTime), while the runtime's own @timeout starts with the step. A slow pull
# must not kill a healthy step, so pods get this much more than Batch's backstop, which counts from
# the container's start.
IMAGE_PULL_ALLOWANCE_SECONDS = 600


def pod_deadline_seconds(timeout_seconds: int | None) -> int | None:
    """activeDeadlineSeconds of a @timeout step's pod or Job (None without @timeout)."""
    backstop = container.backstop_seconds(timeout_seconds)
    return None if backstop is None else backstop + IMAGE_PULL_ALLOWANCE_SECONDS


_TOLERATION_KEYS = ("key", "operator", "value", "effect", "tolerationSeconds")


def toleration(t: dict[str, Any]) -> dict[str, Any]:
    out = {k: t[k] for k in _TOLERATION_KEYS if k in t and t[k] is not None}
    if "tolerationSeconds" in out:
        out["tolerationSeconds"] = int(out["tolerationSeconds"])
    for k in ("key", "operator", "value", "effect"):
        if k in out:
            out[k] = str(out[k])
    return out


def apply_pod_settings(pod: dict[str, Any], container: dict[str, Any], step: StepPlan, *,
                       submitter: bool = False) -> None:
    """Fill a pod spec (or Argo template) and its container with the step's compute, except
    resources (each caller has its own request policy). `submitter`: the pod only submits a Batch
    job, which gets the secrets and memory volumes instead."""
    compute = step.compute
    if compute.image_pull_policy:
        container["imagePullPolicy"] = str(compute.image_pull_policy)
    if step.env:
        container["env"] = [{"name": k, "value": v} for k, v in sorted(step.env.items())]
    if compute.k8s_secrets and not submitter:
        container["envFrom"] = [{"secretRef": {"name": s}} for s in compute.k8s_secrets]
    if compute.security_context and not submitter:
        container["securityContext"] = dict(compute.security_context)
    mounts, volumes = [], []
    if compute.shared_memory and not submitter:
        volumes.append({"name": SHM_VOLUME, "emptyDir": {"medium": "Memory",
                        "sizeLimit": units.size(compute.shared_memory, units.KUBERNETES)}})
        mounts.append({"name": SHM_VOLUME, "mountPath": "/dev/shm"})
    if (compute.use_tmpfs or compute.tmpfs_size) and not submitter:
        volumes.append({"name": TMPFS_VOLUME, "emptyDir": {"medium": "Memory",
                        "sizeLimit": units.size(units.tmpfs_mb(compute), units.KUBERNETES)}})
        mounts.append({"name": TMPFS_VOLUME, "mountPath": compute.tmpfs_path})
    for i, (claim, path) in enumerate(compute.persistent_volume_claims):
        volumes.append({"name": f"pvc-{i}", "persistentVolumeClaim": {"claimName": claim}})
        mounts.append({"name": f"pvc-{i}", "mountPath": path})
    if mounts:
        container["volumeMounts"] = mounts
    if volumes:
        pod["volumes"] = volumes
    metadata: dict[str, Any] = {}
    if compute.labels:
        metadata["labels"] = dict(compute.labels)
    if compute.annotations:
        metadata["annotations"] = dict(compute.annotations)
    if metadata:
        pod["metadata"] = metadata
    if compute.node_selector:
        pod["nodeSelector"] = compute.node_selector_dict()
    if compute.tolerations:
        pod["tolerations"] = [toleration(t) for t in compute.tolerations_list()]
    if compute.service_account:
        pod["serviceAccountName"] = compute.service_account
    if compute.image_pull_secrets:
        # also for a submitter pod: it runs the same image
        pod["imagePullSecrets"] = [{"name": s} for s in compute.image_pull_secrets]


class KubeConfigError(Exception):
    """No Kubernetes configuration could be loaded."""


def load_api_client(settings: Any = None):
    """The kubernetes ApiClient. Order: $KUBECONFIG / ~/.kube/config, then the in-cluster service
    account, the order kubectl and the client's own `config.load_config` use: an explicit
    kubeconfig must win inside a pod too, or a user could never point flowc at another cluster."""
    import os

    from kubernetes import client, config

    configuration = client.Configuration()
    try:
        # the client reads $KUBECONFIG when it is imported; read it now
        config.load_kube_config(config_file=os.environ.get("KUBECONFIG") or None,
                                client_configuration=configuration)
    except Exception as kube_error:  # noqa: BLE001 - no kubeconfig: maybe we run in a pod
        try:
            config.load_incluster_config(client_configuration=configuration)
        except Exception:  # noqa: BLE001
            raise KubeConfigError("no Kubernetes configuration: set KUBECONFIG or ~/.kube/config, "
                                  "or run in a cluster (%s)" % kube_error) from None
    return client.ApiClient(configuration)
