"""AWS Batch: THE job-definition builder, and the per-task SubmitJob overrides.

Every Batch job flowc starts uses a definition from `job_definition`: the Step Functions target
writes it to NAME.jobdef.json (deploy registers it), `flowc run` registers it before a hybrid run,
and the Argo target compiles it into the `@batch` step's `batch-submit` arguments, which register
it exactly as given. The name is a hash of the content, so "a definition exists under this name"
means "this exact definition exists".

What lives where (keeps SubmitJob overrides far below Batch's 8,192-character limit):
- definition (shared): image, command prefix, the bootstrap (env FLOWC_BOOTSTRAP), FLOWC_CODE_URL
  (when known at compile time) / FLOWC_CODE_SHA256 / FLOWC_DATASTORE / AWS_ENDPOINT_URL, job and
  execution role, linuxParameters, default resourceRequirements, one attempt (the engine retries).
- overrides (per task): the task argv, VCPU / MEMORY / GPU, the step's @environment.
"""
from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from compiler.compute import container, units
from compiler.ir import Compute, StepPlan

PLACEHOLDER_QUEUE = "flowc-default-queue"


def resource_requirements(compute: Compute, *, key_case: str = "camel") -> list[dict[str, str]]:
    """VCPU / MEMORY (MiB) / GPU (camel: Batch API names; pascal: Step Functions' SubmitJob)."""
    reqs = [("VCPU", units.cpu(compute.cpu, units.BATCH)), ("MEMORY", units.size(compute.memory, units.BATCH))]
    if compute.gpu:
        reqs.append(("GPU", str(int(compute.gpu))))
    t, v = ("type", "value") if key_case == "camel" else ("Type", "Value")
    return [{t: kind, v: value} for kind, value in reqs]


# What a job definition requests; a submit overrides resources only where a step differs.
DEFAULT_REQUIREMENTS_PASCAL = resource_requirements(Compute(backend="batch"), key_case="pascal")


def linux_parameters(compute: Compute) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if compute.shared_memory:
        params["sharedMemorySize"] = int(units.size(compute.shared_memory, units.BATCH))
    if compute.use_tmpfs or compute.tmpfs_size:
        params["tmpfs"] = [{"containerPath": compute.tmpfs_path,
                            "size": int(units.size(units.tmpfs_mb(compute), units.BATCH)),
                            "mountOptions": ["rw", "noexec", "nosuid", "nodev"]}]
    if compute.max_swap is not None:
        params["maxSwap"] = int(compute.max_swap)
        if compute.swappiness is not None:
            params["swappiness"] = int(compute.swappiness)
    devices = devices_of(compute)
    if devices:
        params["devices"] = devices
    return params


def devices_of(compute: Compute) -> list[dict[str, Any]]:
    """@batch(inferentia=N / trainium=N): /dev/neuron0..N-1; @batch(efa=N): the EFA devices (as
    Metaflow maps them; GPUs go through resourceRequirements)."""
    out: list[dict[str, Any]] = [{"hostPath": f"/dev/neuron{i}", "containerPath": f"/dev/neuron{i}",
                                  "permissions": ["READ", "WRITE"]} for i in range(int(compute.inferentia))]
    out += [{"hostPath": f"/dev/infiniband/uverbs{i}", "containerPath": f"/dev/infiniband/uverbs{i}",
             "permissions": ["READ", "WRITE", "MKNOD"]} for i in range(int(compute.efa))]
    return out


def _volume_name(prefix: str, source: str) -> str:
    # Batch volume names: up to 255 letters, digits, '-' and '_'
    return (prefix + re.sub(r"[^A-Za-z0-9_-]", "_", source))[:255]


def volumes_of(compute: Compute) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """(volumes, mountPoints) of @batch(host_volumes=..., efs_volumes=...)."""
    volumes, mounts = [], []
    for host, path in compute.host_volumes:
        name = _volume_name("host", host)
        volumes.append({"name": name, "host": {"sourcePath": host}})
        mounts.append({"sourceVolume": name, "containerPath": path})
    for fs_id, path in compute.efs_volumes:
        name = _volume_name("efs_", fs_id)
        volumes.append({"name": name, "efsVolumeConfiguration": {"fileSystemId": fs_id,
                                                                 "transitEncryption": "ENABLED"}})
        mounts.append({"sourceVolume": name, "containerPath": path})
    return volumes, mounts


def tags_of(flow_name: str, compute: Compute) -> dict[str, str]:
    """The definition's tags: flowc's own, then @batch(aws_batch_tags=...) (flowc's keys win)."""
    return {**dict(compute.batch_tags), "flowc:flow": flow_name}


def submit_tags(compute: Compute) -> dict[str, str]:
    """@batch(aws_batch_tags=...) for SubmitJob: the job itself carries them (propagated to its
    ECS task with propagateTags)."""
    return dict(compute.batch_tags)


def job_definition_name(flow_name: str, body: dict[str, Any] | None = None) -> str:
    """flowc-<flow>-<hash of the definition's content>; without a body, the name's fixed part."""
    flow = re.sub(r"[^A-Za-z0-9_-]", "-", flow_name.lower())
    if body is None:
        return f"flowc-{flow}-"
    digest = hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode("utf-8")).hexdigest()
    return f"flowc-{flow}-{digest[:12]}"


def job_definition(flow_name: str, compute: Compute, settings: Any, *, code_sha256: str,
                   code_url: str | None) -> dict[str, Any]:
    """The RegisterJobDefinition request (Batch API field names) for a step with this compute.

    Steps that differ only in per-task values (resources, env) get the same request, so callers
    deduplicate by name. `code_url` None: the submitter passes FLOWC_CODE_URL per job."""
    props: dict[str, Any] = {
        "image": container.image_of(compute, settings),
        "command": list(container.COMMAND_PREFIX),
        "resourceRequirements": resource_requirements(Compute(backend="batch")),
        "environment": container.base_environment(code_url=code_url, code_sha256=code_sha256,
                                                  settings=settings),
    }
    job_role = compute.iam_role or container.setting(settings, "batch_job_role_arn")
    execution_role = compute.execution_role or container.setting(settings, "batch_execution_role_arn")
    if job_role:
        props["jobRoleArn"] = str(job_role)
    if execution_role:
        props["executionRoleArn"] = str(execution_role)
    if compute.privileged:
        props["privileged"] = True
    lp = linux_parameters(compute)
    if lp:
        props["linuxParameters"] = lp
    volumes, mounts = volumes_of(compute)
    if volumes:
        props["volumes"], props["mountPoints"] = volumes, mounts
    if compute.log_driver:
        props["logConfiguration"] = {"logDriver": compute.log_driver}
        if compute.log_options:
            props["logConfiguration"]["options"] = dict(compute.log_options)
    platform = "EC2"
    if compute.ephemeral_storage:
        # Fargate only (Batch refuses ephemeralStorage on EC2): the definition becomes a Fargate one,
        # as Metaflow's does on a Fargate queue (networkConfiguration: a public IP to pull the image)
        platform = "FARGATE"
        props["ephemeralStorage"] = {"sizeInGiB": int(compute.ephemeral_storage)}
        props["networkConfiguration"] = {"assignPublicIp": "ENABLED"}
    body = {
        "type": "container",
        "containerProperties": props,
        # One Batch attempt per SubmitJob: retries are done by the engine (Step Functions Retry,
        # Argo retryStrategy, the local runner), which can wait between attempts and numbers them.
        "retryStrategy": {"attempts": 1},
        "propagateTags": True,
        "tags": tags_of(flow_name, compute),
        "platformCapabilities": [platform],
    }
    return {"jobDefinitionName": job_definition_name(flow_name, body), **body}


def batch_timeout_seconds(step: StepPlan) -> int | None:
    """Batch's attemptDurationSeconds: a backstop behind the runtime's own @timeout (which @catch
    can catch); Batch kills the container only if the runtime overran by a minute."""
    return container.backstop_seconds(step.timeout_seconds)


def queue_of(compute: Compute, settings: Any) -> str | None:
    queue = compute.queue or container.setting(settings, "batch_queue")
    return str(queue) if queue else None


def container_overrides(compute: Compute, argv: list[str], env: dict[str, str]) -> dict[str, Any]:
    """SubmitJob containerOverrides (Batch API names) of one task running `argv` with `env`."""
    overrides: dict[str, Any] = {
        "command": list(container.COMMAND_PREFIX) + list(argv),
        "resourceRequirements": resource_requirements(compute),
    }
    if env:
        overrides["environment"] = [{"name": k, "value": v} for k, v in sorted(env.items())]
    return overrides


def submitter_argv(flow_name: str, step: StepPlan, settings: Any, *, code_sha256: str,
                   output_dir: str, task: list[str]) -> list[str]:
    """`python -m runtime_shim batch-submit` arguments (Argo @batch steps): the finished job
    definition, the queue, the task's resources and environment, then `--` and the task argv."""
    definition = job_definition(flow_name, step.compute, settings, code_sha256=code_sha256, code_url=None)
    argv = ["batch-submit", "--flow", flow_name,
            "--queue", queue_of(step.compute, settings) or PLACEHOLDER_QUEUE,   # FC306 warns
            "--job-definition", json.dumps(definition, sort_keys=True, separators=(",", ":")),
            "--resources", json.dumps(resource_requirements(step.compute), separators=(",", ":")),
            "--code-sha256", code_sha256, "--output-dir", output_dir]
    timeout = batch_timeout_seconds(step)
    if timeout:
        argv += ["--timeout", str(timeout)]
    for k, v in sorted(step.env.items()):
        argv += ["--env", f"{k}={v}"]
    return argv + ["--", *task]
