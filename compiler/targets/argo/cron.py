"""@schedule -> a CronWorkflow that starts the WorkflowTemplate (docs/cron-workflows.md).

The schedule is checked as Argo checks it: workflow/validate/validate.go (v3.5.15 and v4.1.2) calls
robfig/cron v3 `ParseStandard` (parser.go: Minute | Hour | Dom | Month | Dow | Descriptor), and the
CronWorkflow's `timezone` must be a location Go's time.LoadLocation knows (checked with zoneinfo).
`schedules:` (a list) exists from Argo v3.6; v3.5 has only `schedule:` (a string), chosen with the
argo_version setting.
"""
from __future__ import annotations

import ast
import re
from typing import Any

from compiler.diagnostics import Span
from compiler.ir import FlowPlan
from compiler.targets.argo.names import cron_workflow_name

DEFAULT_VERSION = "4.1"

# robfig/cron v3 parser.go bounds and names
_FIELDS = (("minute", 0, 59, None), ("hour", 0, 23, None), ("day of month", 1, 31, None),
           ("month", 1, 12, {m: i + 1 for i, m in enumerate(
               "jan feb mar apr may jun jul aug sep oct nov dec".split())}),
           ("day of week", 0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}))
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


def _int(text: str, what: str) -> int:
    # strconv.Atoi, then "negative number not allowed"
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"failed to parse int from {text!r} in the {what} field")
    n = int(text)
    if n < 0:
        raise ValueError(f"negative number ({n}) not allowed in the {what} field")
    return n


def _range(expr: str, what: str, lo: int, hi: int, names: dict | None) -> None:
    """robfig/cron parser.go getRange."""
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    if low_high[0] in ("*", "?"):
        start, end = lo, hi
    else:
        def value(t):
            return names[t.lower()] if names and t.lower() in names else _int(t, what)
        start = value(low_high[0])
        if len(low_high) == 1:
            end = start
        elif len(low_high) == 2:
            end = value(low_high[1])
        else:
            raise ValueError(f"too many hyphens in {expr!r} ({what})")
    if len(range_and_step) == 2:
        step = _int(range_and_step[1], what)
        if len(low_high) == 1 and low_high[0] not in ("*", "?"):
            end = hi
    elif len(range_and_step) > 2:
        raise ValueError(f"too many slashes in {expr!r} ({what})")
    else:
        step = 1
    if start < lo:
        raise ValueError(f"beginning of range ({start}) below minimum ({lo}) in {expr!r} ({what})")
    if end > hi:
        raise ValueError(f"end of range ({end}) above maximum ({hi}) in {expr!r} ({what})")
    if start > end:
        raise ValueError(f"beginning of range ({start}) beyond end of range ({end}) in {expr!r} ({what})")
    if step == 0:
        raise ValueError(f"step of range should be a positive number in {expr!r} ({what})")


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
    fields = spec.split()
    if len(fields) != 5:
        return f"expected exactly 5 fields, found {len(fields)}: {spec!r}"
    try:
        for text, (what, lo, hi, names) in zip(fields, _FIELDS):
            for part in [p for p in text.split(",") if p]:
                _range(part, what, lo, hi, names)
    except ValueError as e:
        return str(e)
    return None


def timezone_problem(tz: str) -> str | None:
    import zoneinfo

    try:
        if not tz or tz.startswith("/") or ".." in tz:
            raise ValueError
        zoneinfo.ZoneInfo(tz)
    except (ValueError, zoneinfo.ZoneInfoNotFoundError):
        return f"unknown timezone {tz!r} (Go's time.LoadLocation would refuse it)"
    return None


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


def schedule_span(plan: FlowPlan, keyword: str) -> Span | None:
    """Where the flow's @schedule(...) (its `keyword=` argument when given) is in the source."""
    try:
        with open(plan.path, encoding="utf-8") as f:
            tree = ast.parse(f.read())
    except (OSError, SyntaxError, ValueError):
        return None
    for node in ast.walk(tree):
        if not (isinstance(node, ast.ClassDef) and node.name == plan.flow_name):
            continue
        for deco in node.decorator_list:
            call = deco if isinstance(deco, ast.Call) else None
            func = call.func if call else deco
            name = func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None
            if name != "schedule":
                continue
            target: ast.expr = deco
            for kw in (call.keywords if call else []):
                if kw.arg == keyword:
                    target = kw.value
            return Span(target.lineno, target.col_offset + 1, target.end_lineno or target.lineno,
                        (target.end_col_offset or target.col_offset) + 1)
    return None
