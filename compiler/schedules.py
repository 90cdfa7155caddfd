"""@schedule checks every target shares: the five cron fields and the timezone, and where the
decorator is in the source. A target adds what its own engine accepts or refuses on top
(targets/argo/cron.py: robfig/cron descriptors; Step Functions: EventBridge's cron form).

The field rules are robfig/cron v3's parser.go getRange, the same as crontab(5): lists of
`*`, `?`, a value, `a-b`, each with an optional `/step`; month and day-of-week names.
"""
from __future__ import annotations

import ast
import re

from compiler.diagnostics import Span
from compiler.ir import FlowPlan

# bounds and names of the five fields (robfig/cron v3 parser.go)
_FIELDS = (("minute", 0, 59, None), ("hour", 0, 23, None), ("day of month", 1, 31, None),
           ("month", 1, 12, {m: i + 1 for i, m in enumerate(
               "jan feb mar apr may jun jul aug sep oct nov dec".split())}),
           ("day of week", 0, 6, {d: i for i, d in enumerate("sun mon tue wed thu fri sat".split())}))


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


def fields_problem(spec: str) -> str | None:
    """Why five cron fields are not valid, or None."""
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
        return f"unknown timezone {tz!r} (not an IANA time zone name)"
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
