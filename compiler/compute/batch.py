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
    # devices: the IR carries none yet; GPUs are requested through resourceRequirements.
    return params


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
    body = {
        "type": "container",
        "containerProperties": props,
        # One Batch attempt per SubmitJob: retries are done by the engine (Step Functions Retry,
        # Argo retryStrategy, the local runner), which can wait between attempts and numbers them.
        "retryStrategy": {"attempts": 1},
        "propagateTags": True,
        "tags": {"flowc:flow": flow_name},
        "platformCapabilities": ["EC2"],
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
