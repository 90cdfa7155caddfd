"""One container template per step: the task CLI of docs/runtime-contract.md as argv (no shell),
the output parameters Argo reads back (`num-splits`, `branch`), retries and the deadline.
"""
from __future__ import annotations

from typing import Any

from compiler.compute.batch import submitter_argv
from compiler.compute.container import image_of, task_argv
from compiler.ir import FlowPlan, StepPlan
from compiler.targets.argo import resources

INDEX_PATH = "index-path"
ITERATION = "iteration"
NUM_SPLITS = "num-splits"
BRANCH = "branch"
DATASTORE_PARAM = "flowc-datastore"


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


def task_args(plan: FlowPlan, step: StepPlan, output_dir: str | None = resources.OUT_MOUNT) -> list[str]:
    """The `task` subcommand's arguments (compiler.compute.container); every value is its own argv
    entry. The start step adds one `--param-b64 NAME=BASE64` per parameter: no shell, no JSON, and
    no user text where Argo substitutes tags (param_b64)."""
    argv = task_argv(
        step.name, datastore=param_ref(DATASTORE_PARAM), run_id=RUN_ID, output_dir=output_dir,
        index_path="{{inputs.parameters.%s}}" % INDEX_PATH if step.depth > 0 else None,
        attempt="{{retries}}" if step.retry.times > 0 else None,
        iteration="{{inputs.parameters.%s}}" % ITERATION if step.recursive else None)
    if step.name == plan.start:
        for p in plan.parameters:
            argv += ["--param-b64", "%s=%s" % (p.name, param_b64(p.name))]
    return argv


def batch_args(plan: FlowPlan, step: StepPlan, code_sha: str) -> list[str]:
    """`batch-submit`: register the compiled job definition, submit the same task, wait for it."""
    return submitter_argv(plan.flow_name, step, plan.settings, code_sha256=code_sha,
                          output_dir=resources.OUT_MOUNT, task=task_args(plan, step, output_dir=None))


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
        "image": image_of(step.compute, plan.settings),
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
        template["activeDeadlineSeconds"] = str(step.pod_deadline_seconds)
    template["container"] = container
    return template


# @exit_hook: the workflow's onExit handler (Argo docs/exit-handlers.md: it runs after the
# workflow, whatever its result, and reads `{{workflow.status}}`: Succeeded, Failed or Error).
EXIT_HANDLER = "flowc-exit-hooks"
# Quoted: govaluate reads a bare word as a parameter name (the status is one of three words).
_EXIT_WHEN = {"success": "'{{workflow.status}}' == 'Succeeded'", "error": "'{{workflow.status}}' != 'Succeeded'"}


def hook_args(plan: FlowPlan, event: str) -> list[str]:
    """`hook` arguments of one event: the run's id and datastore, then each function's name
    (identifiers or dotted paths, checked by lint: nothing Argo would substitute)."""
    argv = ["hook", "--datastore", param_ref(DATASTORE_PARAM), "--run-id", RUN_ID, "--event", event]
    for e, fn in plan.exit_hooks:
        if e == event:
            argv += ["--function", fn]
    return argv


def exit_hook_templates(plan: FlowPlan) -> list[dict[str, Any]]:
    """The onExit DAG (one task per event, conditioned on the workflow's status) and one container
    template per event, in the end step's image and pod settings (a @batch end: the defaults)."""
    if not plan.exit_hooks:
        return []
    end = plan.steps[plan.end]
    tasks, out = [], []
    for event in ("success", "error"):
        if not any(e == event for e, _ in plan.exit_hooks):
            continue
        name = f"{EXIT_HANDLER}-{event}"
        tasks.append({"name": event, "template": name, "when": _EXIT_WHEN[event]})
        template: dict[str, Any] = {"name": name}
        container: dict[str, Any] = {"image": image_of(end.compute, plan.settings),
                                     "args": hook_args(plan, event)}
        if end.compute.backend != "batch":
            resources.apply_pod_settings(template, container, end, plan.settings)
        template["container"] = container
        out.append(template)
    return [{"name": EXIT_HANDLER, "dag": {"tasks": tasks}}, *out]
