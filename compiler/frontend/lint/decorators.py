"""Decorators: known names and arguments (from Metaflow's plugins), value types, placement.

Unknown argument of a known decorator: an ERROR (FC203), as Metaflow refuses unknown attributes
when the flow starts. Unknown decorator: a WARNING (FC204); targets ignore it.
"""
from __future__ import annotations

import numbers


def _num(v):
    if isinstance(v, bool):
        return None
    if isinstance(v, numbers.Number):
        return v
    if isinstance(v, str):
        try:
            return float(v)
        except ValueError:
            return None
    return None


def positive(v):
    n = _num(v)
    if n is None:
        return "must be a number (memory and disk in MB)"
    return None if n > 0 else "must be greater than 0"


def non_negative(v):
    n = _num(v)
    if n is None:
        return "must be a number"
    return None if n >= 0 else "must not be negative"


def non_negative_int(v):
    n = _num(v)
    if n is None or int(n) != n:
        return "must be an integer"
    return None if n >= 0 else "must not be negative"


def string(v):
    return None if isinstance(v, str) else "must be a string"


def optional_string(v):
    return None if v is None or isinstance(v, str) else "must be a string"


def boolean(v):
    return None if isinstance(v, bool) or v in ("true", "false", "True", "False") else "must be True or False"


def mapping(v):
    return None if isinstance(v, dict) or v is None else "must be a dict"


def sequence(v):
    return None if isinstance(v, (list, tuple)) or v is None else "must be a list"


def str_or_list(v):
    return None if isinstance(v, (str, list, tuple)) or v is None else "must be a string or a list"


def str_or_dict(v):
    return None if isinstance(v, (str, dict)) or v is None else "must be a string or a dict"


def anything(v):
    return None


def identifier(v):
    if v is None:
        return None
    return None if isinstance(v, str) and v.isidentifier() else "must be an artifact name (a string)"


def retry_times(v):
    err = non_negative_int(v)
    if err:
        return err
    return None if int(_num(v)) <= 4 else "must be at most 4 (Metaflow's limit)"


COMPUTE = {"cpu": positive, "memory": positive, "disk": positive, "gpu": non_negative,
           "shared_memory": positive}

STEP_DECORATORS: dict[str, dict] = {
    "resources": dict(COMPUTE),
    "kubernetes": dict(COMPUTE, image=optional_string, image_pull_policy=optional_string,
                       image_pull_secrets=sequence, service_account=optional_string,
                       secrets=str_or_list, node_selector=str_or_dict, namespace=optional_string,
                       gpu_vendor=string, tolerations=sequence, labels=mapping, annotations=mapping,
                       use_tmpfs=boolean, tmpfs_tempdir=boolean, tmpfs_size=positive,
                       tmpfs_path=optional_string, persistent_volume_claims=mapping, port=non_negative_int,
                       compute_pool=optional_string, executable=optional_string,
                       hostname_resolution_timeout=non_negative, qos=string,
                       extended_resources=mapping, security_context=mapping),
    "batch": dict(COMPUTE, image=optional_string, queue=string, iam_role=optional_string,
                  execution_role=optional_string, max_swap=non_negative, swappiness=non_negative,
                  inferentia=non_negative_int, trainium=non_negative_int, efa=non_negative_int,
                  host_volumes=str_or_list, efs_volumes=str_or_list, use_tmpfs=boolean,
                  aws_batch_tags=mapping, tmpfs_tempdir=boolean, tmpfs_size=positive,
                  tmpfs_path=optional_string, ephemeral_storage=positive, log_driver=optional_string,
                  log_options=str_or_list, executable=optional_string, privileged=boolean),
    "retry": {"times": retry_times, "minutes_between_retries": non_negative},
    "catch": {"var": identifier, "print_exception": boolean},
    "timeout": {"seconds": non_negative, "minutes": non_negative, "hours": non_negative},
    "environment": {"vars": mapping},
    "secrets": {"sources": sequence, "role": optional_string, "allow_override": boolean},
    "card": {"type": string, "options": mapping, "scope": string, "rank": anything,
             "timeout": non_negative, "id": optional_string, "save_errors": boolean,
             "customize": boolean, "refresh_interval": non_negative},
    "conda": {"packages": mapping, "libraries": mapping, "python": optional_string, "disabled": boolean},
    "pypi": {"packages": mapping, "python": optional_string, "disabled": boolean},
    "parallel": {},
    "unbounded_test_foreach_internal": {},
}

FLOW_DECORATORS: dict[str, dict] = {
    "schedule": {"cron": optional_string, "weekly": boolean, "daily": boolean, "hourly": boolean,
                 "timezone": optional_string},
    "project": {"name": string, "branch": optional_string, "production": boolean},
    "trigger": {"event": str_or_dict, "events": sequence, "options": mapping},
    "trigger_on_finish": {"flow": str_or_dict, "flows": sequence, "options": mapping},
    "conda_base": {"packages": mapping, "libraries": mapping, "python": optional_string,
                   "disabled": boolean},
    "pypi_base": {"packages": mapping, "python": optional_string, "disabled": boolean},
}

ALLOW_MULTIPLE = {"card", "secrets"}


def _check(ctx, raw, table, where):
    d = raw["model"]
    spec = table[d.name]
    for span in raw.get("positional_spans", []):
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
    if d.name == "timeout" and d.args and all(_num(v) == 0 for v in d.args.values()
                                               if _num(v) is not None):
        ctx.report("FC202", "@timeout needs a duration greater than 0", d.span)


def _unknown_or_missing(ctx, raw, level):
    d = raw["model"]
    origin = raw["origin"]
    if origin == "missing":
        ctx.report("FC205", f"decorator `{raw['local']}` is used but never imported; add "
                   f"`from metaflow import {d.name}`", d.span)
        return True
    return False


def step_decorators(ctx):
    for name, extra in ctx.parsed.steps.items():
        seen: dict[str, object] = {}
        for raw in extra.decorator_nodes:
            d = raw["model"]
            if _unknown_or_missing(ctx, raw, "step"):
                continue
            if d.name in FLOW_DECORATORS:
                ctx.report("FC210", f"@{d.name} is a flow decorator: put it on the flow class, not "
                           f"on step `{name}`", d.span)
                continue
            if d.name not in STEP_DECORATORS:
                ctx.report("FC204", f"unknown decorator @{raw['local']} on step `{name}`: flowc "
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
    for raw in getattr(ctx.parsed, "flow_decorators_raw", []):
        d = raw["model"]
        if _unknown_or_missing(ctx, raw, "flow"):
            continue
        if d.name in STEP_DECORATORS or d.name == "step":
            ctx.report("FC210", f"@{d.name} is a step decorator: put it on a step, not on the flow "
                       "class", d.span)
            continue
        if d.name not in FLOW_DECORATORS:
            ctx.report("FC204", f"unknown flow decorator @{raw['local']}: flowc ignores it", d.span)
            continue
        if d.name in seen:
            ctx.report("FC209", f"@{d.name} appears twice on the flow", d.span,
                       notes=(f"first at line {seen[d.name].span.line}",))
        seen.setdefault(d.name, d)
        _check(ctx, raw, FLOW_DECORATORS, "flow")


RULES = [step_decorators, flow_decorators]
