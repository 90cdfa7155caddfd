"""Parameters, IncludeFile and Config: names unique, not reserved, not clashing with steps."""
from __future__ import annotations

from compiler.frontend.lint.structure import RESERVED_STEP_NAMES

RESERVED_PARAMETER_NAMES = {
    "params", "with", "tag", "namespace", "obj", "tags", "decospecs", "run-id-file",
    "max-num-splits", "max-workers", "max-log-size", "user-namespace", "run-id", "task-id",
    "runner-attribute-file",
}
RESERVED_PARAMETER_NAMES |= {n.replace("-", "_") for n in RESERVED_PARAMETER_NAMES}


def unique(ctx):
    first: dict[str, object] = {}
    for p in ctx.model.parameters:
        key = p.name.replace("-", "_").lower()
        if key in first:
            prev = first[key]
            ctx.report("FC206", f"parameter name \"{p.name}\" is used twice (first at line "
                       f"{prev.span.line})", p.span, notes=(f"first declared at line {prev.span.line}",))
        else:
            first[key] = p


def clashes(ctx):
    steps = ctx.model.steps
    for p in ctx.model.parameters:
        if p.name in RESERVED_PARAMETER_NAMES:
            ctx.report("FC207", f"parameter name \"{p.name}\" is reserved by Metaflow's command line",
                       p.span)
        elif p.attr in steps or p.name in steps:
            ctx.report("FC207", f"parameter `{p.attr}` (\"{p.name}\") has the name of a step", p.span)
        elif p.attr in RESERVED_STEP_NAMES or p.name in RESERVED_STEP_NAMES:
            ctx.report("FC207", f"parameter `{p.attr}` uses a name reserved by Metaflow", p.span)


RULES = [unique, clashes]
