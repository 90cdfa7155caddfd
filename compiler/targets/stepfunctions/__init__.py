"""The AWS Step Functions + AWS Batch target.

emit() returns, for a state machine named NAME:
  NAME.asl.json                 the state machine definition (the only file printed without -o)
  NAME.jobdef.json              the RegisterJobDefinition request (NAME.<hash12>.jobdef.json each
                                when the flow needs several distinct definitions)
  NAME.schedule.json            EventBridge Scheduler CreateSchedule request (@schedule only)
  NAME.policy.json              the IAM policy the state machine's role needs
"""
from __future__ import annotations

import json
import re
from typing import Any

from compiler.compute import batch as compute_batch
from compiler.compute.container import code_url as package_url
from compiler.diagnostics import ERROR, WARNING, Diagnostic
from compiler.ir import FlowPlan
from compiler.targets.base import CodePackageRef, OutputFile
from compiler.targets.serialize import to_json
from compiler.targets.stepfunctions import codes
from compiler.targets.stepfunctions.asl import build_definition, param_default_strings, split_s3

__all__ = ["StepFunctionsTarget", "state_machine_name", "job_definitions"]


def state_machine_name(plan: FlowPlan) -> str:
    """Flow name, or project.branch.Flow under @project (Metaflow's naming). [A-Za-z0-9._-]."""
    if plan.project:
        raw = f"{plan.project}.{plan.project_branch}.{plan.flow_name}"
    else:
        raw = plan.flow_name
    return re.sub(r"[^A-Za-z0-9._-]", "_", raw)


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
    request: dict[str, Any] = {
        "Name": schedule_name(name),
        "Description": f"flowc: {plan.flow_name} on {plan.schedule.cron}",
        "ScheduleExpression": aws_cron(plan.schedule.cron),
        "ScheduleExpressionTimezone": plan.schedule.timezone or "UTC",
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
        settings = _settings(plan, self.settings)
        diags: list[Diagnostic] = []
        datastore = str(getattr(settings, "datastore", None) or "")
        if not datastore.startswith("s3://"):
            diags.append(Diagnostic(codes.NO_DATASTORE, ERROR,
                                    f"the stepfunctions target needs an s3:// datastore (got {datastore or 'none'}); "
                                    "set FLOWC_DATASTORE=s3://bucket/prefix", None))
        name = state_machine_name(plan)
        if len(name) > codes.MAX_STATE_MACHINE_NAME:
            diags.append(Diagnostic(codes.NAME_TOO_LONG, ERROR,
                                    f"state machine name {name!r} has {len(name)} characters (AWS allows "
                                    f"{codes.MAX_STATE_MACHINE_NAME}); shorten the flow or @project name", None))
        if plan.schedule is not None and not getattr(settings, "sfn_role_arn", None):
            diags.append(Diagnostic(codes.SCHEDULE_NO_ROLE, WARNING,
                                    "@schedule: no sfn_role_arn set, the schedule names a placeholder role; "
                                    "set FLOWC_SFN_ROLE_ARN", None))
        if plan.triggers:
            diags.append(Diagnostic(codes.TRIGGERS_UNSUPPORTED, WARNING,
                                    "@trigger / @trigger_on_finish are not compiled for Step Functions", None))
        for p in plan.parameters:
            if p.name.endswith(".$"):
                diags.append(Diagnostic(codes.PATH_KEY, ERROR,
                                        f"parameter {p.name!r}: a name ending with '.$' would make Step Functions "
                                        "evaluate its default as a path", p.span))
        for step in plan.steps.values():
            c = step.compute
            for what, key in ([("label", k) for k, _ in c.labels] + [("annotation", k) for k, _ in c.annotations]
                              + [("node selector", k) for k, _ in c.node_selector]):
                if c.backend == "kubernetes" and str(key).endswith(".$"):
                    diags.append(Diagnostic(codes.PATH_KEY, ERROR,
                                            f"step {step.name!r}: {what} key {key!r} ends with '.$', which Step "
                                            "Functions would evaluate as a path", step.span))
        missing_queue = []
        for step in plan.steps.values():
            longest = max(len(step.name) + len(s) for s in (".foreach", ".cluster", ".choose", ".split", ".read", ".loop"))
            if longest > codes.MAX_STATE_NAME:
                diags.append(Diagnostic(codes.NAME_TOO_LONG, ERROR,
                                        f"step {step.name!r}: its state names would exceed {codes.MAX_STATE_NAME} "
                                        "characters; rename the step", step.span))
            if step.compute.backend == "kubernetes":
                if not getattr(settings, "eks_cluster", None):
                    diags.append(Diagnostic(codes.NO_EKS_CLUSTER, ERROR,
                                            f"step {step.name!r} is @kubernetes: on Step Functions it runs on EKS "
                                            "(eks:runJob.sync) and no cluster is set; set FLOWC_EKS_CLUSTER=<cluster> "
                                            "or use @batch", step.span))
            elif not (step.compute.queue or getattr(settings, "batch_queue", None)):
                missing_queue.append(step.name)
        if missing_queue:
            named = ", ".join(missing_queue[:10]) + (f" and {len(missing_queue) - 10} more" if len(missing_queue) > 10 else "")
            diags.append(Diagnostic(codes.NO_BATCH_QUEUE, WARNING,
                                    f"no Batch job queue for step(s) {named}: set "
                                    "FLOWC_BATCH_QUEUE or @batch(queue=...)", None))
        deepest = max(plan.steps.values(), key=lambda s: len(s.split_parents))
        if len(deepest.split_parents) > codes.MAX_NESTING:
            diags.append(Diagnostic(codes.NESTED_TOO_DEEP, ERROR,
                                    f"step {deepest.name!r} sits {len(deepest.split_parents)} splits deep; a state "
                                    f"machine nests a Parallel or Map state per level and flowc emits at most "
                                    f"{codes.MAX_NESTING}", deepest.span))
        flow_part = compute_batch.job_definition_name(plan.flow_name)
        if len(flow_part) + 12 > codes.MAX_JOB_DEFINITION_NAME:   # + the 12-character content hash
            diags.append(Diagnostic(codes.NAME_TOO_LONG, ERROR,
                                    f"job definition name {flow_part}<12-character hash> has {len(flow_part) + 12} "
                                    f"characters (AWS allows {codes.MAX_JOB_DEFINITION_NAME}); shorten the flow class name",
                                    None))
        if any(d.is_error for d in diags):
            return diags
        # Sizes: build the definition with a dummy package and measure it.
        dummy = CodePackageRef(b"", "0" * 64, None)
        definition, _files_jobdefs = self._build(plan, dummy, settings)
        size = len(json.dumps(definition, separators=(",", ":")).encode("utf-8"))
        if size > codes.MAX_DEFINITION_BYTES:
            diags.append(Diagnostic(codes.DEFINITION_TOO_LARGE, ERROR,
                                    f"the state machine definition is {size} bytes; Step Functions allows "
                                    f"{codes.MAX_DEFINITION_BYTES}", None))
        for step_name, est in override_sizes(plan, definition).items():
            if est > codes.MAX_CONTAINER_OVERRIDES:
                diags.append(Diagnostic(codes.OVERRIDES_TOO_LARGE, ERROR,
                                        f"step {step_name!r}: container overrides may reach {est} characters "
                                        f"(Batch allows {codes.MAX_CONTAINER_OVERRIDES})",
                                        plan.steps[step_name].span))
        return diags

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

        files = [out(f"{name}.asl.json", definition, stdout=True)]
        if len(jobdefs) == 1:
            files.append(out(f"{name}.jobdef.json", jobdefs[0]))
        else:
            for jd in jobdefs:
                files.append(out(f"{name}.{jd['jobDefinitionName'].rsplit('-', 1)[-1]}.jobdef.json", jd))
        if plan.schedule is not None:
            files.append(out(f"{name}.schedule.json", schedule_request(plan, settings, name)))
        queues = sorted({compute_batch.queue_of(s.compute, settings) or compute_batch.PLACEHOLDER_QUEUE
                         for s in plan.steps.values() if s.compute.backend != "kubernetes"})
        files.append(out(f"{name}.policy.json", policy_document(plan, settings, name, jobdefs, queues)))
        return files


def override_sizes(plan: FlowPlan, definition: dict[str, Any]) -> dict[str, int]:
    """Upper estimate of each Batch step's resolved ContainerOverrides, in characters: the
    intrinsic command with an 80-character run id, a 7-digit index per foreach level, a 3-digit
    attempt; the start step's parameters counted at their defaults plus 4 KB of execution input."""
    sizes: dict[str, int] = {}

    def walk(states: dict[str, Any]) -> None:
        for state_name, state in states.items():
            if state.get("Type") == "Task" and state.get("Resource") == "arn:aws:states:::batch:submitJob.sync":
                step = plan.steps.get(state_name)
                if step is None:
                    continue
                ov = dict(state["Parameters"]["ContainerOverrides"])
                expr = ov.pop("Command.$")
                # literal arguments of States.Array(...), resolved path values replaced by bounds
                literal = re.findall(r"'((?:\\.|[^'\\])*)'", expr)
                cmd = [re.sub(r"\\(.)", r"\1", s) for s in literal if s not in ("{}", "{},{}", "{}-{}")]
                cmd += ["x" * 80, "9999999," * step.depth, "999"]
                if step.name == plan.start:
                    cmd.append(json.dumps(param_defaults(plan)) + " " * 4096)
                ov["Command"] = cmd
                sizes[step.name] = len(json.dumps(ov, separators=(",", ":")))
            for branch in state.get("Branches", []):
                walk(branch["States"])
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"]["States"])

    walk(definition["States"])
    return sizes


def param_defaults(plan: FlowPlan) -> dict[str, str]:
    return param_default_strings(plan)
