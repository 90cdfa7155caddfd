"""Steps themselves: names, start/end, arguments, the tail self.next."""
from __future__ import annotations

import re

RESERVED_STEP_NAMES = {"name", "next", "input", "index", "cmd", "foreach_stack", "merge_artifacts",
                       "script_name"}
_NAME_RE = re.compile(r"^[a-z0-9_]+$")


def reserved_names(ctx):
    for name, step in ctx.model.steps.items():
        if name in RESERVED_STEP_NAMES:
            ctx.report("FC101", f"`{name}` is a reserved name and cannot be a step "
                       f"(self.{name} is part of every flow); rename the step", step.span)


def step_names(ctx):
    for name, step in ctx.model.steps.items():
        if not _NAME_RE.match(name) or name.startswith("_"):
            ctx.report("FC121", f"step name `{name}` is invalid: use lowercase ascii letters, digits "
                       "and underscores, not starting with an underscore", step.span)


def start_end(ctx):
    f, m = ctx.facts, ctx.model
    if len(f.start_candidates) > 1:
        for n in f.start_candidates[1:]:
            ctx.report("FC104", "several steps are marked @step(start=True): "
                       + ", ".join(f.start_candidates), m.steps[n].span)
    elif f.start is None:
        ctx.report("FC102", f"flow `{m.class_name}` has no start step: name a step `start` or "
                   "mark one with @step(start=True)", m.span)
    elif f.start != "start" and "start" in m.steps:
        ctx.report("FC104", f"step `{f.start}` is marked @step(start=True) but a step named `start` "
                   "also exists", m.steps["start"].span)
    if len(f.end_candidates) > 1:
        for n in f.end_candidates[1:]:
            ctx.report("FC104", "several steps are marked @step(end=True): "
                       + ", ".join(f.end_candidates), m.steps[n].span)
    elif f.end is None:
        ctx.report("FC103", f"flow `{m.class_name}` has no end step: name a step `end` or "
                   "mark one with @step(end=True)", m.span)
    elif f.end != "end" and "end" in m.steps:
        ctx.report("FC104", f"step `{f.end}` is marked @step(end=True) but a step named `end` "
                   "also exists", m.steps["end"].span)


def tails(ctx):
    end = ctx.facts.end
    for name, step in ctx.model.steps.items():
        extra = ctx.parsed.steps.get(name)
        if extra is None:
            continue
        if name == end:
            if extra.tail_is_next and step.transition is not None:
                ctx.report("FC105", f"the end step `{name}` must not call self.next(): the run "
                           "finishes here", step.transition.span)
            for span in extra.nested_next:
                ctx.report("FC105", f"the end step `{name}` must not call self.next()", span)
            continue
        if extra.nested_next:
            for span in extra.nested_next:
                ctx.report("FC106", f"self.next() must be the last statement of step `{name}`, not "
                           "inside an if, loop, try or nested function; use a switch "
                           "(self.next({...}, condition=...)) for a run-time choice", span)
        elif not extra.tail_is_next:
            ctx.report("FC106", f"step `{name}` does not end with self.next(...): every step except "
                       "the end step must name its successor in its last statement", step.span)


def num_args(ctx):
    f = ctx.facts
    for name, step in ctx.model.steps.items():
        if step.num_args == 0:
            ctx.report("FC107", f"step `{name}` is missing the `self` argument", step.span)
        elif step.num_args > 2:
            ctx.report("FC107", f"step `{name}` takes {step.num_args} arguments; a step takes `self`, "
                       "a join `self, inputs`", step.span)
        elif step.num_args == 2 and name in (f.start,):
            ctx.report("FC107", f"the start step `{name}` cannot take an `inputs` argument", step.span)


def duplicates(ctx):
    for name, first, second in ctx.parsed.duplicate_steps:
        ctx.report("FC122", f"step `{name}` is defined twice; this definition replaces the one at "
                   f"line {first.line}", second, notes=(f"first defined at line {first.line}",))


def non_steps(ctx):
    for name, span in ctx.parsed.non_step_methods.items():
        if name in ctx.model.steps:
            continue
        ctx.report("FC212", f"method `{name}` calls self.next() but has no @step decorator", span)


RULES = [reserved_names, step_names, start_end, tails, num_args, duplicates, non_steps]
