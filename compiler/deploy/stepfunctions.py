"""Deploy to Step Functions + Batch with boto3 (standard credential chain; AWS_ENDPOINT_URL works)."""
from __future__ import annotations

import functools
import json
from typing import Any

from compiler.compute import aws
from compiler.deploy import Action, DeployError, DeployPlan, LazyClient
from compiler.targets.base import CodePackageRef, OutputFile


def _session(settings: Any):
    return aws.session(settings)


def _require(settings: Any, name: str) -> str:
    value = getattr(settings, name, None)
    if not value:
        raise DeployError(f"setting {name} is not set: pass --{name.replace('_', '-')} or set FLOWC_{name.upper()}")
    return str(value)


def _package_url(package: CodePackageRef) -> str:
    try:
        aws.split_s3(package.url or "")
    except aws.AwsError as error:
        raise DeployError(str(error)) from None
    return str(package.url)


def target_options(settings: Any) -> dict[str, Any]:
    return {}


def required_settings(settings: Any, connect: bool = True) -> list[tuple[str, str]]:
    """Every setting a deploy needs and lacks (the command reports them in one message)."""
    missing = []
    if not str(getattr(settings, "datastore", None) or "").startswith("s3://"):
        missing.append(("datastore", "an s3://bucket/prefix for the code package and the artifacts"))
    if not getattr(settings, "sfn_role_arn", None):
        missing.append(("sfn_role_arn", "the IAM role the state machine runs as"))
    if connect and not getattr(settings, "aws_region", None) and not _session(settings).region_name:
        missing.append(("aws_region", "the AWS region (AWS_DEFAULT_REGION and ~/.aws/config work too)"))
    return missing


def workflow_name_of_plan(plan: Any) -> str:
    from compiler.targets.stepfunctions.common import state_machine_name

    return state_machine_name(plan)


def _clients(settings: Any):
    """client(service), made on first use: a dry run builds the plan without contacting AWS."""
    made: dict[str, Any] = {}

    def client(service: str):
        if service not in made:
            made[service] = _session(settings).client(service)
        return made[service]
    return client


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


def _documents(files: list[OutputFile], suffix: str) -> list[dict[str, Any]]:
    return [doc for f in files if f.name.endswith(suffix) for doc in f.documents]


def workflow_name(files: list[OutputFile]) -> str:
    """The state machine's name (the compiled NAME.asl.json)."""
    return next(f.name[: -len(".asl.json")] for f in files if f.name.endswith(".asl.json"))

def build_plan(flow_name: str, files: list[OutputFile], package: CodePackageRef, settings: Any) -> DeployPlan:
    role_arn = _require(settings, "sfn_role_arn")
    url = _package_url(package)
    client = _clients(settings)

    def register(request: dict[str, Any]) -> str:
        return aws.register_job_definition(client("batch"), request)

    def state_machine() -> str:
        return put_state_machine(client("stepfunctions"), name, definition, role_arn)
    name = workflow_name(files)
    # the definition as compiled, byte for byte: what deploy compares with the deployed one
    definition = next(f.content.decode() for f in files if f.name.endswith(".asl.json"))
    plan = DeployPlan("stepfunctions", flow_name)
    plan.actions.append(Action("code-package", url, lambda: aws.upload_code_package(client("s3"), url, package.data)))
    for request in _documents(files, ".jobdef.json"):
        plan.actions.append(Action("job-definition", request["jobDefinitionName"],
                                   functools.partial(register, request)))
    plan.actions.append(Action("state-machine", name,
                               state_machine,
                               switches=True))
    for request in _documents(files, ".schedule.json"):
        def schedule(request=request):
            arn = _find_state_machine(client("stepfunctions"), name)
            return put_schedule(client("scheduler"), request, arn, role_arn)
        plan.actions.append(Action("schedule", request.get("Name", name), schedule, switches=True))
    from compiler.deploy import eventbridge  # rules start the state machine: they go after it
    from compiler.targets.stepfunctions.eventbridge import rule_prefix

    events_doc = next(iter(_documents(files, ".events.json")), None)
    plan.actions += eventbridge.actions(LazyClient(lambda: client("events")), events_doc, rule_prefix(name),
                                        [str(getattr(settings, "eventbridge_bus", None) or "default")],
                                        lambda: _find_state_machine(client("stepfunctions"), name) or "")
    return plan


def trigger(name: str, params: dict[str, str], settings: Any, run_id: str | None = None) -> str:
    sfn = _session(settings).client("stepfunctions")
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
    sfn = _session(settings).client("stepfunctions")
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


def publish_event(name: str, payload: dict[str, Any], settings: Any) -> str:
    """`flowc trigger --event`: what this target's event listeners receive (deploy/publish.py)."""
    from compiler.deploy.publish import to_eventbridge

    return to_eventbridge(name, payload, settings)
