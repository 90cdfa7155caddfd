"""What Step Functions and AWS Batch cannot take, collected before anything is emitted:
settings -> names and keys -> each step's backend -> sizes of the built definition."""
from __future__ import annotations

import json
import re
from typing import Any

from compiler.compute import batch as compute_batch
from compiler.decorators import REFUSED, used_fates
from compiler.diagnostics import ERROR, WARNING, Diagnostic
from compiler.ir import FlowPlan
from compiler.schedules import fields_problem, schedule_span, timezone_problem
from compiler.targets.stepfunctions import codes
from compiler.targets.stepfunctions.asl import param_default_strings
from compiler.targets.stepfunctions.common import (
    SUFFIX_CHOOSE,
    SUFFIX_CLUSTER,
    SUFFIX_FOREACH,
    SUFFIX_LOOP,
    SUFFIX_READ,
    SUFFIX_SPLIT,
    state_machine_name,
)

STATE_SUFFIXES = (SUFFIX_FOREACH, SUFFIX_CLUSTER, SUFFIX_CHOOSE, SUFFIX_SPLIT, SUFFIX_READ, SUFFIX_LOOP)


def settings_problems(plan: FlowPlan, settings: Any) -> list[Diagnostic]:
    out = []
    datastore = str(getattr(settings, "datastore", None) or "")
    if not datastore.startswith("s3://"):
        out.append(Diagnostic(codes.NO_DATASTORE, ERROR,
                              f"the stepfunctions target needs an s3:// datastore (got {datastore or 'none'}); "
                              "set FLOWC_DATASTORE=s3://bucket/prefix", None))
    if plan.schedule is not None and not getattr(settings, "sfn_role_arn", None):
        out.append(Diagnostic(codes.SCHEDULE_NO_ROLE, WARNING,
                              "@schedule: no sfn_role_arn set, the schedule names a placeholder role; "
                              "set FLOWC_SFN_ROLE_ARN", None))
    return out


def schedule_problems(plan: FlowPlan) -> list[Diagnostic]:
    """FC412: the EventBridge Scheduler expression is built from five validated cron fields (and an
    IANA timezone) only, so nothing of the decorator's text reaches `cron(...)` unchecked."""
    if plan.schedule is None:
        return []
    out = []
    problem = fields_problem(plan.schedule.cron)
    if problem:
        out.append(Diagnostic(codes.BAD_SCHEDULE, ERROR, f"cron expression {plan.schedule.cron!r}: {problem}",
                              schedule_span(plan, "cron")))
    if plan.schedule.timezone:
        problem = timezone_problem(plan.schedule.timezone)
        if problem:
            out.append(Diagnostic(codes.BAD_SCHEDULE, ERROR, problem, schedule_span(plan, "timezone")))
    return out


def name_problems(plan: FlowPlan) -> list[Diagnostic]:
    """AWS name lengths, and JSON keys that would end with `.$` (Step Functions reads them as paths)."""
    out = []
    name = state_machine_name(plan)
    if len(name) > codes.MAX_STATE_MACHINE_NAME:
        out.append(Diagnostic(codes.NAME_TOO_LONG, ERROR,
                              f"state machine name {name!r} has {len(name)} characters (AWS allows "
                              f"{codes.MAX_STATE_MACHINE_NAME}); shorten the flow or @project name", None))
    flow_part = compute_batch.job_definition_name(plan.flow_name)
    if len(flow_part) + 12 > codes.MAX_JOB_DEFINITION_NAME:   # + the 12-character content hash
        out.append(Diagnostic(codes.NAME_TOO_LONG, ERROR,
                              f"job definition name {flow_part}<12-character hash> has {len(flow_part) + 12} "
                              f"characters (AWS allows {codes.MAX_JOB_DEFINITION_NAME}); shorten the flow class name",
                              None))
    for p in plan.parameters:
        if p.name.endswith(".$"):
            out.append(Diagnostic(codes.PATH_KEY, ERROR,
                                  f"parameter {p.name!r}: a name ending with '.$' would make Step Functions "
                                  "evaluate its default as a path", p.span))
    for step in plan.steps.values():
        if max(len(step.name) + len(s) for s in STATE_SUFFIXES) > codes.MAX_STATE_NAME:
            out.append(Diagnostic(codes.NAME_TOO_LONG, ERROR,
                                  f"step {step.name!r}: its state names would exceed {codes.MAX_STATE_NAME} "
                                  "characters; rename the step", step.span))
        c = step.compute
        if c.backend == "kubernetes":
            keys = ([("label", k) for k, _ in c.labels] + [("annotation", k) for k, _ in c.annotations]
                    + [("node selector", k) for k, _ in c.node_selector]
                    + [("extended resource", k) for k, _ in c.extended_resources]
                    + [("security context", k) for k, _ in c.security_context])
        else:
            keys = [("Batch tag", k) for k, _ in c.batch_tags]     # SubmitJob Tags in Parameters
        for what, key in keys:
            if str(key).endswith(".$"):
                out.append(Diagnostic(codes.PATH_KEY, ERROR,
                                      f"step {step.name!r}: {what} key {key!r} ends with '.$', which Step "
                                      "Functions would evaluate as a path", step.span))
    return out


def step_problems(plan: FlowPlan, settings: Any) -> list[Diagnostic]:
    """Where each step runs (an EKS cluster, a Batch queue) and how deep the states nest."""
    out = []
    missing_queue = []
    for step in plan.steps.values():
        if step.compute.backend == "kubernetes":
            if not getattr(settings, "eks_cluster", None):
                out.append(Diagnostic(codes.NO_EKS_CLUSTER, ERROR,
                                      f"step {step.name!r} is @kubernetes: on Step Functions it runs on EKS "
                                      "(eks:runJob.sync) and no cluster is set; set FLOWC_EKS_CLUSTER=<cluster> "
                                      "or use @batch", step.span))
        elif not (step.compute.queue or getattr(settings, "batch_queue", None)):
            missing_queue.append(step.name)
    if missing_queue:
        more = len(missing_queue) - 10
        named = ", ".join(missing_queue[:10]) + (f" and {more} more" if more > 0 else "")
        out.append(Diagnostic(codes.NO_BATCH_QUEUE, WARNING,
                              f"no Batch job queue for step(s) {named}: set FLOWC_BATCH_QUEUE or @batch(queue=...)", None))
    out += fate_problems(plan)
    deepest = max(plan.steps.values(), key=lambda s: len(s.split_parents))
    if len(deepest.split_parents) > codes.MAX_NESTING:
        out.append(Diagnostic(codes.NESTED_TOO_DEEP, ERROR,
                              f"step {deepest.name!r} sits {len(deepest.split_parents)} splits deep; a state "
                              f"machine nests a Parallel or Map state per level and flowc emits at most "
                              f"{codes.MAX_NESTING}", deepest.span))
    return out


def size_problems(plan: FlowPlan, definition: dict[str, Any]) -> list[Diagnostic]:
    out = []
    size = len(json.dumps(definition, separators=(",", ":")).encode("utf-8"))
    if size > codes.MAX_DEFINITION_BYTES:
        out.append(Diagnostic(codes.DEFINITION_TOO_LARGE, ERROR,
                              f"the state machine definition is {size} bytes; Step Functions allows "
                              f"{codes.MAX_DEFINITION_BYTES}", None))
    for step_name, est in override_sizes(plan, definition).items():
        if est > codes.MAX_CONTAINER_OVERRIDES:
            out.append(Diagnostic(codes.OVERRIDES_TOO_LARGE, ERROR,
                                  f"step {step_name!r}: container overrides may reach {est} characters "
                                  f"(Batch allows {codes.MAX_CONTAINER_OVERRIDES})", plan.steps[step_name].span))
    return out


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
                    cmd.append(json.dumps(param_default_strings(plan)) + " " * 4096)
                ov["Command"] = cmd
                sizes[step.name] = len(json.dumps(ov, separators=(",", ":")))
            for branch in state.get("Branches", []):
                walk(branch["States"])
            if "ItemProcessor" in state:
                walk(state["ItemProcessor"]["States"])

    walk(definition["States"])
    return sizes


# Codes this target reports from the fate table (compiler.decorators.FATES); the others with a
# code on Step Functions are reported where their check lives (FC409 with the settings).
TABLE_CODES = {codes.PARALLEL_REFUSED}


def fate_problems(plan: FlowPlan) -> list[Diagnostic]:
    out = []
    for step in plan.steps.values():
        for name, arg, f in used_fates(step.decorators, "stepfunctions"):
            code = f.code_on("stepfunctions")
            if code in TABLE_CODES:
                severity = ERROR if f.stepfunctions == REFUSED else WARNING
                what = f"@{name}" + (f"({arg}=...)" if arg else "")
                out.append(Diagnostic(code, severity, f"step {step.name!r}: {what}: {f.why}", step.span))
    if plan.exit_hooks and plan.steps[plan.end].compute.backend == "kubernetes":
        out.append(Diagnostic(codes.EXIT_HOOK_ON_EKS, ERROR,
                              f"@exit_hook: the hook job runs with the end step's Batch job definition, and "
                              f"`{plan.end}` is @kubernetes", plan.steps[plan.end].span))
    return out

