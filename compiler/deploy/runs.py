"""Run management of deployed flows: list runs, start one with run options (tags, the origin of a
resumed run), terminate, and (Argo) suspend / unsuspend.

Run options reach the tasks through the datastore (runtime_shim.resume): they are written under
the new run's id BEFORE its first task can start, so neither the WorkflowTemplate nor the state
machine needs an extra parameter. Step Functions: the run id is the execution name, chosen here.
Argo: the run id holds the Workflow's uid, known only once it exists, so the Workflow is created
suspended (`spec.suspend`), the options are written, then it is let go.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any, cast

from compiler.deploy import DeployError


@dataclass
class RunInfo:
    run_id: str
    state: str                  # the engine's own word: Running, Succeeded, FAILED, ABORTED, ...
    started: float | None       # seconds since the epoch
    finished: float | None

    @property
    def duration(self) -> float | None:
        if self.started is None:
            return None
        return (self.finished or time.time()) - self.started


def _datastore(settings: Any, flow_name: str):
    from runtime_shim.datastore import DatastoreError, FlowDatastore

    root = str(getattr(settings, "datastore", None) or "")
    if not root:
        raise DeployError("setting datastore is not set: pass --datastore or set FLOWC_DATASTORE")
    try:
        return FlowDatastore(root, flow_name)
    except DatastoreError as error:
        raise DeployError(str(error)) from None


def write_options(settings: Any, flow_name: str, run_id: str, options: dict[str, Any]) -> None:
    from runtime_shim.datastore import DatastoreError

    try:
        _datastore(settings, flow_name).write_run_options(run_id, options)
    except (DatastoreError, OSError) as error:
        raise DeployError(f"cannot write the run options of {run_id}: {error}") from None


def _epoch(value: Any) -> float | None:
    """An RFC 3339 string (Kubernetes) or a datetime (boto3) as seconds since the epoch."""
    import datetime

    if value is None or value == "":
        return None
    if isinstance(value, datetime.datetime):
        return value.timestamp()
    text = str(value).replace("Z", "+00:00")
    try:
        return datetime.datetime.fromisoformat(text).timestamp()
    except ValueError:
        return None


def missing_run(error: BaseException) -> bool:
    """Whether an engine's error says the run does not exist (Kubernetes 404, ExecutionDoesNotExist)."""
    if getattr(error, "status", None) == 404:
        return True
    code = str(getattr(error, "response", {}).get("Error", {}).get("Code", ""))
    return code in ("ExecutionDoesNotExist", "InvalidArn")


# --- Argo ---------------------------------------------------------------------------------------
def _argo(settings: Any):
    from kubernetes import client

    from compiler.deploy import argo

    api = argo.api_client(settings)
    return client.CustomObjectsApi(api), argo.namespace_of(settings, api)


def _workflow(custom, namespace: str, run_id: str) -> dict[str, Any]:
    from kubernetes.client.exceptions import ApiException

    from compiler.deploy import argo

    try:
        return cast(dict[str, Any], custom.get_namespaced_custom_object(
            argo.GROUP, argo.VERSION, namespace, "workflows", argo._name_of_run(run_id)))
    except ApiException as error:
        if error.status == 404:
            raise DeployError(f"no run {run_id} in namespace {namespace}") from None
        raise


def argo_runs(template: str, settings: Any) -> list[RunInfo]:
    from compiler.deploy import argo

    custom, namespace = _argo(settings)
    listed = custom.list_namespaced_custom_object(
        argo.GROUP, argo.VERSION, namespace, "workflows",
        label_selector=f"workflows.argoproj.io/workflow-template={template}")
    out = []
    for w in cast(dict[str, Any], listed).get("items", []):
        status = w.get("status") or {}
        out.append(RunInfo(argo.run_id_of(w), status.get("phase") or "Pending",
                           _epoch(status.get("startedAt") or w["metadata"].get("creationTimestamp")),
                           _epoch(status.get("finishedAt"))))
    return sorted(out, key=lambda r: (r.started or 0, r.run_id), reverse=True)


def _update_spec(custom, namespace: str, run_id: str, change: dict[str, Any], attempts: int = 5) -> None:
    """Set fields of a Workflow's spec (get, then replace with its resourceVersion; again on 409)."""
    from kubernetes.client.exceptions import ApiException

    from compiler.deploy import argo

    for _ in range(attempts):
        w = _workflow(custom, namespace, run_id)
        w.setdefault("spec", {}).update(change)
        try:
            custom.replace_namespaced_custom_object(argo.GROUP, argo.VERSION, namespace, "workflows",
                                                    w["metadata"]["name"], w)
            return
        except ApiException as error:
            if error.status != 409:
                raise
    raise DeployError(f"run {run_id} kept changing; try again")


def argo_start(template: str, flow_name: str, params: dict[str, str], settings: Any,
               options: dict[str, Any], run_id: str | None = None) -> str:
    """Create the Workflow suspended, write its run options, then let it run."""
    from compiler.deploy import argo

    custom, namespace = _argo(settings)
    body = {
        "apiVersion": f"{argo.GROUP}/{argo.VERSION}", "kind": "Workflow",
        "metadata": ({"name": run_id} if run_id else {"generateName": template + "-"}) |
        {"labels": {"workflows.argoproj.io/workflow-template": template}},
        "spec": {"workflowTemplateRef": {"name": template}, "suspend": True,
                 "arguments": {"parameters": [{"name": k, "value": v} for k, v in sorted(params.items())]}},
    }
    created = cast(dict[str, Any], custom.create_namespaced_custom_object(
        argo.GROUP, argo.VERSION, namespace, "workflows", body))
    new_id = argo.run_id_of(created)
    write_options(settings, flow_name, new_id, options)
    _update_spec(custom, namespace, new_id, {"suspend": False})
    return new_id


def argo_terminate(settings: Any, run_id: str) -> str:
    """Stop the Workflow (Argo's `argo stop`: no new pods, running ones are stopped)."""
    custom, namespace = _argo(settings)
    _update_spec(custom, namespace, run_id, {"shutdown": "Stop"})
    return "stopping"


def argo_suspend(settings: Any, run_id: str, suspend: bool) -> str:
    """Argo's suspend / resume of a running Workflow (flowc calls the latter `unsuspend`: in
    Metaflow's words `resume` starts a new run from a failed one)."""
    custom, namespace = _argo(settings)
    _update_spec(custom, namespace, run_id, {"suspend": suspend})
    return "suspended" if suspend else "running"


# --- Step Functions -----------------------------------------------------------------------------
def _sfn(settings: Any):
    from compiler.compute import aws

    return aws.session(settings)


def _machine(sfn, name: str) -> str:
    from compiler.deploy import stepfunctions

    arn = stepfunctions._find_state_machine(sfn, name)
    if arn is None:
        raise DeployError(f"state machine {name} is not deployed: run `flowc deploy` first")
    return arn


def execution_arn(sfn, name: str, run_id: str) -> str:
    """The execution's ARN; DeployError (not ExecutionDoesNotExist) when there is none."""
    arn = _machine(sfn, name).replace(":stateMachine:", ":execution:") + ":" + run_id
    try:
        sfn.describe_execution(executionArn=arn)
    except sfn.exceptions.ExecutionDoesNotExist:
        raise DeployError(f"no run {run_id} of {name}") from None
    except Exception as error:   # a malformed id is InvalidArn: the same answer for the user
        if type(error).__name__ in ("InvalidArn", "ClientError") and "Invalid" in str(error):
            raise DeployError(f"no run {run_id} of {name}") from None
        raise
    return arn


def sfn_runs(name: str, settings: Any) -> list[RunInfo]:
    sfn = _sfn(settings).client("stepfunctions")
    arn = _machine(sfn, name)
    out = []
    for page in sfn.get_paginator("list_executions").paginate(stateMachineArn=arn):
        for e in page.get("executions", []):
            out.append(RunInfo(e["name"], e["status"], _epoch(e.get("startDate")), _epoch(e.get("stopDate"))))
    return sorted(out, key=lambda r: (r.started or 0, r.run_id), reverse=True)


def sfn_start(name: str, flow_name: str, params: dict[str, str], settings: Any,
              options: dict[str, Any], run_id: str | None = None) -> str:
    """Write the run options under the execution name, then start the execution with that name."""
    import uuid

    sfn = _sfn(settings).client("stepfunctions")
    arn = _machine(sfn, name)
    run_id = run_id or uuid.uuid4().hex
    write_options(settings, flow_name, run_id, options)
    sfn.start_execution(stateMachineArn=arn, name=run_id, input=json.dumps(params, sort_keys=True))
    return run_id


def _queues(definition: dict[str, Any]) -> list[str]:
    found: list[str] = []

    def walk(states: dict[str, Any]) -> None:
        for state in states.values():
            params = state.get("Parameters")
            queue = params.get("JobQueue") if isinstance(params, dict) else None
            if isinstance(queue, str) and queue not in found:
                found.append(queue)
            for branch in state.get("Branches", []):
                walk(branch["States"])
            for key in ("ItemProcessor", "Iterator"):
                if key in state:
                    walk(state[key]["States"])

    walk(definition.get("States", {}))
    return found


def sfn_terminate(name: str, settings: Any, run_id: str) -> str:
    """StopExecution, then terminate the run's Batch jobs still queued or running (found by the run
    id in their command: `task ... --run-id <run> ...`)."""
    session = _sfn(settings)
    sfn, batch = session.client("stepfunctions"), session.client("batch")
    arn = execution_arn(sfn, name, run_id)
    definition = json.loads(sfn.describe_state_machine(stateMachineArn=_machine(sfn, name))["definition"])
    sfn.stop_execution(executionArn=arn, error="flowc.Terminated", cause="flowc terminate")
    stopped = 0
    for queue in _queues(definition):
        for status in ("SUBMITTED", "PENDING", "RUNNABLE", "STARTING", "RUNNING"):
            ids = [j["jobId"] for page in batch.get_paginator("list_jobs").paginate(jobQueue=queue, jobStatus=status)
                   for j in page.get("jobSummaryList", [])]
            for chunk in range(0, len(ids), 100):
                for job in batch.describe_jobs(jobs=ids[chunk:chunk + 100]).get("jobs", []):
                    command = (job.get("container") or {}).get("command") or []
                    if _run_of(command) == run_id:
                        batch.terminate_job(jobId=job["jobId"], reason="flowc terminate")
                        stopped += 1
    return f"stopped; {stopped} Batch job(s) terminated"


def _run_of(command: list[str]) -> str | None:
    for i, arg in enumerate(command[:-1]):
        if arg == "--run-id":
            return command[i + 1]
    return None


# --- by target name ------------------------------------------------------------------------------
def start_run(target: str, workflow: str, flow_name: str, params: dict[str, str], settings: Any,
              options: dict[str, Any], run_id: str | None = None) -> str:
    start = argo_start if target == "argo" else sfn_start
    return start(workflow, flow_name, params, settings, options, run_id)


def list_runs(target: str, workflow: str, settings: Any) -> list[RunInfo]:
    return argo_runs(workflow, settings) if target == "argo" else sfn_runs(workflow, settings)


def terminate(target: str, workflow: str, settings: Any, run_id: str) -> str:
    return argo_terminate(settings, run_id) if target == "argo" else sfn_terminate(workflow, settings, run_id)


NO_SUSPEND = "suspend and unsuspend are Argo's (a Step Functions execution cannot be paused)"


def can_suspend(target: str) -> bool:
    return target == "argo"


def suspend(target: str, settings: Any, run_id: str, pause: bool) -> str:
    if not can_suspend(target):
        raise DeployError(NO_SUSPEND)
    return argo_suspend(settings, run_id, pause)
