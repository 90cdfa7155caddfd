"""AWS Batch job definitions and per-step container overrides for flowc steps.

`job_definition(...)` is THE function that turns a step's resolved compute into a Batch
RegisterJobDefinition request. It is shared: the Step Functions emitter registers one definition
per distinct (image, roles, privileged, linux parameters) set, and the Argo target's batch-submit
(runtime_shim/batch_submit.py side) can call the same function to get the same shape.

What lives where (keeps SubmitJob overrides far below Batch's 8,192-character limit):
- job definition (shared): image, command prefix, the bootstrap script (env FLOWC_BOOTSTRAP),
  FLOWC_CODE_URL / FLOWC_CODE_SHA256 / FLOWC_DATASTORE / AWS_ENDPOINT_URL, job and execution role,
  linuxParameters, default resourceRequirements, retryStrategy (1 attempt: Step Functions retries).
- overrides (per task): the task arguments, VCPU/MEMORY/GPU, the step's @environment vars.
"""
from __future__ import annotations

import hashlib
import json
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from compiler.ir import Compute, StepPlan

# The command every flowc Batch container runs: the bootstrap (in env FLOWC_BOOTSTRAP, set by the
# job definition) followed by the runtime's own argv (`task --step ...`), see the runtime contract.
COMMAND_PREFIX = ("python", "-c", 'import os;exec(os.environ["FLOWC_BOOTSTRAP"])')

_TEMPLATE = Path(__file__).resolve().parents[3] / "templates" / "bootstrap.py.j2"


@lru_cache(maxsize=1)
def bootstrap_source() -> str:
    """The container bootstrap (templates/bootstrap.py.j2), rendered; comments dropped to keep it small."""
    text = _TEMPLATE.read_text(encoding="utf-8")
    if any(mark in text for mark in ("{{", "{%", "{#")):
        # only then: importing jinja2 is ~70 ms of a ~0.35 s compile, and plain text renders as itself
        import jinja2

        text = jinja2.Template(text, keep_trailing_newline=True).render()
    lines = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return "\n".join(lines) + "\n"


def _num(value: float) -> str:
    return str(int(value)) if float(value) == int(value) else repr(float(value))


def resource_requirements(compute: Compute, *, key_case: str = "camel") -> list[dict[str, str]]:
    """VCPU / MEMORY (MiB) / GPU as Batch resourceRequirements (camel: job definition, pascal: SubmitJob via Step Functions)."""
    reqs = [("VCPU", _num(compute.cpu)), ("MEMORY", str(int(compute.memory)))]
    if compute.gpu:
        reqs.append(("GPU", str(int(compute.gpu))))
    t, v = ("type", "value") if key_case == "camel" else ("Type", "Value")
    return [{t: kind, v: value} for kind, value in reqs]


def linux_parameters(compute: Compute) -> dict[str, Any]:
    params: dict[str, Any] = {}
    if compute.shared_memory:
        params["sharedMemorySize"] = int(compute.shared_memory)
    if compute.use_tmpfs or compute.tmpfs_size:
        size = int(compute.tmpfs_size or max(1, compute.memory // 2))
        params["tmpfs"] = [{"containerPath": compute.tmpfs_path, "size": size,
                            "mountOptions": ["rw", "noexec", "nosuid", "nodev"]}]
    if compute.max_swap is not None:
        params["maxSwap"] = int(compute.max_swap)
        if compute.swappiness is not None:
            params["swappiness"] = int(compute.swappiness)
    # devices: the IR carries none yet; GPUs are requested through resourceRequirements.
    return params


def definition_key(compute: Compute, settings: Any) -> tuple:
    """What makes two steps share a job definition: image, roles, privileged, linux parameters."""
    return (
        compute.image or _setting(settings, "image") or "python:3.11",
        compute.iam_role or _setting(settings, "batch_job_role_arn"),
        compute.execution_role or _setting(settings, "batch_execution_role_arn"),
        bool(compute.privileged),
        json.dumps(linux_parameters(compute), sort_keys=True),
    )


def _setting(settings: Any, name: str) -> Any:
    return getattr(settings, name, None) if settings is not None else None


def base_environment(*, code_url: str | None, code_sha256: str, settings: Any) -> list[dict[str, str]]:
    env = [("FLOWC_BOOTSTRAP", bootstrap_source())]
    if code_url:
        env.append(("FLOWC_CODE_URL", code_url))
    env.append(("FLOWC_CODE_SHA256", code_sha256))
    datastore = _setting(settings, "datastore")
    if datastore:
        env.append(("FLOWC_DATASTORE", str(datastore)))
    endpoint = _setting(settings, "s3_endpoint")
    if endpoint:
        env.append(("AWS_ENDPOINT_URL", str(endpoint)))
    region = _setting(settings, "aws_region")
    if region:
        env.append(("AWS_DEFAULT_REGION", str(region)))
    env.append(("PYTHONUNBUFFERED", "1"))
    return [{"name": k, "value": v} for k, v in env]


def job_definition_name(flow_name: str, key: tuple, code_sha256: str) -> str:
    digest = hashlib.sha256(json.dumps([list(key), code_sha256]).encode("utf-8")).hexdigest()[:12]
    flow = re.sub(r"[^A-Za-z0-9_-]", "-", flow_name.lower())
    return f"flowc-{flow}-{digest}"


def job_definition(flow_name: str, compute: Compute, settings: Any, *, code_sha256: str,
                   code_url: str | None) -> dict[str, Any]:
    """The RegisterJobDefinition request (boto3 parameter names) for a step with this compute.

    Steps whose `definition_key` is equal get byte-identical requests (same name), so callers can
    deduplicate by name. Per-step resources travel in SubmitJob overrides, not here.
    """
    key = definition_key(compute, settings)
    image, job_role, execution_role, privileged, _ = key
    container: dict[str, Any] = {
        "image": image,
        "command": list(COMMAND_PREFIX),
        "resourceRequirements": resource_requirements(Compute(backend="batch")),
        "environment": base_environment(code_url=code_url, code_sha256=code_sha256, settings=settings),
    }
    if job_role:
        container["jobRoleArn"] = job_role
    if execution_role:
        container["executionRoleArn"] = execution_role
    if privileged:
        container["privileged"] = True
    lp = linux_parameters(compute)
    if lp:
        container["linuxParameters"] = lp
    return {
        "jobDefinitionName": job_definition_name(flow_name, key, code_sha256),
        "type": "container",
        "containerProperties": container,
        # One Batch attempt per SubmitJob: retries are done by the engine (Step Functions Retry,
        # Argo retryStrategy), which can wait minutes_between_retries and numbers the attempts.
        "retryStrategy": {"attempts": 1},
        "propagateTags": True,
        "tags": {"flowc:flow": flow_name},
        "platformCapabilities": ["EC2"],
    }


def batch_timeout_seconds(step: StepPlan) -> int | None:
    """Batch's attemptDurationSeconds for a step: a backstop behind the runtime's own @timeout.

    The runtime enforces @timeout itself (so @catch can catch a timeout and exit 0); Batch kills
    the container only if the runtime overran by a minute. Batch's minimum is 60 seconds.
    """
    if not step.timeout_seconds:
        return None
    return max(60, int(step.timeout_seconds) + 60)


def task_arguments(step: StepPlan, *, run_id: str, index_path: str, attempt: str,
                   iteration: str | None = None, params_json: str | None = None) -> list[str]:
    """The runtime argv after the command prefix (plain strings; Step Functions builds it with intrinsics)."""
    args = ["task", "--run-id", run_id, "--step", step.name, "--index-path", index_path, "--attempt", attempt]
    if iteration is not None:
        args += ["--iteration", iteration]
    if params_json is not None:
        args += ["--params-json", params_json]
    return args
