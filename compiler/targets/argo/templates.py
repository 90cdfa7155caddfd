"""One container template per step: the task CLI of docs/runtime-contract.md as argv (no shell),
the output parameters Argo reads back (`num-splits`, `branch`), retries and the deadline.
"""
from __future__ import annotations

from typing import Any

from compiler.ir import FlowPlan, StepPlan
from compiler.targets.argo import resources

INDEX_PATH = "index-path"
ITERATION = "iteration"
NUM_SPLITS = "num-splits"
BRANCH = "branch"
DATASTORE_PARAM = "flowc-datastore"
TIMEOUT_MARGIN_SECONDS = 60   # the runtime enforces @timeout itself; the pod deadline is a backstop


# The run id: the workflow's name (readable) and uid (unique: a name reused after deletion, or the
# same CronWorkflow child name in two namespaces, gets a new uid). `argo retry` keeps both: it
# continues the same run (see README.md, "Run ids").
RUN_ID = "{{workflow.name}}-{{workflow.uid}}"


def param_ref(name: str) -> str:
    return "{{workflow.parameters.%s}}" % name


def param_b64(name: str) -> str:
    """A parameter's value as base64, by an expression tag. Argo's SubstituteParams evaluates it in
    its first Replace pass (workflow/common/util.go); the result has no `{{`, so neither the second
    pass nor substitutePodParams can rewrite it, whatever the value holds (`{{workflow.name}}`,
    `{{=1+1}}`, quotes, newlines, control characters). The runtime decodes `--param-b64`."""
    return "{{=sprig.b64enc(workflow.parameters['%s'])}}" % name


def task_args(plan: FlowPlan, step: StepPlan) -> list[str]:
    """The `task` subcommand's arguments; every value is its own argv entry."""
    args = ["task", "--datastore", param_ref(DATASTORE_PARAM), "--run-id", RUN_ID,
            "--step", step.name, "--output-dir", resources.OUT_MOUNT]
    if step.depth > 0:
        args += ["--index-path", "{{inputs.parameters.%s}}" % INDEX_PATH]
    if step.recursive:
        args += ["--iteration", "{{inputs.parameters.%s}}" % ITERATION]
    if step.retry.times > 0:
        args += ["--attempt", "{{retries}}"]
    if step.name == plan.start:
        # One `--param-b64 NAME=BASE64` per parameter, each its own argv entry: no shell, no JSON,
        # and no user text where Argo substitutes tags (param_b64).
        for p in plan.parameters:
            args += ["--param-b64", "%s=%s" % (p.name, param_b64(p.name))]
    return args


def batch_args(plan: FlowPlan, step: StepPlan, code_sha: str) -> list[str]:
    """`batch-submit`: submit the same task command to AWS Batch and wait for it."""
    c = step.compute
    settings = plan.settings
    queue = c.queue or getattr(settings, "batch_queue", None) or "flowc-default-queue"   # FC306 warns
    args = ["batch-submit", "--flow", plan.flow_name, "--queue", str(queue),
            "--image", str(c.image or getattr(settings, "image", None) or "python:3.11"),
            "--cpu", resources.cpu_quantity(c.cpu), "--memory", str(c.memory), "--gpu", str(c.gpu),
            "--code-sha256", code_sha]
    role = c.iam_role or getattr(settings, "batch_job_role_arn", None)
    if role:
        args += ["--job-role", str(role)]
    execution_role = c.execution_role or getattr(settings, "batch_execution_role_arn", None)
    if execution_role:
        args += ["--execution-role", str(execution_role)]
    if c.shared_memory:
        args += ["--shared-memory", str(c.shared_memory)]
    if c.use_tmpfs or c.tmpfs_size:
        args += ["--tmpfs-size", str(c.tmpfs_size or 0), "--tmpfs-path", c.tmpfs_path]
    if c.max_swap is not None:
        args += ["--max-swap", str(c.max_swap)]
    if c.swappiness is not None:
        args += ["--swappiness", str(c.swappiness)]
    if c.privileged:
        args += ["--privileged"]
    if step.timeout_seconds:
        args += ["--timeout", str(step.timeout_seconds + TIMEOUT_MARGIN_SECONDS)]
    for k, v in sorted(step.env.items()):
        args += ["--env", f"{k}={v}"]
    return args + ["--", *task_args(plan, step)]


def step_template(plan: FlowPlan, step: StepPlan, name: str, code_sha: str) -> dict[str, Any]:
    template: dict[str, Any] = {"name": name}
    inputs = []
    if step.depth > 0:
        inputs.append({"name": INDEX_PATH})
    if step.recursive:
        inputs.append({"name": ITERATION})
    if inputs:
        template["inputs"] = {"parameters": inputs}
    outputs = []
    if step.is_foreach:
        outputs.append({"name": NUM_SPLITS, "valueFrom": {"path": f"{resources.OUT_MOUNT}/num_splits"}})
    if step.kind == "switch":
        outputs.append({"name": BRANCH, "valueFrom": {"path": f"{resources.OUT_MOUNT}/branch"}})
    if outputs:
        template["outputs"] = {"parameters": outputs}
    batch = step.compute.backend == "batch"
    container: dict[str, Any] = {
        "image": str(step.compute.image or getattr(plan.settings, "image", None) or "python:3.11"),
        "args": batch_args(plan, step, code_sha) if batch else task_args(plan, step),
    }
    resources.apply_pod_settings(template, container, step, plan.settings)
    if batch:  # the job gets the step's env; the pod that submits it does not need it
        container.pop("env", None)
    if step.retry.times > 0:
        strategy: dict[str, Any] = {"limit": str(step.retry.times), "retryPolicy": "Always"}
        seconds = int(round(step.retry.minutes_between * 60))
        if seconds > 0:
            strategy["backoff"] = {"duration": f"{seconds}s"}
        template["retryStrategy"] = strategy
    if step.timeout_seconds and not batch:
        template["activeDeadlineSeconds"] = str(step.timeout_seconds + TIMEOUT_MARGIN_SECONDS)
    template["container"] = container
    return template
