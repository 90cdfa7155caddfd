"""Decorators: unknown names and arguments, value types, placement (the table: compiler/decorators.py).

Unknown argument of a known decorator: an ERROR (FC203), as Metaflow refuses unknown attributes
when the flow starts. Unknown decorator: a WARNING (FC204); targets ignore it.
"""
from __future__ import annotations

from compiler.decorators import ALLOW_MULTIPLE, FLOW_DECORATORS, STEP_DECORATORS, number


def _check(ctx, raw, table, where):
    d = raw.model
    spec = table[d.name]
    for span in raw.positional_spans:
        ctx.report("FC203", f"@{d.name} takes keyword arguments only", span)
    for key, value in d.args.items():
        span = d.arg_spans.get(key, d.span)
        if key not in spec:
            known = ", ".join(sorted(spec)) or "none"
            ctx.report("FC203", f"@{d.name} has no argument `{key}` (known: {known})", span)
            continue
        err = spec[key](value)
        if err:
            ctx.report("FC202", f"@{d.name}({key}={value!r}) {err}", span)
    if d.name == "schedule":
        given = [k for k in ("cron", "weekly", "daily", "hourly") if d.args.get(k)]
        if len(given) > 1:
            ctx.report("FC202", "@schedule takes one of cron=, weekly=, daily=, hourly=", d.span)
    if d.name == "timeout" and d.args and all(number(v) == 0 for v in d.args.values()
                                               if number(v) is not None):
        ctx.report("FC202", "@timeout needs a duration greater than 0", d.span)


def _unknown_or_missing(ctx, raw, level):
    d = raw.model
    if raw.origin == "missing":
        ctx.report("FC205", f"decorator `{raw.local}` is used but never imported; add "
                   f"`from metaflow import {d.name}`", d.span)
        return True
    return False


def step_decorators(ctx):
    for name, extra in ctx.parsed.steps.items():
        seen: dict[str, object] = {}
        for raw in extra.decorators:
            d = raw.model
            if _unknown_or_missing(ctx, raw, "step"):
                continue
            if d.name in FLOW_DECORATORS:
                ctx.report("FC210", f"@{d.name} is a flow decorator: put it on the flow class, not "
                           f"on step `{name}`", d.span)
                continue
            if d.name not in STEP_DECORATORS:
                ctx.report("FC204", f"unknown decorator @{raw.local} on step `{name}`: flowc "
                           "ignores it", d.span)
                continue
            if d.name in seen and d.name not in ALLOW_MULTIPLE:
                ctx.report("FC209", f"@{d.name} appears twice on step `{name}`", d.span,
                           notes=(f"first at line {seen[d.name].span.line}",))
            seen.setdefault(d.name, d)
            _check(ctx, raw, STEP_DECORATORS, "step")
        if "kubernetes" in seen and "batch" in seen:
            ctx.report("FC211", f"step `{name}` has both @kubernetes and @batch; a step runs on one "
                       "backend", seen["batch"].span)


def flow_decorators(ctx):
    seen: dict[str, object] = {}
    for raw in ctx.parsed.flow_decorators:
        d = raw.model
        if _unknown_or_missing(ctx, raw, "flow"):
            continue
        if d.name in STEP_DECORATORS or d.name == "step":
            ctx.report("FC210", f"@{d.name} is a step decorator: put it on a step, not on the flow "
                       "class", d.span)
            continue
        if d.name not in FLOW_DECORATORS:
            ctx.report("FC204", f"unknown flow decorator @{raw.local}: flowc ignores it", d.span)
            continue
        if d.name in seen:
            ctx.report("FC209", f"@{d.name} appears twice on the flow", d.span,
                       notes=(f"first at line {seen[d.name].span.line}",))
        seen.setdefault(d.name, d)
        _check(ctx, raw, FLOW_DECORATORS, "flow")


RULES = [step_decorators, flow_decorators]
