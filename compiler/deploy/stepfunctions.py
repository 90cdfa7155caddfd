"""Deploy to Step Functions + Batch with boto3 (standard credential chain; AWS_ENDPOINT_URL works)."""
from __future__ import annotations

import json
from typing import Any

from compiler.deploy import Action, DeployError, DeployPlan
from compiler.targets.base import CodePackageRef, OutputFile


def _split_s3(url: str) -> tuple[str, str]:
    if not url.startswith("s3://"):
        raise DeployError(f"the datastore must be s3:// for Step Functions, not {url!r} (set FLOWC_DATASTORE)")
    bucket, _, key = url[len("s3://"):].partition("/")
    return bucket, key


def _clients(settings: Any):
    import boto3

    session = boto3.session.Session(region_name=getattr(settings, "aws_region", None) or None)
    return session


def _require(settings: Any, name: str) -> str:
    value = getattr(settings, name, None)
    if not value:
        raise DeployError(f"setting {name} is not set: pass --{name.replace('_', '-')} or set FLOWC_{name.upper()}")
    return str(value)


def upload_code_package(s3, package: CodePackageRef) -> str:
    bucket, key = _split_s3(package.url or "")
    try:
        s3.head_object(Bucket=bucket, Key=key)
        return "unchanged"
    except s3.exceptions.ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey", "NotFound"):
            raise
    s3.put_object(Bucket=bucket, Key=key, Body=package.data)
    return "uploaded"


def _covers(existing: Any, wanted: Any) -> bool:
    """Whether `existing` (as AWS describes it, with its own defaults filled in) holds every value
    `wanted` (our request) sets: dicts by key, lists element by element, scalars as text."""
    if isinstance(wanted, dict):
        return isinstance(existing, dict) and all(_covers(existing.get(k), v) for k, v in wanted.items())
    if isinstance(wanted, list):
        return isinstance(existing, list) and len(existing) == len(wanted) and \
            all(_covers(e, w) for e, w in zip(existing, wanted))
    return existing == wanted or str(existing) == str(wanted)


def _same_job_definition(existing: dict[str, Any], request: dict[str, Any]) -> bool:
    """An ACTIVE revision equals the request when it holds every field the request sets."""
    return all(_covers(existing.get(k), v) for k, v in request.items() if k != "jobDefinitionName")


def register_job_definition(batch, request: dict[str, Any]) -> str:
    name = request["jobDefinitionName"]
    found = batch.describe_job_definitions(jobDefinitionName=name, status="ACTIVE").get("jobDefinitions", [])
    if any(_same_job_definition(d, request) for d in found):
        return "unchanged"
    response = batch.register_job_definition(**request)
    return f"registered revision {response.get('revision')}"


def _find_state_machine(sfn, name: str) -> str | None:
    for page in sfn.get_paginator("list_state_machines").paginate():
        for machine in page.get("stateMachines", []):
            if machine["name"] == name:
                return machine["stateMachineArn"]
    return None


def put_state_machine(sfn, name: str, definition: str, role_arn: str) -> str:
    arn = _find_state_machine(sfn, name)
    if arn is None:
        sfn.create_state_machine(name=name, definition=definition, roleArn=role_arn)
        return "created"
    current = sfn.describe_state_machine(stateMachineArn=arn)
    if current.get("definition") == definition and current.get("roleArn") == role_arn:
        return "unchanged"
    sfn.update_state_machine(stateMachineArn=arn, definition=definition, roleArn=role_arn)
    return "updated"


def put_schedule(scheduler, request: dict[str, Any], state_machine_arn: str, role_arn: str) -> str:
    request = json.loads(json.dumps(request))
    target = request.setdefault("Target", {})
    target["Arn"] = state_machine_arn
    target.setdefault("RoleArn", role_arn)
    try:
        current = scheduler.get_schedule(Name=request["Name"])
    except scheduler.exceptions.ResourceNotFoundException:
        scheduler.create_schedule(**request)
        return "created"
    if all(current.get(k) == v for k, v in request.items() if k != "Target"):
        return "unchanged"
    scheduler.update_schedule(**request)
    return "updated"


def state_machine_name(files: list[OutputFile]) -> str:
    return next(f.name[: -len(".asl.json")] for f in files if f.name.endswith(".asl.json"))


def build_plan(flow_name: str, files: list[OutputFile], package: CodePackageRef, settings: Any) -> DeployPlan:
    role_arn = _require(settings, "sfn_role_arn")
    _split_s3(package.url or "")
    session = _clients(settings)
    s3, batch, sfn = session.client("s3"), session.client("batch"), session.client("stepfunctions")
    name = state_machine_name(files)
    definition = next(f.content.decode() for f in files if f.name.endswith(".asl.json"))
    plan = DeployPlan("stepfunctions", flow_name)
    plan.actions.append(Action("code-package", package.url or "", lambda: upload_code_package(s3, package)))
    for f in files:
        if f.name.endswith(".jobdef.json"):
            request = json.loads(f.content)
            plan.actions.append(Action("job-definition", request["jobDefinitionName"],
                                       lambda r=request: register_job_definition(batch, r)))
    plan.actions.append(Action("state-machine", name, lambda: put_state_machine(sfn, name, definition, role_arn),
                               switches=True))
    for f in files:
        if f.name.endswith(".schedule.json"):
            request = json.loads(f.content)
            scheduler = session.client("scheduler")

            def schedule(request=request, scheduler=scheduler):
                arn = _find_state_machine(sfn, name)
                return put_schedule(scheduler, request, arn, role_arn)
            plan.actions.append(Action("schedule", request.get("Name", name), schedule, switches=True))
    return plan


def trigger(name: str, params: dict[str, str], settings: Any, run_id: str | None = None) -> str:
    sfn = _clients(settings).client("stepfunctions")
    arn = _find_state_machine(sfn, name)
    if arn is None:
        raise DeployError(f"state machine {name} is not deployed: run `flowc deploy` first")
    kwargs = {"stateMachineArn": arn, "input": json.dumps(params, sort_keys=True)}
    if run_id:
        kwargs["name"] = run_id
    response = sfn.start_execution(**kwargs)
    return response["executionArn"].rsplit(":", 1)[-1]


def status(name: str, settings: Any, run_id: str | None = None) -> dict[str, Any]:
    """The run's state and, per step, the states its tasks reached (from the execution history)."""
    sfn = _clients(settings).client("stepfunctions")
    arn = _find_state_machine(sfn, name)
    if arn is None:
        raise DeployError(f"state machine {name} is not deployed")
    if run_id is None:
        executions = sfn.list_executions(stateMachineArn=arn, maxResults=1).get("executions", [])
        if not executions:
            raise DeployError(f"{name} has no runs yet")
        execution_arn = executions[0]["executionArn"]
    else:
        execution_arn = arn.replace(":stateMachine:", ":execution:") + ":" + run_id
    execution = sfn.describe_execution(executionArn=execution_arn)
    steps: dict[str, dict[str, int]] = {}
    for page in sfn.get_paginator("get_execution_history").paginate(executionArn=execution_arn):
        for event in page["events"]:
            kind = event["type"]
            details = event.get("stateEnteredEventDetails") or event.get("stateExitedEventDetails")
            if details and kind in ("TaskStateEntered", "TaskStateExited"):
                counts = steps.setdefault(details["name"], {"started": 0, "finished": 0})
                counts["started" if kind.endswith("Entered") else "finished"] += 1
    return {"run_id": execution_arn.rsplit(":", 1)[-1], "status": execution["status"], "steps": steps}
