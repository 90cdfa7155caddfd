"""@kubernetes steps in a Step Functions flow: `eks:runJob.sync` on the cluster named by the
`eks_cluster` setting (FLOWC_EKS_CLUSTER). runJob needs the cluster's endpoint and certificate
authority, which are only known at run time, so a `aws-sdk:eks:describeCluster` Task reads them
first (ResultPath $.eks, trimmed by ResultSelector). The pod runs the same bootstrap and task
arguments as a Batch job; its resources come from the step's resolved compute.
"""
from __future__ import annotations

from typing import Any

from compiler.ir import StepPlan
from compiler.targets.stepfunctions import batch as batchmod


def _quantity(cpu: float) -> str:
    return str(int(cpu)) if float(cpu) == int(cpu) else f"{int(round(cpu * 1000))}m"


def task_states(builder: Any, step: StepPlan, states: dict[str, Any]) -> dict[str, Any]:
    from compiler.targets.stepfunctions.asl import EKS_DESCRIBE, EKS_RUN, SUFFIX_CLUSTER

    settings = builder.settings
    cluster = getattr(settings, "eks_cluster", None) or "flowc-missing-eks-cluster"
    compute = step.compute
    describe = step.name + SUFFIX_CLUSTER
    states[describe] = {
        "Type": "Task",
        "Comment": f"flowc: endpoint of EKS cluster {cluster} for {step.name}",
        "Resource": EKS_DESCRIBE,
        "Parameters": {"Name": cluster},
        "ResultSelector": {"Endpoint.$": "$.Cluster.Endpoint",
                           "CertificateAuthority.$": "$.Cluster.CertificateAuthority.Data"},
        "ResultPath": "$.eks",
        "Next": step.name,
    }
    limits: dict[str, str] = {"cpu": _quantity(compute.cpu), "memory": f"{int(compute.memory)}M"}
    requests = dict(limits)
    if compute.gpu:
        limits[f"{compute.gpu_vendor}.com/gpu"] = str(int(compute.gpu))
    if compute.disk:
        requests["ephemeral-storage"] = f"{int(compute.disk)}M"
    env = [{"name": e["name"], "value": e["value"]} for e in batchmod.base_environment(
        code_url=builder.code_url, code_sha256=builder.code_sha256, settings=settings)]
    env += [{"name": k, "value": v} for k, v in step.env.items()]
    container: dict[str, Any] = {
        "name": "main",
        "image": compute.image or getattr(settings, "image", None) or "python:3.11",
        "command": list(batchmod.COMMAND_PREFIX),
        "args.$": builder.command_expr(step).replace(
            "States.Array(" + ", ".join(builder_prefix_literals()) + ", ", "States.Array(", 1),
        "env": env,
        "resources": {"requests": requests, "limits": limits},
    }
    if compute.image_pull_policy:
        container["imagePullPolicy"] = compute.image_pull_policy
    pod: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
    if compute.service_account:
        pod["serviceAccountName"] = compute.service_account
    if compute.node_selector:
        pod["nodeSelector"] = compute.node_selector_dict()
    if compute.tolerations:
        pod["tolerations"] = compute.tolerations_list()
    job_spec: dict[str, Any] = {"backoffLimit": 0, "template": {"spec": pod}}
    if step.timeout_seconds:
        job_spec["activeDeadlineSeconds"] = batchmod.batch_timeout_seconds(step)
    metadata: dict[str, Any] = {"generateName": builder.job_name(step).lower().replace("_", "-")[:50] + "-"}
    if compute.labels:
        metadata["labels"] = dict(compute.labels)
    if compute.annotations:
        metadata["annotations"] = dict(compute.annotations)
    state: dict[str, Any] = {
        "Type": "Task",
        "Resource": EKS_RUN,
        "Parameters": {
            "ClusterName": cluster,
            "CertificateAuthority.$": "$.eks.CertificateAuthority",
            "Endpoint.$": "$.eks.Endpoint",
            "Namespace": compute.namespace or getattr(settings, "k8s_namespace", None) or "default",
            "LogOptions": {"RetrieveLogs": False},
            "Job": {"apiVersion": "batch/v1", "kind": "Job", "metadata": metadata, "spec": job_spec},
        },
        "ResultSelector": {"Status.$": "$.status"},
        "ResultPath": None,
    }
    return builder.with_limits(state, step, batchmod.batch_timeout_seconds(step))


def builder_prefix_literals() -> list[str]:
    from compiler.targets.stepfunctions.asl import esc

    return [esc(p) for p in batchmod.COMMAND_PREFIX]
