"""@schedule -> a CronWorkflow that starts the WorkflowTemplate (docs/cron-workflows.md).

The schedule is checked as Argo checks it: workflow/validate/validate.go (v3.5.15 and v4.1.2) calls
robfig/cron v3 `ParseStandard` (parser.go: Minute | Hour | Dom | Month | Dow | Descriptor), and the
CronWorkflow's `timezone` must be a location Go's time.LoadLocation knows (checked with zoneinfo).
`schedules:` (a list) exists from Argo v3.6; v3.5 has only `schedule:` (a string), chosen with the
argo_version setting.
"""
from __future__ import annotations

import re
from typing import Any

from compiler.diagnostics import Span
from compiler.ir import FlowPlan
from compiler.schedules import fields_problem, schedule_span, timezone_problem
from compiler.targets.argo.names import cron_workflow_name

DEFAULT_VERSION = "4.1"

_DESCRIPTORS = {"@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly"}
_GO_DURATION = re.compile(r"^[-+]?(?:0|(?:(?:\d+\.?\d*|\.\d+)(?:ns|us|µs|μs|ms|s|m|h))+)$")


def version_tuple(value: Any) -> tuple[int, int] | None:
    m = re.fullmatch(r"v?(\d+)\.(\d+)(?:\.\d+)?", str(value or DEFAULT_VERSION).strip())
    return (int(m.group(1)), int(m.group(2))) if m else None


def cron_workflow(plan: FlowPlan, template_name: str, metadata: dict[str, Any]) -> dict[str, Any]:
    schedule = plan.schedule
    assert schedule is not None, "cron_workflow is for scheduled flows"
    version = version_tuple(getattr(plan.settings, "argo_version", None)) or (4, 1)
    spec: dict[str, Any] = {"schedules": [schedule.cron]} if version >= (3, 6) else {"schedule": schedule.cron}
    if schedule.timezone:
        spec["timezone"] = schedule.timezone
    spec["concurrencyPolicy"] = str(getattr(plan.settings, "concurrency_policy", None) or "Allow")
    spec["workflowSpec"] = {"workflowTemplateRef": {"name": template_name}}
    meta = dict(metadata)
    meta["name"] = cron_workflow_name(plan)
    return {"apiVersion": "argoproj.io/v1alpha1", "kind": "CronWorkflow",
            "metadata": {"name": meta.pop("name"), **meta}, "spec": spec}


def parse_problem(spec: str) -> str | None:
    """Why robfig/cron v3 ParseStandard refuses `spec`, or None."""
    if not spec:
        return "empty spec string"
    if spec.startswith(("TZ=", "CRON_TZ=")):
        head, _, rest = spec.partition(" ")
        tz_problem = timezone_problem(head.partition("=")[2])
        if tz_problem:
            return tz_problem
        spec = rest.strip()
    if spec.startswith("@"):
        if spec in _DESCRIPTORS:
            return None
        if spec.startswith("@every ") and _GO_DURATION.match(spec[len("@every "):]):
            return None
        return f"unrecognized descriptor: {spec}"
    return fields_problem(spec)


def schedule_problems(plan: FlowPlan) -> list[tuple[str, Span | None]]:
    if plan.schedule is None:
        return []
    out = []
    problem = parse_problem(plan.schedule.cron)
    if problem:
        out.append((f"cron expression {plan.schedule.cron!r}: {problem}", schedule_span(plan, "cron")))
    if plan.schedule.timezone:
        problem = timezone_problem(plan.schedule.timezone)
        if problem:
            out.append((problem, schedule_span(plan, "timezone")))
    return out


def version_problem(plan: FlowPlan) -> str | None:
    value = getattr(plan.settings, "argo_version", None)
    if value is not None and version_tuple(value) is None:
        return f"argo_version {value!r} is not a version such as 3.5 or 4.1"
    return None
