"""@kubernetes steps in a Step Functions flow: `eks:runJob.sync` on the cluster named by the
`eks_cluster` setting (FLOWC_EKS_CLUSTER). runJob needs the cluster's endpoint and certificate
authority, which are only known at run time, so a `aws-sdk:eks:describeCluster` Task reads them
first (ResultPath $.eks, trimmed by ResultSelector). The pod runs the same bootstrap and task
argv as a Batch job; its pod settings and quantities come from compiler.compute.kubernetes, as on
Argo. `builder` is the asl.AslBuilder walking the flow (passed in, not imported: no cycle).
"""
from __future__ import annotations

from typing import Any

from compiler.compute import kubernetes as k8s
from compiler.compute.container import COMMAND_PREFIX, base_environment, image_of
from compiler.ir import StepPlan
from compiler.targets.stepfunctions.common import EKS_DESCRIBE, EKS_RUN, SUFFIX_CLUSTER, array


def task_states(builder: Any, step: StepPlan, states: dict[str, Any]) -> dict[str, Any]:
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
    requests = k8s.requests_of(compute)
    # limits = requests for cpu and memory (a Job's pod is never overcommitted), plus the GPUs
    limits = {"cpu": requests["cpu"], "memory": requests["memory"], **k8s.gpu_limits(compute),
              **k8s.extended(compute)}
    requests = {**requests, **k8s.extended(compute)}
    parts: dict[str, Any] = {}
    container: dict[str, Any] = {
        "name": "main",
        "image": image_of(compute, settings),
        "command": list(COMMAND_PREFIX),
        "args.$": array(builder.task_argv(step)),
    }
    k8s.apply_pod_settings(parts, container, step)
    step_env = container.pop("env", [])
    container["env"] = base_environment(code_url=builder.code_url, code_sha256=builder.code_sha256,
                                        settings=settings) + step_env
    container["resources"] = {"requests": requests, "limits": limits}
    pod: dict[str, Any] = {"restartPolicy": "Never", "containers": [container]}
    for key in ("serviceAccountName", "nodeSelector", "tolerations", "volumes", "imagePullSecrets"):
        if key in parts:
            pod[key] = parts[key]
    # labels and annotations go on the Job, as they always did
    pod_meta = parts.get("metadata", {})
    job_spec: dict[str, Any] = {"backoffLimit": 0, "template": {"spec": pod}}
    timeout = step.pod_deadline_seconds
    if timeout:
        job_spec["activeDeadlineSeconds"] = timeout
    metadata: dict[str, Any] = {"generateName": builder.job_name(step).lower().replace("_", "-")[:50] + "-",
                                **pod_meta}
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
    return builder.with_limits(state, step, timeout)
