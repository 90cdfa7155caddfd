"""Decorators: unknown names and arguments, value types, placement (the table: compiler/decorators.py).

Unknown argument of a known decorator: an ERROR (FC203), as Metaflow refuses unknown attributes
when the flow starts. Unknown decorator: a WARNING (FC204); targets ignore it.
"""
from __future__ import annotations

from compiler.decorators import (
    ALLOW_MULTIPLE,
    FLOW_DECORATORS,
    PARALLEL_FRAMEWORKS,
    STEP_DECORATORS,
    WARNED,
    fate,
    number,
    number_problem,
    project_name_problem,
)


def _check(ctx, raw, table, where):
    d = raw.model
    spec = table[d.name]
    for span in raw.positional_spans:
        ctx.report("FC203", f"@{d.name} takes keyword arguments only", span)
    for key, value in d.args.items():
        span = d.arg_spans.get(key, d.span)
        if key not in spec:
            ctx.report("FC203", f"@{d.name} has no argument `{key}`{_suggest(key, spec)}", span,
                       notes=(f"@{d.name}'s arguments in Metaflow: {', '.join(sorted(spec)) or 'none'}",))
            continue
        err = spec[key](value)
        bad_number = dict(number_problem(d.name, {key: value}))
        if bad_number:
            ctx.report("FC214", f"@{d.name}({key}=...): {bad_number[key]}", span)
        elif err:
            ctx.report("FC202", f"@{d.name}({key}={_short(value)}) {err}", span)
    if d.name == "timeout" and not any(number_problem("timeout", {k: v}) for k, v in d.args.items()):
        for key, problem in number_problem("timeout", d.args):
            ctx.report("FC214", f"@timeout({key}=...) {problem}", d.arg_spans.get(key, d.span))
    _fates(ctx, d)
    if d.name == "project":
        for key in ("name", "branch"):
            if key not in d.args and key in d.arg_spans:
                continue        # written but not static: that is already reported (FC201)
            if key in d.args or key == "name":
                problem = project_name_problem(d.args.get(key), key)
                if problem:
                    ctx.report("FC215", problem, d.arg_spans.get(key, d.span))
    if d.name == "exit_hook":
        _exit_hook(ctx, d)
    if d.name == "batch" and d.args.get("ephemeral_storage") is not None:
        for key in FARGATE_LACKS:
            if d.args.get(key):
                ctx.report("FC221", f"@batch(ephemeral_storage=...) makes a Fargate job, which has no "
                           f"{key}", d.arg_spans.get(key, d.span))

    if d.name == "schedule":
        given = [k for k in ("cron", "weekly", "daily", "hourly") if d.args.get(k)]
        if len(given) > 1:
            ctx.report("FC202", "@schedule takes one of cron=, weekly=, daily=, hourly=", d.span)
    if d.name == "timeout" and d.args and all(number(v) == 0 for v in d.args.values()
                                               if number(v) is not None):
        ctx.report("FC202", "@timeout needs a duration greater than 0", d.span)


# What a Fargate job definition cannot have (AWS Batch: linuxParameters, privileged, GPUs on Fargate)
FARGATE_LACKS = ("use_tmpfs", "tmpfs_size", "shared_memory", "max_swap", "swappiness", "inferentia",
                 "trainium", "efa", "host_volumes", "privileged", "gpu")


def _short(value) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _suggest(key: str, spec) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(spec), n=1, cutoff=0.6)
    return f"; did you mean `{close[0]}`?" if close else ""


def _fates(ctx, d) -> None:
    """Decorators and arguments that no target applies (compiler.decorators.FATES): say so once,
    here; fates that differ per target are reported by the targets' checks."""
    whole = fate(d.name)
    if whole is not None and whole.everywhere == WARNED and whole.code:
        ctx.report(whole.code, f"@{d.name}: {whole.why}", d.span)
        return
    for key in d.args:
        f = fate(d.name, key)
        if f is not None and f.everywhere == WARNED and f.code:
            ctx.report(f.code, f"@{d.name}({key}=...) is accepted but {f.why}",
                       d.arg_spans.get(key, d.span))


def _exit_hook(ctx, d) -> None:
    """FC220: hooks that name no function of the flow file (Metaflow imports them at the end)."""
    hooks = [*(d.args.get("on_success") or ()), *(d.args.get("on_error") or ())]
    if not hooks and not any(k in d.args for k in ("on_success", "on_error")):
        ctx.report("FC220", "@exit_hook needs on_success=[...] or on_error=[...]", d.span)
        return
    if not isinstance(d.args.get("on_success", []), (list, tuple)) or \
            not isinstance(d.args.get("on_error", []), (list, tuple)):
        return                                  # FC202 said so
    defined = getattr(ctx.parsed, "module_functions", None)
    for hook in hooks:
        name = getattr(hook, "name", hook)
        if not isinstance(name, str):
            continue
        if not name.isidentifier() and not all(p.isidentifier() for p in name.split(".")):
            ctx.report("FC220", f"@exit_hook: {name!r} is not a function name", d.span)
        elif "." not in name and defined is not None and name not in defined:
            ctx.report("FC220", f"@exit_hook: no module-level function `{name}` in the flow file", d.span)


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
            if d.name in PARALLEL_FRAMEWORKS:
                ctx.report("FC222", f"@{d.name} makes `{name}` a @parallel step, which flowc runs as "
                           f"@parallel; it does not start {PARALLEL_FRAMEWORKS[d.name]}", d.span)
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
