"""The AWS Step Functions + AWS Batch target.

emit() returns, for a state machine named NAME:
  NAME.asl.json                 the state machine definition (the only file printed without -o)
  NAME.jobdef.json              the RegisterJobDefinition request (NAME.<hash12>.jobdef.json each
                                when the flow needs several distinct definitions)
  NAME.schedule.json            EventBridge Scheduler CreateSchedule request (@schedule only)
  NAME.policy.json              the IAM policy the state machine's role needs
  NAME.events.json              EventBridge PutRule/PutTargets requests (@trigger, @trigger_on_finish)
"""
from __future__ import annotations

import re
from typing import Any

from compiler import triggers as trigger_model
from compiler.compute import batch as compute_batch
from compiler.compute.container import code_url as package_url
from compiler.diagnostics import ERROR, Diagnostic
from compiler.ir import FlowPlan
from compiler.targets.base import CodePackageRef, OutputFile
from compiler.targets.serialize import to_json, to_json_within
from compiler.targets.stepfunctions import check as checks
from compiler.targets.stepfunctions import codes, eventbridge
from compiler.targets.stepfunctions.asl import build_definition, split_s3
from compiler.targets.stepfunctions.check import override_sizes
from compiler.targets.stepfunctions.common import state_machine_name

__all__ = ["StepFunctionsTarget", "state_machine_name", "job_definitions", "override_sizes"]


def _settings(plan: FlowPlan, settings: Any) -> Any:
    return settings if settings is not None else plan.settings


def job_definitions(plan: FlowPlan, package: CodePackageRef, settings: Any = None
                    ) -> tuple[dict[str, str], list[dict[str, Any]]]:
    """step -> job definition name, and the distinct RegisterJobDefinition requests (by name)."""
    settings = _settings(plan, settings)
    by_step: dict[str, str] = {}
    requests: dict[str, dict[str, Any]] = {}
    for step in plan.steps.values():
        if step.compute.backend == "kubernetes":
            continue
        request = compute_batch.job_definition(plan.flow_name, step.compute, settings,
                                               code_sha256=package.sha256,
                                               code_url=_code_url(plan, package, settings))
        by_step[step.name] = request["jobDefinitionName"]
        requests.setdefault(request["jobDefinitionName"], request)
    return by_step, [requests[k] for k in sorted(requests)]


def _code_url(plan: FlowPlan, package: CodePackageRef, settings: Any) -> str | None:
    if package.url:
        return package.url
    datastore = getattr(settings, "datastore", None)
    return package_url(datastore, plan.flow_name, package.sha256) if datastore else None


_DOW = {str(i): str(i + 1) for i in range(7)}
_DOW["7"] = "1"


def aws_cron(cron: str) -> str:
    """Five-field cron -> EventBridge cron(m h dom mon dow year): one of dom/dow is '?', dow 1-7 = SUN-SAT."""
    fields = cron.split()
    if len(fields) != 5:
        return f"cron({cron})"
    minute, hour, dom, month, dow = fields
    dow = re.sub(r"\d+", lambda m: _DOW.get(m.group(0), m.group(0)), dow)
    if dow == "*":
        dow = "?"
    elif dom == "*":
        dom = "?"
    else:
        dom = "?"  # EventBridge cannot combine both; the day of week wins (as Metaflow does)
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


def _account(settings: Any) -> str:
    role = getattr(settings, "sfn_role_arn", None) or ""
    parts = str(role).split(":")
    return parts[4] if len(parts) > 4 and parts[4] else "${AWS::AccountId}"


def schedule_name(name: str) -> str:
    """EventBridge Scheduler names hold 64 characters: longer ones keep a prefix and a stable hash."""
    if len(name) <= codes.MAX_SCHEDULE_NAME:
        return name
    import hashlib

    return name[: codes.MAX_SCHEDULE_NAME - 13] + "-" + hashlib.sha256(name.encode()).hexdigest()[:12]


def schedule_request(plan: FlowPlan, settings: Any, name: str) -> dict[str, Any]:
    region = getattr(settings, "aws_region", None) or "us-east-1"
    role = getattr(settings, "sfn_role_arn", None) or f"arn:aws:iam::{_account(settings)}:role/flowc-scheduler"
    schedule = plan.schedule
    assert schedule is not None, "a schedule request is for scheduled flows"
    request: dict[str, Any] = {
        "Name": schedule_name(name),
        "Description": f"flowc: {plan.flow_name} on {schedule.cron}",
        "ScheduleExpression": aws_cron(schedule.cron),
        "ScheduleExpressionTimezone": schedule.timezone or "UTC",
        "FlexibleTimeWindow": {"Mode": "OFF"},
        "Target": {
            "Arn": f"arn:aws:states:{region}:{_account(settings)}:stateMachine:{name}",
            "RoleArn": role,
            "Input": "{}",
        },
        "State": "ENABLED",
    }
    return request


def policy_document(plan: FlowPlan, settings: Any, name: str, jobdefs: list[dict[str, Any]],
                    queues: list[str]) -> dict[str, Any]:
    region = getattr(settings, "aws_region", None) or "*"
    account = _account(settings)
    if account.startswith("$"):
        account = "*"
    bucket, prefix = split_s3(str(getattr(settings, "datastore", None) or "s3://flowc-datastore"))
    root = "/".join(p for p in (prefix, plan.flow_name) if p)
    statements: list[dict[str, Any]] = [
        {"Sid": "SubmitBatchJobs", "Effect": "Allow", "Action": ["batch:SubmitJob", "batch:TagResource"],
         "Resource": sorted({_queue_arn(q, region, account) for q in queues})
         + [f"arn:aws:batch:{region}:{account}:job-definition/{j['jobDefinitionName']}*" for j in jobdefs]},
        {"Sid": "FollowBatchJobs", "Effect": "Allow", "Action": ["batch:DescribeJobs", "batch:TerminateJob"],
         "Resource": "*"},
        {"Sid": "BatchSyncRule", "Effect": "Allow",
         "Action": ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
         "Resource": f"arn:aws:events:{region}:{account}:rule/StepFunctionsGetEventsForBatchJobsRule"},
        {"Sid": "ReadForeachAndSwitch", "Effect": "Allow", "Action": ["s3:GetObject"],
         "Resource": f"arn:aws:s3:::{bucket}/{root}/runs/*"},
        {"Sid": "WriteMapResults", "Effect": "Allow", "Action": ["s3:PutObject", "s3:GetObject",
                                                                   "s3:ListMultipartUploadParts",
                                                                   "s3:AbortMultipartUpload"],
         "Resource": f"arn:aws:s3:::{bucket}/{root}/sfn-map-results/*"},
        {"Sid": "DistributedMap", "Effect": "Allow",
         "Action": ["states:StartExecution", "states:DescribeExecution", "states:StopExecution"],
         "Resource": [f"arn:aws:states:{region}:{account}:stateMachine:{name}",
                      f"arn:aws:states:{region}:{account}:execution:{name}/*",
                      f"arn:aws:states:{region}:{account}:execution:{name}:*"]},
    ]
    if any(s.compute.backend == "kubernetes" for s in plan.steps.values()):
        cluster = getattr(settings, "eks_cluster", None) or "*"
        statements.append({"Sid": "EksRunJob", "Effect": "Allow",
                           "Action": ["eks:DescribeCluster", "eks:RunJob"],
                           "Resource": f"arn:aws:eks:{region}:{account}:cluster/{cluster}"})
    return {"Version": "2012-10-17", "Statement": statements}


def _queue_arn(queue: str, region: str, account: str) -> str:
    return queue if queue.startswith("arn:") else f"arn:aws:batch:{region}:{account}:job-queue/{queue}"


class StepFunctionsTarget:
    name = "stepfunctions"
    capabilities = frozenset({"foreach", "nested_foreach", "static_split", "switch", "recursive_switch",
                              "retry", "catch", "timeout", "schedule", "resources", "batch", "kubernetes"})

    def __init__(self, settings: Any = None):
        self.settings = settings

    # --- check -------------------------------------------------------------------------------
    def check(self, plan: FlowPlan, package: CodePackageRef | None = None) -> list[Diagnostic]:
        """Everything Step Functions and Batch cannot take, before emitting (check.py, by phase)."""
        settings = _settings(plan, self.settings)
        diags = (checks.settings_problems(plan, settings) + checks.schedule_problems(plan)
                 + checks.name_problems(plan) + checks.step_problems(plan, settings))
        triggers, problems = trigger_model.analyze(plan)
        diags += problems
        if len(triggers.dependencies) > 1:
            diags.append(Diagnostic(codes.TRIGGERS_UNSUPPORTED, ERROR,
                                    "the flow starts when all of " + ", ".join(d.name for d in triggers.dependencies)
                                    + " have arrived; an EventBridge rule matches one event (deploy on Argo, or "
                                    "publish one event)", trigger_model.decorator_span(plan)))
        if any(d.is_error for d in diags):
            return diags
        # Sizes: build the definition with a dummy package and measure it.
        definition, _ = self._build(plan, CodePackageRef(b"", "0" * 64, None), settings)
        return diags + checks.size_problems(plan, definition)

    # --- emit --------------------------------------------------------------------------------
    def _build(self, plan: FlowPlan, package: CodePackageRef, settings: Any):
        names, jobdefs = job_definitions(plan, package, settings)
        definition = build_definition(plan, settings, jobdef_names=names,
                                      state_machine_name=state_machine_name(plan),
                                      code_sha256=package.sha256, code_url=_code_url(plan, package, settings))
        return definition, jobdefs

    def emit(self, plan: FlowPlan, code_package: CodePackageRef) -> list[OutputFile]:
        settings = _settings(plan, self.settings)
        name = state_machine_name(plan)
        definition, jobdefs = self._build(plan, code_package, settings)

        def out(file_name: str, document: dict[str, Any], stdout: bool = False) -> OutputFile:
            return OutputFile(file_name, to_json(document).encode("utf-8"), stdout=stdout, documents=(document,))

        asl_text = to_json_within(definition, codes.MAX_DEFINITION_BYTES)
        files = [OutputFile(f"{name}.asl.json", asl_text.encode("utf-8"), stdout=True, documents=(definition,))]
        if len(jobdefs) == 1:
            files.append(out(f"{name}.jobdef.json", jobdefs[0]))
        else:
            for jd in jobdefs:
                files.append(out(f"{name}.{jd['jobDefinitionName'].rsplit('-', 1)[-1]}.jobdef.json", jd))
        if plan.schedule is not None:
            files.append(out(f"{name}.schedule.json", schedule_request(plan, settings, name)))
        queues = sorted({compute_batch.queue_of(s.compute, settings) or compute_batch.PLACEHOLDER_QUEUE
                         for s in plan.steps.values() if s.compute.backend != "kubernetes"})
        policy = policy_document(plan, settings, name, jobdefs, queues)
        triggers, _ = trigger_model.analyze(plan)
        if triggers:
            region = str(getattr(settings, "aws_region", None) or "us-east-1")
            account = _account(settings)
            role = str(getattr(settings, "eventbridge_role_arn", None) or getattr(settings, "sfn_role_arn", None)
                       or f"arn:aws:iam::{account}:role/flowc-events")
            files.append(out(f"{name}.events.json", {
                "rules": eventbridge.rules(plan, triggers, settings, name, region, account, role),
                "role_arn": role, "role_trust_policy": eventbridge.trust_policy()}))
            policy["Statement"].append(eventbridge.policy_statement(region, account if not account.startswith("$")
                                                                    else "*", name))
        files.append(out(f"{name}.policy.json", policy))
        return files
